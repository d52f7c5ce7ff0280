"""Rotating a database secret changes the role's password in PostgreSQL and in the secret,
in Secrets Manager's four steps (csms.app.rotate; Secrets Manager is a fake here)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from csms.app.rotate import rotate
from csms.data.database import make_engine
from csms.data.roles import ensure_role


class FakeSecrets:
    """The Secrets Manager calls the rotation makes, over versions kept in memory."""

    class exceptions:
        class ResourceNotFoundException(Exception):
            pass

    def __init__(self) -> None:
        self.versions: dict[str, dict[str, tuple[list[str], str | None]]] = {}
        self.passwords = 0

    def add(self, arn: str, value: dict[str, Any]) -> None:
        self.versions[arn] = {"v1": (["AWSCURRENT"], json.dumps(value))}

    def start_rotation(self, arn: str, token: str) -> None:
        self.versions[arn][token] = (["AWSPENDING"], None)

    def describe_secret(self, SecretId: str) -> dict[str, Any]:
        return {"VersionIdsToStages": {v: labels for v, (labels, _) in self.versions[SecretId].items()}}

    def get_secret_value(
        self, SecretId: str, VersionStage: str, VersionId: str | None = None
    ) -> dict[str, Any]:
        for version, (labels, value) in self.versions[SecretId].items():
            if VersionStage in labels and VersionId in (None, version) and value is not None:
                return {"SecretString": value}
        raise self.exceptions.ResourceNotFoundException(SecretId)

    def get_random_password(self, PasswordLength: int, ExcludeCharacters: str) -> dict[str, str]:
        self.passwords += 1
        return {"RandomPassword": f"rotated-{self.passwords}".ljust(PasswordLength, "x")}

    def put_secret_value(
        self, SecretId: str, ClientRequestToken: str, SecretString: str, VersionStages: list[str]
    ) -> None:
        self.versions[SecretId][ClientRequestToken] = (VersionStages, SecretString)

    def update_secret_version_stage(
        self, SecretId: str, VersionStage: str, MoveToVersionId: str, RemoveFromVersionId: str
    ) -> None:
        versions = self.versions[SecretId]
        old_labels, old_value = versions[RemoveFromVersionId]
        versions[RemoveFromVersionId] = ([label for label in old_labels if label != VersionStage], old_value)
        new_labels, new_value = versions[MoveToVersionId]
        versions[MoveToVersionId] = ([*new_labels, VersionStage], new_value)


def as_secret(database_url: str, **overrides: Any) -> dict[str, Any]:
    url = make_url(database_url)
    return {
        "username": url.username,
        "password": url.password or "",
        "host": url.host,
        "port": url.port,
        "dbname": url.database,
        **overrides,
    }


def test_the_four_steps_give_the_role_a_new_password(database_url: str) -> None:
    # Given the owner's secret and a runtime role's secret
    owner = make_engine(database_url)
    ensure_role(owner, "csms_test_rot", "initial-password-0123456789")
    secrets = FakeSecrets()
    secrets.add("owner", as_secret(database_url))
    secrets.add(
        "role", as_secret(database_url, username="csms_test_rot", password="initial-password-0123456789")
    )
    settings = SimpleNamespace(
        database_secret_arn="owner", database_host=None, database_ca_file=None, database_sslmode="disable"
    )
    verifier = text("SELECT rolpassword FROM pg_authid WHERE rolname = 'csms_test_rot'")
    with owner.connect() as conn:
        before = conn.execute(verifier).scalar()

    # When Secrets Manager rotates the role's secret (createSecret retried once, as it may be)
    secrets.start_rotation("role", "v2")
    for step in ("createSecret", "createSecret", "setSecret", "testSecret", "finishSecret", "finishSecret"):
        rotate({"SecretId": "role", "ClientRequestToken": "v2", "Step": step}, secrets, settings)

    # Then the secret's current version has a new password, and so does the role
    current = json.loads(secrets.get_secret_value(SecretId="role", VersionStage="AWSCURRENT")["SecretString"])
    assert current["password"].startswith("rotated-1")
    assert current["username"] == "csms_test_rot"
    assert secrets.passwords == 1
    with owner.connect() as conn:
        assert conn.execute(verifier).scalar() != before
    owner.dispose()


def test_a_version_that_is_not_pending_is_refused(database_url: str) -> None:
    secrets = FakeSecrets()
    secrets.add("role", as_secret(database_url))
    settings = SimpleNamespace(database_secret_arn="role", database_host=None, database_ca_file=None)
    with pytest.raises(ValueError, match="not a version"):
        rotate({"SecretId": "role", "ClientRequestToken": "v9", "Step": "createSecret"}, secrets, settings)

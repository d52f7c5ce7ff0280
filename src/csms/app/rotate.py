"""Secrets Manager rotation of the database credentials (single user, ADR 0021).

Secrets Manager invokes this function four times per rotation of a secret (``Step``):
``createSecret`` stores a new random password as AWSPENDING, ``setSecret`` gives the role that
password (connected as the owner, through the cluster's own secret), ``testSecret`` logs in
with it, ``finishSecret`` makes it AWSCURRENT. The same function rotates the owner's secret
(which sets its own password) and the runtime roles' secrets. Functions holding the old
password keep their open connections; a new one refused reads the secret again
(``csms.data.database.reread_password_on_auth_failure``).

https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda.html
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import create_engine, text

log = logging.getLogger(__name__)

#: Characters a password never contains (quoting in URLs and SQL stays trivial).
EXCLUDED_CHARACTERS = "/@\"'\\ :%?#&"


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    from csms.app import wiring
    from csms.aws.clients import client

    settings = wiring.settings()
    rotate(event, client("secretsmanager", settings.aws_region), settings)


def rotate(event: dict[str, Any], secrets: Any, settings: Any) -> None:
    """One step of one rotation (``settings``: the owner's secret, host override, CA file)."""
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    metadata = secrets.describe_secret(SecretId=arn)
    stages = metadata.get("VersionIdsToStages", {})
    if token not in stages:
        raise ValueError(f"version {token} is not a version of {arn}")
    if "AWSCURRENT" in stages[token]:
        return  # already done
    if "AWSPENDING" not in stages[token]:
        raise ValueError(f"version {token} of {arn} is not pending rotation")
    log.info("rotation step", extra={"step": step, "secret": arn})
    if step == "createSecret":
        _create(secrets, arn, token)
    elif step == "setSecret":
        _set(secrets, arn, token, settings)
    elif step == "testSecret":
        _test(_value(secrets, arn, token, "AWSPENDING"), settings)
    elif step == "finishSecret":
        current = next(version for version, labels in stages.items() if "AWSCURRENT" in labels)
        secrets.update_secret_version_stage(
            SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token, RemoveFromVersionId=current
        )
    else:
        raise ValueError(f"unknown rotation step {step!r}")


def _value(secrets: Any, arn: str, token: str | None, stage: str) -> dict[str, Any]:
    request: dict[str, Any] = {"SecretId": arn, "VersionStage": stage}
    if token:
        request["VersionId"] = token
    found: dict[str, Any] = json.loads(secrets.get_secret_value(**request)["SecretString"])
    return found


def _create(secrets: Any, arn: str, token: str) -> None:
    try:
        _value(secrets, arn, token, "AWSPENDING")
        return  # a retried step: the pending version exists
    except secrets.exceptions.ResourceNotFoundException:
        pass
    current = _value(secrets, arn, None, "AWSCURRENT")
    password = secrets.get_random_password(PasswordLength=40, ExcludeCharacters=EXCLUDED_CHARACTERS)
    pending = {**current, "password": password["RandomPassword"]}
    secrets.put_secret_value(
        SecretId=arn, ClientRequestToken=token, SecretString=json.dumps(pending), VersionStages=["AWSPENDING"]
    )


def _set(secrets: Any, arn: str, token: str, settings: Any) -> None:
    from csms.data.roles import set_password

    pending = _value(secrets, arn, token, "AWSPENDING")
    # The owner's credentials: its current version; when the owner's own secret rotates, its
    # current password is still the one that logs in (the pending one is not set yet).
    owner = _value(secrets, settings.database_secret_arn, None, "AWSCURRENT")
    engine = create_engine(_url(owner, settings))
    try:
        set_password(engine, str(pending["username"]), str(pending["password"]))
    finally:
        engine.dispose()


def _test(pending: dict[str, Any], settings: Any) -> None:
    engine = create_engine(_url(pending, settings))
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    finally:
        engine.dispose()


def _url(secret: dict[str, Any], settings: Any) -> str:
    from csms.aws.clients import database_url

    return database_url(
        secret,
        host=settings.database_host,
        ca_file=settings.database_ca_file,
        sslmode=getattr(settings, "database_sslmode", None),
    )

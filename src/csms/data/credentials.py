"""PostgreSQL stores of password rotations (``charge_points``' rotation columns) and of
commands' encrypted secrets (``command_secrets``), csms.domain.credentials."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from csms.data.database import PgDatabase
from csms.data.tables import charge_points, command_secrets
from csms.domain.credentials import Rotation

_c = charge_points.c


class PgCredentialStore:
    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def begin(self, tenant_id: str, charge_point_id: str, command_id: str, new_hash: str) -> bool:
        with self._db.begin() as conn:
            result = conn.execute(
                update(charge_points)
                .where(
                    _c.id == charge_point_id,
                    _c.tenant_id == tenant_id,
                    _c.password_hash.is_not(None),
                    _c.security_profile != 0,  # without Basic auth there is nothing to rotate
                    _c.pending_password_hash.is_(None),
                )
                .values(
                    pending_password_hash=new_hash,
                    password_command_id=command_id,
                    password_rotation=Rotation.IN_FLIGHT.value,
                )
            )
            return bool(result.rowcount)

    def accepted(self, command_id: str) -> bool:
        with self._db.begin() as conn:
            result = conn.execute(
                update(charge_points)
                .where(_c.password_command_id == command_id, _c.pending_password_hash.is_not(None))
                .values(
                    previous_password_hash=_c.password_hash,
                    password_hash=_c.pending_password_hash,
                    pending_password_hash=None,
                    password_command_id=None,
                    password_rotation=None,
                    updated_at=datetime.now(UTC),
                )
            )
            return bool(result.rowcount)

    def unconfirmed(self, command_id: str) -> None:
        with self._db.begin() as conn:
            conn.execute(
                update(charge_points)
                .where(_c.password_command_id == command_id, _c.pending_password_hash.is_not(None))
                .values(password_rotation=Rotation.UNCONFIRMED.value)
            )

    def forget(self, command_id: str) -> None:
        with self._db.begin() as conn:
            conn.execute(
                update(charge_points)
                .where(_c.password_command_id == command_id)
                .values(pending_password_hash=None, password_command_id=None, password_rotation=None)
            )


class PgCommandSecrets:
    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def put(self, command_id: str, ciphertext: bytes) -> None:
        with self._db.begin() as conn:
            conn.execute(
                pg_insert(command_secrets)
                .values(command_id=command_id, ciphertext=ciphertext, created_at=datetime.now(UTC))
                .on_conflict_do_update(
                    index_elements=[command_secrets.c.command_id], set_={"ciphertext": ciphertext}
                )
            )

    def get(self, command_id: str) -> bytes | None:
        with self._db.connect() as conn:
            found = conn.execute(
                select(command_secrets.c.ciphertext).where(command_secrets.c.command_id == command_id)
            ).scalar_one_or_none()
        return bytes(found) if found is not None else None

    def delete(self, command_id: str) -> None:
        with self._db.begin() as conn:
            conn.execute(delete(command_secrets).where(command_secrets.c.command_id == command_id))

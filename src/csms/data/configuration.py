"""PostgreSQL implementation of :class:`csms.domain.device_model.ConfigurationStore`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from csms.data.database import PgDatabase
from csms.data.tables import charge_point_configuration as cfg
from csms.domain.device_model import ConfigurationEntry


class PgConfigurationStore:
    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def store_report(
        self,
        tenant_id: str,
        charge_point_id: str,
        keys: list[dict[str, Any]],
        unknown_keys: list[str],
        at: datetime,
    ) -> None:
        rows = [
            {
                "tenant_id": tenant_id,
                "charge_point_id": charge_point_id,
                "key": k["key"],
                "value": k.get("value"),
                "readonly": k.get("readonly"),
                "known": True,
                "updated_at": at,
            }
            for k in keys
        ] + [
            {
                "tenant_id": tenant_id,
                "charge_point_id": charge_point_id,
                "key": key,
                "value": None,
                "readonly": None,
                "known": False,
                "updated_at": at,
            }
            for key in unknown_keys
        ]
        if not rows:
            return
        statement = pg_insert(cfg).values(rows)
        statement = statement.on_conflict_do_update(
            index_elements=[cfg.c.charge_point_id, cfg.c.key],
            set_={c: statement.excluded[c] for c in ("value", "readonly", "known", "updated_at")},
        )
        with self._db.begin() as conn:
            conn.execute(statement)

    def set_value(self, tenant_id: str, charge_point_id: str, key: str, value: str, at: datetime) -> None:
        statement = pg_insert(cfg).values(
            tenant_id=tenant_id,
            charge_point_id=charge_point_id,
            key=key,
            value=value,
            known=True,
            updated_at=at,
        )
        statement = statement.on_conflict_do_update(
            index_elements=[cfg.c.charge_point_id, cfg.c.key],
            set_={"value": value, "known": True, "updated_at": at},
        )
        with self._db.begin() as conn:
            conn.execute(statement)

    def entries(self, tenant_id: str, charge_point_id: str) -> list[ConfigurationEntry]:
        with self._db.connect() as conn:
            rows = conn.execute(
                select(cfg)
                .where(cfg.c.tenant_id == tenant_id, cfg.c.charge_point_id == charge_point_id)
                .order_by(cfg.c.key)
            )
            return [
                ConfigurationEntry(
                    key=r.key, value=r.value, readonly=r.readonly, known=r.known, updated_at=r.updated_at
                )
                for r in rows
            ]

"""Per-tenant settings kept in ``tenants`` (migrations 0017 and 0020): the file URL rules and the
default security profile."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update

from csms.data.database import PgDatabase
from csms.data.repositories import PgTenants
from csms.data.tables import tenants
from csms.domain.tenancy import TenantSettings

_SETTINGS = (tenants.c.default_security_profile, tenants.c.file_url_schemes, tenants.c.file_url_hosts)


def _settings(row: Row[Any, Any, Any] | Row[Any] | None) -> TenantSettings:
    if row is None:
        return TenantSettings()
    return TenantSettings(
        default_security_profile=row.default_security_profile,
        file_url_schemes=tuple(row.file_url_schemes) if row.file_url_schemes is not None else None,
        file_url_hosts=tuple(row.file_url_hosts) if row.file_url_hosts is not None else None,
    )


class PgTenantSettings:
    """:class:`csms.services.file_urls.FileUrlRulesSource` and
    :class:`csms.domain.tenancy.TenantSettingsStore` on PostgreSQL."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def file_url_rules(self, tenant_id: str) -> tuple[Sequence[str] | None, Sequence[str] | None]:
        with self._db.connect() as connection:
            row = connection.execute(
                select(tenants.c.file_url_schemes, tenants.c.file_url_hosts).where(tenants.c.id == tenant_id)
            ).first()
        return (row.file_url_schemes, row.file_url_hosts) if row else (None, None)

    def get(self, tenant_id: str) -> TenantSettings:
        with self._db.connect() as connection:
            return _settings(connection.execute(select(*_SETTINGS).where(tenants.c.id == tenant_id)).first())

    def update(self, tenant_id: str, changes: dict[str, Any], at: datetime) -> TenantSettings:
        values = {name: list(value) if isinstance(value, tuple) else value for name, value in changes.items()}
        with self._db.begin() as connection:
            PgTenants(connection).ensure(tenant_id, at)
            row = connection.execute(
                update(tenants).where(tenants.c.id == tenant_id).values(**values).returning(*_SETTINGS)
                if values
                else select(*_SETTINGS).where(tenants.c.id == tenant_id)
            ).first()
        return _settings(row)


def tenant_names(db: PgDatabase) -> list[tuple[str, str]]:
    """Every tenant as (id, name), by id: what the local console's development sign-in offers."""
    with db.connect() as connection:
        rows = connection.execute(select(tenants.c.id, tenants.c.name).order_by(tenants.c.id)).all()
    return [(row.id, row.name) for row in rows]

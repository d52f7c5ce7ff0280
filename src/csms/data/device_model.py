"""PostgreSQL implementation of :class:`csms.domain.device_model.DeviceModelStore`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Row

from csms.data.database import PgDatabase
from csms.data.tables import device_model_variables as dm
from csms.domain.device_model import (
    AttributeType,
    Component,
    DeviceVariable,
    Mutability,
    Variable,
    VariableAddress,
    VariableQuery,
    VariableSource,
    VariableValue,
)

#: The expressions of ux_device_model_variables, the upsert's conflict target.
_IDENTITY = [
    dm.c.charge_point_id,
    func.lower(dm.c.component),
    func.lower(dm.c.component_instance),
    dm.c.evse_id,
    dm.c.connector_id,
    func.lower(dm.c.variable),
    func.lower(dm.c.variable_instance),
    dm.c.attribute_type,
]
#: Metadata a message leaves out keeps what is stored.
_KEPT_UNLESS_GIVEN = ("mutability", "persistent", "constant", "characteristics", "ocpp16_key")
_ORDER = (
    func.lower(dm.c.component),
    func.lower(dm.c.component_instance),
    dm.c.evse_id,
    dm.c.connector_id,
    func.lower(dm.c.variable),
    func.lower(dm.c.variable_instance),
    dm.c.attribute_type,
)


def _row(
    tenant_id: str, charge_point_id: str, v: VariableValue, source: VariableSource, at: datetime
) -> dict[str, Any]:
    c, var = v.address.component, v.address.variable
    return {
        "tenant_id": tenant_id,
        "charge_point_id": charge_point_id,
        "component": c.name,
        "component_instance": c.instance or "",
        "evse_id": -1 if c.evse_id is None else c.evse_id,
        "connector_id": -1 if c.connector_id is None else c.connector_id,
        "variable": var.name,
        "variable_instance": var.instance or "",
        "attribute_type": v.address.attribute_type.value,
        "value": v.value,
        "mutability": v.mutability.value if v.mutability is not None else None,
        "persistent": v.persistent,
        "constant": v.constant,
        "characteristics": v.characteristics,
        "known": v.known,
        "source": source.value,
        "ocpp16_key": v.ocpp16_key,
        "updated_at": at,
    }


def _where(address: VariableAddress) -> Any:
    c, v = address.component, address.variable
    return and_(
        func.lower(dm.c.component) == c.name.lower(),
        func.lower(dm.c.component_instance) == (c.instance or "").lower(),
        dm.c.evse_id == (-1 if c.evse_id is None else c.evse_id),
        dm.c.connector_id == (-1 if c.connector_id is None else c.connector_id),
        func.lower(dm.c.variable) == v.name.lower(),
        func.lower(dm.c.variable_instance) == (v.instance or "").lower(),
        dm.c.attribute_type == address.attribute_type.value,
    )


def device_variable(row: Row[Any]) -> DeviceVariable:
    m = row._mapping
    return DeviceVariable(
        address=VariableAddress(
            Component(
                m["component"],
                m["component_instance"] or None,
                None if m["evse_id"] < 0 else m["evse_id"],
                None if m["connector_id"] < 0 else m["connector_id"],
            ),
            Variable(m["variable"], m["variable_instance"] or None),
            AttributeType(m["attribute_type"]),
        ),
        value=m["value"],
        mutability=Mutability(m["mutability"]) if m["mutability"] is not None else None,
        persistent=m["persistent"],
        constant=m["constant"],
        characteristics=m["characteristics"],
        known=m["known"],
        source=VariableSource(m["source"]),
        ocpp16_key=m["ocpp16_key"],
        updated_at=m["updated_at"],
    )


class PgDeviceModelStore:
    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def record(
        self,
        tenant_id: str,
        charge_point_id: str,
        values: Sequence[VariableValue],
        source: VariableSource,
        at: datetime,
    ) -> None:
        # One row per attribute: a statement may not upsert the same row twice.
        latest = {v.address.key(): v for v in values}
        if not latest:
            return
        rows = [_row(tenant_id, charge_point_id, v, source, at) for v in latest.values()]
        statement = pg_insert(dm).values(rows)
        excluded = statement.excluded
        statement = statement.on_conflict_do_update(
            index_elements=_IDENTITY,
            set_={
                **{
                    name: excluded[name]
                    for name in (
                        "component",
                        "component_instance",
                        "variable",
                        "variable_instance",
                        "value",
                        "known",
                        "source",
                        "updated_at",
                    )
                },
                **{name: func.coalesce(excluded[name], dm.c[name]) for name in _KEPT_UNLESS_GIVEN},
            },
        )
        with self._db.begin() as conn:
            conn.execute(statement)

    def find(
        self, tenant_id: str, charge_point_id: str, addresses: Sequence[VariableAddress]
    ) -> list[DeviceVariable]:
        if not addresses:
            return []
        with self._db.connect() as conn:
            rows = conn.execute(
                select(dm)
                .where(
                    dm.c.tenant_id == tenant_id,
                    dm.c.charge_point_id == charge_point_id,
                    or_(*(_where(a) for a in addresses)),
                )
                .order_by(*_ORDER)
            )
            return [device_variable(r) for r in rows]

    def search(
        self, tenant_id: str, charge_point_id: str, query: VariableQuery
    ) -> tuple[list[DeviceVariable], int]:
        conditions = [dm.c.tenant_id == tenant_id, dm.c.charge_point_id == charge_point_id]
        if query.component is not None:
            conditions.append(func.lower(dm.c.component) == query.component.lower())
        if query.variable is not None:
            conditions.append(func.lower(dm.c.variable) == query.variable.lower())
        if query.evse_id is not None:
            conditions.append(dm.c.evse_id == query.evse_id)
        with self._db.connect() as conn:
            total = conn.execute(select(func.count()).select_from(dm).where(*conditions)).scalar_one()
            rows = conn.execute(
                select(dm).where(*conditions).order_by(*_ORDER).limit(query.limit).offset(query.offset)
            )
            return [device_variable(r) for r in rows], total

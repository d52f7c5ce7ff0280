"""PostgreSQL implementation of :class:`csms.domain.diagnostics.DeviceEventStore`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from csms.data.database import PgDatabase
from csms.data.outbox import append
from csms.data.tables import device_events
from csms.domain.diagnostics import (
    ComponentVariable,
    DeviceEvent,
    StoredDeviceEvent,
)
from csms.domain.events import DomainEvent


def _row(event: DeviceEvent) -> dict[str, Any]:
    where = event.where
    return {
        "event_id": event.event_id,
        "timestamp": event.timestamp,
        "trigger": event.trigger,
        "actual_value": event.actual_value,
        "component": where.component,
        "component_instance": where.component_instance,
        "evse_id": where.evse_id,
        "connector_id": where.connector_id,
        "variable": where.variable,
        "variable_instance": where.variable_instance,
        "notification_type": event.notification_type,
        "cause": event.cause,
        "tech_code": event.tech_code,
        "tech_info": event.tech_info,
        "cleared": event.cleared,
        "transaction_id": event.transaction_id,
        "variable_monitoring_id": event.variable_monitoring_id,
    }


def _device_event(row: Row[Any]) -> StoredDeviceEvent:
    m = row._mapping
    return StoredDeviceEvent(
        id=m["id"],
        event=DeviceEvent(
            event_id=m["event_id"],
            timestamp=m["timestamp"],
            trigger=m["trigger"],
            actual_value=m["actual_value"],
            where=ComponentVariable(
                component=m["component"],
                variable=m["variable"],
                component_instance=m["component_instance"],
                variable_instance=m["variable_instance"],
                evse_id=m["evse_id"],
                connector_id=m["connector_id"],
            ),
            notification_type=m["notification_type"],
            cause=m["cause"],
            tech_code=m["tech_code"],
            tech_info=m["tech_info"],
            cleared=m["cleared"],
            transaction_id=m["transaction_id"],
            variable_monitoring_id=m["variable_monitoring_id"],
        ),
        received_at=m["received_at"],
    )


class PgDeviceEvents:
    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def add(
        self,
        tenant_id: str,
        charge_point_id: str,
        events: list[DeviceEvent],
        received_at: datetime,
        announce: Callable[[list[DeviceEvent]], DomainEvent],
    ) -> list[DeviceEvent]:
        if not events:
            return []
        rows = [
            {
                **_row(e),
                "tenant_id": tenant_id,
                "charge_point_id": charge_point_id,
                "received_at": received_at,
            }
            for e in events
        ]
        with self._db.begin() as conn:
            inserted = {
                (r.event_id, r.timestamp)
                for r in conn.execute(
                    pg_insert(device_events)
                    .values(rows)
                    # ux_device_events_natural: a retried frame stores nothing again
                    .on_conflict_do_nothing()
                    .returning(device_events.c.event_id, device_events.c.timestamp)
                )
            }
            new = [e for e in events if (e.event_id, e.timestamp) in inserted]
            if new:
                append(conn, [announce(new)])
            return new

    def search(
        self,
        tenant_id: str,
        charge_point_id: str,
        component: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[StoredDeviceEvent], int]:
        where = [device_events.c.tenant_id == tenant_id, device_events.c.charge_point_id == charge_point_id]
        if component is not None:
            where.append(device_events.c.component == component)
        with self._db.connect() as conn:
            total = conn.execute(select(func.count()).select_from(device_events).where(*where)).scalar_one()
            rows = conn.execute(
                select(device_events)
                .where(*where)
                .order_by(device_events.c.timestamp.desc(), device_events.c.id.desc())
                .limit(limit)
                .offset(offset)
            )
            return [_device_event(row) for row in rows], int(total)

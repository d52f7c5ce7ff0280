"""The outbox's write side: domain events written in the transaction that makes their change.

Writers call :func:`append` on the connection of that transaction, so an event exists if and
only if its change committed. :class:`csms.data.database.PgDatabase` takes each committed
transaction's events (:func:`take_pending`) and hands them to its ``on_commit`` callback (the
relay), which publishes them. The reads and the bookkeeping of the same table are
:mod:`csms.data.events`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from sqlalchemy import Connection, bindparam
from sqlalchemy.dialects.postgresql import insert

from csms.data.tables import domain_events
from csms.domain.events import DomainEvent, StoredEvent

#: Key in ``Connection.info`` under which a transaction's appended events wait for its commit.
PENDING_KEY: Final = "csms.pending_events"


_VALUES = insert(domain_events).values(
    {
        name: bindparam(name, type_=domain_events.c[name].type)
        for name in (
            "id",
            "tenant_id",
            "charge_point_id",
            "type",
            "version",
            "occurred_at",
            "correlation_id",
            "data",
        )
    }
)
_INSERT = _VALUES.returning(domain_events.c.sequence)


_INSERT_ONCE = _VALUES.on_conflict_do_nothing(index_elements=[domain_events.c.id]).returning(
    domain_events.c.sequence
)


def append_once(conn: Connection, events: Sequence[DomainEvent]) -> int:
    """:func:`append`, skipping events whose id is recorded already (parked events taken back
    twice); returns how many were new."""
    pending: list[StoredEvent] = conn.info.setdefault(PENDING_KEY, [])
    added = 0
    for event in events:
        sequence = conn.execute(_INSERT_ONCE, _row(event)).scalar()
        if sequence is not None:
            pending.append(StoredEvent(int(sequence), event))
            added += 1
    return added


def _row(event: DomainEvent) -> dict[str, object]:
    return {
        "id": event.id,
        "tenant_id": event.tenant_id,
        "charge_point_id": event.charge_point_id,
        "type": event.type,
        "version": event.version,
        "occurred_at": event.occurred_at,
        "correlation_id": event.correlation_id,
        "data": event.data,
    }


def append(conn: Connection, events: Sequence[DomainEvent]) -> None:
    """Write ``events`` in the connection's transaction; they are published after it commits."""
    if not events:
        return
    pending: list[StoredEvent] = conn.info.setdefault(PENDING_KEY, [])
    for event in events:
        sequence = conn.execute(_INSERT, _row(event)).scalar_one()
        pending.append(StoredEvent(int(sequence), event))


def take_pending(conn: Connection) -> list[StoredEvent]:
    """The events appended since the last call (``Connection.info`` outlives the transaction:
    it belongs to the pooled DBAPI connection)."""
    pending: list[StoredEvent] = conn.info.pop(PENDING_KEY, None) or []
    return pending


class PgEventRecorder:
    """``uow.events``: what a unit of work's services emit (the production
    :class:`csms.domain.events.EventRecorder`)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, *events: DomainEvent) -> None:
        append(self._conn, events)

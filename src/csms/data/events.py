"""The ``domain_events`` table read back: the live feed, the relay's bookkeeping and
housekeeping (see :mod:`csms.domain.events`; events are written by :mod:`csms.data.outbox`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    bindparam,
    delete,
    func,
    literal,
    literal_column,
    select,
    tuple_,
    update,
)

from csms.data.database import PgDatabase
from csms.data.tables import domain_events
from csms.domain.events import DomainEvent, StoredEvent


def _stored(row: Any) -> StoredEvent:
    m = row._mapping
    return StoredEvent(
        sequence=int(m["sequence"]),
        event=DomainEvent(
            type=m["type"],
            tenant_id=m["tenant_id"],
            charge_point_id=m["charge_point_id"],
            occurred_at=m["occurred_at"],
            correlation_id=m["correlation_id"],
            data=m["data"] if isinstance(m["data"], dict) else json.loads(m["data"]),
            version=m["version"],
            id=str(m["id"]),
        ),
        publish_attempts=int(m["publish_attempts"]),
    )


_EVENT_COLUMNS = [c for c in domain_events.c if c.name not in ("txid", "last_error")]
#: Only rows whose writing transaction is older than every transaction still running. No row
#: can join that set later (new transactions get higher ids), so reading it in (txid,
#: sequence) order is gap-free: a transaction that got its id early but appends its event
#: late, or commits late, is served in its place once it is settled, never skipped.
#: (Ordering by sequence alone would not do: sequences are allocated at insert, txids at a
#: transaction's first write, and the two orders differ.)
_SETTLED = domain_events.c.txid < literal_column("pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
_FEED_ORDER = (domain_events.c.txid, domain_events.c.sequence)
#: Above any transaction id PostgreSQL hands out (xid8 counts up from 3 on the epoch's scale).
_NO_EVENT_YET = 1 << 62


#: After every request that changed something: built once (see csms.data.repositories).
_MARK_PUBLISHED = (
    update(domain_events)
    .where(
        domain_events.c.sequence.in_(bindparam("sequences", expanding=True)),
        domain_events.c.published_at.is_(None),
    )
    .values(published_at=bindparam("at", type_=domain_events.c.published_at.type))
)


class PgEventLog:
    """Reads and bookkeeping over ``domain_events`` (the feed, the relay, housekeeping)."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def feed(
        self,
        tenant_id: str,
        after: int,
        limit: int,
        *,
        types: Sequence[str] = (),
        charge_point_id: str | None = None,
    ) -> list[StoredEvent]:
        """The tenant's settled events after the one whose sequence is ``after`` (0: from the
        start), in feed order. The cursor is the last served event's sequence."""
        with self._db.connect() as conn:
            position = self._position(conn, tenant_id, after)
            where = [domain_events.c.tenant_id == tenant_id, _SETTLED, tuple_(*_FEED_ORDER) > position]
            if types:
                where.append(domain_events.c.type.in_(list(types)))
            if charge_point_id is not None:
                where.append(domain_events.c.charge_point_id == charge_point_id)
            rows = conn.execute(select(*_EVENT_COLUMNS).where(*where).order_by(*_FEED_ORDER).limit(limit))
            return [_stored(r) for r in rows]

    @staticmethod
    def _position(conn: Connection, tenant_id: str, after: int) -> Any:
        """(txid, sequence) of the cursor's event. A cursor that names no event of the tenant
        (0, pruned by retention, made up) starts after every event with a lower sequence
        that is at least as old: the best that can be done without its txid."""
        found = conn.execute(
            select(domain_events.c.txid).where(
                domain_events.c.sequence == after, domain_events.c.tenant_id == tenant_id
            )
        ).scalar()
        if found is not None:
            return tuple_(literal(int(found)), literal(after))
        if after <= 0:
            return tuple_(literal(-1), literal(0))
        # No later event at all: nothing to serve yet (not the whole history).
        oldest_after = (
            select(func.coalesce(func.min(domain_events.c.txid), _NO_EVENT_YET))
            .where(domain_events.c.tenant_id == tenant_id, domain_events.c.sequence > after)
            .scalar_subquery()
        )
        return tuple_(oldest_after, literal(after))

    def head(self, tenant_id: str) -> int:
        """The cursor of the tenant's latest settled event (0 if none): start a feed 'now'."""
        with self._db.connect() as conn:
            found = conn.execute(
                select(domain_events.c.sequence)
                .where(domain_events.c.tenant_id == tenant_id, _SETTLED)
                .order_by(*(c.desc() for c in _FEED_ORDER))
                .limit(1)
            ).scalar()
        return int(found or 0)

    def unpublished(self, older_than: datetime, limit: int) -> list[StoredEvent]:
        """Events not yet on the bus (nor dead-lettered) written before ``older_than``."""
        with self._db.connect() as conn:
            rows = conn.execute(
                select(*_EVENT_COLUMNS)
                .where(
                    domain_events.c.published_at.is_(None),
                    domain_events.c.dead_lettered_at.is_(None),
                    domain_events.c.occurred_at < older_than,
                )
                .order_by(domain_events.c.sequence)
                .limit(limit)
            )
            return [_stored(r) for r in rows]

    def mark_published(self, sequences: Sequence[int], at: datetime) -> None:
        if not sequences:
            return
        with self._db.autocommit() as conn:  # after every request that changed something
            conn.execute(_MARK_PUBLISHED, {"sequences": list(sequences), "at": at})

    def mark_failed(self, failures: dict[int, str], at: datetime, max_attempts: int) -> list[int]:
        """Count a failed publish attempt for each event; returns the sequences that have now
        used up ``max_attempts`` (the caller dead-letters them, then :meth:`mark_dead`)."""
        if not failures:
            return []
        exhausted: list[int] = []
        with self._db.begin() as conn:
            for sequence, error in failures.items():
                attempts = conn.execute(
                    update(domain_events)
                    .where(domain_events.c.sequence == sequence)
                    .values(publish_attempts=domain_events.c.publish_attempts + 1, last_error=error[:1000])
                    .returning(domain_events.c.publish_attempts)
                ).scalar()
                if attempts is not None and attempts >= max_attempts:
                    exhausted.append(sequence)
        return exhausted

    def mark_dead(self, sequences: Sequence[int], at: datetime) -> None:
        if not sequences:
            return
        with self._db.begin() as conn:
            conn.execute(
                update(domain_events)
                .where(domain_events.c.sequence.in_(list(sequences)))
                .values(dead_lettered_at=at)
            )

    def prune(self, before: datetime, batch: int = 10_000) -> int:
        """Delete events that occurred before ``before`` (the retention period), in batches."""
        removed = 0
        while True:
            with self._db.begin() as conn:
                doomed = (
                    select(domain_events.c.sequence)
                    .where(domain_events.c.occurred_at < before)
                    .order_by(domain_events.c.sequence)
                    .limit(batch)
                    .scalar_subquery()
                )
                count = conn.execute(
                    delete(domain_events).where(domain_events.c.sequence.in_(doomed))
                ).rowcount
            removed += int(count)
            if count < batch:
                return removed

    def record_once(self, events: Sequence[DomainEvent]) -> int:
        """Record events that happened earlier (parked), skipping any recorded already; they
        are published after the commit like any other. Returns how many were new."""
        from csms.data.outbox import append_once

        with self._db.begin() as conn:
            return append_once(conn, events)

    def backlog(self) -> int:
        """How many events wait for the bus (the partial index makes this cheap)."""
        with self._db.connect() as conn:
            found = conn.execute(
                select(func.count()).where(
                    domain_events.c.published_at.is_(None), domain_events.c.dead_lettered_at.is_(None)
                )
            ).scalar()
        return int(found or 0)

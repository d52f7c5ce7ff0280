"""Events about DynamoDB state raised while PostgreSQL is down are parked, then recorded once
(issue 13: 93 ChargerDisconnected recorded for 101 disconnects during an outage)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from csms.app import scheduled, wiring
from csms.domain.events import new_event
from csms.errors import StorageUnavailable
from tests.integration.conftest import rows


def _unreachable() -> Any:
    raise StorageUnavailable("database unavailable: connection refused")


class _Unreachable:
    """The event log while PostgreSQL is down (the factory's cached one was built before)."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: _unreachable()


def test_disconnects_during_an_outage_are_recorded_once_it_ends(
    stack: Any, engine: Engine, monkeypatch: Any
) -> None:
    # Given PostgreSQL down while three chargers disconnect
    events = [
        new_event("ChargerDisconnected", "default", f"CP-{n}", datetime.now(UTC), {"connectionId": f"c{n}"})
        for n in range(3)
    ]
    with monkeypatch.context() as outage:
        outage.setattr(wiring, "database", _unreachable)
        outage.setattr(wiring, "event_log", lambda: _Unreachable())
        recorded_now = [wiring.emit([event]) for event in events]
        # And the event-delivery job running during the outage (it cannot record them yet)
        with contextlib.suppress(StorageUnavailable):
            scheduled.run("event-delivery")
    ids = [e.id for e in events]
    mine = (
        "SELECT id::text AS id, occurred_at FROM domain_events WHERE id::text = ANY(:ids)"
        " ORDER BY charge_point_id"
    )
    assert recorded_now == [False, False, False]
    assert rows(engine, mine, ids=ids) == []

    # When PostgreSQL is back and the job runs, twice
    first = scheduled.run("event-delivery")
    scheduled.run("event-delivery")

    # Then every event is recorded, once, with its own id and time
    stored = rows(engine, mine, ids=ids)
    assert [r["id"] for r in stored] == ids
    # (to the millisecond, as every envelope carries it)
    assert [r["occurred_at"] for r in stored] == [
        e.occurred_at.replace(microsecond=e.occurred_at.microsecond // 1000 * 1000) for e in events
    ]
    assert first["recovered"] >= 3

"""The event-delivery job works off a backlog within a time budget."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from csms.domain.events import StoredEvent, new_event
from csms.services.event_relay import EventRelay

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


class Backlog:
    """An event log with ``size`` unpublished events (the EventLog protocol, in memory)."""

    def __init__(self, size: int) -> None:
        self.unsent = [
            StoredEvent(n, new_event("ChargerConnected", "t", "CP-1", NOW, {"connectionId": f"c{n}"}))
            for n in range(1, size + 1)
        ]
        self.pruned = False

    def unpublished(self, older_than: datetime, limit: int) -> list[StoredEvent]:
        return self.unsent[:limit]

    def mark_published(self, sequences: Sequence[int], at: datetime) -> None:
        done = set(sequences)
        self.unsent = [s for s in self.unsent if s.sequence not in done]

    def mark_failed(self, failures: dict[int, str], at: datetime, max_attempts: int) -> list[int]:
        return []

    def mark_dead(self, sequences: Sequence[int], at: datetime) -> None:
        pass

    def prune(self, before: datetime, batch: int = 10_000) -> int:
        self.pruned = True
        return 0

    def backlog(self) -> int:
        return len(self.unsent)


class Bus:
    def __init__(self) -> None:
        self.calls = 0

    def publish(self, events: Sequence[StoredEvent]) -> dict[int, str]:
        self.calls += 1
        return {}


def test_a_backlog_is_worked_off_over_runs_within_the_budget_and_still_pruned() -> None:
    # Given 2,000 unpublished events and a bus where each batch of 500 takes 12 s
    log, bus = Backlog(2_000), Bus()
    relay = EventRelay(log, bus, lambda: NOW, retention=timedelta(days=30))

    # When the job runs with a 30 s budget
    result = relay.redeliver(NOW, limit=500, budget_seconds=30, elapsed=lambda: 12.0 * bus.calls)

    # Then it stops after the batch that crossed the budget, and still prunes and reports
    assert (bus.calls, result["published"], result["budget_exhausted"]) == (3, 1_500, 1)
    assert log.pruned
    assert result["backlog"] == 500

    # and the next run publishes the rest
    rest = relay.redeliver(NOW, limit=500, budget_seconds=30, elapsed=lambda: 0.0)
    assert (rest["published"], rest["backlog"]) == (500, 0)
    assert "budget_exhausted" not in rest

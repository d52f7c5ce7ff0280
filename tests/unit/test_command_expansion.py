"""One request, several commands: an action's ``expand`` hook (SendLocalList parts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from csms.clock import FixedClock
from csms.domain.commands import Command
from csms.domain.tenancy import TenantScope
from csms.errors import InvalidInput
from csms.ocppj.frames import call
from csms.services.commands import ActionSpec, CommandRegistry, CommandService, always_accepted
from tests.fakes import FakeConnectionStore, RecordingSender, stations_where

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
#: A tenant's operator submitting commands.
OPERATOR = TenantScope("t1", subject="op")


class Recorder:
    """Store and queue at once: remembers what was added and enqueued."""

    def __init__(self) -> None:
        self.added: list[Command] = []
        self.enqueued: list[str] = []

    def add(self, command: Command) -> None:
        self.added.append(command)

    def enqueue(self, command: Command) -> None:
        self.enqueued.append(command.id)


def a_service(recorder: Recorder, spec: ActionSpec, validate: Any = None) -> CommandService:
    registry = CommandRegistry()
    registry.register(spec)
    return CommandService(
        recorder,  # type: ignore[arg-type]  # only add() is used on submit
        None,  # type: ignore[arg-type]
        recorder,
        FakeConnectionStore(),
        RecordingSender,
        registry,
        FixedClock(NOW),
        stations=stations_where(),
        timeout=timedelta(seconds=30),
        call_frame=call,
        validate_request=validate or (lambda action, payload: None),
        validate_response=lambda action, payload: None,
    )


def split(command: Command) -> list[dict[str, Any]]:
    return [{"part": i} for i in range(command.request["parts"])]


def test_an_expanded_request_becomes_commands_queued_in_order() -> None:
    recorder = Recorder()
    service = a_service(recorder, ActionSpec("Split", always_accepted, expand=split))
    # When (the clock stands still, as it may between two submits)
    batch = service.submit_all(OPERATOR, "CP", "Split", {"parts": 3})
    # Then each part is a command of its own, a microsecond apart so the queue keeps the order
    assert [c.request for c in batch] == [{"part": 0}, {"part": 1}, {"part": 2}]
    assert [c.created_at for c in batch] == [NOW + timedelta(microseconds=i) for i in range(3)]
    assert len({c.id for c in batch}) == 3
    assert recorder.added == batch
    assert recorder.enqueued == [c.id for c in batch]
    # and submit() answers with the first
    assert service.submit(OPERATOR, "CP", "Split", {"parts": 2}).request == {"part": 0}


def test_one_invalid_part_records_none() -> None:
    recorder = Recorder()

    def validate(action: str, payload: dict[str, Any]) -> None:
        if payload["part"] == 2:
            raise InvalidInput("part 2 is bad")

    service = a_service(recorder, ActionSpec("Split", always_accepted, expand=split), validate)
    with pytest.raises(InvalidInput):
        service.submit_all(OPERATOR, "CP", "Split", {"parts": 3})
    assert (recorder.added, recorder.enqueued) == ([], [])


def test_nothing_to_send_is_refused() -> None:
    service = a_service(Recorder(), ActionSpec("Split", always_accepted, expand=split))
    with pytest.raises(InvalidInput):
        service.submit_all(OPERATOR, "CP", "Split", {"parts": 0})

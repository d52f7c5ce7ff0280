"""The command pipeline with in-memory collaborators: one registry per protocol, translation at
submit and again at delivery, one request split into several commands (``expand``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from csms.clock import FixedClock
from csms.domain.commands import Command, CommandStatus, PendingCall, Translation
from csms.domain.connections import ConnectionRecord
from csms.domain.tenancy import TenantScope
from csms.errors import Conflict, InvalidInput
from csms.ocppj.frames import call
from csms.services.commands import (
    ActionSpec,
    CommandRegistry,
    CommandService,
    always_accepted,
    ocpp_action,
)
from tests.fakes import FakeConnectionStore, RecordingSender, stations_where

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
#: A tenant's operator submitting commands.
OPERATOR = TenantScope("t1", subject="op")
V16, V201 = "ocpp1.6", "ocpp2.0.1"


class Commands:
    """The command store and queue in memory (what the pipeline needs of PostgreSQL and SQS)."""

    def __init__(self) -> None:
        self.rows: dict[str, Command] = {}
        self.enqueued: list[str] = []
        self.ids = iter(range(1, 1000))

    def add(self, command: Command) -> None:
        self.rows[command.id] = command

    def enqueue(self, command: Command) -> None:
        self.enqueued.append(command.id)

    def translated(self, command: Command) -> bool:
        if self.rows[command.id].status is not CommandStatus.QUEUED:
            return False
        self.rows[command.id] = command
        return True

    def next_request_id(self) -> int:
        return next(self.ids)

    def get_any(self, command_id: str) -> Command | None:
        return self.rows.get(command_id)

    def oldest_queued(self, charge_point_id: str, now: datetime) -> Command | None:
        queued = [
            c
            for c in self.rows.values()
            if c.charge_point_id == charge_point_id and c.status is CommandStatus.QUEUED
        ]
        return min(queued, key=lambda c: (c.created_at, c.id)) if queued else None

    def mark_sent(self, command_id: str, unique_id: str, sent_at: datetime, deadline: datetime) -> bool:
        command = self.rows[command_id]
        self.rows[command_id] = replace(command, status=CommandStatus.SENT, ocpp_unique_id=unique_id)
        return command.status is CommandStatus.QUEUED

    def finish(self, command_id: str, status: CommandStatus, at: datetime, **fields: Any) -> bool:
        command = self.rows[command_id]
        if command.status.final:
            return False
        self.rows[command_id] = replace(command, status=status, **fields)
        return True


class Slots:
    def __init__(self) -> None:
        self.held: dict[str, PendingCall] = {}

    def claim(self, call: PendingCall, now: datetime) -> bool:
        return self.held.setdefault(call.charge_point_id, call) is call

    def pop(self, charge_point_id: str, unique_id: str) -> PendingCall | None:
        held = self.held.get(charge_point_id)
        if held is None or held.unique_id != unique_id:
            return None
        return self.held.pop(charge_point_id)


def no_check(action: str, payload: dict[str, Any]) -> None:
    pass


def a_registry(protocol: str, *specs: ActionSpec, validate: Any = no_check) -> CommandRegistry:
    registry = CommandRegistry(protocol, validate, no_check)
    for spec in specs:
        registry.register(spec)
    return registry


def say(word: str) -> ActionSpec:
    """A neutral command ``say`` that each protocol says in its own words."""
    return ActionSpec("say", always_accepted, translate=lambda r: Translation(word, {"text": r["text"]}))


class Pipeline:
    def __init__(self, *registries: CommandRegistry, protocols: dict[str, str] | None = None) -> None:
        self.commands = Commands()
        self.connections = FakeConnectionStore()
        self.sender = RecordingSender()
        self.slots = Slots()
        self.service = CommandService(
            self.commands,  # type: ignore[arg-type]  # what the pipeline uses of the store
            self.slots,  # type: ignore[arg-type]
            self.commands,
            self.connections,
            lambda: self.sender,
            {r.protocol: r for r in registries},
            FixedClock(NOW),
            stations=stations_where(protocols=protocols if protocols is not None else {"CP": V16}),
            timeout=timedelta(seconds=30),
            call_frame=call,
        )

    def connect(self, protocol: str, connection_id: str = "c1") -> None:
        self.connections.register(ConnectionRecord(connection_id, "CP", "t1", protocol, NOW))

    def frames(self) -> list[str]:
        return [frame for _, frame in self.sender.sent]


def split(command: Command) -> list[dict[str, Any]]:
    return [{"part": i} for i in range(command.request["parts"])]


def parts_spec() -> ActionSpec:
    return ActionSpec(
        "split", always_accepted, translate=lambda r: Translation("Part", dict(r)), expand=split
    )


# --- submit -------------------------------------------------------------------------------------


def test_a_command_is_translated_for_the_protocol_the_station_last_spoke() -> None:
    pipeline = Pipeline(a_registry(V16, say("Say16")), a_registry(V201, say("Say201")))
    command = pipeline.service.submit(OPERATOR, "CP", "say", {"text": "hi"})
    assert (command.name, command.protocol, command.action) == ("say", V16, "Say16")
    assert (command.request, command.ocpp_request) == ({"text": "hi"}, {"text": "hi"})
    assert pipeline.commands.enqueued == [command.id]


def test_a_request_the_protocol_cannot_express_is_refused_before_it_is_recorded() -> None:
    def refuse(r: dict[str, Any]) -> Translation:
        raise InvalidInput("colour: 1.6 has none")

    pipeline = Pipeline(a_registry(V16, ActionSpec("say", always_accepted, translate=refuse)))
    with pytest.raises(InvalidInput, match="colour"):
        pipeline.service.submit(OPERATOR, "CP", "say", {"text": "hi"})
    assert pipeline.commands.rows == {}


def test_an_expanded_request_becomes_commands_queued_in_order() -> None:
    pipeline = Pipeline(a_registry(V16, parts_spec()))
    # When (the clock stands still, as it may between two submits)
    batch = pipeline.service.submit_all(OPERATOR, "CP", "split", {"parts": 3})
    # Then each part is a command of its own, a microsecond apart so the queue keeps the order
    assert [c.request for c in batch] == [{"part": 0}, {"part": 1}, {"part": 2}]
    assert [c.ocpp_request for c in batch] == [{"part": 0}, {"part": 1}, {"part": 2}]
    assert [c.created_at for c in batch] == [NOW + timedelta(microseconds=i) for i in range(3)]
    assert len({c.id for c in batch}) == 3
    assert list(pipeline.commands.rows.values()) == batch
    assert pipeline.commands.enqueued == [c.id for c in batch]
    # and submit() answers with the first
    assert pipeline.service.submit(OPERATOR, "CP", "split", {"parts": 2}).request == {"part": 0}


def test_one_invalid_part_records_none() -> None:
    def validate(action: str, payload: dict[str, Any]) -> None:
        if payload["part"] == 2:
            raise InvalidInput("part 2 is bad")

    pipeline = Pipeline(a_registry(V16, parts_spec(), validate=validate))
    with pytest.raises(InvalidInput):
        pipeline.service.submit_all(OPERATOR, "CP", "split", {"parts": 3})
    assert (pipeline.commands.rows, pipeline.commands.enqueued) == ({}, [])


def test_nothing_to_send_is_refused() -> None:
    pipeline = Pipeline(a_registry(V16, parts_spec()))
    with pytest.raises(InvalidInput):
        pipeline.service.submit_all(OPERATOR, "CP", "split", {"parts": 0})


def test_prepare_runs_once_and_its_records_are_undone_if_translation_fails() -> None:
    undone: list[dict[str, Any]] = []

    def refuse(r: dict[str, Any]) -> Translation:
        raise InvalidInput("evseId: no")

    spec = ActionSpec(
        "reserve",
        always_accepted,
        translate=refuse,
        prepare=lambda c: {**c.request, "reservationId": 7},
        on_failure=lambda c, now: undone.append(c.request),
    )
    pipeline = Pipeline(a_registry(V16, spec))
    with pytest.raises(InvalidInput):
        pipeline.service.submit(OPERATOR, "CP", "reserve", {})
    assert undone == [{"reservationId": 7}]


def test_a_station_whose_protocol_is_unknown_gets_the_command_prepared_now_and_translated_later() -> None:
    prepared = ActionSpec(
        "say",
        always_accepted,
        translate=lambda r: Translation("Say201", dict(r)),
        prepare=lambda c: {**c.request, "requestId": 5},
    )
    pipeline = Pipeline(a_registry(V16, say("Say16")), a_registry(V201, prepared), protocols={})
    command = pipeline.service.submit(OPERATOR, "CP", "say", {"text": "hi"})
    assert (command.protocol, command.action, command.ocpp_request) == (None, None, None)
    # When it connects with 2.0.1
    pipeline.connect(V201)
    sent = pipeline.service.deliver_next("CP")
    assert sent is not None
    assert (sent.protocol, sent.action, sent.ocpp_request) == (V201, "Say201", {"text": "hi"})
    assert '"Say201"' in pipeline.frames()[0]


def test_a_protocol_specific_action_needs_the_protocol_known() -> None:
    pipeline = Pipeline(a_registry(V16, ocpp_action("GetConfiguration", always_accepted)), protocols={})
    with pytest.raises(Conflict, match="not known yet"):
        pipeline.service.submit(OPERATOR, "CP", "GetConfiguration", {})


def test_an_unknown_command_is_refused() -> None:
    pipeline = Pipeline(a_registry(V16, say("Say16")))
    with pytest.raises(InvalidInput):
        pipeline.service.submit(OPERATOR, "CP", "dance", {})


# --- deliver --------------------------------------------------------------------------------


def test_a_station_that_changed_protocol_gets_its_own_version_at_delivery() -> None:
    pipeline = Pipeline(a_registry(V16, say("Say16")), a_registry(V201, say("Say201")))
    command = pipeline.service.submit(OPERATOR, "CP", "say", {"text": "hi"})
    assert command.action == "Say16"
    # When it reconnects with 2.0.1 before the command left
    pipeline.connect(V201)
    sent = pipeline.service.deliver_next("CP")
    assert sent is not None
    assert (sent.protocol, sent.action) == (V201, "Say201")
    assert pipeline.commands.rows[command.id].status is CommandStatus.SENT


def test_a_station_that_cannot_take_the_command_in_its_new_protocol_fails_it_with_the_reason() -> None:
    def refuse(r: dict[str, Any]) -> Translation:
        raise InvalidInput("text: too loud for 2.0.1")

    pipeline = Pipeline(
        a_registry(V16, say("Say16")), a_registry(V201, ActionSpec("say", always_accepted, translate=refuse))
    )
    command = pipeline.service.submit(OPERATOR, "CP", "say", {"text": "hi"})
    pipeline.connect(V201)
    assert pipeline.service.deliver_next("CP") is None
    failed = pipeline.commands.rows[command.id]
    assert (failed.status, failed.reason) == (
        CommandStatus.FAILED,
        "cannot be sent over ocpp2.0.1: text: too loud for 2.0.1",
    )
    assert pipeline.frames() == []


def test_a_protocol_specific_action_is_never_translated_for_another_protocol() -> None:
    pipeline = Pipeline(
        a_registry(V16, ocpp_action("DataTransfer", always_accepted)),
        a_registry(V201, ocpp_action("DataTransfer", always_accepted)),
    )
    command = pipeline.service.submit(OPERATOR, "CP", "DataTransfer", {"vendorId": "x", "data": "1.6 text"})
    pipeline.connect(V201)
    assert pipeline.service.deliver_next("CP") is None
    failed = pipeline.commands.rows[command.id]
    assert failed.status is CommandStatus.FAILED
    assert failed.reason == "DataTransfer cannot be sent over ocpp2.0.1, the protocol the station now speaks"


def test_parts_expanded_at_delivery_are_queued_after_the_first() -> None:
    pipeline = Pipeline(a_registry(V201, parts_spec()), protocols={})
    first = pipeline.service.submit(OPERATOR, "CP", "split", {"parts": 3})
    pipeline.connect(V201)
    sent = pipeline.service.deliver_next("CP")
    assert sent is not None
    assert (sent.id, sent.request) == (first.id, {"part": 0})
    rest = sorted(
        (c for c in pipeline.commands.rows.values() if c.id != first.id), key=lambda c: c.created_at
    )
    assert [(c.request, c.status, c.action) for c in rest] == [
        ({"part": 1}, CommandStatus.QUEUED, "Part"),
        ({"part": 2}, CommandStatus.QUEUED, "Part"),
    ]


# --- finished -------------------------------------------------------------------------------------


def test_whoever_waits_is_told_of_each_command_that_ends_after_its_row_says_so_and_cannot_break_it() -> None:
    pipeline = Pipeline(a_registry(V16, say("Say16")))
    told: list[tuple[str, CommandStatus]] = []

    def observe(command: Command) -> None:
        told.append((command.id, pipeline.commands.rows[command.id].status))
        raise RuntimeError("the observer failed")

    pipeline.service.on_finished = observe
    pipeline.connect(V16)
    answered = pipeline.service.submit(OPERATOR, "CP", "say", {"text": "hi"})
    assert pipeline.service.deliver_next("CP") is not None
    # An answer: told once, with the row already final; the observer's failure is its own
    finished = pipeline.service.complete("CP", pipeline.slots.held["CP"].unique_id, {}, None)
    assert finished is not None
    assert finished.status is CommandStatus.ACCEPTED
    # A command that fails at delivery (the station gone): told too
    pipeline.connections.records.clear()
    pipeline.connections.current.clear()
    failed = pipeline.service.submit(OPERATOR, "CP", "say", {"text": "again"})
    assert pipeline.service.deliver_next("CP") is None
    assert told == [(answered.id, CommandStatus.ACCEPTED), (failed.id, CommandStatus.FAILED)]

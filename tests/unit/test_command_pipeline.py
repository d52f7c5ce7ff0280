"""The command pipeline with in-memory collaborators: one registry per protocol, translation at
submit and again at delivery, one request split into several commands (``expand``)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from csms.clock import FixedClock
from csms.domain.commands import Answer, Command, CommandStatus, PendingCall, Translation
from csms.domain.connections import ConnectionRecord
from csms.domain.tenancy import TenantScope
from csms.errors import Conflict, InvalidInput, StorageUnavailable
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
        #: PostgreSQL refuses to finish commands (an outage between an answer and its outcome).
        self.down = False

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
        if command.status is not CommandStatus.QUEUED:
            return False
        self.rows[command_id] = replace(
            command,
            status=CommandStatus.SENT,
            ocpp_unique_id=unique_id,
            deadline=deadline,
            attempts=command.attempts + 1,
            reason=None,
        )
        return True

    def requeue(self, command_id: str, unique_id: str, reason: str) -> bool:
        command = self.rows[command_id]
        if command.status is not CommandStatus.SENT or command.ocpp_unique_id != unique_id:
            return False
        self.rows[command_id] = replace(
            command, status=CommandStatus.QUEUED, ocpp_unique_id=None, deadline=None, reason=reason
        )
        return True

    def queued_expired(self, now: datetime, limit: int) -> list[Command]:
        return [
            c
            for c in self.rows.values()
            if c.status is CommandStatus.QUEUED and c.expires_at is not None and c.expires_at <= now
        ][:limit]

    def sent_with_deadline_before(self, cutoff: datetime, limit: int) -> list[Command]:
        return []

    def chargers_with_stale_queue(self, older_than: datetime) -> list[str]:
        return sorted({c.charge_point_id for c in self.rows.values() if c.status is CommandStatus.QUEUED})

    def by_unique_id(self, charge_point_id: str, unique_id: str) -> Command | None:
        return next((c for c in self.rows.values() if c.ocpp_unique_id == unique_id), None)

    def record_late_response(self, command_id: str, payload: dict[str, Any], at: datetime) -> None:
        self.rows[command_id] = replace(self.rows[command_id], late_response=payload)

    def finish(
        self,
        command_id: str,
        status: CommandStatus,
        at: datetime,
        unique_id: str | None = None,
        only: CommandStatus | None = None,
        **fields: Any,
    ) -> bool:
        if self.down:
            raise StorageUnavailable("postgresql is down (fake)")
        command = self.rows[command_id]
        if command.status.final:
            return False
        if unique_id is not None and (
            command.status is not CommandStatus.SENT or command.ocpp_unique_id != unique_id
        ):
            return False
        if only is not None and command.status is not only:
            return False
        self.rows[command_id] = replace(command, status=status, **fields)
        return True


class Slots:
    def __init__(self) -> None:
        self.held: dict[str, PendingCall] = {}

    def claim(self, call: PendingCall, now: datetime) -> bool:
        held = self.held.get(call.charge_point_id)
        if held is not None and (held.deadline >= now or held.answer is not None):
            return False
        self.held[call.charge_point_id] = call
        return True

    def answer(self, charge_point_id: str, unique_id: str, answer: Answer) -> PendingCall | None:
        held = self.held.get(charge_point_id)
        if held is None or held.unique_id != unique_id or held.answer is not None:
            return None
        self.held[charge_point_id] = replace(held, answer=answer)
        return self.held[charge_point_id]

    def expired(self, now: datetime) -> list[PendingCall]:
        return [call for call in self.held.values() if call.deadline < now]

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
        self.clock = FixedClock(NOW)
        self.service = CommandService(
            self.commands,  # type: ignore[arg-type]  # what the pipeline uses of the store
            self.slots,  # type: ignore[arg-type]
            self.commands,
            self.connections,
            lambda: self.sender,
            {r.protocol: r for r in registries},
            self.clock,
            stations=stations_where(protocols=protocols if protocols is not None else {"CP": V16}),
            timeout=timedelta(seconds=30),
            call_frame=call,
            expiry=timedelta(minutes=10),
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


# --- a station away: offline, a connection gone, an expiry ------------------------------------


def unique_id_of(frame: str) -> str:
    return str(json.loads(frame)[1])


def test_a_command_for_an_offline_station_waits_queued_for_its_next_connection() -> None:
    pipeline = Pipeline(a_registry(V16, say("Say16")))
    # Given a station that is not connected
    command = pipeline.service.submit(OPERATOR, "CP", "say", {"text": "hi"})
    # When its delivery is tried (the SQS trigger, the sweeper's kick)
    assert pipeline.service.deliver_next("CP") is None
    # Then it stays queued, with its expiry, and nothing was sent
    waiting = pipeline.commands.rows[command.id]
    assert (waiting.status, waiting.expires_at, waiting.attempts) == (
        CommandStatus.QUEUED,
        NOW + timedelta(minutes=10),
        0,
    )
    assert pipeline.frames() == []
    # and when the station connects, it goes
    pipeline.connect(V16)
    sent = pipeline.service.deliver_next("CP")
    assert sent is not None
    assert sent.id == command.id
    assert pipeline.commands.rows[command.id].attempts == 1


def test_a_send_that_finds_the_connection_gone_requeues_in_order() -> None:
    pipeline = Pipeline(a_registry(V16, say("Say16")))
    pipeline.connect(V16, "old")
    pipeline.sender.gone.add("old")  # API Gateway cut it; $disconnect not handled yet
    first = pipeline.service.submit(OPERATOR, "CP", "say", {"text": "one"})
    pipeline.clock.advance(1)
    second = pipeline.service.submit(OPERATOR, "CP", "say", {"text": "two"})
    # When the first is sent to the gone connection
    assert pipeline.service.deliver_next("CP") is None
    # Then it is queued again (not failed), the slot is free, and the order holds
    requeued = pipeline.commands.rows[first.id]
    assert (requeued.status, requeued.attempts, requeued.ocpp_unique_id) == (CommandStatus.QUEUED, 1, None)
    assert requeued.reason is not None
    assert "connection was gone" in requeued.reason
    assert pipeline.slots.held == {}
    # and on the next connection both go, the first first
    pipeline.connect(V16, "new")
    assert pipeline.service.deliver_next("CP") is not None
    assert [json.loads(f)[3]["text"] for f in pipeline.frames()] == ["one"]
    answered = pipeline.service.complete("CP", unique_id_of(pipeline.frames()[0]), {}, None)
    assert answered is not None
    assert (answered.status, answered.attempts) == (CommandStatus.ACCEPTED, 2)
    assert [json.loads(f)[3]["text"] for f in pipeline.frames()] == ["one", "two"]
    assert pipeline.commands.rows[second.id].status is CommandStatus.SENT


def test_a_send_to_a_gone_connection_tries_the_connection_that_replaced_it() -> None:
    pipeline = Pipeline(a_registry(V16, say("Say16")))
    pipeline.connect(V16, "old")
    pipeline.sender.gone.add("old")

    class Reconnecting:
        """The station reconnects while the send to its old connection is on its way."""

        def send(self, connection_id: str, frame: str) -> None:
            if connection_id == "old":
                pipeline.connect(V16, "new")
            pipeline.sender.send(connection_id, frame)

    pipeline.service._sender = lambda: Reconnecting()  # type: ignore[assignment,return-value]
    command = pipeline.service.submit(OPERATOR, "CP", "say", {"text": "hi"})
    sent = pipeline.service.deliver_next("CP")
    assert sent is not None
    assert sent.id == command.id
    assert pipeline.sender.sent[0][0] == "new"


def test_a_queued_command_past_its_expiry_is_timed_out_with_the_reason() -> None:
    pipeline = Pipeline(a_registry(V16, say("Say16")))
    late = pipeline.service.submit(OPERATOR, "CP", "say", {"text": "hi"}, expires_in=timedelta(minutes=1))
    kept = pipeline.service.submit(OPERATOR, "CP", "say", {"text": "later"})
    # When the sweep runs after the first one's expiry, the station still away
    pipeline.clock.advance(61)
    result = pipeline.service.sweep()
    # Then it is timed out, saying why; the other still waits
    expired = pipeline.commands.rows[late.id]
    assert (result["expired"], expired.status) == (1, CommandStatus.TIMED_OUT)
    assert expired.reason == (
        "expired at 2026-11-21T12:01:00+00:00 before it could be sent: the station did not connect in time"
    )
    assert pipeline.commands.rows[kept.id].status is CommandStatus.QUEUED


def test_a_station_that_reconnects_after_the_expiry_never_gets_the_command() -> None:
    pipeline = Pipeline(a_registry(V16, say("Say16")))
    command = pipeline.service.submit(OPERATOR, "CP", "say", {"text": "hi"}, expires_in=timedelta(minutes=1))
    pipeline.clock.advance(60)
    pipeline.connect(V16)
    assert pipeline.service.deliver_next("CP") is None
    assert pipeline.commands.rows[command.id].status is CommandStatus.TIMED_OUT
    assert pipeline.frames() == []


def test_the_slot_is_freed_only_after_the_outcome_is_stored() -> None:
    pipeline = Pipeline(a_registry(V16, say("Say16")))
    pipeline.connect(V16)
    command = pipeline.service.submit(OPERATOR, "CP", "say", {"text": "hi"})
    pipeline.service.deliver_next("CP")
    unique_id = unique_id_of(pipeline.frames()[0])
    # Given PostgreSQL fails as the answer arrives
    pipeline.commands.down = True
    with pytest.raises(StorageUnavailable):
        pipeline.service.complete("CP", unique_id, {"status": "Accepted"}, None)
    # Then the slot still holds the call, with the answer; nothing else can be sent
    held = pipeline.slots.held["CP"]
    assert (held.unique_id, held.answer) == (unique_id, Answer({"status": "Accepted"}, None))
    assert pipeline.commands.rows[command.id].status is CommandStatus.SENT
    # and a repeated answer does not run it twice
    assert pipeline.service.complete("CP", unique_id, {"status": "Accepted"}, None) is None
    # When PostgreSQL is back and the sweep runs after the deadline
    pipeline.commands.down = False
    pipeline.clock.advance(31)
    pipeline.service.sweep()
    # Then the outcome is the station's answer, not a timeout, and the slot is free
    assert pipeline.commands.rows[command.id].status is CommandStatus.ACCEPTED
    assert pipeline.slots.held == {}


def test_a_settlement_that_finds_the_outcome_stored_only_frees_the_slot() -> None:
    pipeline = Pipeline(a_registry(V16, say("Say16")))
    pipeline.connect(V16)
    command = pipeline.service.submit(OPERATOR, "CP", "say", {"text": "hi"})
    pipeline.service.deliver_next("CP")
    unique_id = unique_id_of(pipeline.frames()[0])
    # Given the outcome was stored but the slot not freed (killed in between)
    pipeline.slots.answer("CP", unique_id, Answer({}, None))
    pipeline.commands.finish(command.id, CommandStatus.ACCEPTED, NOW, unique_id=unique_id)
    # When the sweep settles it again with another outcome in hand
    pipeline.slots.held["CP"] = replace(
        pipeline.slots.held["CP"], answer=Answer(None, ("InternalError", "x"))
    )
    pipeline.clock.advance(31)
    pipeline.service.sweep()
    # Then the stored outcome stands and the slot is free
    assert pipeline.commands.rows[command.id].status is CommandStatus.ACCEPTED
    assert pipeline.slots.held == {}


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
    # A command that waited for the station past its expiry: told too
    pipeline.connections.records.clear()
    pipeline.connections.current.clear()
    expired = pipeline.service.submit(
        OPERATOR, "CP", "say", {"text": "again"}, expires_in=timedelta(minutes=1)
    )
    assert pipeline.service.deliver_next("CP") is None
    pipeline.clock.advance(61)
    pipeline.service.sweep()
    assert told == [(answered.id, CommandStatus.ACCEPTED), (expired.id, CommandStatus.TIMED_OUT)]

"""$default with fakes: attribution of frames to chargers and delivery of answers."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from csms.app.message import MessageDeps, handle
from csms.clock import FixedClock
from csms.domain.connections import ConnectionRecord
from csms.domain.stations import ChargingStation, RegistrationStatus
from csms.ocpp16.adapter import ADAPTER
from csms.ocpp16.registry import Services
from csms.ocppj.dispatcher import Dispatcher
from csms.services.authorization import AuthorizationService
from csms.services.core import ChargePointService, DataTransferService
from csms.services.transactions import TransactionService
from tests.fakes import FakeConnectionStore, FakeDatabase, RecordingSender

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)


class World:
    def __init__(self) -> None:
        self.db = FakeDatabase()
        self.db.uow.chargers["CP-1"] = ChargingStation("CP-1", "t1", RegistrationStatus.ACCEPTED)
        self.connections = FakeConnectionStore()
        self.sender = RecordingSender()
        dispatcher = Dispatcher(
            ADAPTER,
            Services(
                ChargePointService(self.db, self.connections, 300),
                AuthorizationService(self.db),
                TransactionService(self.db),
                DataTransferService(),
            ),
        )
        self.deps = MessageDeps(self.connections, lambda protocol: dispatcher, self.sender, FixedClock(NOW))

    def connect(self, status: RegistrationStatus = RegistrationStatus.ACCEPTED) -> None:
        self.connections.register(ConnectionRecord("c1", "CP-1", "t1", "ocpp1.6", NOW, status))

    def receive(self, body: str, *, base64_encoded: bool = False) -> dict[str, Any]:
        event = {"requestContext": {"connectionId": "c1", "routeKey": "$default"}, "body": body}
        if base64_encoded:
            event["isBase64Encoded"] = True
        return handle(event, None, self.deps)

    def answers(self) -> list[list[Any]]:
        return [json.loads(frame) for _, frame in self.sender.sent]


@pytest.fixture
def world() -> World:
    return World()


def test_a_call_is_answered_through_connections_and_liveness_recorded(world: World) -> None:
    world.connect()
    assert world.receive('[2,"h1","Heartbeat",{}]') == {"statusCode": 200}
    assert world.answers() == [[3, "h1", {"currentTime": "2026-11-21T12:00:00.000Z"}]]
    assert world.connections.records["c1"].last_seen == NOW


def test_a_frame_on_an_unknown_connection_is_refused_and_the_connection_closed(world: World) -> None:
    assert world.receive('[2,"h1","Heartbeat",{}]') == {"statusCode": 200}
    assert world.answers()[0][:3] == [4, "h1", "InternalError"]
    assert world.sender.closed == ["c1"]


def test_when_dynamodb_fails_the_charger_gets_internal_error_and_retries(world: World) -> None:
    world.connect()
    world.connections.fail = True
    assert world.receive('[2,"m1","MeterValues",{}]') == {"statusCode": 200}
    assert world.answers()[0][:3] == [4, "m1", "InternalError"]


def test_a_pending_charger_gets_security_error_for_transactions(world: World) -> None:
    world.connect(RegistrationStatus.PENDING)
    world.receive('[2,"a1","Authorize",{"idTag":"T"}]')
    assert world.answers()[0][:3] == [4, "a1", "SecurityError"]


def test_a_gone_connection_does_not_fail_the_invocation(world: World) -> None:
    world.connect()
    world.sender.gone.add("c1")
    assert world.receive('[2,"h1","Heartbeat",{}]') == {"statusCode": 200}


def test_binary_frames_are_decoded(world: World) -> None:
    world.connect()
    world.receive(base64.b64encode(b'[2,"h1","Heartbeat",{}]').decode(), base64_encoded=True)
    assert world.answers()[0][:2] == [3, "h1"]


def test_answers_from_the_charger_get_no_answer(world: World) -> None:
    world.connect()
    world.receive('[3,"x",{}]')
    assert world.sender.sent == []


def test_an_undecodable_binary_frame_gets_formation_violation_and_the_connection_stays_usable(
    world: World,
) -> None:
    world.connect()
    world.receive(base64.b64encode(b'[2,"b1","Heartbeat",{"x":"\xff"}]').decode(), base64_encoded=True)
    world.receive('[2,"h1","Heartbeat",{}]')
    # Its uniqueId cannot be read, so the CALLERROR carries the conventional "-1"
    assert [answer[:3] for answer in world.answers()] == [
        [4, "-1", "FormationViolation"],
        [3, "h1", {"currentTime": "2026-11-21T12:00:00.000Z"}],
    ]


def test_routine_frames_are_logged_as_sampled_and_every_error_always(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a 1 % sample whose draw always misses
    world.deps = replace(world.deps, log_sample_rate=0.01, draw=lambda: 0.5)
    world.connect()
    with caplog.at_level("INFO", logger="csms.app.message"):
        # When a routine Heartbeat and a frame that is answered with a CALLERROR arrive
        world.receive('[2, "h1", "Heartbeat", {}]')
        world.receive('[2, "x1", "NoSuchAction", {}]')
    # Then only the CALLERROR's frame got its one line
    lines = [r for r in caplog.records if r.getMessage() == "frame"]
    assert [(r.action, r.outcome) for r in lines] == [("NoSuchAction", "NotImplemented")]  # type: ignore[attr-defined]


def test_a_sampled_routine_frame_gets_one_line(world: World, caplog: pytest.LogCaptureFixture) -> None:
    world.deps = replace(world.deps, log_sample_rate=0.01, draw=lambda: 0.001)
    world.connect()
    with caplog.at_level("INFO", logger="csms.app.message"):
        world.receive('[2, "h1", "Heartbeat", {}]')
    assert [r.getMessage() for r in caplog.records if r.name == "csms.app.message"] == ["frame"]


def test_commands_that_waited_go_after_the_first_frame_answered_while_accepted(world: World) -> None:
    delivered: list[tuple[str, int]] = []
    world.deps = replace(
        world.deps, deliver_waiting=lambda cp: delivered.append((cp, len(world.sender.sent)))
    )
    # Given a station that reconnects Pending
    world.connect(RegistrationStatus.PENDING)
    world.db.uow.chargers["CP-1"] = replace(
        world.db.uow.chargers["CP-1"], registration_status=RegistrationStatus.PENDING
    )
    world.receive('[2,"h1","Heartbeat",{}]')
    # Then nothing is sent while it is Pending
    assert delivered == []
    # When its BootNotification is answered Accepted, what waited goes, after that answer
    world.db.uow.chargers["CP-1"] = replace(
        world.db.uow.chargers["CP-1"], registration_status=RegistrationStatus.ACCEPTED
    )
    world.receive('[2,"b1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]')
    assert delivered == [("CP-1", 2)]
    assert world.answers()[1][:2] == [3, "b1"]
    # and only once per connection
    world.receive('[2,"h2","Heartbeat",{}]')
    assert delivered == [("CP-1", 2)]

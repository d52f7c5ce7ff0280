"""$connect with fakes: front-door secret, identity, subprotocol, Basic auth, replacement."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from csms.app.connect import ConnectDeps, choose_subprotocol, handle
from csms.clock import FixedClock
from csms.constants import CHARGE_POINT_ID_HEADER, ORIGIN_VERIFY_HEADER
from csms.domain.stations import ChargingStation, RegistrationStatus
from csms.errors import InvalidInput
from csms.security import hash_password
from csms.services.admission import AdmissionService
from csms.services.provisioning import ProvisioningService
from tests.fakes import FakeConnectionStore, FakeDatabase, RecordingSender

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
SECRET = "front-door-secret"


def a_connect_event(charge_point_id: str | None = "CP-1", **headers: str) -> dict[str, Any]:
    base = {"Sec-WebSocket-Protocol": "ocpp1.6", ORIGIN_VERIFY_HEADER: SECRET}
    if charge_point_id is not None:
        base[CHARGE_POINT_ID_HEADER] = charge_point_id
    base.update(headers)
    return {
        "headers": {k: v for k, v in base.items() if v != ""},
        "requestContext": {
            "routeKey": "$connect",
            "eventType": "CONNECT",
            "connectionId": "conn-new",
            "identity": {"sourceIp": "10.0.0.1"},
        },
    }


def auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class World:
    def __init__(self, allow_unknown: bool = False) -> None:
        self.db = FakeDatabase()
        self.connections = FakeConnectionStore()
        self.sender = RecordingSender()
        self.deps = ConnectDeps(
            admission=AdmissionService(self.db, allow_unknown=allow_unknown, default_tenant="default"),
            connections=self.connections,
            sender=self.sender,
            clock=FixedClock(NOW),
            origin_verify_secret=SECRET,
        )

    def provision(
        self, charge_point_id: str = "CP-1", password: str | None = None, ocpp_version: str | None = None
    ) -> None:
        self.db.uow.chargers[charge_point_id] = ChargingStation(
            charge_point_id,
            "t1",
            RegistrationStatus.ACCEPTED,
            hash_password(password) if password else None,
            ocpp_version=ocpp_version,
            security_profile=2 if password else 0,
        )


@pytest.fixture
def world() -> World:
    return World()


def test_a_provisioned_charger_is_admitted_with_ocpp16(world: World) -> None:
    world.provision()
    result = handle(a_connect_event(), None, world.deps)
    assert result == {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "ocpp1.6"}}
    record = world.connections.records["conn-new"]
    assert (record.charge_point_id, record.tenant_id, record.protocol, record.connected_at) == (
        "CP-1",
        "t1",
        "ocpp1.6",
        NOW,
    )


def test_without_the_front_door_secret_the_id_header_is_not_trusted(world: World) -> None:
    world.provision()
    assert handle(a_connect_event(**{ORIGIN_VERIFY_HEADER: ""}), None, world.deps) == {"statusCode": 403}
    assert handle(a_connect_event(**{ORIGIN_VERIFY_HEADER: "guess"}), None, world.deps) == {"statusCode": 403}
    assert not world.connections.records


def test_no_charge_point_id_is_404(world: World) -> None:
    assert handle(a_connect_event(charge_point_id=None), None, world.deps) == {"statusCode": 404}


def test_an_id_that_cannot_be_a_url_segment_is_400(world: World) -> None:
    assert handle(a_connect_event(charge_point_id="a b"), None, world.deps) == {"statusCode": 400}


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        ("ocpp1.6", "ocpp1.6"),
        ("ocpp2.0.1, ocpp1.6", "ocpp2.0.1"),
        # the CSMS chooses among what is offered: the newer version wins whatever the order
        ("ocpp1.6, ocpp2.0.1", "ocpp2.0.1"),
        ("ocpp1.6,ocpp1.5", "ocpp1.6"),
        ("ocpp2.0.1", "ocpp2.0.1"),
        ("ocpp2.0", None),
        ("OCPP1.6", None),
        ("", None),
        (None, None),
    ],
)
def test_subprotocol_negotiation(offered: str | None, chosen: str | None) -> None:
    assert choose_subprotocol(offered) == chosen


def test_no_supported_subprotocol_is_400(world: World) -> None:
    world.provision()
    assert handle(a_connect_event(**{"Sec-WebSocket-Protocol": "ocpp2.0, ocpp1.5"}), None, world.deps) == {
        "statusCode": 400
    }


@pytest.mark.parametrize(
    ("pinned", "offered", "chosen"),
    [
        # an unpinned station gets our best of what it offers
        (None, "ocpp1.6, ocpp2.0.1", "ocpp2.0.1"),
        (None, "ocpp1.6", "ocpp1.6"),
        # a pinned one only its own protocol, however it ranks what it offers
        ("ocpp1.6", "ocpp2.0.1, ocpp1.6", "ocpp1.6"),
        ("ocpp2.0.1", "ocpp1.6, ocpp2.0.1", "ocpp2.0.1"),
        # and is refused when it does not offer it, as when nothing fits
        ("ocpp2.0.1", "ocpp1.6", None),
        ("ocpp1.6", "ocpp2.0.1", None),
    ],
)
def test_a_pinned_station_speaks_only_its_protocol(
    world: World, pinned: str | None, offered: str, chosen: str | None
) -> None:
    world.provision(ocpp_version=pinned)
    result = handle(a_connect_event(**{"Sec-WebSocket-Protocol": offered}), None, world.deps)
    if chosen is None:
        assert result == {"statusCode": 400}
        assert not world.connections.records
        assert world.db.uow.chargers["CP-1"].last_protocol is None
    else:
        assert result == {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": chosen}}
        assert world.connections.records["conn-new"].protocol == chosen
        assert world.db.uow.chargers["CP-1"].last_protocol == chosen


def test_the_last_protocol_is_written_only_when_it_changes(world: World) -> None:
    world.provision()
    for offered in ("ocpp1.6", "ocpp1.6", "ocpp2.0.1", "ocpp2.0.1", "ocpp1.6"):
        assert (
            handle(a_connect_event(**{"Sec-WebSocket-Protocol": offered}), None, world.deps)["statusCode"]
            == 200
        )
    assert world.db.uow.chargers["CP-1"].last_protocol == "ocpp1.6"
    assert world.db.uow.protocol_writes == 3


def test_a_refused_connection_records_no_protocol(world: World) -> None:
    world.provision(password="s3cret-password")
    assert handle(a_connect_event(Authorization=auth("CP-1", "wrong")), None, world.deps) == {
        "statusCode": 401
    }
    assert world.db.uow.protocol_writes == 0


def test_unknown_charger_is_401_like_a_wrong_password_unless_unknown_chargers_are_allowed() -> None:
    refused = World()
    assert handle(a_connect_event("NEW"), None, refused.deps) == {"statusCode": 401}
    welcoming = World(allow_unknown=True)
    assert handle(a_connect_event("NEW"), None, welcoming.deps)["statusCode"] == 200
    assert welcoming.db.uow.chargers["NEW"].registration_status is RegistrationStatus.PENDING
    assert welcoming.connections.records["conn-new"].registration_status is RegistrationStatus.PENDING


@pytest.mark.parametrize(
    "authorization",
    ["", auth("CP-1", "wrong"), auth("CP-2", "s3cret-password"), "Basic !!!", "Bearer xyz"],
)
def test_a_charger_with_a_password_needs_matching_basic_auth(world: World, authorization: str) -> None:
    world.provision(password="s3cret-password")
    assert handle(a_connect_event(Authorization=authorization), None, world.deps) == {"statusCode": 401}
    assert not world.connections.records


def test_the_right_credentials_are_accepted(world: World, caplog: pytest.LogCaptureFixture) -> None:
    world.provision(password="s3cret-password")
    handle(a_connect_event(Authorization=auth("CP-1", "wrong-one")), None, world.deps)
    result = handle(a_connect_event(Authorization=auth("CP-1", "s3cret-password")), None, world.deps)
    assert result["statusCode"] == 200
    assert "wrong-one" not in caplog.text
    assert "s3cret-password" not in caplog.text


def test_a_newer_connection_closes_the_older_one(world: World) -> None:
    world.provision()
    world.connections.current["CP-1"] = "conn-old"
    handle(a_connect_event(), None, world.deps)
    assert world.sender.closed == ["conn-old"]
    assert world.connections.current["CP-1"] == "conn-new"


def test_a_failing_database_refuses_with_500(world: World) -> None:
    world.db.down = True
    assert handle(a_connect_event(), None, world.deps) == {"statusCode": 500}


# --- Hostile and malformed input: a deliberate 4xx, never a 500, nothing recorded -----------


@pytest.mark.parametrize("charge_point_id", ["CP-1\n", "CP-1\x00", "CP/1", "CP%2F1", "..", "é", "C" * 49])
def test_an_id_that_is_not_an_ocpp_identity_is_400_and_never_registered(charge_point_id: str) -> None:
    # The local gateway percent-decodes the path, so /ocpp/CP-1%0A arrives as "CP-1\n".
    welcoming = World(allow_unknown=True)
    assert handle(a_connect_event(charge_point_id), None, welcoming.deps) == {"statusCode": 400}
    assert not welcoming.db.uow.chargers
    assert not welcoming.connections.records
    with pytest.raises(InvalidInput):
        ProvisioningService(welcoming.db).add_charger(charge_point_id, "t1", NOW, security_profile=0)


def test_a_subprotocol_header_sent_twice_counts_as_one_list(world: World) -> None:
    # RFC 6455 §11.3.4: repeated header lines are one list; API Gateway keeps only one of
    # them in "headers" and all of them in "multiValueHeaders".
    world.provision()
    event = a_connect_event(**{"Sec-WebSocket-Protocol": "ocpp1.5"})
    event["multiValueHeaders"] = {"sec-websocket-protocol": ["ocpp1.5", "ocpp1.6"]}
    assert handle(event, None, world.deps) == {
        "statusCode": 200,
        "headers": {"Sec-WebSocket-Protocol": "ocpp1.6"},
    }


def test_a_charge_point_id_with_a_colon_can_use_basic_auth(world: World) -> None:
    # Basic auth splits at the first ':', but the user id is the charge point id in full.
    world.provision("CP:1", password="s3cret:password")
    assert handle(a_connect_event("CP:1", Authorization=auth("CP:1", "wrong")), None, world.deps) == {
        "statusCode": 401
    }
    assert handle(a_connect_event("CP:1", Authorization=auth("CP", "s3cret:password")), None, world.deps) == {
        "statusCode": 401
    }
    result = handle(a_connect_event("CP:1", Authorization=auth("CP:1", "s3cret:password")), None, world.deps)
    assert result["statusCode"] == 200


@pytest.mark.parametrize(
    "authorization",
    [
        "Basic " + base64.b64encode(b"CP-1").decode(),  # no colon
        "Basic " + base64.b64encode(b"CP-1:\xff\xfe").decode(),  # not UTF-8
        auth("cp-1", "s3cret-password"),  # the user id is case-sensitive
        auth("CP-1", "s3cret-password:"),
        "Basic " + "QUFB" * 4096,
        "Basic \u00e9",
        "Basic \ud800",
    ],
)
def test_garbled_credentials_are_401(world: World, authorization: str) -> None:
    world.provision(password="s3cret-password")
    assert handle(a_connect_event(Authorization=authorization), None, world.deps) == {"statusCode": 401}


def test_a_garbled_origin_header_is_403(world: World) -> None:
    world.provision()
    assert handle(a_connect_event(**{ORIGIN_VERIFY_HEADER: "\ud800"}), None, world.deps) == {
        "statusCode": 403
    }


def test_a_decommissioned_charger_is_401_even_when_unknown_chargers_are_allowed() -> None:
    welcoming = World(allow_unknown=True)
    welcoming.provision()
    welcoming.db.uow.chargers["CP-1"] = replace(welcoming.db.uow.chargers["CP-1"], decommissioned_at=NOW)
    assert handle(a_connect_event(), None, welcoming.deps) == {"statusCode": 401}
    assert not welcoming.connections.records


@pytest.mark.parametrize(
    "request_context",
    [
        None,
        {},
        {"connectionId": None, "identity": None},
        {"connectionId": "", "identity": {"sourceIp": None}},
    ],
)
def test_an_event_without_a_connection_id_is_refused_without_recording_anything(
    world: World, request_context: dict[str, Any] | None
) -> None:
    world.provision()
    event = a_connect_event()
    event["requestContext"] = request_context
    assert handle(event, None, world.deps) == {"statusCode": 400}
    assert not world.connections.records
    assert not world.connections.current

"""Bad requests the schema fuzzer is unlikely to build: text PostgreSQL cannot store, times at
the edges of the calendar, JSON Python cannot read, JSON types pydantic would coerce, and what
a gateway or an idempotent replay does to an answer. Each is a 4xx problem, nothing is written,
no handler crashes."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.builders import a_charging_profile
from tests.integration.api_client import ApiClient, Reply
from tests.integration.conftest import rows

pytestmark = pytest.mark.integration
V1 = "/api/v1"
CP = "BAD-CP"


def assert_problem(reply: Reply, status: int, field: str | None = None) -> None:
    assert (reply.status, reply.content_type) == (status, "application/problem+json"), reply.body
    assert {"type", "title", "status", "detail"} <= set(reply.body), reply.body
    assert reply.body["status"] == status
    if field is not None:
        assert field in reply.body["detail"], reply.body


@pytest.fixture
def admin(api: ApiClient) -> ApiClient:
    admin = api.as_("acme", "admin")
    assert admin.post(f"{V1}/locations", {"id": "DEPOT", "name": "Depot"}).status == 201
    # pinned to 1.6, so commands are translated (and checked) when they are submitted
    station = {"id": CP, "locationId": "DEPOT", "securityProfile": 0, "ocppVersion": "ocpp1.6"}
    assert admin.post(f"{V1}/stations", station).status == 201
    return admin


# --- query parameters a route does not have -----------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "params", "unknown"),
    [
        # a misspelt filter would otherwise answer with everything
        ("GET", f"{V1}/stations", {"locationid": "DEPOT"}, ["locationid"]),
        ("GET", f"{V1}/transactions", {"chargePointId": CP, "evseId": "1"}, ["chargePointId"]),
        ("GET", f"{V1}/stations/{CP}/status-history", {"connector": "1", "limit": "5"}, ["connector"]),
        ("GET", f"{V1}/stations/{CP}/variables", {"evse": "1", "Component": "x"}, ["Component", "evse"]),
        ("GET", f"{V1}/events", {"chargePointId": CP}, ["chargePointId"]),
        ("GET", f"{V1}/id-tokens", {"idTag": "T"}, ["idTag"]),
        # and a route without query parameters has none
        ("GET", f"{V1}/stations/{CP}", {"verbose": "true"}, ["verbose"]),
        ("POST", f"{V1}/locations", {"dryRun": "1"}, ["dryRun"]),
    ],
)
def test_an_unknown_query_parameter_is_refused_by_name(
    admin: ApiClient, engine: Engine, method: str, path: str, params: dict[str, str], unknown: list[str]
) -> None:
    body = {"id": "NEW-LOC", "name": "New"} if method == "POST" else None
    reply = admin.request(method, path, body, params=params)
    assert_problem(reply, 422, f"query.{unknown[0]}: unknown query parameter")
    assert [e["field"] for e in reply.body["errors"]] == [f"query.{name}" for name in unknown]
    assert rows(engine, "SELECT count(*) AS n FROM locations WHERE id = 'NEW-LOC'") == [{"n": 0}]


def test_known_query_parameters_still_pass(admin: ApiClient) -> None:
    assert admin.get(f"{V1}/stations", locationId="DEPOT", limit=5).status == 200
    assert admin.request("GET", f"{V1}/events?type=ChargerBooted&type=ChargerConnected&after=0").status == 200


# --- text PostgreSQL cannot hold: NUL, and lone surrogates (not UTF-8) --------------------------


@pytest.mark.parametrize(
    ("params", "field"), [({"q": "CP\x00"}, "query.q"), ({"locationId": "\x00"}, "query.locationId")]
)
def test_charge_point_filters_with_nul_are_refused(
    admin: ApiClient, params: dict[str, str], field: str
) -> None:
    assert_problem(admin.get(f"{V1}/stations", **params), 422, field)


@pytest.mark.parametrize("location", [r'"DEP\u0000OT"', r'"\ud800"'])
def test_a_location_id_postgresql_cannot_store_is_refused(
    admin: ApiClient, engine: Engine, location: str
) -> None:
    created = admin.request("POST", f"{V1}/stations", raw=f'{{"id": "CP-NEW", "locationId": {location}}}')
    assert_problem(created, 422, "body.locationId")
    moved = admin.request("PATCH", f"{V1}/stations/{CP}", raw=f'{{"locationId": {location}}}')
    assert_problem(moved, 422, "body.locationId")
    assert rows(engine, "SELECT id, location_id FROM charge_points") == [{"id": CP, "location_id": "DEPOT"}]


COMMANDS_WITH_BAD_TEXT = [
    ("commands/data-transfer", r'{"vendorId": "acme", "data": "a\u0000b"}', "body.data"),
    # (any JSON: a lone surrogate is found when the payload is checked for the protocol)
    ("commands/data-transfer", r'{"vendorId": "acme", "data": "\ud800"}', "data"),
    ("commands/data-transfer", r'{"vendorId": "ac\u0000me"}', "body.vendorId"),
    ("commands/data-transfer", r'{"vendorId": "acme", "messageId": "\u0000"}', "body.messageId"),
    ("ocpp/ChangeConfiguration", r'{"key": "Heartbeat\u0000Interval", "value": "60"}', "key"),
    ("ocpp/ChangeConfiguration", r'{"key": "HeartbeatInterval", "value": "6\u00000"}', "value"),
    ("ocpp/GetConfiguration", r'{"key": ["\u0000"]}', "key[0]"),
    ("commands/start-transaction", r'{"idToken": {"idToken": "TAG\u0000"}}', "idToken"),
    (
        "commands/reserve-now",
        r'{"expiryDateTime": "2099-01-01T00:00:00Z", "idToken": {"idToken": "T\u0000"}}',
        "idToken",
    ),
    (
        "commands/send-local-list",
        r'{"updateType": "Differential", "idTokens": [{"idToken": "\u0000"}]}',
        "idTokens",
    ),
    (
        "commands/update-firmware",
        r'{"location": "https://fw/\u0000", "retrieveDateTime": "2099-01-01T00:00:00Z"}',
        "location",
    ),
]


@pytest.mark.parametrize(("route", "body", "field"), COMMANDS_WITH_BAD_TEXT)
def test_command_text_postgresql_cannot_store_is_refused(
    admin: ApiClient, engine: Engine, route: str, body: str, field: str
) -> None:
    sent = admin.request("POST", f"{V1}/stations/{CP}/{route}", raw=body)
    assert_problem(sent, 422, field)
    assert rows(engine, "SELECT count(*) AS n FROM commands") == [{"n": 0}]
    assert rows(engine, "SELECT count(*) AS n FROM reservations") == [{"n": 0}]


# --- JSON types pydantic would coerce: true is not connector 1 ---------------------------------


@pytest.mark.parametrize(
    ("name", "body", "field"),
    [
        ("unlock-connector", {"evseId": True}, "body.evseId"),
        ("stop-transaction", {"transactionId": True}, "body.transactionId"),
        ("stop-transaction", {"transactionId": 5}, "body.transactionId"),
        ("change-availability", {"evseId": False, "operational": False}, "body.evseId"),
        ("get-composite-schedule", {"evseId": 1, "duration": "60"}, "body.duration"),
        (
            "set-charging-profile",
            {
                "evseId": 1,
                "chargingProfile": a_charging_profile(
                    chargingSchedule={
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": True}],
                    }
                ),
            },
            "limit",
        ),
    ],
)
def test_command_numbers_must_be_json_numbers(
    admin: ApiClient, engine: Engine, name: str, body: dict[str, Any], field: str
) -> None:
    assert_problem(admin.post(f"{V1}/stations/{CP}/commands/{name}", body), 422, field)
    assert rows(engine, "SELECT count(*) AS n FROM commands") == [{"n": 0}]


def test_an_integral_json_number_is_an_integer(admin: ApiClient) -> None:
    unlock = admin.post(f"{V1}/stations/{CP}/commands/unlock-connector", {"evseId": 2.0})
    assert unlock.status in (200, 202), unlock.body
    assert unlock.body["request"] == {"evseId": 2, "connectorId": 1}
    assert unlock.body["ocppRequest"] == {"connectorId": 2}


# --- times at the edges of the calendar --------------------------------------------------------


def _profile(**fields: str) -> dict[str, Any]:
    return {"evseId": 1, "chargingProfile": a_charging_profile(id=7, **fields)}


def test_command_times_before_the_year_1000_are_sent_as_iso_8601(admin: ApiClient) -> None:
    commands = f"{V1}/stations/{CP}/commands"
    firmware = admin.post(
        f"{commands}/update-firmware",
        {"location": "https://fw/1.bin", "retrieveDateTime": "0001-01-01T00:00:00Z"},
    )
    assert firmware.status in (200, 202), firmware.body
    assert firmware.body["request"]["retrieveDateTime"] == "0001-01-01T00:00:00.000Z"
    assert firmware.body["ocppRequest"]["retrieveDate"] == "0001-01-01T00:00:00.000Z"
    profile = admin.post(f"{commands}/set-charging-profile", _profile(validFrom="0999-12-31T23:00:00-01:00"))
    assert profile.status in (200, 202), profile.body
    assert profile.body["ocppRequest"]["csChargingProfiles"]["validFrom"] == "1000-01-01T00:00:00.000Z"
    past = admin.post(
        f"{commands}/reserve-now", {"expiryDateTime": "0001-01-01T00:00:00Z", "idToken": {"idToken": "T"}}
    )
    assert_problem(past, 422, "expiryDateTime")


@pytest.mark.parametrize("report", ["energy", "utilisation"])
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "0001-01-01T00:00:00+01:00", "to": "0001-01-02T00:00:00Z"}, "from"),
        ({"to": "0001-01-01T00:00:00Z"}, "to"),
        ({"to": "0001-01-02T00:00:00Z"}, "to"),
        ({"from": "9998-12-01T00:00:00Z", "to": "9999-12-31T23:59:59-05:00"}, "to"),
    ],
)
def test_report_ranges_beyond_the_calendar_are_refused(
    admin: ApiClient, report: str, params: dict[str, str], field: str
) -> None:
    assert_problem(admin.get(f"{V1}/reports/{report}", **params), 422, field)


def test_status_history_from_must_be_before_to(admin: ApiClient) -> None:
    history = f"{V1}/stations/{CP}/status-history"
    day = {"from": "2026-11-21T00:00:00Z", "to": "2026-11-22T00:00:00Z"}
    assert admin.get(history, **day).status == 200
    assert_problem(admin.get(history, **{"from": day["to"], "to": day["from"]}), 422, "from")
    assert_problem(admin.get(history, **{"from": day["from"], "to": day["from"]}), 422, "from")


# --- JSON Python cannot read -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "detail"),
    [
        ("/id-tokens", '{"idToken": "DEEP", "x": ' + "[" * 5000 + "]" * 5000 + "}", "nested"),
        ("/id-tokens", "[" * 100_000 + "]" * 100_000, "nested"),
        ("/id-tokens", '{"idToken": "BIG", "x": ' + "9" * 5000 + "}", "digits"),
        (
            f"/stations/{CP}/commands/stop-transaction",
            '{"transactionId": ' + "9" * 5000 + "}",
            "digits",
        ),
    ],
)
def test_json_python_cannot_read_is_refused(
    admin: ApiClient, engine: Engine, path: str, body: str, detail: str
) -> None:
    assert_problem(admin.request("POST", f"{V1}{path}", raw=body), 422, detail)
    assert rows(engine, "SELECT count(*) AS n FROM id_tokens") == [{"n": 0}]
    assert rows(engine, "SELECT count(*) AS n FROM commands") == [{"n": 0}]


# --- what surrounds the handler: media types, body size, idempotent replays ---------------------


def test_media_types_are_case_insensitive(admin: ApiClient) -> None:
    created = admin.post(
        f"{V1}/id-tokens", {"idToken": "UPPER"}, headers={"Content-Type": "Application/JSON"}
    )
    assert created.status == 201, created.body


def test_a_body_too_large_is_a_problem(admin: ApiClient) -> None:
    too_large = admin.post(f"{V1}/id-tokens", {"idToken": "HUGE", "pad": "x" * 11 * 2**20})
    assert_problem(too_large, 413)


def test_an_idempotent_answer_keeps_its_headers(admin: ApiClient) -> None:
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    first = admin.put(f"{V1}/stations", {}, headers=headers)
    again = admin.put(f"{V1}/stations", {}, headers=headers)
    for reply in (first, again):
        assert_problem(reply, 405)
        assert reply.headers.get("Allow") == "GET, POST"

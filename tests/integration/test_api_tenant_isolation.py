"""A second tenant probes every route of the API for the first tenant's resources.

The routes come from the OpenAPI document, so a new route is probed as soon as it exists;
``PROBES`` says how to call each one (bodies, filters, the expected status) and the test
fails for a route without an entry. Path parameters are filled with tenant A's ids from
``World.values``; ``"{name}"`` placeholders in bodies and queries too.

Tenant B (an admin, so roles never hide a missing check) must get 404 for every route that
addresses one of A's resources, see none of A's resources in any list or report, and change
nothing of A's: everything A can read is read before and after the probe and compared.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.v16 import call

from csms.api.app import build_app, openapi_document
from csms.local.stack import LocalStack
from tests.integration.api_client import ApiClient, Reply
from tests.integration.charger import SimulatedCharger, connected

pytestmark = pytest.mark.integration
V1 = "/api/v1"

# Tenant A's resources: names distinctive enough to search answers for.
A_TENANT, A_LOCATION, A_CHARGER, A_TAG, A_LOCATION_NAME = (
    "acme",
    "ACME-LOC-1",
    "ACME-CP-1",
    "ACMETAG1",
    "Acme Depot",
)
B_TENANT, B_LOCATION, B_CHARGER, B_TAG = "globex", "GLOBEX-LOC", "GLOBEX-CP", "GLOBEXTAG"
A_SITE, B_SITE = "ACME-SITE", "GLOBEX-SITE"
#: A's electrical tree: the grid connection and A's station's EVSE under it.
A_TREE = [
    {"id": "grid", "kind": "grid", "limitA": {"L1": 32, "L2": 32, "L3": 32}},
    {
        "id": "acme-evse",
        "parentId": "grid",
        "kind": "evse",
        "stationId": A_CHARGER,
        "evseId": 1,
        "phaseWiring": ["L1", "L2", "L3"],
        "minCurrentA": 6,
        "maxCurrentA": 16,
    },
]
A_USER_EMAIL, B_USER_EMAIL = "ops@acme.example", "ops@globex.example"
#: Where A's firmware and logs may be fetched from and sent to (its settings).
A_FILE_HOST = "files.acme-only.example"


@dataclass(frozen=True)
class Call:
    """One request tenant B makes, and what it must answer."""

    expect: int = 404
    body: Any = None
    query: dict[str, Any] = field(default_factory=dict)
    #: Path parameters other than A's (e.g. B's own location).
    path: dict[str, Any] = field(default_factory=dict)
    #: Strings that must appear in the answer (B's own resources: the list works at all).
    sees: tuple[str, ...] = ()
    #: Further checks of the answer's body.
    check: Callable[[Any], None] | None = None
    #: Run after every other call (it creates something that would change their answers).
    last: bool = False
    #: Search the answer for A's resources (off where B deliberately names them itself).
    scan: bool = True


def no_energy(body: Any) -> None:
    assert body["stations"] == []
    assert body["days"] == []
    assert body["totals"] == {"energyWh": 0.0, "sessionCount": 0}


def no_connectors(body: Any) -> None:
    assert body["connectors"] == []


def empty_page(body: Any) -> None:
    assert (body["items"], body["total"]) == ([], 0)


def no_items(body: Any) -> None:
    assert body["items"] == []


OK = 200
ADDRESSED = [Call()]
COMMAND_BODIES = {
    "start-transaction": {"idToken": {"idToken": B_TAG}, "evseId": 1},
    # (text around the id: a transactionId is the station's text)
    "stop-transaction": {"transactionId": "{transactionId} "},
    "reset": {"type": "Immediate"},
    "unlock-connector": {"evseId": 1},
    "change-availability": {"operational": False},
    "clear-cache": {},
    "trigger-message": {"requestedMessage": "Heartbeat"},
    "get-variables": {},
    "set-variables": {
        "variables": [
            {
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "HeartbeatInterval"},
                "attributeValue": "60",
            }
        ]
    },
    "set-charging-profile": {
        "evseId": 1,
        "chargingProfile": {
            "id": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [
                {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6}]}
            ],
        },
    },
    "clear-charging-profile": {},
    "get-charging-profiles": {},
    "get-composite-schedule": {"evseId": 1, "duration": 60},
    "reserve-now": {"evseId": 1, "expiryDateTime": "2099-01-01T00:00:00Z", "idToken": {"idToken": B_TAG}},
    "cancel-reservation": {"reservationId": "{reservationId}"},
    "send-local-list": {"updateType": "Full"},
    "get-local-list-version": {},
    "update-firmware": {
        "location": "https://globex.example/fw.bin",
        "retrieveDateTime": "2099-01-01T00:00:00Z",
    },
    "upload-logs": {"location": "ftp://globex.example/"},
    "data-transfer": {"vendorId": "acme"},
}

#: "METHOD /path" → the calls tenant B makes there. Every route of the API needs an entry.
PROBES: dict[str, list[Call]] = {
    # --- public -------------------------------------------------------------------------
    "GET /api/v1/health": [Call(OK)],
    "GET /api/v1/health/dependencies": [Call(OK)],
    # --- stations -------------------------------------------------------------------------
    "GET /api/v1/stations": [
        Call(OK, sees=(B_CHARGER,)),
        Call(OK, query={"includeDecommissioned": "true"}, sees=(B_CHARGER,)),
        Call(OK, query={"q": "ACME"}, check=empty_page),
        Call(OK, query={"locationId": "{locationId}"}, check=empty_page),
        Call(OK, query={"online": "true"}, check=empty_page),
    ],
    # Charge point ids are unique across tenants (ADR 0005): "exists already" is by design.
    "POST /api/v1/stations": [
        Call(409, body={"id": "{stationId}", "securityProfile": 0}),
        Call(422, body={"id": "GLOBEX-CP-2", "locationId": "{locationId}"}),
    ],
    "GET /api/v1/stations/{stationId}": ADDRESSED,
    "PATCH /api/v1/stations/{stationId}": [
        Call(body={"registrationStatus": "Rejected"}),
        Call(body={"locationId": B_LOCATION}),
    ],
    "DELETE /api/v1/stations/{stationId}": ADDRESSED,
    "GET /api/v1/stations/{stationId}/evses": ADDRESSED,
    "GET /api/v1/stations/{stationId}/status-history": [Call(), Call(query={"evseId": 1, "connectorId": 1})],
    "GET /api/v1/stations/{stationId}/evses/{evseId}/meter-values": ADDRESSED,
    "GET /api/v1/connections": [Call(OK, check=lambda body: assert_equal(body, []))],
    # --- commands ---------------------------------------------------------------------------
    **{
        f"POST /api/v1/stations/{{stationId}}/commands/{action}": [Call(body=body)]
        for action, body in COMMAND_BODIES.items()
    },
    "POST /api/v1/stations/{stationId}/ocpp/{action}": [Call(body={})],
    "POST /api/v1/stations/{stationId}/commands/rotate-password": [Call(body={})],
    "GET /api/v1/stations/{stationId}/commands": ADDRESSED,
    "GET /api/v1/stations/{stationId}/variables": ADDRESSED,
    "GET /api/v1/commands/{commandId}": ADDRESSED,
    # --- what commands and notifications left on a charger (firmware, local lists, reservations,
    # charging profiles)
    "GET /api/v1/stations/{stationId}/firmware-status": ADDRESSED,
    "GET /api/v1/stations/{stationId}/security-events": ADDRESSED,
    "GET /api/v1/stations/{stationId}/device-events": ADDRESSED,
    "GET /api/v1/stations/{stationId}/charging-limits": ADDRESSED,
    "GET /api/v1/stations/{stationId}/diagnostics-status": ADDRESSED,
    "GET /api/v1/stations/{stationId}/local-list": ADDRESSED,
    "GET /api/v1/stations/{stationId}/reservations": ADDRESSED,
    "GET /api/v1/stations/{stationId}/charging-profiles": ADDRESSED,
    "GET /api/v1/reservations/{reservationId}": ADDRESSED,
    # --- id tokens ----------------------------------------------------------------------------
    "GET /api/v1/id-tokens": [
        Call(OK, sees=(B_TAG,)),
        Call(OK, query={"q": "ACME"}, check=empty_page),
    ],
    # Tags are per tenant: B may hold a tag with the same id, and that changes nothing of A's.
    "POST /api/v1/id-tokens": [
        Call(201, body={"idToken": "{idToken}", "status": "Blocked"}, last=True, scan=False)
    ],
    "GET /api/v1/id-tokens/{type}/{idToken}": ADDRESSED,
    "PATCH /api/v1/id-tokens/{type}/{idToken}": [Call(body={"status": "Blocked"})],
    "DELETE /api/v1/id-tokens/{type}/{idToken}": ADDRESSED,
    # --- transactions and meter values -------------------------------------------------------
    "GET /api/v1/transactions": [
        Call(OK, check=empty_page),
        Call(OK, query={"stationId": "{stationId}"}, check=empty_page),
        Call(OK, query={"idToken": "{idToken}"}, check=empty_page),
    ],
    "GET /api/v1/transactions/{transactionId}": ADDRESSED,
    "GET /api/v1/transactions/{transactionId}/meter-values": ADDRESSED,
    "GET /api/v1/transactions/{transactionId}/events": ADDRESSED,
    "GET /api/v1/unknown-transaction-stops": [
        Call(OK, check=empty_page),
        Call(OK, query={"stationId": "{stationId}"}, check=empty_page),
    ],
    # --- locations ----------------------------------------------------------------------------
    "GET /api/v1/locations": [
        Call(OK, sees=(B_LOCATION,)),
        Call(OK, query={"q": "Acme"}, check=empty_page),
    ],
    # Location ids are per tenant: B may use the id A chose; it gets its own location (and A's
    # stays as it was: checked after the probe).
    "POST /api/v1/locations": [
        Call(
            201,
            body={"id": "{locationId}", "name": "Globex Depot"},
            scan=False,
            last=True,
            check=lambda body: assert_equal(body["name"], "Globex Depot"),
        )
    ],
    "GET /api/v1/locations/{locationId}": ADDRESSED,
    # --- load management: site ids are per tenant, as location ids --------------------------------
    "GET /api/v1/sites": [Call(OK, sees=(B_SITE,))],
    "POST /api/v1/sites": [
        Call(201, body={"id": "{siteId}", "name": "Globex site"}, scan=False, last=True),
        # B cannot put its site at A's location
        Call(422, body={"id": "GLOBEX-2", "name": "Globex", "locationId": "{locationId}"}),
    ],
    "GET /api/v1/sites/{siteId}": ADDRESSED,
    "PATCH /api/v1/sites/{siteId}": [Call(body={"name": "Globex was here"})],
    "DELETE /api/v1/sites/{siteId}": ADDRESSED,
    "GET /api/v1/sites/{siteId}/nodes": ADDRESSED,
    "PUT /api/v1/sites/{siteId}/nodes": [
        Call(body={"nodes": []}),
        # B cannot put A's station into its own tree
        Call(422, path={"siteId": B_SITE}, body={"nodes": A_TREE}),
    ],
    "POST /api/v1/sites/{siteId}/nodes": [Call(body={"id": "globex", "kind": "grid"})],
    "GET /api/v1/sites/{siteId}/nodes/{nodeId}": ADDRESSED,
    "PUT /api/v1/sites/{siteId}/nodes/{nodeId}": [Call(body={"id": "{nodeId}", "kind": "grid"})],
    "DELETE /api/v1/sites/{siteId}/nodes/{nodeId}": ADDRESSED,
    "POST /api/v1/sites/{siteId}/nodes/{nodeId}/load": [Call(body={"valuesA": {"L1": 1}})],
    "GET /api/v1/sites/{siteId}/nodes/{nodeId}/limit-schedule": ADDRESSED,
    "PUT /api/v1/sites/{siteId}/nodes/{nodeId}/limit-schedule": [
        Call(body={"periods": [{"start": "2026-12-07T00:00:00Z", "maxPowerKw": 1}]})
    ],
    "DELETE /api/v1/sites/{siteId}/nodes/{nodeId}/limit-schedule": ADDRESSED,
    "GET /api/v1/sites/{siteId}/allocation": ADDRESSED,
    "POST /api/v1/sites/{siteId}/allocation": ADDRESSED,
    # Settings: B reads and changes its own (A's host list is not shown, and stays A's).
    "GET /api/v1/settings": [Call(200, sees=(B_TENANT,))],
    "PATCH /api/v1/settings": [Call(200, body={"fileUrlHosts": ["files.globex.example"]}, sees=(B_TENANT,))],
    # Users: B's list shows only B's; A's user is not there for B.
    "GET /api/v1/users": [Call(200, sees=(B_USER_EMAIL,))],
    "POST /api/v1/users": [Call(201, body={"email": "someone@globex.example", "role": "viewer"}, last=True)],
    "GET /api/v1/users/{userId}": ADDRESSED,
    "PATCH /api/v1/users/{userId}": [Call(body={"role": "viewer"})],
    "DELETE /api/v1/users/{userId}": ADDRESSED,
    "PATCH /api/v1/locations/{locationId}": [Call(body={"name": "Globex was here"})],
    "DELETE /api/v1/locations/{locationId}": ADDRESSED,
    "POST /api/v1/locations/{locationId}/stations": [
        Call(body={"stationIds": [B_CHARGER]}),
        # B cannot put A's charger at its own location either
        Call(422, path={"locationId": B_LOCATION}, body={"stationIds": ["{stationId}"]}),
    ],
    "DELETE /api/v1/locations/{locationId}/stations/{stationId}": [
        Call(),
        Call(path={"locationId": B_LOCATION}),
    ],
    # --- reports ------------------------------------------------------------------------------
    "GET /api/v1/reports/energy": [
        Call(OK, check=no_energy),
        Call(query={"stationId": "{stationId}"}),
        Call(query={"locationId": "{locationId}"}),
    ],
    "GET /api/v1/reports/utilisation": [
        Call(OK, check=no_connectors),
        Call(query={"stationId": "{stationId}"}),
        Call(query={"locationId": "{locationId}"}),
    ],
    # --- the live event feed: A's charger connected, booted and charged; B sees none of it ----------
    "GET /api/v1/events": [
        Call(OK, check=no_items),
        Call(OK, query={"after": 0}, check=no_items),
        Call(OK, query={"after": 0, "stationId": "{stationId}"}, check=no_items),
        Call(OK, query={"after": 0, "type": "TransactionStarted,TransactionStopped"}, check=no_items),
        Call(OK, query={"after": 0, "wait": 1}, check=no_items),
    ],
}

#: Keys whose values move with the clock or the connection, not with anyone's request.
VOLATILE = frozenset(
    {
        "lastSeen",
        "connectionAgeSeconds",
        "durationSeconds",
        "from",
        "to",
        "rangeSeconds",
        "unknownSeconds",
        "chargingSeconds",
        "occupiedSeconds",
        "utilisation",
        "cursor",  # the event feed's head: A's charger and commands may add events meanwhile
    }
)


def assert_equal(actual: Any, expected: Any) -> None:
    assert actual == expected


def operations() -> list[tuple[str, str]]:
    document = openapi_document(build_app())
    methods = {"get", "put", "post", "patch", "delete"}
    return sorted(
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in methods
    )


@dataclass
class World:
    """Tenant A's resources: the values of path parameters and "{name}" placeholders."""

    values: dict[str, Any]
    secrets: tuple[str, ...]


def fill(value: Any, values: dict[str, Any]) -> Any:
    """Replace "{name}" placeholders (a whole-string placeholder keeps the value's type)."""
    if isinstance(value, str):
        whole = re.fullmatch(r"\{(\w+)\}", value)
        if whole:
            return values[whole.group(1)]
        return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), value)
    if isinstance(value, dict):
        return {k: fill(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, values) for v in value]
    return value


def url(path: str, values: dict[str, Any]) -> str:
    names = re.findall(r"\{(\w+)\}", path)
    missing = [n for n in names if n not in values]
    assert not missing, f"no value for path parameter(s) {missing} of {path}: add them to World.values"
    return fill(path, {k: str(v) for k, v in values.items()})


def normalized(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: normalized(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list | tuple):
        return [normalized(v) for v in value]
    return value


def what_a_sees(a: ApiClient, world: World) -> dict[str, Any]:
    """Every GET route, as tenant A, with A's ids: the state B must not change."""
    return {
        path: normalized((reply.status, reply.body))
        for method, path in operations()
        if method == "GET"
        for reply in [a.get(url(path, world.values))]
    }


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def run_a_session(cp: SimulatedCharger, now: datetime) -> int:
    """A charging session of tenant A an hour or two ago, with status reports and readings."""
    await cp.call(call.BootNotification(charge_point_model="M", charge_point_vendor="Acme"))
    for minutes, status in ((180, "Available"), (120, "Preparing"), (119, "Charging"), (30, "Finishing")):
        await cp.call(
            call.StatusNotification(
                connector_id=1,
                error_code="NoError",
                status=status,
                timestamp=iso(now - timedelta(minutes=minutes)),
            )
        )
    started = await cp.call(
        call.StartTransaction(
            connector_id=1, id_tag=A_TAG, meter_start=1000, timestamp=iso(now - timedelta(minutes=119))
        )
    )
    tx = int(started.transaction_id)
    await cp.call(
        call.MeterValues(
            connector_id=1,
            transaction_id=tx,
            meter_value=[
                {
                    "timestamp": iso(now - timedelta(minutes=60)),
                    "sampledValue": [
                        {"value": "4000", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                        {"value": "7400", "measurand": "Power.Active.Import", "unit": "W"},
                    ],
                }
            ],
        )
    )
    await cp.call(
        call.StopTransaction(transaction_id=tx, meter_stop=6000, timestamp=iso(now - timedelta(minutes=30)))
    )
    # A stop of a transaction the CSMS never saw: recorded for A's operators
    await cp.call(
        call.StopTransaction(transaction_id=987654, meter_stop=10, timestamp=iso(now - timedelta(minutes=20)))
    )
    return tx


def given_tenant_b(b: ApiClient) -> None:
    assert b.post(f"{V1}/locations", {"id": B_LOCATION, "name": "Globex Depot"}).status == 201
    station = {"id": B_CHARGER, "locationId": B_LOCATION, "securityProfile": 0}
    assert b.post(f"{V1}/stations", station).status == 201
    assert b.post(f"{V1}/id-tokens", {"idToken": B_TAG}).status == 201
    assert b.post(f"{V1}/users", {"email": B_USER_EMAIL, "role": "viewer"}).status == 201
    assert b.post(f"{V1}/sites", {"id": B_SITE, "name": "Globex yard"}).status == 201


def probe(b: ApiClient, world: World) -> list[str]:
    """Tenant B's calls; returns what went wrong (all of it, not just the first)."""
    problems: list[str] = []
    calls = [
        (method, path, probe_call)
        for method, path in operations()
        for probe_call in PROBES.get(f"{method} {path}", [])
    ]
    for method, path, probe_call in sorted(calls, key=lambda c: c[2].last):
        values = {**world.values, **probe_call.path}
        target = url(path, values)
        query = {k: fill(v, world.values) for k, v in probe_call.query.items()}
        body = fill(probe_call.body, world.values)
        if method in {"POST", "PUT", "PATCH"} and body is None:
            body = {}
        reply: Reply = b.request(method, target, body, params=query)
        label = f"{method} {target} {query or ''}".strip()
        if reply.status != probe_call.expect:
            problems.append(f"{label}: {reply.status}, expected {probe_call.expect}: {reply.body}")
            continue
        if reply.status >= 400:
            if reply.content_type != "application/problem+json":
                problems.append(f"{label}: {reply.status} is not problem+json")
            continue
        text = json.dumps(reply.body)
        if probe_call.scan:
            leaked = [s for s in world.secrets if s in text]
            if leaked:
                problems.append(f"{label}: shows tenant A's {leaked}: {text[:300]}")
        missing = [s for s in probe_call.sees if s not in text]
        if missing:
            problems.append(f"{label}: does not show B's own {missing}")
        if probe_call.check is not None:
            try:
                probe_call.check(reply.body)
            except AssertionError as error:
                problems.append(f"{label}: {error!r}: {text[:300]}")
    return problems


def test_every_route_has_a_probe() -> None:
    routes = {f"{method} {path}" for method, path in operations()}
    missing = sorted(routes - PROBES.keys())
    assert not missing, f"add tenant-isolation probes (PROBES) for: {missing}"
    stale = sorted(PROBES.keys() - routes)
    assert not stale, f"PROBES names routes the API does not have: {stale}"


async def test_a_second_tenant_finds_nothing_of_the_first(api: ApiClient, stack: LocalStack) -> None:
    a, b = api.as_(A_TENANT, "admin"), api.as_(B_TENANT, "admin")
    now = datetime.now(UTC).replace(microsecond=0)

    # Given tenant A with one of each resource, and a session on its charger
    assert (
        a.post(f"{V1}/locations", {"id": A_LOCATION, "name": A_LOCATION_NAME, "country": "DE"}).status == 201
    )
    station = {"id": A_CHARGER, "locationId": A_LOCATION, "securityProfile": 0}
    assert a.post(f"{V1}/stations", station).status == 201
    assert a.post(f"{V1}/id-tokens", {"idToken": A_TAG}).status == 201
    assert a.post(f"{V1}/sites", {"id": A_SITE, "name": "Acme yard", "locationId": A_LOCATION}).status == 201
    assert a.put(f"{V1}/sites/{A_SITE}/nodes", {"nodes": A_TREE}).status == 200
    load = {"valuesA": {"L1": 3}, "validForSeconds": 86_400}  # (not expiring during the probe)
    assert a.post(f"{V1}/sites/{A_SITE}/nodes/grid/load", load).status == 200
    schedule = {"periods": [{"start": "2026-01-01T00:00:00Z", "limitA": {"L1": 20}}]}
    assert a.put(f"{V1}/sites/{A_SITE}/nodes/grid/limit-schedule", schedule).status == 200
    a_user = a.post(f"{V1}/users", {"email": A_USER_EMAIL, "role": "operator"})
    assert a_user.status == 201, a_user.body
    assert a.patch(f"{V1}/settings", {"fileUrlHosts": [A_FILE_HOST]}).status == 200
    async with connected(stack, A_CHARGER) as cp:
        transaction_id = await run_a_session(cp, now)
        command = await asyncio.to_thread(
            a.post, f"{V1}/stations/{A_CHARGER}/commands/clear-cache?wait=5", {}
        )
        assert command.status in (200, 202), command.body
        # (the simulated charger cannot reserve: the reservation ends failed, but it is A's)
        reserved = await asyncio.to_thread(
            a.post,
            f"{V1}/stations/{A_CHARGER}/commands/reserve-now?wait=5",
            {"evseId": 1, "expiryDateTime": iso(now + timedelta(hours=1)), "idToken": {"idToken": A_TAG}},
        )
        assert reserved.status in (200, 202), reserved.body
        world = World(
            values={
                "stationId": A_CHARGER,
                "evseId": 1,
                "locationId": A_LOCATION,
                "idToken": A_TAG,
                "type": "ISO14443",
                "transactionId": transaction_id,
                "commandId": command.body["id"],
                "action": "GetConfiguration",
                "reservationId": reserved.body["request"]["reservationId"],
                "userId": a_user.body["id"],
                "siteId": A_SITE,
                "nodeId": "grid",
            },
            secrets=(
                A_SITE,
                A_CHARGER,
                A_LOCATION,
                A_LOCATION_NAME,
                A_TAG,
                command.body["id"],
                A_USER_EMAIL,
                A_FILE_HOST,
            ),
        )
        # (A's site reallocated with its charger online: the minute's job finds nothing to change)
        settled = await asyncio.to_thread(a.post, f"{V1}/sites/{A_SITE}/allocation")
        assert settled.status == 200, settled.body
        # And tenant B with its own
        await asyncio.to_thread(given_tenant_b, b)
        before = await asyncio.to_thread(what_a_sees, a, world)
        # (A sees its own resources: the probe is not comparing empty answers)
        assert before[f"{V1}/transactions/{{transactionId}}"][0] == 200
        assert before[f"{V1}/reservations/{{reservationId}}"][0] == 200
        assert A_CHARGER in json.dumps(before[f"{V1}/reports/energy"])
        assert A_CHARGER in json.dumps(before[f"{V1}/connections"])
        a_events = await asyncio.to_thread(a.get, f"{V1}/events", after=0)
        assert A_CHARGER in json.dumps(a_events.body["items"])

        # When tenant B probes every route with A's ids
        problems = await asyncio.to_thread(probe, b, world)

        # Then every route answered as if A's resources did not exist, and A's are unchanged
        after = await asyncio.to_thread(what_a_sees, a, world)
    assert not problems, "tenant B got through:\n" + "\n".join(problems)
    changed = {path: (before[path], after[path]) for path in before if before[path] != after[path]}
    assert not changed, f"tenant B changed what tenant A sees: {changed}"

"""Issue 15's acceptance test: twenty simulated stations, ten OCPP 1.6 and ten 2.0.1 (the
``ocpp`` library's ChargePoints over real WebSockets through the local gateway), on a three-level
tree (grid, feeders, stations with their EVSEs) provisioned through the REST API. Sessions start
and stop at random (seeded); every station keeps the charging profiles it receives and answers
like a real one: Accepted, but one 1.6 station Rejects and one 2.0.1 station has no smart
charging (the library's NotImplemented). A feeder's limit is lowered mid-way through the API.

The invariant, checked at every profile a station takes (the instant its limit changes), per
node and phase: the limits in force as the stations hold them (the two that refuse at their
maximum, as the CSMS must count them) sum to at most the node's limit. When the limit is
lowered, the stations hold limits under the old one until the CSMS's decreases land; so a
profile that lowers a station's limit is checked against the limits before the change, and one
that raises it against the limits in force: no increase may ever cross a limit. After each phase
(everything answered), every node is within its limit in force and every station holds exactly
what the CSMS's latest allocation gives it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201
from sqlalchemy import Engine

from csms.local.stack import LocalStack
from tests.integration.api_client import ApiClient
from tests.integration.charger import connected
from tests.integration.conftest import rows
from tests.integration.load_stations import HoldingCharger16, HoldingStation201, until
from tests.integration.station201 import SimulatedStation, connected_201

pytestmark = pytest.mark.integration
V1 = "/api/v1"
TENANT = "default"
THREE = ("L1", "L2", "L3")
SEED = 15
ACTIONS = 36

#: Station -> (feeder, phase wiring, maximum A). Odd numbers speak 1.6, even 2.0.1.
FEEDERS = {"feeder-a": 63.0, "feeder-b": 50.0, "feeder-c": 40.0}
GRID_A = 100.0
SINGLE = {3: ("L1",), 6: ("L2",), 10: ("L3",), 13: ("L1",), 17: ("L2",), 19: ("L3",)}
REJECTS = "ACC-07"  # 1.6, answers Rejected
UNSUPPORTED = "ACC-14"  # 2.0.1, no SetChargingProfile at all
LOWERED = ("feeder-a", 32.0)


def station_id(n: int) -> str:
    return f"ACC-{n:02d}"


@dataclass
class Evse:
    station: str
    feeder: str
    phases: tuple[str, ...]
    maximum: float


def the_evses() -> dict[str, Evse]:
    found = {}
    for n in range(1, 21):
        feeder = "feeder-a" if n <= 7 else "feeder-b" if n <= 14 else "feeder-c"
        name = station_id(n)
        maximum = 16.0 if name in (REJECTS, UNSUPPORTED) else 32.0
        found[name] = Evse(name, feeder, SINGLE.get(n, THREE), maximum)
    return found


def the_tree(evses: dict[str, Evse]) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = [{"id": "grid", "kind": "grid", "limitA": dict.fromkeys(THREE, GRID_A)}]
    for feeder, amps in FEEDERS.items():
        nodes.append(
            {"id": feeder, "parentId": "grid", "kind": "circuit", "limitA": dict.fromkeys(THREE, amps)}
        )
    for evse in evses.values():
        nodes.append(
            {"id": evse.station, "parentId": evse.feeder, "kind": "station", "stationId": evse.station}
        )
        nodes.append(
            {
                "id": f"{evse.station}-1",
                "parentId": evse.station,
                "kind": "evse",
                "stationId": evse.station,
                "evseId": 1,
                "phaseWiring": list(evse.phases),
                "minCurrentA": 6,
                "maxCurrentA": evse.maximum,
            }
        )
    return nodes


@dataclass
class Invariant:
    """The stations' limits, summed per node and phase at every profile they take."""

    evses: dict[str, Evse]
    stations: dict[str, Any] = field(default_factory=dict)
    limits: dict[str, float] = field(default_factory=lambda: {"grid": GRID_A, **FEEDERS})
    before: dict[str, float] = field(default_factory=dict)
    armed: bool = False
    checked: int = 0
    violations: list[str] = field(default_factory=list)
    #: Each station's limit as of its latest profile.
    last: dict[str, float] = field(default_factory=dict)

    def held(self, name: str) -> float:
        station = self.stations[name]
        if name in (REJECTS, UNSUPPORTED) or 1 not in station.limits:
            return self.evses[name].maximum  # what the CSMS must count it at
        return float(station.limits[1])

    def sums(self) -> dict[tuple[str, str], float]:
        found: dict[tuple[str, str], float] = {}
        for name, evse in self.evses.items():
            for node in ("grid", evse.feeder):
                for phase in evse.phases:
                    found[(node, phase)] = found.get((node, phase), 0.0) + self.held(name)
        return found

    def over(self, limits: dict[str, float]) -> list[str]:
        return [
            f"{node} {phase}: {amps:.1f} A > {limits[node]:.1f} A"
            for (node, phase), amps in sorted(self.sums().items())
            if amps > limits[node] + 1e-6
        ]

    def observe(self, name: str, evse_id: int, amps: float) -> None:
        """A station took a profile (its limits are already the new ones)."""
        previous = self.last.get(name)
        self.last[name] = amps
        if not self.armed:
            return
        self.checked += 1
        raised = previous is None or amps > previous
        found = self.over(self.limits if raised else {**self.limits, **self.before})
        if found:
            self.violations.append(f"{name} took {amps} A (was {previous}): {found}")


async def start(station: Any, n: int) -> str | int:
    moment = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    token = f"TAG-{station.id}"
    if isinstance(station, SimulatedStation):
        tx = f"{station.id}-{n}"
        await station.call(
            call201.TransactionEvent(
                event_type="Started",
                timestamp=moment,
                trigger_reason="Authorized",
                seq_no=0,
                transaction_info={"transaction_id": tx, "charging_state": "Charging"},
                evse={"id": 1, "connector_id": 1},
                id_token={"id_token": token, "type": "ISO14443"},
            )
        )
        return tx
    answer = await station.call(
        call16.StartTransaction(connector_id=1, id_tag=token, meter_start=0, timestamp=moment)
    )
    assert answer.id_tag_info["status"] == "Accepted"
    return int(answer.transaction_id)


async def stop(station: Any, tx: str | int) -> None:
    moment = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(station, SimulatedStation):
        await station.call(
            call201.TransactionEvent(
                event_type="Ended",
                timestamp=moment,
                trigger_reason="StopAuthorized",
                seq_no=1,
                transaction_info={"transaction_id": str(tx), "stopped_reason": "Local"},
            )
        )
        return
    await station.call(call16.StopTransaction(meter_stop=100, timestamp=moment, transaction_id=int(tx)))


def open_commands(engine: Engine) -> int:
    found = rows(
        engine,
        "SELECT count(*) AS n FROM commands "
        "WHERE requested_by = 'load-management' AND status IN ('queued', 'sent')",
    )
    return int(str(found[0]["n"]))


async def settle(
    operator: ApiClient, engine: Engine, invariant: Invariant, sessions: dict[str, Any]
) -> dict[str, Any]:
    """Until the latest allocation knows every session, every step of its plan was answered,
    nothing of the load manager's is open, and each complying station holds what it is given."""
    latest: dict[str, Any] = {}

    def done() -> bool:
        nonlocal latest
        latest = operator.get(f"{V1}/sites/yard/allocation").body
        evses = {e["stationId"]: e for e in latest.get("evses", [])}
        if not evses:
            return False
        complying = [name for name in invariant.evses if name not in (REJECTS, UNSUPPORTED)]
        if any(evses[name]["active"] != (name in sessions) for name in complying):
            return False
        if any(evses[name]["controlled"] for name in (REJECTS, UNSUPPORTED)):
            return False
        steps = {(s["stationId"], s["direction"]) for s in latest["plan"]}
        answered = {(o["stationId"], o["direction"]) for o in latest["outcomes"] if o["status"] != "sent"}
        if not steps <= answered or open_commands(engine):
            return False
        return all(invariant.stations[name].limits.get(1) == evses[name]["limitA"] for name in complying)

    await until(done, "a settled site")
    return latest


async def test_twenty_stations_never_exceed_a_limit_while_sessions_come_and_go(
    api: ApiClient, stack: LocalStack, engine: Engine
) -> None:
    admin, operator = api.as_(TENANT, "admin"), api.as_(TENANT, "operator")
    evses = the_evses()
    # Given the stations, their drivers' tokens and the tree, all through the REST API
    for name in evses:
        assert admin.post(f"{V1}/stations", {"id": name, "securityProfile": 0}).status == 201
        assert admin.post(f"{V1}/id-tokens", {"idToken": f"TAG-{name}"}).status == 201
    assert admin.post(f"{V1}/sites", {"id": "yard", "name": "Yard"}).status == 201
    tree = admin.put(f"{V1}/sites/yard/nodes", {"nodes": the_tree(evses)})
    assert tree.status == 200, tree.body
    invariant = Invariant(evses)

    # And all twenty connected, each holding what it is sent
    async with _twenty(stack, evses, invariant) as stations:
        sessions: dict[str, Any] = {}
        first = await settle(operator, engine, invariant, sessions)
        assert {e["stationId"] for e in first["evses"] if not e["controlled"]} == {REJECTS, UNSUPPORTED}
        assert invariant.over(invariant.limits) == []
        invariant.armed = True
        rng = random.Random(SEED)
        for action in range(ACTIONS):
            if action == ACTIONS // 2:
                # Mid-way, once everything is answered, an energy manager lowers feeder-a
                await settle(operator, engine, invariant, sessions)
                node, amps = LOWERED
                invariant.before = {node: invariant.limits[node]}
                invariant.limits[node] = amps
                lowered = operator.put(
                    f"{V1}/sites/yard/nodes/{node}/limit-schedule",
                    {
                        "periods": [
                            {
                                "start": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
                                "limitA": dict.fromkeys(THREE, amps),
                            }
                        ]
                    },
                )
                assert lowered.status == 200, lowered.body
            name = rng.choice(sorted(evses))
            if name in sessions:
                await stop(stations[name], sessions.pop(name))
            else:
                sessions[name] = await start(stations[name], action)
        final = await settle(operator, engine, invariant, sessions)

    # Then no station ever took a profile that put a node over its limit
    assert invariant.violations == []
    assert invariant.over(invariant.limits) == []
    # And it was tried: many profiles, sessions sharing feeders, someone paused or limited
    assert invariant.checked >= ACTIONS // 2
    given = {e["stationId"]: e for e in final["evses"]}
    assert sum(1 for e in given.values() if e["active"] and e["controlled"] and e["limitA"] > 0) >= 3
    feeder_a = next(n for n in final["nodes"] if n["nodeId"] == "feeder-a")
    assert feeder_a["limitA"] == dict.fromkeys(THREE, LOWERED[1])
    assert stations[REJECTS].refused >= 1


def _scaled(draw: Any) -> Any:
    """0 to 300 ms."""
    return lambda: draw() * 0.3


class _twenty:
    """Connects the twenty stations (1.6 odd, 2.0.1 even) and closes them at the end."""

    def __init__(self, stack: LocalStack, evses: dict[str, Evse], invariant: Invariant) -> None:
        self._stack = stack
        self._evses = evses
        self._invariant = invariant
        self._contexts: list[Any] = []

    async def __aenter__(self) -> dict[str, Any]:
        stations: dict[str, Any] = {}
        for n in range(1, 21):
            name = station_id(n)
            if n % 2:
                context = connected(self._stack, name, HoldingCharger16)
            else:
                kind = SimulatedStation if name == UNSUPPORTED else HoldingStation201
                context = connected_201(self._stack, name, kind)
            station = await context.__aenter__()
            self._contexts.append(context)
            if name == REJECTS:
                station.answer = "Rejected"
            # Each takes its time to apply a profile, as real ones do (seeded): the order the
            # profiles land in is the CSMS's doing, not the network's
            station.delay = _scaled(random.Random(SEED * 100 + n).random)
            if name != UNSUPPORTED:
                station.observer = self._invariant.observe
            else:
                station.limits = {}
            stations[name] = station
        self._invariant.stations = stations
        return stations

    async def __aexit__(self, *exc: object) -> None:
        for context in reversed(self._contexts):
            await context.__aexit__(None, None, None)

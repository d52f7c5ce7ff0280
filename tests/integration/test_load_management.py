"""Load management end to end on real PostgreSQL and the local stack: sessions of simulated
stations on a tree, reallocation by their events, the API and the job, stations going offline
counted at their maximum, the AllocationChanged event, the site's row lock serializing
reallocations, and the retention of recorded allocations."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.v16 import call
from sqlalchemy import Engine, text

from csms.data.database import PgDatabase
from csms.data.load import PgLoadStore
from csms.domain.tenancy import TenantScope
from csms.local.gateway import LocalLambdaContext
from csms.local.stack import LocalStack, load_handler
from csms.services.load_management import LoadManagementService, PlanRecorder
from csms.services.provisioning import ProvisioningService
from tests.integration.api_client import ApiClient
from tests.integration.charger import connected
from tests.integration.conftest import rows
from tests.integration.event_helpers import data_of, stored
from tests.integration.load_stations import HoldingCharger16, until

pytestmark = pytest.mark.integration
V1 = "/api/v1"
TENANT = "default"


def an_evse(station: str, **overrides: Any) -> dict[str, Any]:
    return {
        "id": f"{station}-1",
        "parentId": "grid",
        "kind": "evse",
        "stationId": station,
        "evseId": 1,
        "phaseWiring": ["L1", "L2", "L3"],
        "minCurrentA": 6,
        "maxCurrentA": 32,
        **overrides,
    }


def given_a_yard(
    admin: ApiClient, provisioning: ProvisioningService, now: datetime, grid_a: float = 32
) -> None:
    """Two stations' EVSEs under a grid connection of ``grid_a`` per phase."""
    for station in ("LM-1", "LM-2"):
        provisioning.add_charger(station, TENANT, now, security_profile=0)
    for token in ("DRIVER-1", "DRIVER-2"):
        assert admin.post(f"{V1}/id-tokens", {"idToken": token}).status == 201
    assert admin.post(f"{V1}/sites", {"id": "yard", "name": "Yard"}).status == 201
    tree = [
        {"id": "grid", "kind": "grid", "limitA": {"L1": grid_a, "L2": grid_a, "L3": grid_a}},
        an_evse("LM-1"),
        an_evse("LM-2"),
    ]
    assert admin.put(f"{V1}/sites/yard/nodes", {"nodes": tree}).status == 200


def limits(allocation: dict[str, Any]) -> dict[str, tuple[float, bool]]:
    return {e["stationId"]: (e["limitA"], e["controlled"]) for e in allocation["evses"]}


async def answered(operator: ApiClient, site: str = "yard") -> list[dict[str, Any]]:
    """The latest allocation's outcomes, once none is waiting for its answer."""
    found: list[dict[str, Any]] = []

    def settled() -> bool:
        nonlocal found
        found = operator.get(f"{V1}/sites/{site}/allocation").body["outcomes"]
        return all(o["status"] != "sent" for o in found)

    await until(settled, "every answer")
    return found


async def start(cp: Any, token: str) -> None:
    answer = await cp.call(
        call.StartTransaction(connector_id=1, id_tag=token, meter_start=0, timestamp="2026-12-07T06:00:00Z")
    )
    assert answer.id_tag_info["status"] == "Accepted"


async def test_two_sessions_share_the_grid_and_an_offline_station_counts_at_its_maximum(
    api: ApiClient, stack: LocalStack, provisioning: ProvisioningService, now: datetime, engine: Engine
) -> None:
    admin, operator = api.as_(TENANT, "admin"), api.as_(TENANT, "operator")
    given_a_yard(admin, provisioning, now)
    # Given both stations online, each with a session
    async with connected(stack, "LM-1", HoldingCharger16) as one:
        async with connected(stack, "LM-2", HoldingCharger16) as two:
            await start(one, "DRIVER-1")
            await start(two, "DRIVER-2")
            # Then their sessions' events reallocate the site: each station holds half of the
            # grid connection as its TxDefaultProfile, sent by the command pipeline
            await until(lambda: one.limits == {1: 16.0} and two.limits == {1: 16.0}, "16 A each")
            outcomes = await answered(operator)
            assert {(o["status"], o["limit"], o["unit"]) for o in outcomes} <= {("accepted", 16.0, "A")}
            # When an operator reallocates the site, it comes to the same
            shared = await asyncio.to_thread(operator.post, f"{V1}/sites/yard/allocation")
            assert shared.status == 200, shared.body
            assert limits(shared.body) == {"LM-1": (16.0, True), "LM-2": (16.0, True)}
            grid = next(n for n in shared.body["nodes"] if n["nodeId"] == "grid")
            assert grid["allocatedA"] == {"L1": 32.0, "L2": 32.0, "L3": 32.0}
            # And so does the job (nothing changed: nothing recorded, no event)
            result = load_handler("scheduled")({"job": "load-allocation"}, LocalLambdaContext("scheduled"))
            assert (result["sites"], result["failed"]) == (1, 0)
            latest = await asyncio.to_thread(operator.get, f"{V1}/sites/yard/allocation")
            assert latest.body["id"] == shared.body["id"]
        # When LM-2 goes offline with its session open (its ChargerDisconnected reallocates)
        await until(lambda: one.limits == {1: 0.0}, "LM-1 paused")
        after = await asyncio.to_thread(operator.get, f"{V1}/sites/yard/allocation")
    # Then LM-2 counts at its maximum and LM-1 is paused: 32 A leave no room for its minimum
    assert limits(after.body) == {"LM-1": (0.0, True), "LM-2": (32.0, False)}
    assert [e["paused"] for e in after.body["evses"]] == [True, False]
    # And every change was announced: who got what, decreases first
    changes = [d["changes"] for d in data_of(stored(engine, "AllocationChanged"), "AllocationChanged")]
    assert [(c["stationId"], c["limitA"]) for c in changes[-1]] == [("LM-1", 0.0)]
    assert [(c["stationId"], c["limitA"]) for c in changes[-2]] == [("LM-1", 16.0), ("LM-2", 16.0)]


async def test_increases_wait_for_a_slow_decrease_and_the_job_meanwhile_changes_nothing(
    api: ApiClient, stack: LocalStack, provisioning: ProvisioningService, now: datetime, engine: Engine
) -> None:
    admin, operator = api.as_(TENANT, "admin"), api.as_(TENANT, "operator")
    given_a_yard(admin, provisioning, now)
    async with (
        connected(stack, "LM-1", HoldingCharger16) as one,
        connected(stack, "LM-2", HoldingCharger16) as two,
    ):
        await until(lambda: one.limits == {1: 0.0} and two.limits == {1: 0.0}, "the idle limits")
        await start(one, "DRIVER-1")
        await until(lambda: one.limits == {1: 32.0}, "LM-1 at 32 A")
        # Given LM-1 slow to answer its next profile
        gate = one.gate = asyncio.Event()
        # When LM-2's session starts: LM-1 must come down to 16 A before LM-2 goes up
        await start(two, "DRIVER-2")
        waiting: dict[str, Any] = {}

        def decrease_sent() -> bool:
            nonlocal waiting
            waiting = operator.get(f"{V1}/sites/yard/allocation").body
            return [(o["stationId"], o["direction"], o["status"]) for o in waiting["outcomes"]] == [
                ("LM-1", "decrease", "sent")
            ]

        await until(decrease_sent, "LM-1's decrease on its way")
        # Then the job, meanwhile, lets the plan under way go on: no new allocation, nothing sent
        for _ in range(2):
            load_handler("scheduled")({"job": "load-allocation"}, LocalLambdaContext("scheduled"))
        again = await asyncio.to_thread(operator.get, f"{V1}/sites/yard/allocation")
        assert again.body["id"] == waiting["id"]
        assert [s["stationId"] for s in again.body["plan"]] == ["LM-1", "LM-2"]
        assert two.limits == {1: 0.0}
        # And once LM-1 answers, LM-2 goes up
        gate.set()
        await until(lambda: one.limits == {1: 16.0} and two.limits == {1: 16.0}, "16 A each")
        assert [(o["stationId"], o["status"]) for o in await answered(operator)] == [
            ("LM-1", "accepted"),
            ("LM-2", "accepted"),
        ]


def test_an_idle_site_is_reallocated_when_its_tree_changes(
    api: ApiClient, stack: LocalStack, provisioning: ProvisioningService, now: datetime
) -> None:
    admin = api.as_(TENANT, "admin")
    given_a_yard(admin, provisioning, now)
    # (putting the tree reallocated the site: both stations are offline, so both count at maximum)
    allocation = admin.get(f"{V1}/sites/yard/allocation").body
    assert allocation["cause"] == "TreeChanged"
    assert limits(allocation) == {"LM-1": (32.0, False), "LM-2": (32.0, False)}
    assert next(n for n in allocation["nodes"] if n["nodeId"] == "grid")["overloaded"] is True


async def test_with_the_pool_of_a_function_container_trees_and_profiles_go_through(
    api: ApiClient, stack: LocalStack, provisioning: ProvisioningService, now: datetime, reconfigure: Any
) -> None:
    # Given the functions' database pools as on Lambda and in csms dev: one connection, and the
    # one overflow connection the settings allow by default
    from csms.settings import Settings

    reconfigure(CSMS_DATABASE_POOL_SIZE="1", CSMS_DATABASE_MAX_OVERFLOW=str(Settings().database_max_overflow))
    admin = api.as_(TENANT, "admin")
    # Then a tree naming stations is saved (the stations are checked on the tree's connection)
    given_a_yard(admin, provisioning, now)
    # and an unknown station is refused, naming the node
    grid = {"id": "grid", "kind": "grid", "limitA": {"L1": 32, "L2": 32, "L3": 32}}
    refused = admin.put(f"{V1}/sites/yard/nodes", {"nodes": [grid, an_evse("LM-NONE")]})
    assert refused.status == 422
    assert "LM-NONE-1" in refused.body["detail"]
    # And the limits go out as profiles while the site's lock is held: both sessions share the
    # grid connection
    async with (
        connected(stack, "LM-1", HoldingCharger16) as one,
        connected(stack, "LM-2", HoldingCharger16) as two,
    ):
        await start(one, "DRIVER-1")
        await start(two, "DRIVER-2")
        await until(lambda: one.limits == {1: 16.0} and two.limits == {1: 16.0}, "16 A each")


class _Online:
    def online(self, tenant_id: str, station_ids: Any) -> dict[str, datetime]:
        return dict.fromkeys(station_ids, datetime(2026, 1, 1, tzinfo=UTC))


def test_reallocations_of_one_site_wait_for_its_row_lock(
    api: ApiClient, stack: LocalStack, provisioning: ProvisioningService, now: datetime, engine: Engine
) -> None:
    given_a_yard(api.as_(TENANT, "admin"), provisioning, now)
    service = LoadManagementService(PgLoadStore(PgDatabase(engine)), _Online(), PlanRecorder())
    done = threading.Event()

    def reallocate() -> None:
        service.reallocate(TenantScope(TENANT), "yard", now, "Test")
        done.set()

    # Given another transaction holding the site's row (another reallocation, a tree change)
    with engine.connect() as holder:
        holder.execute(text("SELECT 1 FROM load_sites WHERE id = 'yard' FOR UPDATE"))
        worker = threading.Thread(target=reallocate)
        worker.start()
        # Then the reallocation waits for it
        assert not done.wait(1.0)
        holder.rollback()
    # And goes on once it is released
    worker.join(timeout=30)
    assert done.is_set()


def test_the_job_forgets_allocations_past_the_retention_but_never_a_sites_latest(
    api: ApiClient, stack: LocalStack, engine: Engine
) -> None:
    # Given allocations of two sites: A's a week and a day old and one an hour old, B's only one
    # a week and a day old
    admin = api.as_("t1", "admin")
    for site in ("A", "B"):
        assert admin.post(f"{V1}/sites", {"id": site, "name": site}).status == 201
    moment = datetime.now(UTC)
    ages = [
        ("A", timedelta(days=8)),
        ("A", timedelta(days=8)),
        ("A", timedelta(hours=1)),
        ("B", timedelta(days=8)),
    ]
    with engine.begin() as conn:
        for site, age in ages:
            conn.execute(
                text(
                    "INSERT INTO load_allocations "
                    "(tenant_id, site_id, computed_at, cause, inputs, result, plan) "
                    "VALUES ('t1', :site, :at, 'Test', '{}', '{}', '{}')"
                ),
                {"site": site, "at": moment - age},
            )
    # When the load-allocation job runs (retention: 7 days by default)
    result = load_handler("scheduled")({"job": "load-allocation"}, LocalLambdaContext("scheduled"))
    # Then A's two old ones are gone; A's recent one and B's only one (its latest) stay
    assert result["pruned"] == 2
    left = rows(
        engine, "SELECT site_id, computed_at FROM load_allocations WHERE tenant_id = 't1' ORDER BY id"
    )
    assert [(r["site_id"], moment - r["computed_at"] < timedelta(days=1)) for r in left] == [
        ("A", True),
        ("B", False),
    ]

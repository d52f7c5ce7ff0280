"""Load management's REST API (sites, trees, live loads, limit schedules), through the local API
Gateway and the real api function."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.integration.api_client import ApiClient, Reply

pytestmark = pytest.mark.integration
V1 = "/api/v1"


@pytest.fixture
def admin(api: ApiClient) -> ApiClient:
    return api.as_("acme", "admin")


@pytest.fixture
def operator(api: ApiClient) -> ApiClient:
    return api.as_("acme", "operator")


@pytest.fixture
def viewer(api: ApiClient) -> ApiClient:
    return api.as_("acme", "viewer")


def assert_problem(reply: Reply, status: int, field: str | None = None) -> None:
    assert (reply.status, reply.content_type) == (status, "application/problem+json"), reply.body
    if field is not None:
        assert field in reply.body["detail"], reply.body


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat().replace("+00:00", "Z")


def an_evse_node(node_id: str, station: str, parent: str, **overrides: Any) -> dict[str, Any]:
    return {
        "id": node_id,
        "parentId": parent,
        "kind": "evse",
        "stationId": station,
        "evseId": 1,
        "phaseWiring": ["L1", "L2", "L3"],
        "minCurrentA": 6,
        "maxCurrentA": 32,
        **overrides,
    }


def a_tree() -> list[dict[str, Any]]:
    """Grid (63 A) → feeder (32 A) → station CP-1 with one EVSE; CP-2's single-phase EVSE on L2
    directly under the grid."""
    return [
        {"id": "grid", "kind": "grid", "limitA": {"L1": 63, "L2": 63, "L3": 63}, "maxPowerKw": 40},
        {"id": "feeder", "parentId": "grid", "kind": "circuit", "limitA": {"L1": 32, "L2": 32, "L3": 32}},
        {"id": "cp1", "parentId": "feeder", "kind": "station", "stationId": "CP-1"},
        an_evse_node("cp1-1", "CP-1", "cp1"),
        an_evse_node("cp2-1", "CP-2", "grid", phaseWiring=["L2"], priority=2),
    ]


def given_a_site_with_stations(admin: ApiClient) -> None:
    for station in ("CP-1", "CP-2"):
        assert admin.post(f"{V1}/stations", {"id": station, "securityProfile": 0}).status == 201
    assert admin.post(f"{V1}/sites", {"id": "depot", "name": "Depot"}).status == 201


def test_an_admin_builds_a_tree_and_a_viewer_reads_it(admin: ApiClient, viewer: ApiClient) -> None:
    # Given a site and two stations
    given_a_site_with_stations(admin)
    # When the admin puts the tree
    put = admin.put(f"{V1}/sites/depot/nodes", {"nodes": a_tree()})
    # Then it is stored with the phases each node carries
    assert put.status == 200, put.body
    nodes = {n["id"]: n for n in viewer.get(f"{V1}/sites/depot/nodes").body["nodes"]}
    assert sorted(nodes) == ["cp1", "cp1-1", "cp2-1", "feeder", "grid"]
    assert nodes["grid"]["phases"] == ["L1", "L2", "L3"]
    assert nodes["cp2-1"]["phases"] == ["L2"]
    assert nodes["cp2-1"]["priority"] == 2
    assert nodes["cp1"]["stationId"] == "CP-1"
    assert viewer.get(f"{V1}/sites/depot/nodes/feeder").body["limitA"] == {"L1": 32, "L2": 32, "L3": 32}
    # And a viewer may not change it
    assert_problem(viewer.put(f"{V1}/sites/depot/nodes", {"nodes": []}), 403)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda t: [*t, dict(t[1], id="feeder2", parentId="nowhere")], "nodes.feeder2.parentId"),
        (lambda t: [dict(t[0]), dict(t[1], parentId="feeder"), *t[2:]], "nodes.feeder.parentId"),
        (lambda t: [t[0], dict(t[1], phases=["L1"]), *t[2:]], "nodes.cp1-1.phases"),
        (lambda t: [t[0], dict(t[1], limitA={"L1": 0}), *t[2:]], "limitA.L1"),
        (lambda t: [t[0], dict(t[1], limitA={"L1": -5}), *t[2:]], "limitA.L1"),
        (lambda t: [*t[:4], dict(t[4], stationId="NOPE")], "nodes.cp2-1.stationId"),
        (lambda t: [*t, an_evse_node("again", "CP-1", "feeder")], "nodes.cp1-1.evseId"),
        (lambda t: [*t[:4], dict(t[4], minCurrentA=40)], "nodes.cp2-1.minCurrentA"),
        (lambda t: [*t, dict(t[0], id="grid2")], "nodes"),
    ],
)
def test_a_tree_that_breaks_a_rule_is_refused_naming_the_field(
    admin: ApiClient, change: Any, field: str
) -> None:
    given_a_site_with_stations(admin)
    reply = admin.put(f"{V1}/sites/depot/nodes", {"nodes": change(a_tree())})
    assert_problem(reply, 422, field)
    assert admin.get(f"{V1}/sites/depot/nodes").body["nodes"] == []


def test_a_cycle_is_refused(admin: ApiClient) -> None:
    given_a_site_with_stations(admin)
    tree = [
        {"id": "grid", "kind": "grid"},
        {"id": "a", "parentId": "b", "kind": "circuit"},
        {"id": "b", "parentId": "a", "kind": "circuit"},
    ]
    assert_problem(admin.put(f"{V1}/sites/depot/nodes", {"nodes": tree}), 422, "cycle")


def test_an_evse_belongs_to_one_site(admin: ApiClient) -> None:
    given_a_site_with_stations(admin)
    assert admin.put(f"{V1}/sites/depot/nodes", {"nodes": a_tree()}).status == 200
    assert admin.post(f"{V1}/sites", {"id": "annex", "name": "Annex"}).status == 201
    tree = [{"id": "grid", "kind": "grid"}, an_evse_node("x", "CP-1", "grid")]
    assert_problem(admin.put(f"{V1}/sites/annex/nodes", tree and {"nodes": tree}), 409, "CP-1")


def test_nodes_are_added_replaced_and_deleted_one_by_one(admin: ApiClient) -> None:
    given_a_site_with_stations(admin)
    grid, feeder = a_tree()[:2]
    assert admin.post(f"{V1}/sites/depot/nodes", grid).status == 201
    assert admin.post(f"{V1}/sites/depot/nodes", feeder).status == 201
    assert_problem(admin.post(f"{V1}/sites/depot/nodes", feeder), 409)
    replaced = admin.put(f"{V1}/sites/depot/nodes/feeder", dict(feeder, limitA={"L1": 16}))
    assert replaced.body["limitA"] == {"L1": 16}
    assert_problem(admin.delete(f"{V1}/sites/depot/nodes/grid"), 409, "children")
    assert admin.delete(f"{V1}/sites/depot/nodes/feeder").status == 204
    assert_problem(admin.get(f"{V1}/sites/depot/nodes/feeder"), 404)


def test_an_operator_posts_live_load_and_a_limit_schedule(admin: ApiClient, operator: ApiClient) -> None:
    given_a_site_with_stations(admin)
    assert admin.put(f"{V1}/sites/depot/nodes", {"nodes": a_tree()}).status == 200
    # When the energy manager posts the building's load on the grid connection
    posted = operator.post(
        f"{V1}/sites/depot/nodes/grid/load",
        {"valuesA": {"L1": 12.5, "L2": 3}, "measuredAt": ago(minutes=1), "validForSeconds": 600},
    )
    assert posted.body == {"accepted": True}
    # An older measurement changes nothing
    older = operator.post(
        f"{V1}/sites/depot/nodes/grid/load", {"valuesA": {"L1": 1}, "measuredAt": ago(hours=1)}
    )
    assert older.body == {"accepted": False}
    # A phase the node does not carry is refused, naming it
    assert_problem(
        operator.post(f"{V1}/sites/depot/nodes/cp2-1/load", {"valuesA": {"L1": 1}}), 422, "valuesA.L1"
    )
    # And a limit schedule, read back in order
    schedule = {
        "periods": [
            {"start": "2026-12-07T18:00:00Z", "limitA": {"L1": 40, "L2": 40, "L3": 40}},
            {"start": "2026-12-07T12:00:00Z", "maxPowerKw": 20},
        ]
    }
    assert operator.put(f"{V1}/sites/depot/nodes/grid/limit-schedule", schedule).status == 200
    read = operator.get(f"{V1}/sites/depot/nodes/grid/limit-schedule").body
    assert [p["start"] for p in read["periods"]] == ["2026-12-07T12:00:00Z", "2026-12-07T18:00:00Z"]
    # The tree survives a change of another node with its schedule and load
    assert admin.put(f"{V1}/sites/depot/nodes/feeder", a_tree()[1]).status == 200
    assert operator.get(f"{V1}/sites/depot/nodes/grid/limit-schedule").status == 200
    assert operator.delete(f"{V1}/sites/depot/nodes/grid/limit-schedule").status == 204
    assert_problem(operator.get(f"{V1}/sites/depot/nodes/grid/limit-schedule"), 404)
    # But an operator cannot change the tree
    assert_problem(operator.put(f"{V1}/sites/depot/nodes", {"nodes": []}), 403)


def test_a_location_has_one_site(admin: ApiClient) -> None:
    assert admin.post(f"{V1}/locations", {"id": "LOC", "name": "Depot"}).status == 201
    assert admin.post(f"{V1}/sites", {"id": "s1", "name": "One", "locationId": "LOC"}).status == 201
    assert_problem(
        admin.post(f"{V1}/sites", {"id": "s2", "name": "Two", "locationId": "LOC"}), 409, "locationId"
    )
    assert_problem(admin.post(f"{V1}/sites", {"name": "Three", "locationId": "ELSEWHERE"}), 422, "locationId")
    assert admin.patch(f"{V1}/sites/s1", {"locationId": None}).body["locationId"] is None
    assert admin.get(f"{V1}/sites").body["total"] == 1
    assert admin.delete(f"{V1}/sites/s1").status == 204
    assert_problem(admin.get(f"{V1}/sites/s1"), 404)

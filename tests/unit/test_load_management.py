"""Load management's planning (csms.services.load_management): what a snapshot of a site
becomes, and the order limits go out in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from csms.domain.load import (
    ActiveSession,
    Allocation,
    Direction,
    EvseWiring,
    LoadNode,
    NodeKind,
    RecordedAllocation,
    Site,
    SiteSnapshot,
)
from csms.domain.tenancy import TenantScope
from csms.services.load_management import PlanRecorder, charging_plan, plan_allocation

T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
THREE = ("L1", "L2", "L3")


def a_site_snapshot(*sessions: ActiveSession, previous: RecordedAllocation | None = None) -> SiteSnapshot:
    grid = LoadNode("grid", NodeKind.GRID, None, THREE, limit_a=dict.fromkeys(THREE, 32.0))
    evses = tuple(
        LoadNode(f"{s}-1", NodeKind.EVSE, "grid", THREE, evse=EvseWiring(s, 1, THREE, 6.0, 32.0))
        for s in ("A", "B", "C")
    )
    return SiteSnapshot(
        site=Site("yard", "Yard", T0, T0),
        nodes=(grid, *evses),
        live_loads=(),
        schedules=(),
        sessions=sessions,
        previous=previous,
    )


def a_session(station: str, measured: float | None = None, minutes: int = 0) -> ActiveSession:
    return ActiveSession(station, 1, f"tx-{station}", T0 + timedelta(minutes=minutes), measured)


def recorded(allocation: Allocation) -> RecordedAllocation:
    from csms.domain.load import ChargingPlan

    return RecordedAllocation(1, "yard", T0, "Test", allocation, ChargingPlan())


def test_a_new_session_takes_its_share_from_the_others_decreases_first() -> None:
    # Given A alone at 32 A
    first = plan_allocation("acme", a_site_snapshot(a_session("A")), {"A", "B", "C"}, T0, "Test")
    assert [(s.station_id, s.limit_a) for s in first.plan.steps] == [("A", 32.0), ("B", 0.0), ("C", 0.0)]
    # When B starts
    second = plan_allocation(
        "acme",
        a_site_snapshot(a_session("A"), a_session("B", minutes=1), previous=recorded(first.allocation)),
        {"A", "B", "C"},
        T0,
        "TransactionStarted",
    )
    # Then A's decrease goes out before B's increase
    assert [(s.station_id, s.limit_a, s.direction) for s in second.plan.steps] == [
        ("A", 16.0, Direction.DECREASE),
        ("B", 16.0, Direction.INCREASE),
    ]
    assert second.plan.decreases[0].limit_w == 16.0 * 3 * 230
    assert second.plan.decreases[0].transaction_id == "tx-A"
    assert second.event is not None
    assert second.event.data["changes"][0] == {
        "stationId": "A",
        "evseId": 1,
        "limitA": 16.0,
        "previousA": 32.0,
        "paused": False,
    }


def test_an_evse_drawing_less_gives_the_rest_away() -> None:
    first = plan_allocation("acme", a_site_snapshot(a_session("A"), a_session("B")), {"A", "B", "C"}, T0, "T")
    # B draws 8 A of its 16: its demand is 8 + 2 A of headroom
    second = plan_allocation(
        "acme",
        a_site_snapshot(a_session("A"), a_session("B", measured=8.0), previous=recorded(first.allocation)),
        {"A", "B", "C"},
        T0,
        "MeterValues",
    )
    assert {e.station_id: e.limit_a for e in second.allocation.evses} == {"A": 22.0, "B": 10.0, "C": 0.0}


def test_an_offline_station_is_not_sent_anything_and_counts_at_its_maximum() -> None:
    new = plan_allocation("acme", a_site_snapshot(a_session("A")), {"A", "B"}, T0, "Disconnected")
    assert {e.station_id: (e.limit_a, e.controlled) for e in new.allocation.evses}["C"] == (32.0, False)
    assert "C" not in {s.station_id for s in new.plan.steps}


def test_nothing_changed_means_no_plan_and_no_event() -> None:
    first = plan_allocation("acme", a_site_snapshot(a_session("A")), {"A", "B", "C"}, T0, "T")
    again = plan_allocation(
        "acme", a_site_snapshot(a_session("A"), previous=recorded(first.allocation)), {"A", "B", "C"}, T0, "T"
    )
    assert (again.plan.steps, again.event) == ((), None)
    assert charging_plan(first.allocation, {}, 230.0, {}).increases == ()


def test_the_plan_recorder_sends_nothing_and_says_so() -> None:
    first = plan_allocation("acme", a_site_snapshot(a_session("A")), {"A", "B", "C"}, T0, "T")
    recorder = PlanRecorder()
    outcomes = recorder.apply(TenantScope("acme"), first.plan)
    assert {o.status for o in outcomes} == {"recorded"}
    assert recorder.plans == [(TenantScope("acme"), first.plan)]

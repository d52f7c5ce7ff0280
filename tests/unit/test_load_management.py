"""Load management's planning (csms.services.load_management): what a snapshot of a site
becomes, and the order limits go out in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from csms.data.load import smart_charging_support
from csms.domain.load import (
    ActiveSession,
    Allocation,
    ChargingPlan,
    Direction,
    EvseControl,
    EvseWiring,
    LimitStep,
    LoadNode,
    NodeKind,
    Progress,
    RecordedAllocation,
    Site,
    SiteSnapshot,
    SmartChargingSupport,
    StepOutcome,
)
from csms.domain.tenancy import TenantScope
from csms.services.load_management import LoadManagementService, PlanRecorder, charging_plan, plan_allocation

T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
THREE = ("L1", "L2", "L3")


def a_site_snapshot(
    *sessions: ActiveSession,
    previous: RecordedAllocation | None = None,
    controls: tuple[EvseControl, ...] = (),
    support: dict[str, SmartChargingSupport] | None = None,
) -> SiteSnapshot:
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
        controls=controls,
        support=support or {},
    )


def held(allocation: Allocation) -> tuple[EvseControl, ...]:
    """Every controlled EVSE accepted its limit of ``allocation``."""
    return tuple(
        EvseControl(e.station_id, e.evse_id, held_a=e.limit_a) for e in allocation.evses if e.controlled
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
        a_site_snapshot(
            a_session("A"),
            a_session("B", minutes=1),
            previous=recorded(first.allocation),
            controls=held(first.allocation),
        ),
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
        a_site_snapshot(
            a_session("A"),
            a_session("B", measured=8.0),
            previous=recorded(first.allocation),
            controls=held(first.allocation),
        ),
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
        "acme",
        a_site_snapshot(a_session("A"), previous=recorded(first.allocation), controls=held(first.allocation)),
        {"A", "B", "C"},
        T0,
        "T",
    )
    assert (again.plan.steps, again.event) == ((), None)
    assert charging_plan(first.allocation, {}, 230.0, {}).increases == ()


def test_a_limit_in_flight_counts_as_held_and_is_not_sent_twice() -> None:
    # A was given 32 A but has not answered yet; B and C hold their 0 A
    controls = (
        EvseControl("A", 1, held_a=None, in_flight_a=32.0),
        EvseControl("B", 1, held_a=0.0),
        EvseControl("C", 1, held_a=0.0),
    )
    again = plan_allocation(
        "acme", a_site_snapshot(a_session("A"), controls=controls), {"A", "B", "C"}, T0, "T"
    )
    assert again.plan.steps == ()
    # When B starts, A goes down from what may land (32 A) before B goes up
    both = plan_allocation(
        "acme",
        a_site_snapshot(a_session("A"), a_session("B", minutes=1), controls=controls),
        {"A", "B", "C"},
        T0,
        "T",
    )
    assert [(s.station_id, s.limit_a, s.previous_a, s.direction) for s in both.plan.steps] == [
        ("A", 16.0, 32.0, Direction.DECREASE),
        ("B", 16.0, 0.0, Direction.INCREASE),
    ]


def test_a_refused_profile_counts_at_its_maximum_until_it_is_tried_again() -> None:
    refused = (
        EvseControl("A", 1, held_a=0.0),
        EvseControl("B", 1, refused_at=T0),
        EvseControl("C", 1, held_a=0.0),
    )
    snapshot = a_site_snapshot(a_session("A"), controls=refused)
    # Within the retry period: B counts at 32 A, nothing is sent to it, A gets nothing left
    new = plan_allocation("acme", snapshot, {"A", "B", "C"}, T0 + timedelta(minutes=5), "T")
    assert {e.station_id: (e.limit_a, e.controlled) for e in new.allocation.evses} == {
        "A": (0.0, True),
        "B": (32.0, False),
        "C": (0.0, True),
    }
    assert new.plan.steps == ()
    assert new.inputs["refused"] == ["B/1"]
    # After it, B is tried again: its limit is a decrease (it may be drawing its maximum)
    later = plan_allocation("acme", snapshot, {"A", "B", "C"}, T0 + timedelta(minutes=16), "T")
    assert [(s.station_id, s.limit_a, s.direction) for s in later.plan.steps] == [
        ("B", 0.0, Direction.DECREASE),
        ("A", 32.0, Direction.INCREASE),
    ]


def test_a_station_that_reconnected_since_its_refusal_is_tried_again_at_once() -> None:
    refused = (
        EvseControl("A", 1, held_a=0.0),
        EvseControl("B", 1, refused_at=T0),
        EvseControl("C", 1, held_a=0.0),
    )
    snapshot = a_site_snapshot(a_session("A"), controls=refused)
    # B's refusal came before its current connection (it went offline and came back)
    online = {"A": T0 - timedelta(hours=1), "B": T0 + timedelta(minutes=1), "C": T0 - timedelta(hours=1)}
    new = plan_allocation("acme", snapshot, online, T0 + timedelta(minutes=2), "ChargerConnected")
    assert {e.station_id: e.controlled for e in new.allocation.evses} == {"A": True, "B": True, "C": True}
    assert [(s.station_id, s.direction) for s in new.plan.decreases] == [("B", Direction.DECREASE)]


def test_a_refusal_at_submission_is_read_from_the_previous_allocation() -> None:
    first = plan_allocation("acme", a_site_snapshot(a_session("A")), {"A", "B", "C"}, T0, "T")
    previous = RecordedAllocation(
        1,
        "yard",
        T0,
        "T",
        first.allocation,
        first.plan,
        outcomes=(StepOutcome("C", 1, "failed", direction="decrease", reason="decommissioned"),),
    )
    new = plan_allocation(
        "acme", a_site_snapshot(a_session("A"), previous=previous), {"A", "B", "C"}, T0, "ProfileRefused"
    )
    assert {e.station_id: e.controlled for e in new.allocation.evses} == {"A": True, "B": True, "C": False}


def test_a_station_without_smart_charging_counts_at_its_maximum_and_one_in_watts_gets_watts() -> None:
    support = {
        "B": SmartChargingSupport(supported=False),
        "C": SmartChargingSupport(amperes=False),
    }
    new = plan_allocation(
        "acme", a_site_snapshot(a_session("A"), a_session("C"), support=support), {"A", "B", "C"}, T0, "T"
    )
    assert {e.station_id: (e.limit_a, e.controlled) for e in new.allocation.evses}["B"] == (32.0, False)
    assert [(s.station_id, s.unit) for s in new.plan.steps] == [("A", "A"), ("C", "W")]
    # 0 A left for both: A and C are paused (their minimum does not fit beside B's 32 A)
    assert [s.limit_w for s in new.plan.steps] == [0.0, 0.0]


def test_watts_are_rounded_down() -> None:
    wiring = EvseWiring("A", 1, ("L1",), 6.0, 32.0)
    node = LoadNode("A-1", NodeKind.EVSE, "grid", ("L1",), evse=wiring)
    grid = LoadNode("grid", NodeKind.GRID, None, THREE, limit_a={"L1": 7.3})
    snapshot = SiteSnapshot(
        Site("s", "S", T0, T0, nominal_voltage_v=231.0), (grid, node), (), (), (a_session("A"),), None
    )
    step = plan_allocation("acme", snapshot, {"A"}, T0, "T").plan.steps[0]
    assert (step.limit_a, step.limit_w) == (7.3, 1686.3)


def test_the_device_model_says_whether_and_in_which_unit() -> None:
    assert smart_charging_support({}) == SmartChargingSupport(True, True)
    assert (
        smart_charging_support({("ocpp16", "supportedfeatureprofiles"): "Core,FirmwareManagement"}).supported
        is False
    )
    assert smart_charging_support(
        {("ocpp16", "supportedfeatureprofiles"): "Core, SmartCharging"}
    ) == SmartChargingSupport(True, True)
    assert smart_charging_support({("ocpp16", "chargingscheduleallowedchargingrateunit"): "Power"}) == (
        SmartChargingSupport(True, False)
    )
    assert smart_charging_support({("smartchargingctrlr", "rateunit"): "A,W"}) == SmartChargingSupport(
        True, True
    )
    assert smart_charging_support({("smartchargingctrlr", "available"): "false"}).supported is False
    assert smart_charging_support({("smartchargingctrlr", "enabled"): ""}).supported is False


def test_the_plan_recorder_sends_nothing_and_says_so() -> None:
    first = plan_allocation("acme", a_site_snapshot(a_session("A")), {"A", "B", "C"}, T0, "T")
    recorder = PlanRecorder()
    outcomes = recorder.send(TenantScope("acme"), "yard", 1, first.plan.steps)
    assert {o.status for o in outcomes} == {"recorded"}
    assert recorder.sent == [(TenantScope("acme"), "yard", 1, first.plan.steps)]


# --- driving a plan forward (advance) --------------------------------------------------------------


class _Store:
    """Just what advance reads: the latest allocation, the decreases in flight; and a
    reallocation that records whatever ``next_allocation`` says."""

    def __init__(self, latest: RecordedAllocation, in_flight: int = 0) -> None:
        self.latest = latest
        self.in_flight = in_flight
        self.next_allocation: RecordedAllocation | None = None

    def advance(self, tenant_id: str, site_id: str, decide: Any) -> Progress:
        progress = Progress(self.latest, self.in_flight)
        added = tuple(decide(progress))
        self.latest = replace(self.latest, outcomes=self.latest.outcomes + added)
        return progress

    def nodes(self, tenant_id: str, site_id: str) -> list[LoadNode]:
        return []

    def reallocate(self, tenant_id: str, site_id: str, at: datetime, compute: Any) -> RecordedAllocation:
        if self.next_allocation is not None:
            self.latest, self.next_allocation = self.next_allocation, None
        return self.latest


def a_plan() -> ChargingPlan:
    def step(station: str, limit: float, direction: Direction) -> LimitStep:
        return LimitStep(station, 1, limit, limit * 690, 3, None, direction)

    return ChargingPlan(
        decreases=(step("A", 10.0, Direction.DECREASE), step("B", 10.0, Direction.DECREASE)),
        increases=(step("C", 12.0, Direction.INCREASE),),
    )


def driving(store: _Store) -> tuple[LoadManagementService, PlanRecorder]:
    sender = _Sender()
    return LoadManagementService(store, _NoneOnline(), sender), sender  # type: ignore[arg-type]


class _Sender(PlanRecorder):
    def send(
        self, scope: TenantScope, site_id: str, allocation_id: int, steps: Sequence[LimitStep]
    ) -> list[StepOutcome]:
        super().send(scope, site_id, allocation_id, steps)
        return [
            StepOutcome(s.station_id, s.evse_id, "sent", f"cmd-{s.station_id}", s.direction.value)
            for s in steps
        ]


class _NoneOnline:
    def online(self, tenant_id: str, station_ids: Sequence[str]) -> dict[str, datetime]:
        return {}


def answer(store: _Store, station: str, status: str) -> None:
    store.latest = replace(
        store.latest,
        outcomes=tuple(
            replace(o, status=status) if o.station_id == station else o for o in store.latest.outcomes
        ),
    )


def sent(recorder: PlanRecorder) -> list[list[str]]:
    return [[s.station_id for s in steps] for _, _, _, steps in recorder.sent]


def test_increases_wait_for_every_decrease_to_be_accepted() -> None:
    first = plan_allocation("acme", a_site_snapshot(), set(), T0, "T")
    store = _Store(RecordedAllocation(7, "yard", T0, "T", first.allocation, a_plan()))
    service, sender = driving(store)
    scope = TenantScope("acme")
    # The decreases go out at once
    assert service.advance(scope, "yard", T0) == "decreases"
    assert sent(sender) == [["A", "B"]]
    # Nothing more while one is unanswered, nor twice
    answer(store, "A", "accepted")
    assert service.advance(scope, "yard", T0) == "waiting"
    # Nor while a decrease of an older allocation is in flight
    answer(store, "B", "accepted")
    store.in_flight = 1
    assert service.advance(scope, "yard", T0) == "waiting"
    # Then the increases, once
    store.in_flight = 0
    assert service.advance(scope, "yard", T0) == "increases"
    assert service.advance(scope, "yard", T0) == "done"
    assert sent(sender) == [["A", "B"], ["C"]]


def test_a_refused_decrease_reallocates_instead_of_sending_the_increases() -> None:
    first = plan_allocation("acme", a_site_snapshot(), set(), T0, "T")
    store = _Store(RecordedAllocation(7, "yard", T0, "T", first.allocation, a_plan()))
    service, sender = driving(store)
    scope = TenantScope("acme")
    service.advance(scope, "yard", T0)
    answer(store, "A", "accepted")
    answer(store, "B", "rejected")
    # The new allocation (B at its maximum) has only a decrease for C
    store.next_allocation = RecordedAllocation(
        8, "yard", T0, "ProfileRefused", first.allocation, ChargingPlan(decreases=a_plan().increases)
    )
    assert service.advance(scope, "yard", T0) == "reallocated"
    assert sent(sender) == [["A", "B"], ["C"]]
    assert store.latest.id == 8

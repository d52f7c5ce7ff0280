"""The load allocator (csms.services.load_allocation): worked examples, then properties that
must hold for any tree, loads and priorities (Hypothesis)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csms.domain.load import (
    PHASES,
    AllocationProblem,
    EvseDemand,
    EvseWiring,
    LimitPeriod,
    LimitSchedule,
    LiveLoad,
    LoadNode,
    NodeKind,
    NodeLimit,
)
from csms.services.load_allocation import (
    allocate,
    demand_estimate,
    limits_at,
    non_ev_at,
    proportional_split,
)

THREE = ("L1", "L2", "L3")
T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
TOLERANCE = 1e-6


# --- builders -----------------------------------------------------------------------------------


def a_grid(amps: float | None = 32.0, *, phases: tuple[str, ...] = THREE, **overrides: object) -> LoadNode:
    limit = {} if amps is None else dict.fromkeys(phases, amps)
    return LoadNode(
        **{
            "id": "grid",
            "kind": NodeKind.GRID,
            "parent_id": None,
            "phases": phases,
            "limit_a": limit,
            **overrides,
        }  # type: ignore[arg-type]
    )


def a_circuit(node_id: str, parent: str, amps: float | None, *, phases: tuple[str, ...] = THREE) -> LoadNode:
    limit = {} if amps is None else dict.fromkeys(phases, amps)
    return LoadNode(node_id, NodeKind.CIRCUIT, parent, phases, limit_a=limit)


def an_evse(
    station: str,
    evse_id: int = 1,
    parent: str = "grid",
    *,
    wiring: tuple[str, ...] = THREE,
    minimum: float = 6.0,
    maximum: float = 32.0,
    priority: float = 1.0,
) -> LoadNode:
    return LoadNode(
        f"{station}-{evse_id}",
        NodeKind.EVSE,
        parent,
        tuple(sorted(wiring)),
        evse=EvseWiring(station, evse_id, wiring, minimum, maximum, priority),
    )


def charging(station: str, evse_id: int = 1, demand: float | None = None, **overrides: object) -> EvseDemand:
    return EvseDemand(station, evse_id, demand, **overrides)  # type: ignore[arg-type]


def limits(problem: AllocationProblem, resolution: float = 0.1) -> dict[str, float]:
    return {f"{e.station_id}-{e.evse_id}": e.limit_a for e in allocate(problem, resolution=resolution).evses}


# --- worked examples ----------------------------------------------------------------------------


def test_two_evses_share_a_grid_connection_equally() -> None:
    # Given a 32 A grid connection and two three-phase EVSEs of 32 A, both charging
    problem = AllocationProblem(
        nodes=(a_grid(32), an_evse("A"), an_evse("B")), demands=(charging("A"), charging("B"))
    )
    # Then each gets half
    assert limits(problem) == {"A-1": 16.0, "B-1": 16.0}


def test_an_idle_evse_gets_nothing_and_the_active_one_its_maximum() -> None:
    problem = AllocationProblem(nodes=(a_grid(63), an_evse("A"), an_evse("B")), demands=(charging("A"),))
    assert limits(problem) == {"A-1": 32.0, "B-1": 0.0}


def test_priorities_are_weights_above_the_minimum() -> None:
    # 30 A for two: the minimums (6 A each) first, then water-filling with weights 2:1 → 20 / 10
    problem = AllocationProblem(
        nodes=(a_grid(30), an_evse("A", priority=2), an_evse("B", priority=1)),
        demands=(charging("A"), charging("B")),
    )
    assert limits(problem) == {"A-1": 20.0, "B-1": 10.0}


def test_when_minimums_do_not_fit_the_later_session_is_paused() -> None:
    # 10 A cannot carry two minimums of 6 A: the session that started first keeps charging
    problem = AllocationProblem(
        nodes=(a_grid(10), an_evse("A"), an_evse("B")),
        demands=(charging("A", since=T0 + timedelta(minutes=5)), charging("B", since=T0)),
    )
    allocation = allocate(problem)
    assert limits(problem) == {"A-1": 0.0, "B-1": 10.0}
    assert [e.paused for e in allocation.evses] == [True, False]


def test_single_phase_evses_on_different_phases_do_not_compete() -> None:
    # Given 16 A per phase and three single-phase EVSEs: two on L1, one on L2
    problem = AllocationProblem(
        nodes=(
            a_grid(16),
            an_evse("A", wiring=("L1",)),
            an_evse("B", wiring=("L1",)),
            an_evse("C", wiring=("L2",)),
        ),
        demands=(charging("A"), charging("B"), charging("C")),
    )
    # Then the two on L1 share it, the one on L2 has it alone
    assert limits(problem) == {"A-1": 8.0, "B-1": 8.0, "C-1": 16.0}


def test_phase_rotation_counts_on_the_site_phases_the_evse_uses() -> None:
    # A three-phase EVSE rotated L2/L3/L1 and a single-phase one on site L2, under 20 A on L2 only
    grid = LoadNode("grid", NodeKind.GRID, None, THREE, limit_a={"L2": 20.0})
    problem = AllocationProblem(
        nodes=(grid, an_evse("A", wiring=("L2", "L3", "L1")), an_evse("B", wiring=("L2",))),
        demands=(charging("A"), charging("B")),
    )
    allocation = allocate(problem)
    assert limits(problem) == {"A-1": 10.0, "B-1": 10.0}
    grid_sums = next(n for n in allocation.nodes if n.node_id == "grid")
    assert grid_sums.allocated_a == {"L1": 10.0, "L2": 20.0, "L3": 10.0}


def test_nested_circuits_each_hold() -> None:
    # Given a 40 A grid, a 16 A circuit with two EVSEs, and one EVSE directly on the grid
    problem = AllocationProblem(
        nodes=(
            a_grid(40),
            a_circuit("small", "grid", 16),
            an_evse("A", parent="small"),
            an_evse("B", parent="small"),
            an_evse("C"),
        ),
        demands=(charging("A"), charging("B"), charging("C")),
    )
    # Then the circuit's two share 16 A and the third takes what the grid has left
    assert limits(problem) == {"A-1": 8.0, "B-1": 8.0, "C-1": 24.0}


def test_what_an_evse_does_not_use_goes_to_the_others() -> None:
    # B draws 10 A of the 16 it was given: its demand is 10 + 2 A of headroom
    b_demand = demand_estimate(32, previous_a=16, measured_a=10, headroom_a=2)
    problem = AllocationProblem(
        nodes=(a_grid(32), an_evse("A"), an_evse("B")),
        demands=(charging("A"), charging("B", demand=b_demand)),
    )
    assert b_demand == 12
    assert limits(problem) == {"A-1": 20.0, "B-1": 12.0}


def test_a_vehicle_drawing_up_to_its_limit_is_offered_its_maximum_again() -> None:
    assert demand_estimate(32, previous_a=16, measured_a=15.5, headroom_a=2) == 32
    # Between half the headroom and the headroom below its limit it keeps the limit: a limit of
    # measurement + headroom does not flip back to the maximum at the next allocation
    assert demand_estimate(32, previous_a=10, measured_a=8, headroom_a=2) == 10
    assert demand_estimate(32, previous_a=10, measured_a=9, headroom_a=2) == 32
    assert demand_estimate(32, previous_a=None, measured_a=3, headroom_a=2) == 32
    assert demand_estimate(32, previous_a=16, measured_a=None, headroom_a=2) == 32


def test_an_offline_evse_counts_at_its_maximum() -> None:
    problem = AllocationProblem(
        nodes=(a_grid(40), an_evse("A"), an_evse("B", maximum=16)),
        demands=(charging("A"), charging("B", controlled=False)),
    )
    assert limits(problem) == {"A-1": 24.0, "B-1": 16.0}


def test_uncontrolled_load_over_a_limit_pauses_the_rest_and_flags_the_node() -> None:
    problem = AllocationProblem(
        nodes=(a_grid(20), an_evse("A"), an_evse("B", maximum=32)),
        demands=(charging("A"), charging("B", controlled=False)),
    )
    allocation = allocate(problem)
    assert limits(problem)["A-1"] == 0.0
    assert next(n for n in allocation.nodes if n.node_id == "grid").overloaded


def test_non_ev_load_and_a_kw_limit_reduce_the_capacity() -> None:
    # 32 A per phase less 12 A of building load on every phase leaves 20 A; and at most 22 kW
    grid = a_grid(32, max_power_kw=22.0)
    problem = AllocationProblem(
        nodes=(grid, an_evse("A")),
        demands=(charging("A"),),
        non_ev_a={"grid": {"L1": 12.0, "L2": 12.0, "L3": 12.0}},
    )
    # 22 kW less 3 x 12 A x 230 V (8280 W) leaves 13720 W: 19.88 A on three phases, rounded down
    assert limits(problem) == {"A-1": 19.8}


def test_non_ev_load_on_a_sub_circuit_counts_against_every_node_above_it() -> None:
    # A heat pump of 20 A on the workshop's circuit draws through the grid connection too: of the
    # grid's 32 A, 12 A are left for the EVSE on the other circuit (not its circuit's 32 A)
    problem = AllocationProblem(
        nodes=(
            a_grid(32),
            a_circuit("workshop", "grid", 25),
            a_circuit("yard", "grid", 32),
            an_evse("A", parent="yard"),
        ),
        demands=(charging("A"),),
        non_ev_a={"workshop": {"L1": 20.0, "L2": 20.0, "L3": 20.0}},
    )
    assert limits(problem) == {"A-1": 12.0}
    grid = next(n for n in allocate(problem).nodes if n.node_id == "grid")
    assert grid.allocated_a == {"L1": 32.0, "L2": 32.0, "L3": 32.0}
    assert grid.non_ev_a == {}  # the load is the workshop's; the grid carries it


def test_limits_are_rounded_down_to_a_tenth_of_an_ampere() -> None:
    problem = AllocationProblem(
        nodes=(a_grid(20), an_evse("A"), an_evse("B"), an_evse("C")),
        demands=(charging("A"), charging("B"), charging("C")),
    )
    assert limits(problem) == {"A-1": 6.6, "B-1": 6.6, "C-1": 6.6}


def test_a_limit_schedule_lowers_a_node_and_live_load_expires_into_the_allowance() -> None:
    grid = a_grid(63, non_ev_allowance_a={"L1": 5.0})
    schedule = LimitSchedule(
        "grid",
        (LimitPeriod(T0, {"L1": 40.0}), LimitPeriod(T0 + timedelta(hours=1), {"L1": 80.0}, 30.0)),
        set_at=T0,
    )
    assert limits_at([grid], [schedule], T0 - timedelta(seconds=1))["grid"] == NodeLimit(grid.limit_a, None)
    assert limits_at([grid], [schedule], T0)["grid"].limit_a["L1"] == 40.0
    later = limits_at([grid], [schedule], T0 + timedelta(hours=2))["grid"]
    assert (later.limit_a["L1"], later.max_power_kw) == (63.0, 30.0)  # a schedule never raises a limit
    live = LiveLoad("grid", {"L1": 20.0}, measured_at=T0, expires_at=T0 + timedelta(minutes=5))
    assert non_ev_at([grid], [live], T0 + timedelta(minutes=1)) == {"grid": {"L1": 20.0}}
    assert non_ev_at([grid], [live], T0 + timedelta(minutes=5)) == {"grid": {"L1": 5.0}}


def test_the_baseline_splits_in_proportion_to_the_maximums() -> None:
    problem = AllocationProblem(
        nodes=(a_grid(24), an_evse("A", maximum=32), an_evse("B", maximum=16)),
        demands=(charging("A"), charging("B")),
    )
    assert proportional_split(problem) == {("A", 1): 16.0, ("B", 1): 8.0}


# --- properties ---------------------------------------------------------------------------------


@st.composite
def problems(draw: st.DrawFn) -> AllocationProblem:
    """A random tree (grid, up to two levels of circuits, EVSEs anywhere below), random phases,
    limits, minimums, maximums, priorities, demands, non-EV loads and uncontrolled EVSEs."""
    grid_limit = draw(st.floats(10, 400))
    grid = LoadNode(
        "grid",
        NodeKind.GRID,
        None,
        THREE,
        limit_a={p: draw(st.floats(grid_limit / 2, grid_limit)) for p in PHASES},
        max_power_kw=draw(st.none() | st.floats(5, 300)),
    )
    nodes = [grid]
    parents = [grid]
    for index in range(draw(st.integers(0, 6))):
        parent = draw(st.sampled_from(parents))
        phases = tuple(sorted(draw(st.sets(st.sampled_from(parent.phases), min_size=1))))
        limited = draw(st.sets(st.sampled_from(phases)))
        circuit = LoadNode(
            f"c{index}",
            NodeKind.CIRCUIT,
            parent.id,
            phases,
            limit_a={p: draw(st.floats(6, 120)) for p in sorted(limited)},
            max_power_kw=draw(st.none() | st.floats(3, 80)),
        )
        nodes.append(circuit)
        parents.append(circuit)
    demands = []
    for index in range(draw(st.integers(1, 14))):
        parent = draw(st.sampled_from(parents))
        if len(parent.phases) == 3 and draw(st.booleans()):
            wiring = tuple(draw(st.permutations(THREE)))
        else:
            wiring = (draw(st.sampled_from(parent.phases)),)
        minimum = draw(st.sampled_from([0.0, 6.0, 6.0, 8.0]))
        maximum = draw(st.floats(max(minimum, 1.0), 63))
        station = f"S{index:02d}"
        nodes.append(
            LoadNode(
                f"e{index}",
                NodeKind.EVSE,
                parent.id,
                tuple(sorted(wiring)),
                evse=EvseWiring(
                    station, 1, wiring, minimum, maximum, draw(st.sampled_from([1.0, 1.0, 2.0, 3.0]))
                ),
            )
        )
        if draw(st.integers(0, 4)):  # most are active
            demands.append(
                EvseDemand(
                    station,
                    1,
                    draw(st.none() | st.floats(0, 63)),
                    controlled=draw(st.integers(0, 9)) > 0,
                    since=T0 + timedelta(seconds=draw(st.integers(0, 3600))),
                )
            )
    non_ev = {
        node.id: {p: draw(st.floats(0, 10)) for p in node.phases}
        for node in nodes
        if node.kind is not NodeKind.EVSE and draw(st.booleans())
    }
    return AllocationProblem(tuple(nodes), tuple(demands), non_ev_a=non_ev)


def _constraint_sums(problem: AllocationProblem, limits_by_key: dict[tuple[str, int], float]):  # type: ignore[no-untyped-def]
    """(node, phase or kW) → (sum of EVSE currents + non-EV load, limit)."""
    nodes = {n.id: n for n in problem.nodes}
    found = {}
    for node in problem.nodes:
        below = [n for n in problem.nodes if n.evse is not None and _is_below(n, node.id, nodes)]
        # the non-EV load at the node and at every node below it flows through it
        non_ev: dict[str, float] = {}
        for other in problem.nodes:
            if other.id == node.id or _is_below(other, node.id, nodes):
                for phase, amps in problem.non_ev_a.get(other.id, {}).items():
                    non_ev[phase] = non_ev.get(phase, 0.0) + amps
        for phase, limit in node.limit_a.items():
            used = non_ev.get(phase, 0.0) + sum(
                limits_by_key[n.evse.key] for n in below if n.evse and phase in n.evse.phases
            )
            found[(node.id, phase)] = (
                used,
                limit,
                [n.evse.key for n in below if n.evse and phase in n.evse.phases],
            )
        if node.max_power_kw is not None:
            used_w = problem.nominal_voltage_v * (
                sum(non_ev.values())
                + sum(limits_by_key[n.evse.key] * len(n.evse.phases) for n in below if n.evse)
            )
            found[(node.id, "kW")] = (used_w / 1000, node.max_power_kw, [n.evse.key for n in below if n.evse])
    return found


def _is_below(node: LoadNode, ancestor: str, nodes: dict[str, LoadNode]) -> bool:
    at: str | None = node.id
    while at is not None:
        if at == ancestor:
            return True
        at = nodes[at].parent_id
    return False


def _by_key(problem: AllocationProblem, resolution: float = 0.0) -> dict[tuple[str, int], float]:
    return {e.key: e.limit_a for e in allocate(problem, resolution=resolution).evses}


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(problems())
def test_no_limit_is_exceeded_unless_uncontrolled_load_alone_exceeds_it(problem: AllocationProblem) -> None:
    result = allocate(problem)
    by_key = {e.key: e.limit_a for e in result.evses}
    uncontrolled = {d.key for d in problem.demands if not d.controlled}
    fixed_only = {k: (v if k in uncontrolled else 0.0) for k, v in by_key.items()}
    fixed_sums = _constraint_sums(problem, fixed_only)
    for where, (used, limit, members) in _constraint_sums(problem, by_key).items():
        if fixed_sums[where][0] > limit + TOLERANCE:
            # overloaded by what cannot be controlled: every controlled EVSE below it is at 0
            assert all(by_key[k] == 0 for k in members if k not in uncontrolled), where
        else:
            assert used <= limit + TOLERANCE, (where, used, limit)


@PROPERTY
@given(problems())
def test_every_active_evse_gets_at_least_its_minimum_or_is_paused(problem: AllocationProblem) -> None:
    for evse in allocate(problem).evses:
        node = next(n for n in problem.nodes if n.evse is not None and n.evse.key == evse.key)
        assert node.evse is not None
        if not evse.active:
            assert evse.limit_a == 0
        elif evse.paused:
            assert evse.limit_a == 0
            assert evse.controlled
        else:
            assert node.evse.min_current_a - TOLERANCE <= evse.limit_a <= node.evse.max_current_a + TOLERANCE


@PROPERTY
@given(problems())
def test_no_capacity_is_idle_while_an_evse_wants_more(problem: AllocationProblem) -> None:
    # (unrounded: rounding down to 0.1 A leaves less than 0.1 A per EVSE, by design)
    result = allocate(problem, resolution=0)
    by_key = {e.key: e.limit_a for e in result.evses}
    sums = _constraint_sums(problem, by_key)
    for evse in result.evses:
        if not evse.active or not evse.controlled or evse.paused:
            continue
        if evse.limit_a < evse.demand_a - 1e-5:
            tight = [
                where
                for where, (used, limit, members) in sums.items()
                if evse.key in members and used >= limit - 1e-5
            ]
            assert tight, f"{evse.key} has {evse.limit_a} of {evse.demand_a} and every node above it has room"


@PROPERTY
@given(problems())
def test_a_paused_evse_would_not_fit_beside_the_minimums_of_those_kept(problem: AllocationProblem) -> None:
    result = allocate(problem, resolution=0)
    at_minimum = {}
    minimum = {n.evse.key: n.evse.min_current_a for n in problem.nodes if n.evse}
    maximum = {n.evse.key: n.evse.max_current_a for n in problem.nodes if n.evse}
    uncontrolled = {d.key for d in problem.demands if not d.controlled}
    for evse in result.evses:
        kept = evse.active and not evse.paused
        at_minimum[evse.key] = (maximum if evse.key in uncontrolled else minimum)[evse.key] if kept else 0.0
    for evse in result.evses:
        if evse.paused:
            sums = _constraint_sums(problem, {**at_minimum, evse.key: minimum[evse.key]})
            assert any(used > limit + 1e-9 for used, limit, members in sums.values() if evse.key in members)


@PROPERTY
@given(problems(), st.randoms(use_true_random=False))
def test_the_result_does_not_depend_on_the_order_of_the_inputs(
    problem: AllocationProblem, rnd: random.Random
) -> None:
    nodes, demands = list(problem.nodes), list(problem.demands)
    rnd.shuffle(nodes)
    rnd.shuffle(demands)
    shuffled = AllocationProblem(tuple(nodes), tuple(demands), non_ev_a=problem.non_ev_a)
    assert allocate(shuffled) == allocate(problem)


@PROPERTY
@given(
    st.integers(2, 8),
    st.floats(6, 200),
    st.floats(0, 63) | st.none(),
    st.sampled_from([("L1",), THREE, ("L3", "L1", "L2")]),
    st.floats(1, 3),
)
def test_equal_priority_and_equal_demand_get_equal_shares(
    count: int, capacity: float, demand: float | None, wiring: Sequence[str], priority: float
) -> None:
    # Given EVSEs alike in every way, side by side on one circuit, and one more elsewhere
    circuit = a_circuit("c", "grid", capacity)
    alike = [
        an_evse(f"S{i}", parent="c", wiring=tuple(wiring), minimum=0, priority=priority) for i in range(count)
    ]
    problem = AllocationProblem(
        nodes=(a_grid(None), circuit, *alike, an_evse("other")),
        demands=(*(charging(f"S{i}", demand=demand) for i in range(count)), charging("other")),
    )
    shares = {limit for key, limit in _by_key(problem).items() if key[0] != "other"}
    assert max(shares) - min(shares) <= TOLERANCE

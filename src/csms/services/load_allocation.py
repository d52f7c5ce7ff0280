"""The load allocator: per-EVSE current limits for one site's electrical tree (ADR 0024).

:func:`allocate` is a pure function (no I/O, no clock): the tree, the EVSEs that draw or may
draw, the non-EV load and the limits in force go in; a current per EVSE and the sums per node
come out. Every node's limit, less its non-EV load, is a linear constraint per phase (the sum of
the currents of the EVSEs below it wired to that phase) and one for its kW limit. EVSEs the
CSMS cannot control count at their maximum first; active ones get their minimum in order of
priority and session start, or are paused at 0 when it does not fit; then a weighted
water-filling shares the rest (max-min fairness with priorities as weights).

The helpers around it resolve, at one moment, what the allocator takes: :func:`limits_at`,
:func:`non_ev_at` and :func:`demand_estimate`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from csms.domain.load import (
    PHASES,
    Allocation,
    AllocationProblem,
    EvseAllocation,
    EvseDemand,
    EvseKey,
    EvseWiring,
    LimitSchedule,
    LiveLoad,
    LoadNode,
    NodeAllocation,
    NodeKind,
    NodeLimit,
    PhaseAmps,
)

#: Below this, amperes are equal (floating-point sums of a few hundred terms).
EPSILON = 1e-7
#: The step chargers take limits in (0.1 A: what 1.6 and 2.0.1 profiles carry).
RESOLUTION_A = 0.1


@dataclass(slots=True)
class _Constraint:
    """sum(coefficient[e] * current[e]) <= capacity."""

    node_id: str
    #: A phase, or "kW" for the node's power limit.
    what: str
    capacity: float
    members: dict[EvseKey, float]


def allocate(problem: AllocationProblem, *, resolution: float = RESOLUTION_A) -> Allocation:
    """The current per EVSE (amperes on each of its phases) and the sums per node.

    ``resolution``: limits are rounded down to a multiple of it (0: not rounded).
    """
    nodes = {node.id: node for node in problem.nodes}
    wiring, home = _wiring(problem.nodes)
    demands = _demands(problem.demands, wiring)
    voltage = problem.nominal_voltage_v
    below = _evses_below(nodes, home)
    through = _non_ev_through(nodes, problem.non_ev_a)
    constraints = _constraints(problem, nodes, wiring, below, through)
    by_evse: dict[EvseKey, list[_Constraint]] = {key: [] for key in wiring}
    for constraint in constraints:
        for key in constraint.members:
            by_evse[key].append(constraint)

    current: dict[EvseKey, float] = {}
    lower: dict[EvseKey, float] = {}
    upper: dict[EvseKey, float] = {}
    paused: set[EvseKey] = set()
    # 1. What cannot be controlled counts at its maximum, first.
    for key, demand in demands.items():
        if not demand.controlled:
            current[key] = wiring[key].max_current_a
            _take(by_evse[key], key, current[key])
    overloaded = {c.node_id for c in constraints if c.capacity < -EPSILON}
    # 2. Minimums in order of priority, then session start, then identity; paused if it does not fit.
    for key in sorted(
        (k for k, d in demands.items() if d.controlled), key=lambda k: _rank(wiring[k], demands[k])
    ):
        evse = wiring[key]
        minimum = evse.min_current_a
        if all(c.capacity - c.members[key] * minimum >= -EPSILON for c in by_evse[key]):
            lower[key] = minimum
            wanted = demands[key].demand_a
            upper[key] = max(
                minimum, min(evse.max_current_a, evse.max_current_a if wanted is None else wanted)
            )
            _take(by_evse[key], key, minimum)
        else:
            paused.add(key)
    # 3. Water-filling above the minimums (their capacity is taken already).
    weights = {key: wiring[key].priority for key in lower}
    current.update(_water_fill(lower, upper, weights, by_evse))
    limits = {key: _round_down(value, resolution) for key, value in current.items()}
    for key in paused:
        limits[key] = 0.0
    return Allocation(
        evses=tuple(
            _evse_allocation(evse, home[key], demands.get(key), limits.get(key, 0.0), key in paused)
            for key, evse in sorted(wiring.items())
        ),
        nodes=tuple(
            _node_allocation(
                problem, nodes[node_id], below[node_id], wiring, limits, voltage, overloaded, through[node_id]
            )
            for node_id in sorted(nodes)
        ),
    )


def _wiring(nodes: Iterable[LoadNode]) -> tuple[dict[EvseKey, EvseWiring], dict[EvseKey, str]]:
    """Each EVSE of the tree, and the node that stands for it."""
    wiring: dict[EvseKey, EvseWiring] = {}
    home: dict[EvseKey, str] = {}
    for node in nodes:
        if node.kind is NodeKind.EVSE and node.evse is not None:
            wiring[node.evse.key] = node.evse
            home[node.evse.key] = node.id
    return wiring, home


def _demands(
    demands: Iterable[EvseDemand], wiring: Mapping[EvseKey, EvseWiring]
) -> dict[EvseKey, EvseDemand]:
    """One demand per EVSE of the tree; an EVSE named twice keeps the uncontrolled, then the
    larger, then the earlier one, whatever the order they came in."""
    found: dict[EvseKey, EvseDemand] = {}
    for demand in sorted((d for d in demands if d.key in wiring), key=_strength):
        found.setdefault(demand.key, demand)
    return found


def _strength(demand: EvseDemand) -> tuple[bool, float, float, str]:
    return (
        demand.controlled,
        -math.inf if demand.demand_a is None else -demand.demand_a,
        _timestamp(demand.since),
        repr(demand),
    )


def _timestamp(moment: datetime | None) -> float:
    return math.inf if moment is None else moment.timestamp()


def _rank(evse: EvseWiring, demand: EvseDemand) -> tuple[float, float, EvseKey]:
    """Who keeps a minimum first: higher priority, then the earlier session, then identity."""
    return (-evse.priority, _timestamp(demand.since), evse.key)


def _evses_below(nodes: Mapping[str, LoadNode], home: Mapping[EvseKey, str]) -> dict[str, list[EvseKey]]:
    below: dict[str, list[EvseKey]] = {node_id: [] for node_id in nodes}
    for key, node_id in sorted(home.items()):
        seen: set[str] = set()
        at: str | None = node_id
        while at is not None and at in nodes and at not in seen:  # (a cycle was refused earlier)
            seen.add(at)
            below[at].append(key)
            at = nodes[at].parent_id
    return below


def _non_ev_through(
    nodes: Mapping[str, LoadNode], non_ev_a: Mapping[str, PhaseAmps]
) -> dict[str, dict[str, float]]:
    """The non-EV load through each node: its own and that of every node below it (a heat pump
    on a sub-circuit draws through the feeder and the grid connection above it too)."""
    through: dict[str, dict[str, float]] = {node_id: {} for node_id in nodes}
    for node_id, amps in sorted(non_ev_a.items()):
        seen: set[str] = set()
        at: str | None = node_id
        while at is not None and at in nodes and at not in seen:
            seen.add(at)
            for phase, value in amps.items():
                through[at][phase] = through[at].get(phase, 0.0) + value
            at = nodes[at].parent_id
    return through


def _constraints(
    problem: AllocationProblem,
    nodes: Mapping[str, LoadNode],
    wiring: Mapping[EvseKey, EvseWiring],
    below: Mapping[str, list[EvseKey]],
    through: Mapping[str, Mapping[str, float]],
) -> list[_Constraint]:
    voltage = problem.nominal_voltage_v
    found: list[_Constraint] = []
    for node_id in sorted(nodes):
        node = nodes[node_id]
        limit = problem.limits.get(node_id) or NodeLimit(node.limit_a, node.max_power_kw)
        non_ev = through[node_id]
        for phase in PHASES:
            amps = limit.limit_a.get(phase)
            if amps is None:
                continue
            members = {key: 1.0 for key in below[node_id] if phase in wiring[key].phases}
            found.append(_Constraint(node_id, phase, amps - non_ev.get(phase, 0.0), members))
        if limit.max_power_kw is not None:
            members = {key: voltage * len(wiring[key].phases) for key in below[node_id]}
            non_ev_w = voltage * sum(non_ev.get(phase, 0.0) for phase in PHASES)
            found.append(_Constraint(node_id, "kW", limit.max_power_kw * 1000 - non_ev_w, members))
    return found


def _take(constraints: Iterable[_Constraint], key: EvseKey, amps: float) -> None:
    for constraint in constraints:
        constraint.capacity -= constraint.members[key] * amps


def _water_fill(
    lower: Mapping[EvseKey, float],
    upper: Mapping[EvseKey, float],
    weight: Mapping[EvseKey, float],
    by_evse: Mapping[EvseKey, list[_Constraint]],
) -> dict[EvseKey, float]:
    """Raise a level t; each unfrozen EVSE gets clamp(weight * t, lower, upper). When a
    constraint gets tight, its EVSEs freeze where they are. The minimums are taken from the
    constraints' capacity already: what each constraint shares is the part above them."""
    value = dict(lower)
    unfrozen = {key for key in lower if upper[key] > lower[key] + EPSILON}
    constraints = {id(c): c for key in unfrozen for c in by_evse[key]}
    tight_at: dict[int, float] = {}
    dirty = set(constraints)
    level = 0.0
    while unfrozen:
        for cid in dirty:  # only a constraint whose members or capacity changed moves its level
            if any(key in unfrozen for key in constraints[cid].members):
                tight_at[cid] = _tight_at(constraints[cid], unfrozen, lower, upper, weight)
            else:
                tight_at.pop(cid, None)
        dirty = set()
        end = max(upper[key] / weight[key] for key in unfrozen)
        crossing = min(tight_at.values(), default=math.inf)
        if crossing >= end:  # nothing gets tight before everyone has what they want
            for key in unfrozen:
                value[key] = upper[key]
            break
        level = max(level, crossing)
        frozen = {
            key
            for cid, at in tight_at.items()
            if at <= level + EPSILON
            for key in constraints[cid].members
            if key in unfrozen
        }
        for key in sorted(frozen):
            value[key] = min(upper[key], max(lower[key], weight[key] * level))
            unfrozen.discard(key)
            for constraint in by_evse[key]:
                constraint.capacity -= constraint.members[key] * (value[key] - lower[key])
                dirty.add(id(constraint))
    return value


def _tight_at(
    constraint: _Constraint,
    unfrozen: set[EvseKey],
    lower: Mapping[EvseKey, float],
    upper: Mapping[EvseKey, float],
    weight: Mapping[EvseKey, float],
) -> float:
    """The level at which the unfrozen members' growth above their minimums fills the
    constraint's capacity (math.inf if it never does). The growth is piecewise linear in the
    level: member e grows with slope coefficient * weight between lower/weight and upper/weight."""
    changes: list[tuple[float, float]] = []
    for key, coefficient in constraint.members.items():
        if key not in unfrozen:
            continue
        rate = coefficient * weight[key]
        changes.append((lower[key] / weight[key], rate))
        changes.append((upper[key] / weight[key], -rate))
    room = constraint.capacity
    if room <= EPSILON:
        return 0.0
    changes.sort()
    used, slope, at = 0.0, 0.0, 0.0
    for when, change in changes:
        reached = used + slope * (when - at)
        if reached >= room - EPSILON and slope > 0:
            return at + (room - used) / slope
        used, at = reached, when
        slope += change
    return math.inf


def _round_down(value: float, resolution: float) -> float:
    if resolution <= 0:
        return value
    steps = math.floor(value / resolution + 1e-9)
    return round(steps * resolution, 6)


def _evse_allocation(
    evse: EvseWiring, node_id: str, demand: EvseDemand | None, limit: float, paused: bool
) -> EvseAllocation:
    wanted = 0.0
    if demand is not None:
        wanted = evse.max_current_a if demand.demand_a is None else min(evse.max_current_a, demand.demand_a)
        if not demand.controlled:
            wanted = evse.max_current_a
    return EvseAllocation(
        station_id=evse.station_id,
        evse_id=evse.evse_id,
        node_id=node_id,
        phases=evse.phases,
        limit_a=limit,
        demand_a=wanted,
        active=demand is not None,
        controlled=demand.controlled if demand is not None else True,
        paused=paused,
    )


def _node_allocation(
    problem: AllocationProblem,
    node: LoadNode,
    below: Sequence[EvseKey],
    wiring: Mapping[EvseKey, EvseWiring],
    limits: Mapping[EvseKey, float],
    voltage: float,
    overloaded: set[str],
    non_ev_through: Mapping[str, float],
) -> NodeAllocation:
    limit = problem.limits.get(node.id) or NodeLimit(node.limit_a, node.max_power_kw)
    non_ev = problem.non_ev_a.get(node.id, {})
    # what the node carries: the non-EV load at it and below it, and the EVSEs below it
    allocated = {phase: non_ev_through.get(phase, 0.0) for phase in node.phases}
    watts = voltage * sum(non_ev_through.get(phase, 0.0) for phase in PHASES)
    for key in below:
        amps = limits.get(key, 0.0)
        phases = wiring[key].phases
        for phase in phases:
            allocated[phase] = allocated.get(phase, 0.0) + amps
        watts += voltage * amps * len(phases)
    return NodeAllocation(
        node_id=node.id,
        limit_a={phase: limit.limit_a.get(phase) for phase in node.phases},
        allocated_a={phase: round(amps, 6) for phase, amps in allocated.items()},
        non_ev_a={phase: non_ev[phase] for phase in node.phases if phase in non_ev},
        max_power_kw=limit.max_power_kw,
        allocated_kw=round(watts / 1000, 6),
        overloaded=node.id in overloaded,
    )


# --- resolving the inputs at one moment ----------------------------------------------------------


def limits_at(
    nodes: Iterable[LoadNode], schedules: Iterable[LimitSchedule], now: datetime
) -> dict[str, NodeLimit]:
    """Each node's limits in force at ``now``: its static ones, lowered by the period of its
    limit schedule in force (a schedule never raises a limit)."""
    by_node = {schedule.node_id: schedule for schedule in schedules}
    found: dict[str, NodeLimit] = {}
    for node in nodes:
        limit_a = dict(node.limit_a)
        power = node.max_power_kw
        schedule = by_node.get(node.id)
        period = None
        if schedule is not None:
            started = [p for p in schedule.periods if p.start <= now]
            period = max(started, key=lambda p: p.start) if started else None
        if period is not None:
            for phase, amps in period.limit_a.items():
                limit_a[phase] = min(limit_a.get(phase, math.inf), amps)
            if period.max_power_kw is not None:
                power = period.max_power_kw if power is None else min(power, period.max_power_kw)
        found[node.id] = NodeLimit(limit_a, power)
    return found


def non_ev_at(nodes: Iterable[LoadNode], live: Iterable[LiveLoad], now: datetime) -> dict[str, PhaseAmps]:
    """Each node's non-EV load at ``now``: its live values until they expire, its fixed
    allowance otherwise."""
    latest = {load.node_id: load for load in live}
    found: dict[str, PhaseAmps] = {}
    for node in nodes:
        load = latest.get(node.id)
        if load is not None and load.measured_at <= now < load.expires_at:
            found[node.id] = dict(load.values_a)
        elif node.non_ev_allowance_a:
            found[node.id] = dict(node.non_ev_allowance_a)
    return found


def demand_estimate(
    maximum_a: float, previous_a: float | None, measured_a: float | None, headroom_a: float
) -> float:
    """What an active EVSE wants: its maximum, unless it draws less than it was given by more
    than the headroom; then its measurement plus the headroom (the rest goes to others). It is
    offered its maximum again once it draws within half the headroom of its limit; in between
    it keeps what it was given, so a limit of measurement + headroom is stable."""
    if previous_a is None or measured_a is None:
        return maximum_a
    if measured_a >= previous_a - headroom_a / 2:
        return maximum_a
    if measured_a < previous_a - headroom_a:
        return min(maximum_a, max(0.0, measured_a) + headroom_a)
    return min(maximum_a, previous_a)


def proportional_split(problem: AllocationProblem) -> dict[EvseKey, float]:
    """The benchmark's baseline: each active EVSE gets its maximum scaled by the tightest ratio
    (capacity / sum of maximums) of the constraints above it. Ignores minimums, priorities and
    demand; not used by the product."""
    nodes = {node.id: node for node in problem.nodes}
    wiring, home = _wiring(problem.nodes)
    active = {d.key for d in problem.demands if d.key in wiring}
    below = _evses_below(nodes, home)
    ratio = dict.fromkeys(active, 1.0)
    for constraint in _constraints(problem, nodes, wiring, below, _non_ev_through(nodes, problem.non_ev_a)):
        wanted = sum(
            constraint.members[k] * wiring[k].max_current_a for k in constraint.members if k in active
        )
        if wanted > 0:
            share = max(0.0, min(1.0, constraint.capacity / wanted))
            for key in constraint.members:
                if key in active:
                    ratio[key] = min(ratio[key], share)
    return {key: wiring[key].max_current_a * ratio[key] for key in active}

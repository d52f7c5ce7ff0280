"""Load management: reallocate a site (ADR 0024).

:meth:`LoadManagementService.reallocate` reads the site under its row lock (tree, open
transactions on its EVSEs with their latest Current.Import, live loads, limit schedules, the
previous allocation), runs the pure allocator, records the allocation with its inputs, plan and
cause, emits ``AllocationChanged`` when a limit changed, and after the commit hands the plan
(decreases first) to the :class:`~csms.domain.load.ChargingLimitSender`. Stations without a
current connection are uncontrolled: their EVSEs count at their maximum.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from csms.domain.events import DomainEvent, iso, new_event
from csms.domain.load import (
    Allocation,
    AllocationProblem,
    ChargingLimitSender,
    ChargingPlan,
    Direction,
    EvseDemand,
    LimitStep,
    LoadStore,
    NewAllocation,
    OnlineStations,
    RecordedAllocation,
    SiteSnapshot,
    StepOutcome,
)
from csms.domain.tenancy import TenantScope
from csms.errors import NotFound
from csms.services.load_allocation import allocate, demand_estimate, limits_at, non_ev_at

log = logging.getLogger(__name__)

#: Below this a limit did not change (the allocator rounds to 0.1 A).
_SAME = 0.05


class PlanRecorder:
    """A :class:`ChargingLimitSender` that sends nothing: each step is recorded as such. The
    default until the adapter over the neutral command pipeline lands (ADR 0024 §5)."""

    def __init__(self) -> None:
        self.plans: list[tuple[TenantScope, ChargingPlan]] = []

    def apply(self, scope: TenantScope, plan: ChargingPlan) -> list[StepOutcome]:
        self.plans.append((scope, plan))
        return [StepOutcome(s.station_id, s.evse_id, "recorded") for s in plan.steps]


class LoadManagementService:
    def __init__(self, store: LoadStore, online: OnlineStations, sender: ChargingLimitSender) -> None:
        self._store = store
        self._online = online
        self._sender = sender

    def reallocate(self, scope: TenantScope, site_id: str, now: datetime, cause: str) -> RecordedAllocation:
        """Compute, record and apply the site's allocation; NotFound if the tenant has no such site."""
        stations = sorted(
            {n.evse.station_id for n in self._store.nodes(scope.tenant_id, site_id) if n.evse is not None}
        )
        online = self._online.online(scope.tenant_id, stations) if stations else set()

        def compute(snapshot: SiteSnapshot) -> NewAllocation:
            return plan_allocation(scope.tenant_id, snapshot, online, now, cause)

        recorded = self._store.reallocate(scope.tenant_id, site_id, now, compute)
        if recorded is None:
            raise NotFound(f"no site {site_id!r}")
        if recorded.plan.steps:
            outcomes = self._sender.apply(scope, recorded.plan)
            self._store.record_outcomes(recorded.id, outcomes)
        return recorded

    def reallocate_all(self, now: datetime, cause: str = "Scheduled") -> dict[str, int]:
        """Every site with a tree (the load-allocation job); one failing site does not stop the rest."""
        done = failed = 0
        for tenant_id, site_id in self._store.all_sites():
            try:
                self.reallocate(TenantScope(tenant_id, "job:load-allocation"), site_id, now, cause)
                done += 1
            except NotFound:
                continue  # deleted meanwhile
            except Exception:
                log.exception("reallocation failed", extra={"tenant_id": tenant_id, "site_id": site_id})
                failed += 1
        return {"sites": done, "failed": failed}


def plan_allocation(
    tenant_id: str, snapshot: SiteSnapshot, online: set[str], now: datetime, cause: str
) -> NewAllocation:
    """The allocation of one site at ``now`` from what was read under its lock (pure)."""
    site = snapshot.site
    nodes = snapshot.nodes
    previous = _previous_limits(snapshot.previous)
    sessions = {(s.station_id, s.evse_id): s for s in snapshot.sessions}
    demands: list[EvseDemand] = []
    for node in nodes:
        evse = node.evse
        if evse is None:
            continue
        session = sessions.get(evse.key)
        controlled = evse.station_id in online
        if session is None and controlled:
            continue  # idle
        demand = None
        if session is not None and controlled:
            demand = demand_estimate(
                evse.max_current_a, previous.get(evse.key), session.measured_a, site.headroom_a
            )
        demands.append(
            EvseDemand(
                evse.station_id,
                evse.evse_id,
                demand,
                controlled=controlled,
                since=session.started_at if session else None,
            )
        )
    limits = limits_at(nodes, snapshot.schedules, now)
    non_ev = non_ev_at(nodes, snapshot.live_loads, now)
    problem = AllocationProblem(nodes, tuple(demands), site.nominal_voltage_v, non_ev, limits)
    allocation = allocate(problem)
    transactions = {key: s.transaction_id for key, s in sessions.items()}
    plan = charging_plan(allocation, previous, site.nominal_voltage_v, transactions)
    inputs = {
        "online": sorted(online),
        "demands": [
            {
                "stationId": d.station_id,
                "evseId": d.evse_id,
                "demandA": d.demand_a,
                "controlled": d.controlled,
                "since": iso(d.since) if d.since else None,
            }
            for d in demands
        ],
        "measuredA": {f"{s.station_id}/{s.evse_id}": s.measured_a for s in snapshot.sessions},
        "nonEvA": {k: dict(v) for k, v in non_ev.items()},
        "limits": {k: {"limitA": dict(v.limit_a), "maxPowerKw": v.max_power_kw} for k, v in limits.items()},
    }
    return NewAllocation(
        cause, allocation, plan, inputs, _event(tenant_id, site.id, cause, allocation, plan, now)
    )


def _previous_limits(previous: RecordedAllocation | None) -> dict[tuple[str, int], float]:
    if previous is None:
        return {}
    return {e.key: e.limit_a for e in previous.allocation.evses if e.controlled}


def charging_plan(
    allocation: Allocation,
    previous: dict[tuple[str, int], float],
    voltage: float,
    transactions: dict[tuple[str, int], str],
) -> ChargingPlan:
    """A step per controlled EVSE whose limit changed (or was never given): decreases first
    (an EVSE never limited before may be drawing its maximum, so its first limit counts as one),
    then increases; each group by station and EVSE."""
    decreases: list[LimitStep] = []
    increases: list[LimitStep] = []
    for evse in allocation.evses:
        if not evse.controlled:
            continue
        before = previous.get(evse.key)
        if before is not None and abs(before - evse.limit_a) < _SAME:
            continue
        direction = Direction.INCREASE if before is not None and evse.limit_a > before else Direction.DECREASE
        step = LimitStep(
            station_id=evse.station_id,
            evse_id=evse.evse_id,
            limit_a=evse.limit_a,
            limit_w=round(evse.limit_a * len(evse.phases) * voltage, 1),
            number_phases=len(evse.phases),
            previous_a=before,
            direction=direction,
            transaction_id=transactions.get(evse.key),
        )
        (increases if direction is Direction.INCREASE else decreases).append(step)
    return ChargingPlan(tuple(decreases), tuple(increases))


def _event(
    tenant_id: str, site_id: str, cause: str, allocation: Allocation, plan: ChargingPlan, now: datetime
) -> DomainEvent | None:
    if not plan.steps:
        return None
    paused = {e.key for e in allocation.evses if e.paused}
    changes: list[dict[str, Any]] = [
        {
            "stationId": s.station_id,
            "evseId": s.evse_id,
            "limitA": s.limit_a,
            "previousA": s.previous_a,
            "paused": (s.station_id, s.evse_id) in paused,
        }
        for s in plan.steps
    ]
    overloaded: Sequence[str] = [n.node_id for n in allocation.nodes if n.overloaded]
    return new_event(
        "AllocationChanged",
        tenant_id,
        None,
        now,
        {"siteId": site_id, "cause": cause, "changes": changes, "overloadedNodes": list(overloaded)},
    )

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
import math
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from csms.domain.commands import Command
from csms.domain.events import DomainEvent, iso, new_event
from csms.domain.load import (
    LOAD_MANAGER,
    Allocation,
    AllocationProblem,
    ChargingLimitSender,
    ChargingPlan,
    Direction,
    EvseControl,
    EvseDemand,
    LimitStep,
    LoadStore,
    NewAllocation,
    OnlineStations,
    Progress,
    RecordedAllocation,
    SiteSnapshot,
    SmartChargingSupport,
    StepOutcome,
    StepStatus,
)
from csms.domain.tenancy import TenantScope
from csms.errors import NotFound
from csms.load_triggers import MEASURAND, METER_TYPE
from csms.services.load_allocation import allocate, demand_estimate, limits_at, non_ev_at

log = logging.getLogger(__name__)

#: Below this a limit did not change (the allocator rounds to 0.1 A).
_SAME = 0.05
#: A refused profile is tried again after this long (its EVSE counts at its maximum meanwhile).
DEFAULT_RETRY_AFTER: Final = timedelta(minutes=15)
#: How long recorded allocations are kept (CSMS_LOAD_ALLOCATION_RETENTION_DAYS).
DEFAULT_RETENTION: Final = timedelta(days=7)
#: Allocations deleted per run at most: a backlog goes over several minutes, each delete short.
PRUNE_BATCH: Final = 5000


class PlanRecorder:
    """A :class:`ChargingLimitSender` that sends nothing: each step is recorded as such (unit
    tests of the allocation alone)."""

    def __init__(self) -> None:
        self.sent: list[tuple[TenantScope, str, int, tuple[LimitStep, ...]]] = []

    def send(
        self, scope: TenantScope, site_id: str, allocation_id: int, steps: Sequence[LimitStep]
    ) -> list[StepOutcome]:
        self.sent.append((scope, site_id, allocation_id, tuple(steps)))
        return [StepOutcome(s.station_id, s.evse_id, "recorded", direction=s.direction.value) for s in steps]


class LoadManagementService:
    def __init__(
        self,
        store: LoadStore,
        online: OnlineStations,
        sender: ChargingLimitSender,
        *,
        retry_after: timedelta = DEFAULT_RETRY_AFTER,
        retention: timedelta = DEFAULT_RETENTION,
    ) -> None:
        self._store = store
        self._online = online
        self._sender = sender
        self._retry_after = retry_after
        self._retention = retention

    def reallocate(self, scope: TenantScope, site_id: str, now: datetime, cause: str) -> RecordedAllocation:
        """Compute, record and start applying the site's allocation (its decreases go out);
        NotFound if the tenant has no such site."""
        recorded = self._reallocate(scope, site_id, now, cause)
        self.advance(scope, site_id, now)
        return self._store.latest_allocation(scope.tenant_id, site_id) or recorded

    def _reallocate(self, scope: TenantScope, site_id: str, now: datetime, cause: str) -> RecordedAllocation:
        stations = sorted(
            {n.evse.station_id for n in self._store.nodes(scope.tenant_id, site_id) if n.evse is not None}
        )
        online = dict(self._online.online(scope.tenant_id, stations)) if stations else {}
        retry_after = self._retry_after

        def compute(snapshot: SiteSnapshot) -> NewAllocation:
            return plan_allocation(scope.tenant_id, snapshot, online, now, cause, retry_after)

        recorded = self._store.reallocate(scope.tenant_id, site_id, now, compute)
        if recorded is None:
            raise NotFound(f"no site {site_id!r}")
        return recorded

    def advance(self, scope: TenantScope, site_id: str, now: datetime) -> str:
        """Drive the site's latest plan forward, statelessly (ADR 0024 §9): under the site's
        lock, submit its decreases not submitted yet; once every one was accepted and no
        decrease of the site is in flight, its increases. A refused decrease reallocates the
        site instead (the refusing EVSE now counts at its maximum, the others' limits follow).
        Called after each reallocation, when one of its commands ends, and by the job.
        Returns what it did: ``decreases``, ``waiting``, ``increases``, ``reallocated``, ``done``."""
        did = "done"

        def decide(progress: Progress) -> list[StepOutcome]:
            nonlocal did
            latest = progress.latest
            submitted = {(o.station_id, o.evse_id, o.direction) for o in latest.outcomes}
            decreases = [
                s
                for s in latest.plan.decreases
                if (s.station_id, s.evse_id, s.direction.value) not in submitted
            ]
            if decreases:
                did = "decreases"
                return self._sender.send(scope, site_id, latest.id, decreases)
            answered = [o for o in latest.outcomes if o.direction == Direction.DECREASE.value]
            if progress.decreases_in_flight or any(o.status == StepStatus.SENT.value for o in answered):
                did = "waiting"
                return []
            if any(_refused(o) for o in answered):
                did = "reallocate"
                return []
            increases = [
                s
                for s in latest.plan.increases
                if (s.station_id, s.evse_id, s.direction.value) not in submitted
            ]
            if increases:
                did = "increases"
                return self._sender.send(scope, site_id, latest.id, increases)
            return []

        progress = self._store.advance(scope.tenant_id, site_id, decide)
        if did == "reallocate" and progress is not None:
            # Once: the new allocation counts the refusing EVSEs at their maximum, so its plan
            # has no step for them (a refusal without a command is read from this one's outcomes).
            again = self._reallocate(scope, site_id, now, "ProfileRefused")
            if again.id != progress.latest.id:
                self.advance(scope, site_id, now)
            did = "reallocated"
        return did

    def command_finished(self, command: Command, now: datetime) -> None:
        """One of the load manager's profiles was answered, refused or timed out: its plan may
        go on (the command pipeline calls this for every command that ends)."""
        marker = command.request.get("loadManagement") if command.requested_by == LOAD_MANAGER else None
        if not isinstance(marker, dict) or not isinstance(marker.get("siteId"), str):
            return
        self.advance(TenantScope(command.tenant_id, LOAD_MANAGER), marker["siteId"], now)

    def on_events(self, envelopes: Sequence[Mapping[str, Any]], now: datetime) -> dict[str, int]:
        """The event trigger (ADR 0024 §3): the domain events of :mod:`csms.load_triggers`, as
        the rules deliver them (a batch, in any order, maybe twice): every site they touch is
        reallocated once, its cause the event types. Meter values count only when an EVSE draws
        notably less than it was given, or up to a limit below its maximum."""
        touched: dict[tuple[str, str], set[str]] = {}
        for envelope in envelopes:
            tenant, station, kind = envelope.get("tenantId"), envelope.get("stationId"), envelope.get("type")
            if not (isinstance(tenant, str) and isinstance(station, str) and isinstance(kind, str)):
                continue
            if kind == METER_TYPE and not self._current_matters(tenant, station, envelope.get("data") or {}):
                continue
            touched.setdefault((tenant, station), set()).add(kind)
        sites: dict[tuple[str, str], set[str]] = {}
        for (tenant, station), kinds in touched.items():
            for site_id in self._store.sites_of(tenant, [station]):
                sites.setdefault((tenant, site_id), set()).update(kinds)
        done = failed = 0
        for (tenant, site_id), kinds in sorted(sites.items()):
            try:
                self.reallocate(TenantScope(tenant, LOAD_MANAGER), site_id, now, "+".join(sorted(kinds)))
                done += 1
            except NotFound:
                continue
            except Exception:
                # The minute's job is the retry: a batch is not sent back for one site.
                log.exception("reallocating failed", extra={"tenant_id": tenant, "site_id": site_id})
                failed += 1
        return {"events": len(envelopes), "sites": done, "failed": failed}

    def _current_matters(self, tenant_id: str, station_id: str, data: Mapping[str, Any]) -> bool:
        evse_id = data.get("evseId")
        readings = [
            float(s["value"])
            for s in data.get("samples") or []
            if isinstance(s, dict)
            and s.get("measurand") == MEASURAND
            and s.get("phase") in (None, "L1", "L2", "L3")
            and _number(s.get("value"))
        ]
        if not isinstance(evse_id, int) or not readings:
            return False
        measured = max(readings)
        for site_id in self._store.sites_of(tenant_id, [station_id]):
            site = self._store.site(tenant_id, site_id)
            latest = self._store.latest_allocation(tenant_id, site_id)
            if site is None or latest is None:
                continue
            given = next((e for e in latest.allocation.evses if e.key == (station_id, evse_id)), None)
            if given is None or not given.active or not given.controlled:
                continue
            maximum = next(
                (
                    n.evse.max_current_a
                    for n in self._store.nodes(tenant_id, site_id)
                    if n.evse is not None and n.evse.key == given.key
                ),
                given.demand_a,
            )
            headroom = site.headroom_a
            if measured < given.limit_a - headroom:
                return True  # its share goes to others
            if given.demand_a < maximum - _SAME and measured >= given.limit_a - headroom / 2:
                return True  # it wants more again
        return False

    def reallocate_all(self, now: datetime, cause: str = "Scheduled") -> dict[str, int]:
        """Every site with a tree (the load-allocation job, the safety net: it also drives on a
        plan whose answers were missed); one failing site does not stop the rest."""
        done = failed = 0
        for tenant_id, site_id in self._store.all_sites():
            try:
                self.reallocate(TenantScope(tenant_id, LOAD_MANAGER), site_id, now, cause)
                done += 1
            except NotFound:
                continue  # deleted meanwhile
            except Exception:
                log.exception("reallocation failed", extra={"tenant_id": tenant_id, "site_id": site_id})
                failed += 1
        return {"sites": done, "failed": failed}

    def prune(self, now: datetime, limit: int = PRUNE_BATCH) -> int:
        """Forget allocations older than the retention (never a site's latest, which the next
        allocation plans from); at most ``limit`` a run, the rest next run."""
        return self._store.prune_allocations(now - self._retention, limit)


def plan_allocation(
    tenant_id: str,
    snapshot: SiteSnapshot,
    online: Mapping[str, datetime] | Collection[str],
    now: datetime,
    cause: str,
    retry_after: timedelta = DEFAULT_RETRY_AFTER,
) -> NewAllocation:
    """The allocation of one site at ``now`` from what was read under its lock (pure).

    An EVSE is controlled when its station is online, takes charging profiles as far as its
    device model says, and its latest profile was not refused less than ``retry_after`` ago;
    the others count at their maximum (ADR 0024 §7)."""
    site = snapshot.site
    nodes = snapshot.nodes
    previous = _previous_limits(snapshot.previous)
    refused = _refused_since(snapshot, now - retry_after, online if isinstance(online, Mapping) else {})
    controls = {c.key: c for c in snapshot.controls}
    sessions = {(s.station_id, s.evse_id): s for s in snapshot.sessions}
    demands: list[EvseDemand] = []
    for node in nodes:
        evse = node.evse
        if evse is None:
            continue
        session = sessions.get(evse.key)
        support = snapshot.support.get(evse.station_id, SmartChargingSupport())
        controlled = evse.station_id in online and support.supported and evse.key not in refused
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
    units = {station: "A" if support.amperes else "W" for station, support in snapshot.support.items()}
    plan = charging_plan(allocation, controls, site.nominal_voltage_v, transactions, units)
    inputs = {
        "online": sorted(online),
        "refused": [f"{station}/{evse}" for station, evse in sorted(refused)],
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


def _number(value: object) -> bool:
    try:
        float(str(value))
    except ValueError:
        return False
    return True


def _refused(outcome: StepOutcome) -> bool:
    return outcome.status in _REFUSED


_REFUSED = frozenset(s.value for s in StepStatus if s.refused)


def _refused_since(
    snapshot: SiteSnapshot, since: datetime, connected: Mapping[str, datetime]
) -> set[tuple[str, int]]:
    """EVSEs whose latest profile was refused after ``since``, and during the station's current
    connection (one that reconnected is tried again at once): by the station or the pipeline
    (its command), or at submission (no command: read from the previous allocation's outcomes)."""

    def counts(station: str, at: datetime) -> bool:
        began = connected.get(station)
        return at > since and (began is None or at >= began)

    found = {
        c.key for c in snapshot.controls if c.refused_at is not None and counts(c.station_id, c.refused_at)
    }
    previous = snapshot.previous
    if previous is not None:
        found |= {
            (o.station_id, o.evse_id)
            for o in previous.outcomes
            if _refused(o) and o.command_id is None and counts(o.station_id, previous.computed_at)
        }
    return found


def _previous_limits(previous: RecordedAllocation | None) -> dict[tuple[str, int], float]:
    if previous is None:
        return {}
    return {e.key: e.limit_a for e in previous.allocation.evses if e.controlled}


def _believed(control: EvseControl | None) -> float | None:
    """The most an EVSE may hold now, from the load manager's own profiles: the last accepted
    or the one in flight, whichever is higher; None when it may draw its maximum (never limited,
    or its latest profile refused)."""
    if control is None or control.refused_at is not None:
        return None
    known = [v for v in (control.held_a, control.in_flight_a) if v is not None]
    return max(known) if known else None


def charging_plan(
    allocation: Allocation,
    controls: Mapping[tuple[str, int], EvseControl],
    voltage: float,
    transactions: Mapping[tuple[str, int], str],
    units: Mapping[str, str] | None = None,
) -> ChargingPlan:
    """A step per controlled EVSE whose limit is not already what it holds (or is about to):
    decreases first (an EVSE never limited, or whose profile was refused, may draw its maximum,
    so its first limit counts as one), then increases; each group by station and EVSE."""
    decreases: list[LimitStep] = []
    increases: list[LimitStep] = []
    for evse in allocation.evses:
        if not evse.controlled:
            continue
        control = controls.get(evse.key)
        if control is not None and control.refused_at is None:
            landing = control.in_flight_a if control.in_flight_a is not None else control.held_a
            if landing is not None and abs(landing - evse.limit_a) < _SAME:
                continue  # holds it, or will once the profile in flight lands
        before = _believed(control)
        direction = (
            Direction.INCREASE if before is not None and evse.limit_a > before - _SAME else Direction.DECREASE
        )
        step = LimitStep(
            station_id=evse.station_id,
            evse_id=evse.evse_id,
            limit_a=evse.limit_a,
            limit_w=math.floor(evse.limit_a * len(evse.phases) * voltage * 10 + 1e-6) / 10,
            number_phases=len(evse.phases),
            previous_a=before,
            direction=direction,
            transaction_id=transactions.get(evse.key),
            unit=(units or {}).get(evse.station_id, "A"),
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

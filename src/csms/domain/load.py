"""Load management: sites with an electrical tree (grid connection, circuits, stations, EVSEs),
their limits, the non-EV load on them, and the per-EVSE current limits the allocator gives
(ADR 0024; the allocator is :mod:`csms.services.load_allocation`, the service
:mod:`csms.services.load_management`).

Phases are the **site's** phases (``L1``, ``L2``, ``L3``); an EVSE's wiring says which site
phase its own L1, L2 and L3 use. Currents are amperes per phase, powers kilowatts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, Protocol

from csms.domain.events import DomainEvent
from csms.domain.tenancy import TenantScope

#: The site's phases, in order.
PHASES: Final = ("L1", "L2", "L3")

#: Site and node ids are path segments: short and URL-safe (as location ids).
SITE_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
NODE_ID_PATTERN = SITE_ID_PATTERN

#: The nominal phase-to-neutral voltage of a site unless it says otherwise (amperes → watts).
DEFAULT_VOLTAGE_V: Final = 230.0
#: What an EVSE drawing less than it was given keeps above its measurement (ADR 0024).
DEFAULT_HEADROOM_A: Final = 2.0

#: Amperes per site phase (a phase left out has no value: no limit, no load).
PhaseAmps = Mapping[str, float]


class NodeKind(StrEnum):
    GRID = "grid"
    CIRCUIT = "circuit"
    STATION = "station"
    EVSE = "evse"


@dataclass(frozen=True, slots=True)
class EvseWiring:
    """What an EVSE node says about the EVSE it stands for."""

    station_id: str
    evse_id: int
    #: The site phases its own L1, L2, L3 use, in that order: ("L2",) is single-phase on L2,
    #: ("L2", "L3", "L1") three-phase with rotation.
    phases: tuple[str, ...]
    min_current_a: float
    max_current_a: float
    #: A positive weight: twice the priority, twice the share above the minimum.
    priority: float = 1.0

    @property
    def key(self) -> EvseKey:
        return (self.station_id, self.evse_id)


#: An EVSE's identity: (station id, EVSE id).
EvseKey = tuple[str, int]


@dataclass(frozen=True, slots=True)
class LoadNode:
    """A node of a site's electrical tree."""

    id: str
    kind: NodeKind
    #: None for the grid connection (the root), the parent's id otherwise.
    parent_id: str | None
    #: The site phases this node carries (a child's are among its parent's).
    phases: tuple[str, ...]
    name: str | None = None
    #: The limit per phase in amperes (a phase left out is not limited at this node).
    limit_a: PhaseAmps = field(default_factory=dict)
    #: The limit of the total power in kW, if any.
    max_power_kw: float | None = None
    #: Non-EV load counted on this node (amperes per phase) while no live value is in force.
    non_ev_allowance_a: PhaseAmps = field(default_factory=dict)
    #: A station node: the station it stands for.
    station_id: str | None = None
    #: An EVSE node: the EVSE, its wiring, minimum, maximum and priority.
    evse: EvseWiring | None = None


@dataclass(frozen=True, slots=True)
class Site:
    id: str
    name: str
    created_at: datetime
    updated_at: datetime
    #: The location the site is at (a location has at most one site).
    location_id: str | None = None
    nominal_voltage_v: float = DEFAULT_VOLTAGE_V
    headroom_a: float = DEFAULT_HEADROOM_A


#: The columns an operator sets on a site.
SITE_EDITABLE = ("name", "location_id", "nominal_voltage_v", "headroom_a")


@dataclass(frozen=True, slots=True)
class LiveLoad:
    """Non-EV load measured on a node, as an energy manager posted it."""

    node_id: str
    values_a: PhaseAmps
    measured_at: datetime
    #: After this the node's fixed allowance counts again.
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class LimitPeriod:
    """From ``start`` on (until the next period), the node's limit is at most this."""

    start: datetime
    limit_a: PhaseAmps = field(default_factory=dict)
    max_power_kw: float | None = None


@dataclass(frozen=True, slots=True)
class LimitSchedule:
    node_id: str
    #: By start, ascending.
    periods: tuple[LimitPeriod, ...]
    set_at: datetime


@dataclass(frozen=True, slots=True)
class NodeLimit:
    """A node's limits in force at one moment."""

    limit_a: PhaseAmps
    max_power_kw: float | None = None


# --- what the allocator takes and gives ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EvseDemand:
    """An EVSE that draws, or may draw, current: one with a session, or one the CSMS cannot
    control (counted at its maximum). EVSEs without one are idle and get 0."""

    station_id: str
    evse_id: int
    #: What it wants per phase (at most its maximum); None: its maximum.
    demand_a: float | None = None
    #: False: the CSMS cannot limit it (offline, profile rejected, no smart charging).
    controlled: bool = True
    #: When its session started (earlier sessions keep their minimum first).
    since: datetime | None = None

    @property
    def key(self) -> EvseKey:
        return (self.station_id, self.evse_id)


@dataclass(frozen=True, slots=True)
class AllocationProblem:
    """Everything the allocator needs, resolved at one moment."""

    nodes: tuple[LoadNode, ...]
    demands: tuple[EvseDemand, ...]
    nominal_voltage_v: float = DEFAULT_VOLTAGE_V
    #: The non-EV load per node in force (amperes per phase); a node left out has none.
    non_ev_a: Mapping[str, PhaseAmps] = field(default_factory=dict)
    #: The limits per node in force; a node left out has its static limits.
    limits: Mapping[str, NodeLimit] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EvseAllocation:
    station_id: str
    evse_id: int
    node_id: str
    #: The site phases it uses (its wiring).
    phases: tuple[str, ...]
    #: The current per phase it may draw (0: paused or idle).
    limit_a: float
    #: What it wanted (0 when idle).
    demand_a: float
    active: bool
    controlled: bool
    #: Active and controlled, but not even its minimum fits.
    paused: bool

    @property
    def key(self) -> EvseKey:
        return (self.station_id, self.evse_id)


@dataclass(frozen=True, slots=True)
class NodeAllocation:
    node_id: str
    #: The limit per phase in force (None: not limited on that phase).
    limit_a: dict[str, float | None]
    #: EVSE limits below it plus its non-EV load, per phase it carries.
    allocated_a: dict[str, float]
    #: The non-EV load counted, per phase.
    non_ev_a: dict[str, float]
    max_power_kw: float | None
    allocated_kw: float
    #: What cannot be controlled below it (offline EVSEs at maximum, non-EV load) exceeds a limit.
    overloaded: bool


@dataclass(frozen=True, slots=True)
class Allocation:
    evses: tuple[EvseAllocation, ...]
    nodes: tuple[NodeAllocation, ...]

    def limit(self, key: EvseKey) -> float:
        for evse in self.evses:
            if evse.key == key:
                return evse.limit_a
        raise KeyError(key)


# --- applying limits ----------------------------------------------------------------------------


class Direction(StrEnum):
    DECREASE = "decrease"
    INCREASE = "increase"


@dataclass(frozen=True, slots=True)
class LimitStep:
    """One EVSE's new limit, in amperes and in watts (the sender picks per station)."""

    station_id: str
    evse_id: int
    limit_a: float
    #: limit_a x phases x the site's nominal voltage.
    limit_w: float
    number_phases: int
    #: What it was given before (None: never limited by us).
    previous_a: float | None
    direction: Direction
    #: The transaction on the EVSE (the protocol's id), if any (recorded; the profile is the
    #: EVSE's TxDefaultProfile, which applies to it too: ADR 0024 §9).
    transaction_id: str | None = None
    #: The unit the station takes: "A" (limit_a per phase) or "W" (limit_w).
    unit: str = "A"


@dataclass(frozen=True, slots=True)
class ChargingPlan:
    """The order limits go out in: every decrease (answered) before any increase."""

    decreases: tuple[LimitStep, ...] = ()
    increases: tuple[LimitStep, ...] = ()

    @property
    def steps(self) -> tuple[LimitStep, ...]:
        return self.decreases + self.increases


#: Who a load-management command is requested by (``commands.requested_by``).
LOAD_MANAGER: Final = "load-management"
#: The charging profile a site's limit travels in, one per EVSE: a TxDefaultProfile with this
#: id plus the EVSE id (a range operators leave alone), at this stack level (ADR 0024 §9).
PROFILE_ID_BASE: Final = 1_000_000_000
PROFILE_STACK_LEVEL: Final = 1


class StepStatus(StrEnum):
    """Where one step of a plan is. ``sent``: submitted to the command pipeline, not answered
    yet; ``accepted``: the station holds the limit; the others are refusals (the EVSE counts
    at its maximum until a later profile is accepted)."""

    SENT = "sent"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    FAILED = "failed"
    TIMED_OUT = "timed_out"

    @property
    def refused(self) -> bool:
        return self in (StepStatus.REJECTED, StepStatus.FAILED, StepStatus.TIMED_OUT)


@dataclass(frozen=True, slots=True)
class StepOutcome:
    station_id: str
    evse_id: int
    #: sent | accepted | rejected | failed | timed_out (a StepStatus), or recorded (no sender)
    status: str
    command_id: str | None = None
    direction: str | None = None
    #: What was sent, in the station's unit: amperes per phase (A) or watts (W).
    limit: float | None = None
    unit: str | None = None
    #: Why it was refused (the station's answer, the pipeline's reason).
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class EvseControl:
    """What an EVSE holds as far as the load manager knows, from its own latest commands."""

    station_id: str
    evse_id: int
    #: The latest limit the station accepted (None: none yet, it may draw its maximum).
    held_a: float | None = None
    #: A limit sent or queued and not answered yet.
    in_flight_a: float | None = None
    #: When its latest profile was refused (rejected, not supported, failed, timed out), if it was.
    refused_at: datetime | None = None

    @property
    def key(self) -> EvseKey:
        return (self.station_id, self.evse_id)


@dataclass(frozen=True, slots=True)
class SmartChargingSupport:
    """What a station's device model says about smart charging (unknown: assumed, in A)."""

    #: False: known not to take charging profiles (1.6 no SmartCharging feature profile,
    #: 2.0.1 SmartChargingCtrlr not available or not enabled).
    supported: bool = True
    #: Profiles in amperes (else watts, when it takes only those).
    amperes: bool = True


class ChargingLimitSender(Protocol):
    """Turns steps of a plan into charging profiles on the stations (ADR 0024 §5, §9)."""

    def send(
        self, scope: TenantScope, site_id: str, allocation_id: int, steps: Sequence[LimitStep]
    ) -> list[StepOutcome]:
        """Submit one profile per step (not waiting for answers); each outcome is ``sent`` with
        its command, or ``failed`` when the pipeline refused it at once."""
        ...


# --- storage ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActiveSession:
    """An open transaction on one of a site's EVSEs, with what it draws."""

    station_id: str
    evse_id: int
    transaction_id: str
    started_at: datetime
    #: The latest Current.Import reading (the highest phase), if any recent one.
    measured_a: float | None = None


@dataclass(frozen=True, slots=True)
class RecordedAllocation:
    id: int
    site_id: str
    computed_at: datetime
    cause: str
    allocation: Allocation
    plan: ChargingPlan
    outcomes: tuple[StepOutcome, ...] = ()


@dataclass(frozen=True, slots=True)
class SiteSnapshot:
    """What one reallocation reads, under the site's lock."""

    site: Site
    nodes: tuple[LoadNode, ...]
    live_loads: tuple[LiveLoad, ...]
    schedules: tuple[LimitSchedule, ...]
    sessions: tuple[ActiveSession, ...]
    previous: RecordedAllocation | None
    #: What the site's EVSEs hold, from the load manager's own commands.
    controls: tuple[EvseControl, ...] = ()
    #: Per station of the tree, what its device model says (a station left out: unknown).
    support: Mapping[str, SmartChargingSupport] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NewAllocation:
    """What a reallocation writes: the allocation, the inputs it came from, and its event."""

    cause: str
    allocation: Allocation
    plan: ChargingPlan
    inputs: dict[str, Any]
    event: DomainEvent | None


class UnknownStation(Exception):
    """A node of the tree names a station the tenant does not have."""

    def __init__(self, node_id: str, station_id: str) -> None:
        super().__init__(f"node {node_id!r}: no station {station_id!r}")
        self.node_id = node_id
        self.station_id = station_id


class NodeConflict(Exception):
    """An EVSE of the tree is already a node of another site (or twice of this one)."""

    def __init__(self, station_id: str, evse_id: int) -> None:
        super().__init__(f"EVSE {evse_id} of station {station_id!r} is a node of another site")
        self.station_id = station_id
        self.evse_id = evse_id


class LoadStore(Protocol):
    """Sites, their trees, live loads, limit schedules and allocations, per tenant."""

    def add_site(self, tenant_id: str, site: Site) -> bool:
        """Insert the site; False (nothing changed) if its id is taken in the tenant."""
        ...

    def sites(self, tenant_id: str, limit: int, offset: int) -> tuple[list[Site], int]: ...

    def site(self, tenant_id: str, site_id: str) -> Site | None: ...

    def site_at_location(self, tenant_id: str, location_id: str) -> str | None:
        """The id of the site at that location, if any."""
        ...

    def location_exists(self, tenant_id: str, location_id: str) -> bool: ...

    def update_site(self, tenant_id: str, site_id: str, changes: dict[str, Any], at: datetime) -> bool: ...

    def delete_site(self, tenant_id: str, site_id: str) -> bool: ...

    def nodes(self, tenant_id: str, site_id: str) -> list[LoadNode]: ...

    def change_tree(
        self,
        tenant_id: str,
        site_id: str,
        change: Callable[[list[LoadNode]], list[LoadNode]],
        at: datetime,
    ) -> list[LoadNode] | None:
        """Under the site's lock, replace its tree by ``change(current tree)`` (which validates
        and may raise); None if there is no such site. Raises NodeConflict when an EVSE is a
        node elsewhere."""
        ...

    def set_live_load(self, tenant_id: str, site_id: str, load: LiveLoad, at: datetime) -> bool:
        """Keep the node's latest live load (an older measurement changes nothing)."""
        ...

    def live_loads(self, tenant_id: str, site_id: str) -> list[LiveLoad]: ...

    def set_schedule(self, tenant_id: str, site_id: str, schedule: LimitSchedule) -> None: ...

    def schedule(self, tenant_id: str, site_id: str, node_id: str) -> LimitSchedule | None: ...

    def clear_schedule(self, tenant_id: str, site_id: str, node_id: str) -> bool: ...

    def latest_allocation(self, tenant_id: str, site_id: str) -> RecordedAllocation | None: ...

    def all_sites(self) -> list[tuple[str, str]]:
        """(tenant, site) of every site with a tree: what the job reallocates."""
        ...

    def reallocate(
        self,
        tenant_id: str,
        site_id: str,
        at: datetime,
        compute: Callable[[SiteSnapshot], NewAllocation],
    ) -> RecordedAllocation | None:
        """In one transaction that holds the site's row lock: read the snapshot, ``compute``,
        record the allocation and its event (unless it equals the previous one, which is
        returned then). None if there is no such site."""
        ...

    def advance(
        self,
        tenant_id: str,
        site_id: str,
        decide: Callable[[Progress], Sequence[StepOutcome]],
    ) -> Progress | None:
        """Under the site's row lock: read the latest allocation with its steps' outcomes
        brought up to date from their commands, call ``decide`` (which may submit further
        steps), add the outcomes it returns to the allocation's, commit. None if the site
        has no allocation (or no longer exists)."""
        ...

    def sites_of(self, tenant_id: str, station_ids: Sequence[str]) -> list[str]:
        """The sites whose tree has an EVSE of one of these stations."""
        ...

    def prune_allocations(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` allocations computed before ``before``, never a site's latest;
        how many went."""
        ...


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a site's latest plan stands (what :meth:`LoadStore.advance` reads under the lock)."""

    latest: RecordedAllocation
    #: The site's load-management decreases not answered yet, of this allocation or an older one.
    decreases_in_flight: int


class OnlineStations(Protocol):
    def online(self, tenant_id: str, station_ids: Sequence[str]) -> Mapping[str, datetime]:
        """Those of the stations that have a current connection, with when it began."""
        ...

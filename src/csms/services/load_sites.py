"""Sites and their electrical trees (ADR 0024): create and change them, validated; what energy
managers post (live non-EV load, limit schedules); the latest allocation.

Every operation takes the caller's :class:`~csms.domain.tenancy.TenantScope`: another tenant's
site does not exist for it, and a node may name only the tenant's own stations. A change that
moves what the allocator sees (the tree, a live load, a schedule) asks for a reallocation of the
site through ``on_change`` (the load management service, once wired).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from csms.clock import Clock
from csms.domain.load import (
    NODE_ID_PATTERN,
    PHASES,
    SITE_EDITABLE,
    SITE_ID_PATTERN,
    LimitPeriod,
    LimitSchedule,
    LiveLoad,
    LoadNode,
    LoadStore,
    NodeConflict,
    NodeKind,
    PhaseAmps,
    RecordedAllocation,
    Site,
    UnknownStation,
)
from csms.domain.tenancy import TenantScope
from csms.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from csms.services.locations import new_location_id
from csms.services.stations import Stations

#: Called with (scope, site id, cause) after a change the allocator must see.
OnChange = Callable[[TenantScope, str, str], None]
#: The longest a live value counts before the node's allowance does again.
MAX_VALIDITY = timedelta(days=1)
#: The most periods a limit schedule holds.
MAX_PERIODS = 200


def _nothing(scope: TenantScope, site_id: str, cause: str) -> None:
    return None


class SiteService:
    def __init__(
        self,
        store: LoadStore,
        stations: Stations,
        clock: Clock,
        *,
        on_change: OnChange = _nothing,
        new_id: Callable[[], str] = new_location_id,
    ) -> None:
        self._store = store
        self._stations = stations
        self._clock = clock
        self._new_id = new_id
        self.on_change = on_change

    # --- sites --------------------------------------------------------------------------------

    def create(self, scope: TenantScope, site_id: str | None, fields: dict[str, Any]) -> Site:
        """A site with the given id or a generated one; AlreadyExists if taken."""
        fields = {name: fields[name] for name in SITE_EDITABLE if fields.get(name) is not None}
        self._check_site(scope, None, fields)
        now = self._clock.now()
        for candidate in [site_id] if site_id is not None else [self._new_id() for _ in range(3)]:
            if not SITE_ID_PATTERN.match(candidate):
                raise InvalidInput(f"id: {candidate!r} is not 1-64 letters, digits, '.', '_' or '-'")
            site = Site(id=candidate, created_at=now, updated_at=now, **fields)
            if self._store.add_site(scope.tenant_id, site):
                return site
            if site_id is not None:
                raise AlreadyExists(f"a site {site_id!r} exists already")
        raise AlreadyExists("could not allocate a site id; retry")  # pragma: no cover

    def search(self, scope: TenantScope, limit: int, offset: int) -> tuple[list[Site], int]:
        return self._store.sites(scope.tenant_id, limit, offset)

    def get(self, scope: TenantScope, site_id: str) -> Site:
        found = self._store.site(scope.tenant_id, site_id)
        if found is None:
            raise NotFound(f"no site {site_id!r}")
        return found

    def update(self, scope: TenantScope, site_id: str, changes: dict[str, Any]) -> Site:
        self.get(scope, site_id)
        if "name" in changes and not changes["name"]:
            raise InvalidInput("name: a site must have a name")
        for name in ("nominal_voltage_v", "headroom_a"):
            if name in changes and changes[name] is None:
                raise InvalidInput(f"{_camel(name)}: cannot be null")
        changes = {k: v for k, v in changes.items() if k in SITE_EDITABLE}
        self._check_site(scope, site_id, changes)
        if changes:
            self._store.update_site(scope.tenant_id, site_id, changes, self._clock.now())
            self.on_change(scope, site_id, "SiteChanged")
        return self.get(scope, site_id)

    def delete(self, scope: TenantScope, site_id: str) -> None:
        if not self._store.delete_site(scope.tenant_id, site_id):
            raise NotFound(f"no site {site_id!r}")

    def _check_site(self, scope: TenantScope, site_id: str | None, fields: dict[str, Any]) -> None:
        location_id = fields.get("location_id")
        if location_id is not None:
            if not self._store.location_exists(scope.tenant_id, location_id):
                raise InvalidInput(f"locationId: no location {location_id!r}")
            taken = self._store.site_at_location(scope.tenant_id, location_id)
            if taken is not None and taken != site_id:
                raise Conflict(f"locationId: location {location_id!r} has a site already ({taken!r})")
        voltage = fields.get("nominal_voltage_v")
        if voltage is not None and not 50 <= voltage <= 1000:
            raise InvalidInput("nominalVoltageV: between 50 and 1000 V (phase to neutral)")
        headroom = fields.get("headroom_a")
        if headroom is not None and not 0 <= headroom <= 100:
            raise InvalidInput("headroomA: between 0 and 100 A")

    # --- the tree -------------------------------------------------------------------------------

    def nodes(self, scope: TenantScope, site_id: str) -> list[LoadNode]:
        self.get(scope, site_id)
        return self._store.nodes(scope.tenant_id, site_id)

    def node(self, scope: TenantScope, site_id: str, node_id: str) -> LoadNode:
        for node in self.nodes(scope, site_id):
            if node.id == node_id:
                return node
        raise NotFound(f"no node {node_id!r} at site {site_id!r}")

    def replace_tree(self, scope: TenantScope, site_id: str, nodes: Sequence[LoadNode]) -> list[LoadNode]:
        """The site's whole tree becomes ``nodes`` (validated; an empty list clears it)."""
        return self._change(scope, site_id, lambda _: list(nodes))

    def put_node(self, scope: TenantScope, site_id: str, node: LoadNode) -> tuple[LoadNode, bool]:
        """Add the node, or replace the one of that id; True if it was added."""
        added: list[bool] = []

        def change(current: list[LoadNode]) -> list[LoadNode]:
            others = [n for n in current if n.id != node.id]
            added.append(len(others) == len(current))
            return [*others, node]

        tree = self._change(scope, site_id, change)
        return next(n for n in tree if n.id == node.id), added[0]

    def delete_node(self, scope: TenantScope, site_id: str, node_id: str) -> None:
        def change(current: list[LoadNode]) -> list[LoadNode]:
            if not any(n.id == node_id for n in current):
                raise NotFound(f"no node {node_id!r} at site {site_id!r}")
            children = sorted(n.id for n in current if n.parent_id == node_id)
            if children:
                raise Conflict(
                    f"node {node_id!r} has children ({', '.join(children)}): delete or move them first"
                )
            return [n for n in current if n.id != node_id]

        self._change(scope, site_id, change)

    def _change(
        self, scope: TenantScope, site_id: str, change: Callable[[list[LoadNode]], list[LoadNode]]
    ) -> list[LoadNode]:
        self.get(scope, site_id)

        def checked(current: list[LoadNode]) -> list[LoadNode]:
            nodes = with_phases(change(current))
            check_tree(nodes)
            return nodes

        try:
            tree = self._store.change_tree(scope.tenant_id, site_id, checked, self._clock.now())
        except NodeConflict as conflict:
            raise Conflict(
                f"EVSE {conflict.evse_id} of station {conflict.station_id!r} is a node of another site"
            ) from None
        except UnknownStation as unknown:
            # checked by the store on the tree's own connection, under the site's lock
            raise InvalidInput(
                f"nodes.{unknown.node_id}.stationId: no station {unknown.station_id!r}"
            ) from None
        if tree is None:
            raise NotFound(f"no site {site_id!r}")
        self.on_change(scope, site_id, "TreeChanged")
        return tree

    # --- what energy managers post ----------------------------------------------------------------

    def post_load(
        self,
        scope: TenantScope,
        site_id: str,
        node_id: str,
        values_a: PhaseAmps,
        measured_at: datetime | None,
        valid_for: timedelta,
    ) -> bool:
        """The node's live non-EV load; False if a later measurement is in force already."""
        node = self.node(scope, site_id, node_id)
        _check_phase_amps("valuesA", values_a, node.phases, allow_zero=True)
        if not timedelta(0) < valid_for <= MAX_VALIDITY:
            raise InvalidInput("validForSeconds: between 1 s and one day")
        now = self._clock.now()
        measured = measured_at or now
        if measured > now + timedelta(minutes=5):
            raise InvalidInput("measuredAt: in the future")
        load = LiveLoad(node_id, dict(values_a), measured, measured + valid_for)
        changed = self._store.set_live_load(scope.tenant_id, site_id, load, now)
        if changed:
            self.on_change(scope, site_id, "LoadPosted")
        return changed

    def schedule(self, scope: TenantScope, site_id: str, node_id: str) -> LimitSchedule:
        self.node(scope, site_id, node_id)
        found = self._store.schedule(scope.tenant_id, site_id, node_id)
        if found is None:
            raise NotFound(f"node {node_id!r} has no limit schedule")
        return found

    def set_schedule(
        self, scope: TenantScope, site_id: str, node_id: str, periods: Sequence[LimitPeriod]
    ) -> LimitSchedule:
        node = self.node(scope, site_id, node_id)
        if not periods:
            raise InvalidInput("periods: give at least one period (DELETE clears the schedule)")
        if len(periods) > MAX_PERIODS:
            raise InvalidInput(f"periods: at most {MAX_PERIODS}")
        starts = [p.start for p in periods]
        if len(set(starts)) != len(starts):
            raise InvalidInput("periods: two periods start at the same time")
        for index, period in enumerate(periods):
            _check_phase_amps(f"periods.{index}.limitA", period.limit_a, node.phases)
            if period.max_power_kw is not None and period.max_power_kw <= 0:
                raise InvalidInput(f"periods.{index}.maxPowerKw: must be positive")
            if not period.limit_a and period.max_power_kw is None:
                raise InvalidInput(f"periods.{index}: give limitA, maxPowerKw or both")
        schedule = LimitSchedule(node_id, tuple(sorted(periods, key=lambda p: p.start)), self._clock.now())
        self._store.set_schedule(scope.tenant_id, site_id, schedule)
        self.on_change(scope, site_id, "LimitScheduleSet")
        return schedule

    def clear_schedule(self, scope: TenantScope, site_id: str, node_id: str) -> None:
        self.node(scope, site_id, node_id)
        if not self._store.clear_schedule(scope.tenant_id, site_id, node_id):
            raise NotFound(f"node {node_id!r} has no limit schedule")
        self.on_change(scope, site_id, "LimitScheduleCleared")

    # --- the allocation -----------------------------------------------------------------------

    def allocation(self, scope: TenantScope, site_id: str) -> RecordedAllocation:
        self.get(scope, site_id)
        found = self._store.latest_allocation(scope.tenant_id, site_id)
        if found is None:
            raise NotFound(f"site {site_id!r} has no allocation yet")
        return found


# --- the rules of a tree (pure) ---------------------------------------------------------------------


def with_phases(nodes: Sequence[LoadNode]) -> list[LoadNode]:
    """Nodes given without phases carry: an EVSE the phases of its wiring, the grid all three,
    any other node its parent's."""
    by_id = {n.id: n for n in nodes}
    resolved: dict[str, tuple[str, ...]] = {}

    def phases_of(node: LoadNode, depth: int = 0) -> tuple[str, ...]:
        if node.phases:
            return node.phases
        if node.id in resolved:
            return resolved[node.id]
        if node.evse is not None:
            found = tuple(sorted(set(node.evse.phases)))
        elif node.parent_id is None or node.parent_id not in by_id or depth > len(by_id):
            found = PHASES
        else:
            found = phases_of(by_id[node.parent_id], depth + 1)
        resolved[node.id] = found
        return found

    return [n if n.phases else replace(n, phases=phases_of(n)) for n in nodes]


def check_tree(nodes: Sequence[LoadNode]) -> None:
    """InvalidInput naming the node and field of the first rule broken: one grid connection at
    the root; every other node under an existing parent; no cycles; circuits under the grid or
    circuits, stations under those, EVSEs under any but an EVSE (and under their own station);
    phases among the parent's; limits positive; an EVSE once, with minimum <= maximum."""
    if not nodes:
        return
    by_id: dict[str, LoadNode] = {}
    for node in nodes:
        if not NODE_ID_PATTERN.match(node.id):
            raise InvalidInput(f"nodes.{node.id}.id: 1-64 letters, digits, '.', '_' or '-'")
        if node.id in by_id:
            raise InvalidInput(f"nodes.{node.id}.id: two nodes have this id")
        by_id[node.id] = node
    roots = [n for n in nodes if n.parent_id is None]
    grids = [n for n in nodes if n.kind is NodeKind.GRID]
    if len(grids) != 1:
        raise InvalidInput("nodes: a tree has exactly one node of kind grid (the grid connection)")
    for node in roots:
        if node.kind is not NodeKind.GRID:
            raise InvalidInput(f"nodes.{node.id}.parentId: only the grid connection has no parent")
    evses: dict[tuple[str, int], str] = {}
    for node in sorted(nodes, key=lambda n: n.id):
        where = f"nodes.{node.id}"
        parent = _parent(node, by_id, where)
        _check_kind(node, parent, where)
        _check_phases(node, parent, where)
        _check_phase_amps(f"{where}.limitA", node.limit_a, node.phases)
        _check_phase_amps(f"{where}.nonEvAllowanceA", node.non_ev_allowance_a, node.phases, allow_zero=True)
        if node.max_power_kw is not None and node.max_power_kw <= 0:
            raise InvalidInput(f"{where}.maxPowerKw: must be positive")
        if node.evse is not None:
            key = node.evse.key
            if key in evses:
                raise InvalidInput(
                    f"{where}.evseId: EVSE {key[1]} of {key[0]!r} is node {evses[key]!r} already"
                )
            evses[key] = node.id
    for node in nodes:  # no cycles: every node reaches the root
        seen: set[str] = set()
        at: LoadNode | None = node
        while at is not None and at.parent_id is not None:
            if at.id in seen:
                raise InvalidInput(f"nodes.{node.id}.parentId: the parents make a cycle")
            seen.add(at.id)
            at = by_id[at.parent_id]


def _parent(node: LoadNode, by_id: dict[str, LoadNode], where: str) -> LoadNode | None:
    if node.parent_id is None:
        return None
    if node.parent_id == node.id:
        raise InvalidInput(f"{where}.parentId: a node is not its own parent")
    parent = by_id.get(node.parent_id)
    if parent is None:
        raise InvalidInput(f"{where}.parentId: no node {node.parent_id!r} in the tree")
    return parent


_PARENTS = {
    NodeKind.GRID: set(),
    NodeKind.CIRCUIT: {NodeKind.GRID, NodeKind.CIRCUIT},
    NodeKind.STATION: {NodeKind.GRID, NodeKind.CIRCUIT},
    NodeKind.EVSE: {NodeKind.GRID, NodeKind.CIRCUIT, NodeKind.STATION},
}


def _check_kind(node: LoadNode, parent: LoadNode | None, where: str) -> None:
    if parent is not None and parent.kind not in _PARENTS[node.kind]:
        raise InvalidInput(
            f"{where}.parentId: a {node.kind.value} node cannot stand under a {parent.kind.value} node"
        )
    if node.kind is NodeKind.STATION and not node.station_id:
        raise InvalidInput(f"{where}.stationId: a station node names its station")
    if node.kind is not NodeKind.EVSE:
        if node.evse is not None:
            raise InvalidInput(f"{where}.evseId: only EVSE nodes have an EVSE")
        if node.kind is not NodeKind.STATION and node.station_id is not None:
            raise InvalidInput(f"{where}.stationId: only station and EVSE nodes name a station")
        return
    evse = node.evse
    if evse is None:
        raise InvalidInput(f"{where}.evseId: an EVSE node names its station, EVSE, phase wiring and maximum")
    if parent is not None and parent.kind is NodeKind.STATION and parent.station_id != evse.station_id:
        raise InvalidInput(f"{where}.stationId: its parent is station {parent.station_id!r}")
    if evse.evse_id < 1:
        raise InvalidInput(f"{where}.evseId: EVSEs count from 1")
    if not 1 <= len(evse.phases) <= 3 or len(set(evse.phases)) != len(evse.phases):
        raise InvalidInput(f"{where}.phaseWiring: one to three different site phases")
    if not 0 <= evse.min_current_a <= evse.max_current_a:
        raise InvalidInput(f"{where}.minCurrentA: between 0 and the maximum current")
    if evse.max_current_a <= 0:
        raise InvalidInput(f"{where}.maxCurrentA: must be positive")
    if evse.priority <= 0:
        raise InvalidInput(f"{where}.priority: must be positive")


def _check_phases(node: LoadNode, parent: LoadNode | None, where: str) -> None:
    if not node.phases or len(set(node.phases)) != len(node.phases):
        raise InvalidInput(f"{where}.phases: one to three different phases")
    unknown = [p for p in node.phases if p not in PHASES]
    if unknown:
        raise InvalidInput(f"{where}.phases: {unknown[0]!r} is not a phase (L1, L2, L3)")
    if node.evse is not None and set(node.evse.phases) != set(node.phases):
        raise InvalidInput(f"{where}.phases: an EVSE node carries the phases of its wiring")
    if parent is not None:
        missing = [p for p in node.phases if p not in parent.phases]
        if missing:
            raise InvalidInput(f"{where}.phases: {missing[0]} is not a phase of its parent {parent.id!r}")


def _check_phase_amps(
    field: str, amps: PhaseAmps, phases: Sequence[str], *, allow_zero: bool = False
) -> None:
    for phase, value in amps.items():
        if phase not in phases:
            raise InvalidInput(f"{field}.{phase}: not a phase of the node ({', '.join(phases)})")
        if value < 0 or (value == 0 and not allow_zero):
            raise InvalidInput(f"{field}.{phase}: must be {'zero or ' if allow_zero else ''}positive")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)

"""PostgreSQL implementation of :class:`csms.domain.load.LoadStore` (ADR 0024).

The site's row is the lock of everything about it: changing the tree and reallocating both
begin with ``SELECT ... FOR UPDATE`` on it, so two reallocations of one site (or a
reallocation and a change of its tree) run one after the other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, and_, delete, func, select, update
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.dialects.postgresql import insert as pg_insert

from csms.data.database import PgDatabase
from csms.data.outbox import append
from csms.data.repositories import PgTenants
from csms.data.tables import (
    charge_points,
    commands,
    device_model_variables,
    load_allocations,
    load_limit_schedules,
    load_live_loads,
    load_nodes,
    load_sites,
    locations,
    meter_samples,
    transactions,
)
from csms.domain.commands import CommandStatus
from csms.domain.load import (
    LOAD_MANAGER,
    ActiveSession,
    Allocation,
    ChargingPlan,
    Direction,
    EvseAllocation,
    EvseControl,
    EvseWiring,
    LimitPeriod,
    LimitSchedule,
    LimitStep,
    LiveLoad,
    LoadNode,
    NewAllocation,
    NodeAllocation,
    NodeConflict,
    NodeKind,
    Progress,
    RecordedAllocation,
    Site,
    SiteSnapshot,
    SmartChargingSupport,
    StepOutcome,
    StepStatus,
    UnknownStation,
)

#: A reading older than this does not say what an EVSE draws now.
MEASUREMENT_WINDOW = timedelta(minutes=15)


class PgLoadStore:
    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    # --- sites ------------------------------------------------------------------------------

    def add_site(self, tenant_id: str, site: Site) -> bool:
        with self._db.begin() as conn:
            PgTenants(conn).ensure(tenant_id, site.created_at)
            inserted = conn.execute(
                pg_insert(load_sites)
                .values(tenant_id=tenant_id, **_site_row(site))
                .on_conflict_do_nothing()
                .returning(load_sites.c.id)
            ).first()
        return inserted is not None

    def sites(self, tenant_id: str, limit: int, offset: int) -> tuple[list[Site], int]:
        where = load_sites.c.tenant_id == tenant_id
        with self._db.connect() as conn:
            total = conn.execute(select(func.count()).select_from(load_sites).where(where)).scalar_one()
            rows = conn.execute(
                select(load_sites).where(where).order_by(load_sites.c.id).limit(limit).offset(offset)
            )
            return [_site(r) for r in rows], int(total)

    def site(self, tenant_id: str, site_id: str) -> Site | None:
        with self._db.connect() as conn:
            row = conn.execute(select(load_sites).where(*_site_key(tenant_id, site_id))).first()
        return _site(row) if row is not None else None

    def site_at_location(self, tenant_id: str, location_id: str) -> str | None:
        with self._db.connect() as conn:
            found = conn.execute(
                select(load_sites.c.id).where(
                    load_sites.c.tenant_id == tenant_id, load_sites.c.location_id == location_id
                )
            ).scalar()
        return str(found) if found is not None else None

    def location_exists(self, tenant_id: str, location_id: str) -> bool:
        with self._db.connect() as conn:
            found = conn.execute(
                select(locations.c.id).where(
                    locations.c.tenant_id == tenant_id, locations.c.id == location_id
                )
            ).first()
        return found is not None

    def update_site(self, tenant_id: str, site_id: str, changes: dict[str, Any], at: datetime) -> bool:
        with self._db.begin() as conn:
            result = conn.execute(
                update(load_sites).where(*_site_key(tenant_id, site_id)).values(**changes, updated_at=at)
            )
            return bool(result.rowcount)

    def delete_site(self, tenant_id: str, site_id: str) -> bool:
        with self._db.begin() as conn:
            return bool(conn.execute(delete(load_sites).where(*_site_key(tenant_id, site_id))).rowcount)

    def all_sites(self) -> list[tuple[str, str]]:
        with self._db.connect() as conn:
            rows = conn.execute(
                select(load_nodes.c.tenant_id, load_nodes.c.site_id)
                .distinct()
                .order_by(load_nodes.c.tenant_id, load_nodes.c.site_id)
            )
            return [(r.tenant_id, r.site_id) for r in rows]

    # --- the tree ---------------------------------------------------------------------------

    def nodes(self, tenant_id: str, site_id: str) -> list[LoadNode]:
        with self._db.connect() as conn:
            return _nodes(conn, tenant_id, site_id)

    def change_tree(
        self,
        tenant_id: str,
        site_id: str,
        change: Callable[[list[LoadNode]], list[LoadNode]],
        at: datetime,
    ) -> list[LoadNode] | None:
        with self._db.begin() as conn:
            if not _lock_site(conn, tenant_id, site_id):
                return None
            rows = _node_rows(conn, tenant_id, site_id)
            wanted = change([_node(r) for r in rows])
            # On this connection: a function's pool has one (a second would wait for it).
            _refuse_unknown_stations(conn, tenant_id, wanted)
            _refuse_evses_elsewhere(conn, tenant_id, site_id, wanted)
            created = {r.id: r.created_at for r in rows}
            # Replace the tree whole (the unique EVSE index is not deferrable), keeping what
            # the surviving nodes had: their live load and limit schedule.
            kept_ids = {n.id for n in wanted}
            live = _rows_of(conn, load_live_loads, tenant_id, site_id, kept_ids)
            schedules = _rows_of(conn, load_limit_schedules, tenant_id, site_id, kept_ids)
            conn.execute(delete(load_nodes).where(*_node_site(tenant_id, site_id)))
            if wanted:
                conn.execute(
                    load_nodes.insert(),
                    [
                        {
                            "tenant_id": tenant_id,
                            "site_id": site_id,
                            **_node_row(n),
                            "created_at": created.get(n.id, at),
                            "updated_at": at,
                        }
                        for n in wanted
                    ],
                )
            if live:
                conn.execute(load_live_loads.insert(), live)
            if schedules:
                conn.execute(load_limit_schedules.insert(), schedules)
            conn.execute(update(load_sites).where(*_site_key(tenant_id, site_id)).values(updated_at=at))
            return _nodes(conn, tenant_id, site_id)

    # --- what energy managers post ------------------------------------------------------------

    def set_live_load(self, tenant_id: str, site_id: str, load: LiveLoad, at: datetime) -> bool:
        statement = pg_insert(load_live_loads).values(
            tenant_id=tenant_id,
            site_id=site_id,
            node_id=load.node_id,
            values_a=dict(load.values_a),
            measured_at=load.measured_at,
            expires_at=load.expires_at,
            received_at=at,
        )
        with self._db.begin() as conn:
            changed = conn.execute(
                statement.on_conflict_do_update(
                    index_elements=["tenant_id", "site_id", "node_id"],
                    set_={
                        k: statement.excluded[k]
                        for k in ("values_a", "measured_at", "expires_at", "received_at")
                    },
                    where=load_live_loads.c.measured_at < statement.excluded.measured_at,
                ).returning(load_live_loads.c.node_id)
            ).first()
        return changed is not None

    def live_loads(self, tenant_id: str, site_id: str) -> list[LiveLoad]:
        with self._db.connect() as conn:
            return _live_loads(conn, tenant_id, site_id)

    def set_schedule(self, tenant_id: str, site_id: str, schedule: LimitSchedule) -> None:
        statement = pg_insert(load_limit_schedules).values(
            tenant_id=tenant_id,
            site_id=site_id,
            node_id=schedule.node_id,
            periods=[_period_json(p) for p in schedule.periods],
            set_at=schedule.set_at,
        )
        with self._db.begin() as conn:
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=["tenant_id", "site_id", "node_id"],
                    set_={"periods": statement.excluded.periods, "set_at": statement.excluded.set_at},
                )
            )

    def schedule(self, tenant_id: str, site_id: str, node_id: str) -> LimitSchedule | None:
        with self._db.connect() as conn:
            found = [s for s in _schedules(conn, tenant_id, site_id) if s.node_id == node_id]
        return found[0] if found else None

    def clear_schedule(self, tenant_id: str, site_id: str, node_id: str) -> bool:
        with self._db.begin() as conn:
            return bool(
                conn.execute(
                    delete(load_limit_schedules).where(
                        *_node_site(tenant_id, site_id, load_limit_schedules),
                        load_limit_schedules.c.node_id == node_id,
                    )
                ).rowcount
            )

    # --- allocations --------------------------------------------------------------------------

    def latest_allocation(self, tenant_id: str, site_id: str) -> RecordedAllocation | None:
        with self._db.connect() as conn:
            return _latest(conn, tenant_id, site_id)

    def reallocate(
        self,
        tenant_id: str,
        site_id: str,
        at: datetime,
        compute: Callable[[SiteSnapshot], NewAllocation],
    ) -> RecordedAllocation | None:
        with self._db.begin() as conn:
            site = _lock_site(conn, tenant_id, site_id)
            if site is None:
                return None
            nodes = _nodes(conn, tenant_id, site_id)
            stations = sorted({n.evse.station_id for n in nodes if n.evse is not None})
            snapshot = SiteSnapshot(
                site=site,
                nodes=tuple(nodes),
                live_loads=tuple(_live_loads(conn, tenant_id, site_id)),
                schedules=tuple(_schedules(conn, tenant_id, site_id)),
                sessions=tuple(_sessions(conn, tenant_id, nodes, at)),
                previous=_latest(conn, tenant_id, site_id),
                controls=tuple(_controls(conn, tenant_id, stations)),
                support=_support(conn, tenant_id, stations),
            )
            new = compute(snapshot)
            previous = snapshot.previous
            same = previous is not None and new.allocation == previous.allocation
            if previous is not None and same and _within(new.plan, previous.plan):
                # The same again (a row a minute per site would say nothing new), or a plan still
                # under way whose remaining steps are these: the previous one goes on.
                return previous
            allocation_id = conn.execute(
                load_allocations.insert()
                .values(
                    tenant_id=tenant_id,
                    site_id=site_id,
                    computed_at=at,
                    cause=new.cause,
                    inputs=new.inputs,
                    result=allocation_json(new.allocation),
                    plan=plan_json(new.plan),
                )
                .returning(load_allocations.c.id)
            ).scalar_one()
            if new.event is not None:
                append(conn, [new.event])
        return RecordedAllocation(int(allocation_id), site_id, at, new.cause, new.allocation, new.plan)

    def advance(
        self,
        tenant_id: str,
        site_id: str,
        decide: Callable[[Progress], Sequence[StepOutcome]],
    ) -> Progress | None:
        with self._db.begin() as conn:
            if _lock_site(conn, tenant_id, site_id) is None:
                return None
            latest = _latest(conn, tenant_id, site_id)
            if latest is None:
                return None
            outcomes = _refreshed(conn, latest.outcomes)
            in_flight = conn.execute(
                select(func.count())
                .select_from(commands)
                .where(
                    commands.c.tenant_id == tenant_id,
                    commands.c.requested_by == LOAD_MANAGER,
                    commands.c.status.in_(_OPEN),
                    commands.c.request.contains(
                        {"loadManagement": {"siteId": site_id, "direction": Direction.DECREASE.value}}
                    ),
                )
            ).scalar_one()
            progress = Progress(replace(latest, outcomes=outcomes), int(in_flight))
            added = tuple(decide(progress))
            everything = outcomes + added
            if everything != latest.outcomes:
                conn.execute(
                    update(load_allocations)
                    .where(load_allocations.c.id == latest.id)
                    .values(outcomes=[_outcome_json(o) for o in everything])
                )
        return Progress(replace(latest, outcomes=everything), int(in_flight))

    def sites_of(self, tenant_id: str, station_ids: Sequence[str]) -> list[str]:
        if not station_ids:
            return []
        with self._db.connect() as conn:
            rows = conn.execute(
                select(load_nodes.c.site_id)
                .distinct()
                .where(
                    load_nodes.c.tenant_id == tenant_id,
                    load_nodes.c.kind == NodeKind.EVSE.value,
                    load_nodes.c.station_id.in_(sorted(set(station_ids))),
                )
                .order_by(load_nodes.c.site_id)
            )
            return [r.site_id for r in rows]

    def prune_allocations(self, before: datetime, limit: int) -> int:
        a = load_allocations.c
        latest = select(func.max(a.id)).group_by(a.tenant_id, a.site_id)
        doomed = select(a.id).where(a.computed_at < before, a.id.not_in(latest)).order_by(a.id).limit(limit)
        with self._db.begin() as conn:
            result = conn.execute(delete(load_allocations).where(a.id.in_(doomed.scalar_subquery())))
            return int(result.rowcount or 0)


def _within(plan: ChargingPlan, previous: ChargingPlan) -> bool:
    """Every step of ``plan`` is one of ``previous`` (the same EVSE, limit, unit and direction)."""

    def key(step: LimitStep) -> tuple[str, int, float, str, str]:
        return (step.station_id, step.evse_id, step.limit_a, step.unit, step.direction.value)

    return {key(s) for s in plan.steps} <= {key(s) for s in previous.steps}


# --- what the load manager's own commands say ------------------------------------------------------

_OPEN = (CommandStatus.QUEUED.value, CommandStatus.SENT.value)
_REFUSED = (CommandStatus.REJECTED.value, CommandStatus.FAILED.value, CommandStatus.TIMED_OUT.value)


def _refreshed(conn: Connection, outcomes: Sequence[StepOutcome]) -> tuple[StepOutcome, ...]:
    """The outcomes with each step still ``sent`` brought up to its command's status."""
    waiting = [o.command_id for o in outcomes if o.status == StepStatus.SENT.value and o.command_id]
    if not waiting:
        return tuple(outcomes)
    found = {
        r.id: r
        for r in conn.execute(
            select(commands.c.id, commands.c.status, commands.c.reason).where(commands.c.id.in_(waiting))
        )
    }
    out: list[StepOutcome] = []
    for outcome in outcomes:
        row = found.get(outcome.command_id or "")
        if outcome.status == StepStatus.SENT.value and row is not None and row.status not in _OPEN:
            outcome = replace(outcome, status=row.status, reason=row.reason)
        out.append(outcome)
    return tuple(out)


def _controls(conn: Connection, tenant_id: str, stations: Sequence[str]) -> list[EvseControl]:
    """Per EVSE of these stations, what the load manager's latest profile left: the last limit
    accepted, one in flight, or a refusal."""
    if not stations:
        return []
    c = commands.c
    evse = c.request["evseId"].as_integer()
    mine = (
        c.tenant_id == tenant_id,
        c.charge_point_id.in_(stations),
        c.requested_by == LOAD_MANAGER,
        c.name == "set-charging-profile",
    )

    def latest(*where: Any) -> dict[tuple[str, int], Any]:
        rows = conn.execute(
            select(c.charge_point_id, evse.label("evse_id"), c.status, c.request, c.finished_at)
            .where(*mine, *where)
            .ext(distinct_on(c.charge_point_id, evse))
            .order_by(c.charge_point_id, evse, c.created_at.desc())
        )
        return {(r.charge_point_id, r.evse_id): r for r in rows}

    last = latest()
    accepted = latest(c.status == CommandStatus.ACCEPTED.value)
    found = []
    for key, row in sorted(last.items()):
        held = accepted.get(key)
        found.append(
            EvseControl(
                station_id=key[0],
                evse_id=key[1],
                held_a=_limit_a(held.request) if held is not None else None,
                in_flight_a=_limit_a(row.request) if row.status in _OPEN else None,
                refused_at=(row.finished_at if row.status in _REFUSED else None),
            )
        )
    return found


def _limit_a(request: dict[str, Any]) -> float | None:
    value = (request.get("loadManagement") or {}).get("limitA")
    return float(value) if isinstance(value, int | float) else None


#: The device-model variables that say whether and in which unit a station takes profiles.
_SUPPORT_VARIABLES = (
    ("smartchargingctrlr", "available"),
    ("smartchargingctrlr", "enabled"),
    ("smartchargingctrlr", "rateunit"),
    ("ocpp16", "supportedfeatureprofiles"),
    ("ocpp16", "chargingscheduleallowedchargingrateunit"),
)


def _support(conn: Connection, tenant_id: str, stations: Sequence[str]) -> dict[str, SmartChargingSupport]:
    if not stations:
        return {}
    v = device_model_variables.c
    rows = conn.execute(
        select(v.charge_point_id, v.component, v.variable, v.value, v.known).where(
            v.tenant_id == tenant_id,
            v.charge_point_id.in_(stations),
            v.evse_id == -1,
            v.attribute_type == "Actual",
            func.row(func.lower(v.component), func.lower(v.variable)).in_(
                [func.row(component, variable) for component, variable in _SUPPORT_VARIABLES]
            ),
        )
    )
    values: dict[str, dict[tuple[str, str], str | None]] = {}
    for r in rows:
        values.setdefault(r.charge_point_id, {})[(r.component.lower(), r.variable.lower())] = (
            r.value if r.known else ""
        )
    return {station: smart_charging_support(found) for station, found in values.items()}


def smart_charging_support(values: dict[tuple[str, str], str | None]) -> SmartChargingSupport:
    """What the device model says (absent: unknown, assumed supported, in amperes). An unknown
    variable reads as ""."""

    def words(key: tuple[str, str]) -> set[str] | None:
        value = values.get(key)
        return None if value is None else {w.strip().lower() for w in value.split(",") if w.strip()}

    supported = True
    for flag in (("smartchargingctrlr", "available"), ("smartchargingctrlr", "enabled")):
        said = values.get(flag)
        if said is not None and said.strip().lower() != "true":
            supported = False
    profiles = words(("ocpp16", "supportedfeatureprofiles"))
    if profiles is not None and "smartcharging" not in profiles:
        supported = False
    units = words(("smartchargingctrlr", "rateunit")) or words(
        ("ocpp16", "chargingscheduleallowedchargingrateunit")
    )
    amperes = True
    if units is not None:
        amperes = bool(units & {"a", "current"})
        if not amperes and not units & {"w", "power"}:
            supported = False
    return SmartChargingSupport(supported=supported, amperes=amperes)


# --- rows -------------------------------------------------------------------------------------


def _site_key(tenant_id: str, site_id: str) -> tuple[Any, ...]:
    return (load_sites.c.tenant_id == tenant_id, load_sites.c.id == site_id)


def _node_site(tenant_id: str, site_id: str, table: Any = load_nodes) -> tuple[Any, ...]:
    return (table.c.tenant_id == tenant_id, table.c.site_id == site_id)


def _lock_site(conn: Connection, tenant_id: str, site_id: str) -> Site | None:
    row = conn.execute(select(load_sites).where(*_site_key(tenant_id, site_id)).with_for_update()).first()
    return _site(row) if row is not None else None


def _site_row(site: Site) -> dict[str, Any]:
    return {
        "id": site.id,
        "name": site.name,
        "location_id": site.location_id,
        "nominal_voltage_v": site.nominal_voltage_v,
        "headroom_a": site.headroom_a,
        "created_at": site.created_at,
        "updated_at": site.updated_at,
    }


def _site(row: Row[Any]) -> Site:
    m = row._mapping
    return Site(
        id=m["id"],
        name=m["name"],
        location_id=m["location_id"],
        nominal_voltage_v=m["nominal_voltage_v"],
        headroom_a=m["headroom_a"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def _node_rows(conn: Connection, tenant_id: str, site_id: str) -> list[Row[Any]]:
    return list(
        conn.execute(select(load_nodes).where(*_node_site(tenant_id, site_id)).order_by(load_nodes.c.id))
    )


def _nodes(conn: Connection, tenant_id: str, site_id: str) -> list[LoadNode]:
    return [_node(r) for r in _node_rows(conn, tenant_id, site_id)]


def _node(row: Row[Any]) -> LoadNode:
    m = row._mapping
    kind = NodeKind(m["kind"])
    evse = None
    if kind is NodeKind.EVSE:
        evse = EvseWiring(
            station_id=m["station_id"],
            evse_id=m["evse_id"],
            phases=tuple(m["wiring"]),
            min_current_a=m["min_current_a"],
            max_current_a=m["max_current_a"],
            priority=m["priority"],
        )
    return LoadNode(
        id=m["id"],
        kind=kind,
        parent_id=m["parent_id"],
        phases=tuple(m["phases"]),
        name=m["name"],
        limit_a=dict(m["limit_a"]),
        max_power_kw=m["max_power_kw"],
        non_ev_allowance_a=dict(m["non_ev_allowance_a"]),
        station_id=m["station_id"] if kind is NodeKind.STATION else None,
        evse=evse,
    )


def _node_row(node: LoadNode) -> dict[str, Any]:
    evse = node.evse
    return {
        "id": node.id,
        "parent_id": node.parent_id,
        "kind": node.kind.value,
        "name": node.name,
        "phases": list(node.phases),
        "limit_a": dict(node.limit_a),
        "max_power_kw": node.max_power_kw,
        "non_ev_allowance_a": dict(node.non_ev_allowance_a),
        "station_id": evse.station_id if evse else node.station_id,
        "evse_id": evse.evse_id if evse else None,
        "wiring": list(evse.phases) if evse else None,
        "min_current_a": evse.min_current_a if evse else None,
        "max_current_a": evse.max_current_a if evse else None,
        "priority": evse.priority if evse else None,
    }


def _refuse_unknown_stations(conn: Connection, tenant_id: str, wanted: Sequence[LoadNode]) -> None:
    named = [(n.id, n.evse.station_id if n.evse is not None else n.station_id) for n in wanted]
    station_ids = {station for _, station in named if station is not None}
    if not station_ids:
        return
    known = set(
        conn.execute(
            select(charge_points.c.id).where(
                charge_points.c.tenant_id == tenant_id, charge_points.c.id.in_(station_ids)
            )
        ).scalars()
    )
    for node_id, station in named:
        if station is not None and station not in known:
            raise UnknownStation(node_id, station)


def _refuse_evses_elsewhere(
    conn: Connection, tenant_id: str, site_id: str, wanted: Sequence[LoadNode]
) -> None:
    keys = [(n.evse.station_id, n.evse.evse_id) for n in wanted if n.evse is not None]
    if not keys:
        return
    elsewhere = conn.execute(
        select(load_nodes.c.station_id, load_nodes.c.evse_id).where(
            load_nodes.c.kind == NodeKind.EVSE.value,
            func.row(load_nodes.c.station_id, load_nodes.c.evse_id).in_(
                [func.row(station, evse) for station, evse in keys]
            ),
            ~and_(load_nodes.c.tenant_id == tenant_id, load_nodes.c.site_id == site_id),
        )
    ).first()
    if elsewhere is not None:
        raise NodeConflict(elsewhere.station_id, elsewhere.evse_id)


def _rows_of(
    conn: Connection, table: Any, tenant_id: str, site_id: str, node_ids: set[str]
) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(table).where(*_node_site(tenant_id, site_id, table), table.c.node_id.in_(node_ids))
    )
    return [dict(r._mapping) for r in rows]


def _live_loads(conn: Connection, tenant_id: str, site_id: str) -> list[LiveLoad]:
    rows = conn.execute(
        select(load_live_loads)
        .where(*_node_site(tenant_id, site_id, load_live_loads))
        .order_by(load_live_loads.c.node_id)
    )
    return [LiveLoad(r.node_id, dict(r.values_a), r.measured_at, r.expires_at) for r in rows]


def _schedules(conn: Connection, tenant_id: str, site_id: str) -> list[LimitSchedule]:
    rows = conn.execute(
        select(load_limit_schedules)
        .where(*_node_site(tenant_id, site_id, load_limit_schedules))
        .order_by(load_limit_schedules.c.node_id)
    )
    return [LimitSchedule(r.node_id, tuple(_period(p) for p in r.periods), r.set_at) for r in rows]


def _period_json(period: LimitPeriod) -> dict[str, Any]:
    return {
        "start": period.start.isoformat(),
        "limitA": dict(period.limit_a),
        "maxPowerKw": period.max_power_kw,
    }


def _period(document: dict[str, Any]) -> LimitPeriod:
    return LimitPeriod(
        start=datetime.fromisoformat(document["start"]),
        limit_a=dict(document.get("limitA") or {}),
        max_power_kw=document.get("maxPowerKw"),
    )


def _sessions(
    conn: Connection, tenant_id: str, nodes: Sequence[LoadNode], at: datetime
) -> list[ActiveSession]:
    """Open, accepted transactions on the tree's EVSEs, each with its latest Current.Import
    reading of the last minutes (the highest phase)."""
    keys = {(n.evse.station_id, n.evse.evse_id) for n in nodes if n.evse is not None}
    if not keys:
        return []
    t = transactions.c
    rows = conn.execute(
        select(t.id, t.charge_point_id, t.evse_id, t.transaction_id, t.start_timestamp).where(
            t.tenant_id == tenant_id,
            t.charge_point_id.in_({station for station, _ in keys}),
            t.stop_timestamp.is_(None),
            t.deauthorized_at.is_(None),
            (t.start_auth_status.is_(None)) | (t.start_auth_status == "Accepted"),
        )
    ).all()
    open_ = [r for r in rows if (r.charge_point_id, r.evse_id) in keys]
    measured: dict[int, tuple[datetime, float]] = {}
    if open_:
        m = meter_samples.c
        readings = conn.execute(
            select(m.transaction_id, m.timestamp, m.numeric_value).where(
                m.tenant_id == tenant_id,
                m.transaction_id.in_([r.id for r in open_]),
                m.measurand == "Current.Import",
                m.timestamp >= at - MEASUREMENT_WINDOW,
                m.numeric_value.is_not(None),
            )
        )
        for reading in readings:
            seen = measured.get(reading.transaction_id)
            if seen is None or reading.timestamp > seen[0]:
                measured[reading.transaction_id] = (reading.timestamp, reading.numeric_value)
            elif reading.timestamp == seen[0] and reading.numeric_value > seen[1]:
                measured[reading.transaction_id] = (seen[0], reading.numeric_value)
    return [
        ActiveSession(
            station_id=r.charge_point_id,
            evse_id=r.evse_id,
            transaction_id=r.transaction_id,
            started_at=r.start_timestamp,
            measured_a=measured[r.id][1] if r.id in measured else None,
        )
        for r in sorted(open_, key=lambda r: (r.charge_point_id, r.evse_id, r.start_timestamp))
    ]


def _latest(conn: Connection, tenant_id: str, site_id: str) -> RecordedAllocation | None:
    row = conn.execute(
        select(load_allocations)
        .where(load_allocations.c.tenant_id == tenant_id, load_allocations.c.site_id == site_id)
        .order_by(load_allocations.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return RecordedAllocation(
        id=row.id,
        site_id=row.site_id,
        computed_at=row.computed_at,
        cause=row.cause,
        allocation=allocation_from_json(row.result),
        plan=plan_from_json(row.plan),
        outcomes=tuple(_outcome(o) for o in (row.outcomes or [])),
    )


# --- JSON of what is recorded ---------------------------------------------------------------------


def allocation_json(allocation: Allocation) -> dict[str, Any]:
    return {
        "evses": [
            {
                "stationId": e.station_id,
                "evseId": e.evse_id,
                "nodeId": e.node_id,
                "phases": list(e.phases),
                "limitA": e.limit_a,
                "demandA": e.demand_a,
                "active": e.active,
                "controlled": e.controlled,
                "paused": e.paused,
            }
            for e in allocation.evses
        ],
        "nodes": [
            {
                "nodeId": n.node_id,
                "limitA": n.limit_a,
                "allocatedA": n.allocated_a,
                "nonEvA": n.non_ev_a,
                "maxPowerKw": n.max_power_kw,
                "allocatedKw": n.allocated_kw,
                "overloaded": n.overloaded,
            }
            for n in allocation.nodes
        ],
    }


def allocation_from_json(document: dict[str, Any]) -> Allocation:
    return Allocation(
        evses=tuple(
            EvseAllocation(
                station_id=e["stationId"],
                evse_id=e["evseId"],
                node_id=e["nodeId"],
                phases=tuple(e["phases"]),
                limit_a=e["limitA"],
                demand_a=e["demandA"],
                active=e["active"],
                controlled=e["controlled"],
                paused=e["paused"],
            )
            for e in document["evses"]
        ),
        nodes=tuple(
            NodeAllocation(
                node_id=n["nodeId"],
                limit_a=n["limitA"],
                allocated_a=n["allocatedA"],
                non_ev_a=n["nonEvA"],
                max_power_kw=n["maxPowerKw"],
                allocated_kw=n["allocatedKw"],
                overloaded=n["overloaded"],
            )
            for n in document["nodes"]
        ),
    )


def _step_json(step: LimitStep) -> dict[str, Any]:
    return {
        "stationId": step.station_id,
        "evseId": step.evse_id,
        "limitA": step.limit_a,
        "limitW": step.limit_w,
        "numberPhases": step.number_phases,
        "previousA": step.previous_a,
        "direction": step.direction.value,
        "transactionId": step.transaction_id,
        "unit": step.unit,
    }


def _step(document: dict[str, Any]) -> LimitStep:
    return LimitStep(
        station_id=document["stationId"],
        evse_id=document["evseId"],
        limit_a=document["limitA"],
        limit_w=document["limitW"],
        number_phases=document["numberPhases"],
        previous_a=document["previousA"],
        direction=Direction(document["direction"]),
        transaction_id=document["transactionId"],
        unit=document.get("unit", "A"),
    )


def plan_json(plan: ChargingPlan) -> dict[str, Any]:
    return {
        "decreases": [_step_json(s) for s in plan.decreases],
        "increases": [_step_json(s) for s in plan.increases],
    }


def plan_from_json(document: dict[str, Any]) -> ChargingPlan:
    return ChargingPlan(
        decreases=tuple(_step(s) for s in document["decreases"]),
        increases=tuple(_step(s) for s in document["increases"]),
    )


def _outcome_json(outcome: StepOutcome) -> dict[str, Any]:
    return {
        "station_id": outcome.station_id,
        "evse_id": outcome.evse_id,
        "status": outcome.status,
        "command_id": outcome.command_id,
        "direction": outcome.direction,
        "limit": outcome.limit,
        "unit": outcome.unit,
        "reason": outcome.reason,
    }


def _outcome(document: dict[str, Any]) -> StepOutcome:
    return StepOutcome(
        station_id=document["station_id"],
        evse_id=document["evse_id"],
        status=document["status"],
        command_id=document.get("command_id"),
        direction=document.get("direction"),
        limit=document.get("limit"),
        unit=document.get("unit"),
        reason=document.get("reason"),
    )

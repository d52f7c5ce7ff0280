"""Load management (ADR 0024): sites, their electrical trees, what energy managers post (live
non-EV load, limit schedules) and the current allocation.

Roles: an admin builds and changes the tree (it describes the installation: a wrong breaker
rating trips it); an operator posts live loads and limit schedules (what an energy manager does
all day: it lowers and restores limits within the tree, and a credential that can do that
cannot rewire the site); a viewer reads everything.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import AwareDatetime, Field, Strict

from csms.api import API_PREFIX
from csms.api.auth import caller
from csms.api.common import ApiModel, Limit, Offset, Page, UtcDatetime, error_responses
from csms.api.context import services
from csms.domain.load import (
    NODE_ID_PATTERN,
    SITE_ID_PATTERN,
    EvseWiring,
    LimitPeriod,
    LimitSchedule,
    LoadNode,
    NodeKind,
    RecordedAllocation,
    Site,
)
from csms.domain.stations import CHARGE_POINT_ID_PATTERN
from csms.domain.tenancy import Role
from csms.errors import AlreadyExists, InvalidInput
from csms.services.load_sites import SiteService

router = APIGatewayRouter()
TAG = ["load management"]

Phase = Literal["L1", "L2", "L3"]
# Strict: a JSON true is not a number (lax mode would read it as 1.0).
Amps = Annotated[float, Strict(), Field(ge=0, le=100_000)]
Kilowatts = Annotated[float, Strict(), Field(gt=0, le=1_000_000)]
Volts = Annotated[float, Strict(), Field(ge=50, le=1000)]
Headroom = Annotated[float, Strict(), Field(ge=0, le=100)]
Priority = Annotated[float, Strict(), Field(gt=0, le=1000)]
PhaseAmps = dict[Phase, Amps]
SiteId = Annotated[str, Path(pattern=SITE_ID_PATTERN.pattern, description="the site id")]
NodeId = Annotated[str, Path(pattern=NODE_ID_PATTERN.pattern, description="the node id")]
_NAME = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")


class SiteCreate(ApiModel):
    id: str | None = Field(
        default=None,
        pattern=SITE_ID_PATTERN.pattern,
        description="1-64 letters, digits, '.', '_', '-'; generated (12 characters) if absent",
    )
    name: Annotated[str, _NAME]
    location_id: str | None = Field(default=None, description="the location the site is at (one site each)")
    nominal_voltage_v: Volts | None = Field(
        default=None, description="phase to neutral, for amperes to watts (default 230)"
    )
    headroom_a: Headroom | None = Field(
        default=None, description="what an EVSE drawing less than its limit keeps above its draw (default 2)"
    )


class SiteUpdate(ApiModel):
    """Only the fields present change; null clears the location."""

    name: Annotated[str, _NAME] | None = None
    location_id: str | None = None
    nominal_voltage_v: Volts | None = None
    headroom_a: Headroom | None = None


class SiteOut(ApiModel):
    id: str
    name: str
    location_id: str | None
    nominal_voltage_v: float
    headroom_a: float
    created_at: UtcDatetime
    updated_at: UtcDatetime


class NodeIn(ApiModel):
    """A node of the tree. EVSE nodes name their station, EVSE and phase wiring; phases default
    to the wiring's (EVSE), all three (grid) or the parent's (others)."""

    id: str = Field(pattern=NODE_ID_PATTERN.pattern)
    parent_id: str | None = Field(default=None, description="null only for the grid connection")
    kind: Literal["grid", "circuit", "station", "evse"]
    name: Annotated[str, _NAME] | None = None
    phases: list[Phase] | None = Field(default=None, min_length=1, max_length=3)
    limit_a: PhaseAmps = Field(default_factory=dict, description="the limit per site phase, in amperes")
    max_power_kw: Kilowatts | None = Field(default=None, description="the limit of the total power")
    non_ev_allowance_a: PhaseAmps = Field(
        default_factory=dict, description="non-EV load counted while no live value is in force"
    )
    station_id: str | None = Field(default=None, pattern=CHARGE_POINT_ID_PATTERN.pattern)
    evse_id: int | None = Field(default=None, ge=0, le=1000)
    phase_wiring: list[Phase] | None = Field(
        default=None,
        min_length=1,
        max_length=3,
        description="site phases of its L1, L2, L3: [L2] single-phase on L2, [L2, L3, L1] rotation",
    )
    min_current_a: Amps = Field(default=0.0, description="per phase; below it the EVSE is paused at 0")
    max_current_a: Amps | None = None
    priority: Priority = Field(default=1.0, description="a weight: twice the priority, twice the share")


class NodeOut(ApiModel):
    id: str
    parent_id: str | None
    kind: str
    name: str | None
    phases: list[str]
    limit_a: dict[str, float]
    max_power_kw: float | None
    non_ev_allowance_a: dict[str, float]
    station_id: str | None
    evse_id: int | None
    phase_wiring: list[str] | None
    min_current_a: float | None
    max_current_a: float | None
    priority: float | None


class Tree(ApiModel):
    nodes: list[NodeIn] = Field(max_length=5000)


class TreeOut(ApiModel):
    nodes: list[NodeOut]


class LoadIn(ApiModel):
    values_a: PhaseAmps = Field(description="the non-EV load per site phase, in amperes")
    measured_at: AwareDatetime | None = Field(default=None, description="default: now")
    valid_for_seconds: int = Field(
        default=300, ge=1, le=86_400, description="then the allowance counts again"
    )


class LoadOut(ApiModel):
    accepted: bool = Field(description="false: a later measurement is in force already")


class PeriodIn(ApiModel):
    start: AwareDatetime
    limit_a: PhaseAmps = Field(default_factory=dict)
    max_power_kw: Kilowatts | None = None


class ScheduleIn(ApiModel):
    periods: list[PeriodIn] = Field(max_length=200)


class PeriodOut(ApiModel):
    start: UtcDatetime
    limit_a: dict[str, float]
    max_power_kw: float | None


class ScheduleOut(ApiModel):
    node_id: str
    periods: list[PeriodOut]
    set_at: UtcDatetime


class EvseAllocationOut(ApiModel):
    station_id: str
    evse_id: int
    node_id: str
    phases: list[str]
    limit_a: float = Field(description="per phase it uses; 0: paused or idle")
    demand_a: float
    active: bool
    controlled: bool = Field(description="false: counted at its maximum (offline, profile rejected)")
    paused: bool


class NodeAllocationOut(ApiModel):
    node_id: str
    limit_a: dict[str, float | None] = Field(description="in force, per phase (null: not limited)")
    allocated_a: dict[str, float] = Field(description="EVSE limits below it plus its non-EV load, per phase")
    non_ev_a: dict[str, float]
    max_power_kw: float | None
    allocated_kw: float
    overloaded: bool = Field(description="what cannot be controlled below it exceeds a limit")


class StepOut(ApiModel):
    station_id: str
    evse_id: int
    limit_a: float
    limit_w: float
    number_phases: int
    previous_a: float | None
    direction: str
    unit: str = Field(description="the unit the station takes: A, else W")


class OutcomeOut(ApiModel):
    station_id: str
    evse_id: int
    direction: str | None
    status: str = Field(description="sent, accepted, rejected, failed, timed_out")
    command_id: str | None = Field(description="the set-charging-profile command (GET .../commands/{id})")
    limit: float | None = Field(description="as sent, in unit")
    unit: str | None = Field(description="A (per phase) or W")
    reason: str | None


class AllocationOut(ApiModel):
    id: int
    site_id: str
    computed_at: UtcDatetime
    cause: str
    evses: list[EvseAllocationOut]
    nodes: list[NodeAllocationOut]
    plan: list[StepOut] = Field(description="in the order sent: decreases first, then increases")
    outcomes: list[OutcomeOut] = Field(
        description="each step's charging profile as submitted and answered; increases are submitted "
        "once every decrease was accepted"
    )


def _sites() -> SiteService:
    return services(router).sites


def _site_out(site: Site) -> SiteOut:
    return SiteOut.model_validate(site)


def _amps(values: dict[Phase, float]) -> dict[str, float]:
    return {str(phase): amps for phase, amps in values.items()}


def _node_out(node: LoadNode) -> NodeOut:
    evse = node.evse
    return NodeOut(
        id=node.id,
        parent_id=node.parent_id,
        kind=node.kind.value,
        name=node.name,
        phases=list(node.phases),
        limit_a=dict(node.limit_a),
        max_power_kw=node.max_power_kw,
        non_ev_allowance_a=dict(node.non_ev_allowance_a),
        station_id=evse.station_id if evse else node.station_id,
        evse_id=evse.evse_id if evse else None,
        phase_wiring=list(evse.phases) if evse else None,
        min_current_a=evse.min_current_a if evse else None,
        max_current_a=evse.max_current_a if evse else None,
        priority=evse.priority if evse else None,
    )


def _node(body: NodeIn) -> LoadNode:
    kind = NodeKind(body.kind)
    evse = None
    if kind is NodeKind.EVSE and body.station_id and body.evse_id is not None and body.phase_wiring:
        if body.max_current_a is None:
            raise InvalidInput(f"nodes.{body.id}.maxCurrentA: an EVSE node has a maximum current")
        evse = EvseWiring(
            station_id=body.station_id,
            evse_id=body.evse_id,
            phases=tuple(body.phase_wiring),
            min_current_a=body.min_current_a,
            max_current_a=body.max_current_a,
            priority=body.priority,
        )
    return LoadNode(
        id=body.id,
        kind=kind,
        parent_id=body.parent_id,
        phases=tuple(body.phases or ()),
        name=body.name,
        limit_a=_amps(body.limit_a),
        max_power_kw=body.max_power_kw,
        non_ev_allowance_a=_amps(body.non_ev_allowance_a),
        station_id=body.station_id if kind is not NodeKind.EVSE else None,
        evse=evse,
    )


def _tree(nodes: list[LoadNode]) -> TreeOut:
    return TreeOut(nodes=[_node_out(n) for n in nodes])


def _schedule_out(schedule: LimitSchedule) -> ScheduleOut:
    return ScheduleOut(
        node_id=schedule.node_id,
        periods=[
            PeriodOut(start=p.start, limit_a=dict(p.limit_a), max_power_kw=p.max_power_kw)
            for p in schedule.periods
        ],
        set_at=schedule.set_at,
    )


def allocation_out(recorded: RecordedAllocation) -> AllocationOut:
    return AllocationOut(
        id=recorded.id,
        site_id=recorded.site_id,
        computed_at=recorded.computed_at,
        cause=recorded.cause,
        evses=[EvseAllocationOut.model_validate(e) for e in recorded.allocation.evses],
        nodes=[NodeAllocationOut.model_validate(n) for n in recorded.allocation.nodes],
        plan=[StepOut.model_validate(s) for s in recorded.plan.steps],
        outcomes=[OutcomeOut.model_validate(o) for o in recorded.outcomes],
    )


def _site_fields(body: SiteCreate | SiteUpdate) -> dict[str, Any]:
    return {name: getattr(body, name) for name in body.model_fields_set if name != "id"}


# --- sites ------------------------------------------------------------------------------------


@router.post(
    "/sites",
    summary="Create a site (load management)",
    tags=TAG,
    responses={
        201: {
            "description": "created; the Location header is its URL",
            "headers": {"Location": {"description": "the new site's URL", "schema": {"type": "string"}}},
        },
        **error_responses(401, 403, 409, 422, 503),
    },
)
def create_site(body: Annotated[SiteCreate, Body()]) -> Response[SiteOut]:
    scope = caller(router, Role.ADMIN).scope
    site = _sites().create(scope, body.id, _site_fields(body))
    return Response(
        status_code=201,
        content_type="application/json",
        body=_site_out(site),
        headers={"Location": f"{API_PREFIX}/sites/{site.id}"},
    )


@router.get(
    "/sites",
    summary="List sites",
    tags=TAG,
    responses={200: {"description": "one page of sites"}, **error_responses(401, 422, 503)},
)
def list_sites(limit: Limit = 50, offset: Offset = 0) -> Page[SiteOut]:
    scope = caller(router).scope
    sites, total = _sites().search(scope, limit, offset)
    return Page[SiteOut](items=[_site_out(s) for s in sites], total=total, limit=limit, offset=offset)


@router.get(
    "/sites/<siteId>",
    summary="Get a site",
    tags=TAG,
    responses={200: {"description": "the site"}, **error_responses(401, 404, 422, 503)},
)
def get_site(siteId: SiteId) -> SiteOut:
    return _site_out(_sites().get(caller(router).scope, siteId))


@router.patch(
    "/sites/<siteId>",
    summary="Update a site",
    tags=TAG,
    responses={200: {"description": "the updated site"}, **error_responses(401, 403, 404, 409, 422, 503)},
)
def update_site(siteId: SiteId, body: Annotated[SiteUpdate, Body()]) -> SiteOut:
    scope = caller(router, Role.ADMIN).scope
    return _site_out(_sites().update(scope, siteId, _site_fields(body)))


@router.delete(
    "/sites/<siteId>",
    summary="Delete a site with its tree and allocations",
    tags=TAG,
    responses={204: {"description": "deleted", "content": {}}, **error_responses(401, 403, 404, 422, 503)},
)
def delete_site(siteId: SiteId) -> Response[None]:
    _sites().delete(caller(router, Role.ADMIN).scope, siteId)
    return Response(status_code=204)


# --- the tree ---------------------------------------------------------------------------------


@router.get(
    "/sites/<siteId>/nodes",
    summary="The site's electrical tree",
    tags=TAG,
    responses={200: {"description": "every node, by id"}, **error_responses(401, 404, 422, 503)},
)
def get_tree(siteId: SiteId) -> TreeOut:
    return _tree(_sites().nodes(caller(router).scope, siteId))


@router.put(
    "/sites/<siteId>/nodes",
    summary="Replace the site's electrical tree",
    description="Validated whole: one grid node at the root, every other under an existing parent, no "
    "cycles, a child's phases among its parent's, limits positive, an EVSE in one node of one site. "
    "Nodes that stay keep their live load and limit schedule. An empty list clears the tree.",
    tags=TAG,
    responses={200: {"description": "the tree"}, **error_responses(401, 403, 404, 409, 422, 503)},
)
def replace_tree(siteId: SiteId, body: Annotated[Tree, Body()]) -> TreeOut:
    scope = caller(router, Role.ADMIN).scope
    return _tree(_sites().replace_tree(scope, siteId, [_node(n) for n in body.nodes]))


@router.post(
    "/sites/<siteId>/nodes",
    summary="Add a node to the site's tree",
    tags=TAG,
    responses={201: {"description": "the node"}, **error_responses(401, 403, 404, 409, 422, 503)},
)
def add_node(siteId: SiteId, body: Annotated[NodeIn, Body()]) -> Response[NodeOut]:
    scope = caller(router, Role.ADMIN).scope
    service = _sites()
    if any(n.id == body.id for n in service.nodes(scope, siteId)):
        raise AlreadyExists(f"a node {body.id!r} exists already (PUT .../nodes/{body.id} replaces it)")
    node, _ = service.put_node(scope, siteId, _node(body))
    return Response(status_code=201, content_type="application/json", body=_node_out(node))


@router.get(
    "/sites/<siteId>/nodes/<nodeId>",
    summary="One node of the tree",
    tags=TAG,
    responses={200: {"description": "the node"}, **error_responses(401, 404, 422, 503)},
)
def get_node(siteId: SiteId, nodeId: NodeId) -> NodeOut:
    return _node_out(_sites().node(caller(router).scope, siteId, nodeId))


@router.put(
    "/sites/<siteId>/nodes/<nodeId>",
    summary="Replace (or add) one node of the tree",
    tags=TAG,
    responses={200: {"description": "the node"}, **error_responses(401, 403, 404, 409, 422, 503)},
)
def put_node(siteId: SiteId, nodeId: NodeId, body: Annotated[NodeIn, Body()]) -> NodeOut:
    scope = caller(router, Role.ADMIN).scope
    if body.id != nodeId:
        raise InvalidInput(f"id: {body.id!r} is not the node of the path ({nodeId!r})")
    node, _ = _sites().put_node(scope, siteId, _node(body))
    return _node_out(node)


@router.delete(
    "/sites/<siteId>/nodes/<nodeId>",
    summary="Delete a node (one without children)",
    tags=TAG,
    responses={
        204: {"description": "deleted", "content": {}},
        **error_responses(401, 403, 404, 409, 422, 503),
    },
)
def delete_node(siteId: SiteId, nodeId: NodeId) -> Response[None]:
    _sites().delete_node(caller(router, Role.ADMIN).scope, siteId, nodeId)
    return Response(status_code=204)


# --- what energy managers post ------------------------------------------------------------------


@router.post(
    "/sites/<siteId>/nodes/<nodeId>/load",
    summary="Post the node's live non-EV load (energy manager)",
    description="Counts until measuredAt + validForSeconds; then the node's fixed allowance counts again. "
    "An older measurement than the one in force changes nothing (accepted: false).",
    tags=TAG,
    responses={200: {"description": "whether it is in force"}, **error_responses(401, 403, 404, 422, 503)},
)
def post_load(siteId: SiteId, nodeId: NodeId, body: Annotated[LoadIn, Body()]) -> LoadOut:
    scope = caller(router, Role.OPERATOR).scope
    accepted = _sites().post_load(
        scope,
        siteId,
        nodeId,
        _amps(body.values_a),
        body.measured_at,
        timedelta(seconds=body.valid_for_seconds),
    )
    return LoadOut(accepted=accepted)


@router.get(
    "/sites/<siteId>/nodes/<nodeId>/limit-schedule",
    summary="The node's limit schedule",
    tags=TAG,
    responses={200: {"description": "the schedule"}, **error_responses(401, 404, 422, 503)},
)
def get_schedule(siteId: SiteId, nodeId: NodeId) -> ScheduleOut:
    return _schedule_out(_sites().schedule(caller(router).scope, siteId, nodeId))


@router.put(
    "/sites/<siteId>/nodes/<nodeId>/limit-schedule",
    summary="Set the node's limit schedule (energy manager)",
    description="Each period lowers the node's limits from its start until the next period; a schedule "
    "never raises a limit above the node's own.",
    tags=TAG,
    responses={200: {"description": "the schedule"}, **error_responses(401, 403, 404, 422, 503)},
)
def set_schedule(siteId: SiteId, nodeId: NodeId, body: Annotated[ScheduleIn, Body()]) -> ScheduleOut:
    scope = caller(router, Role.OPERATOR).scope
    periods = [LimitPeriod(p.start, _amps(p.limit_a), p.max_power_kw) for p in body.periods]
    return _schedule_out(_sites().set_schedule(scope, siteId, nodeId, periods))


@router.delete(
    "/sites/<siteId>/nodes/<nodeId>/limit-schedule",
    summary="Clear the node's limit schedule",
    tags=TAG,
    responses={204: {"description": "cleared", "content": {}}, **error_responses(401, 403, 404, 422, 503)},
)
def clear_schedule(siteId: SiteId, nodeId: NodeId) -> Response[None]:
    _sites().clear_schedule(caller(router, Role.OPERATOR).scope, siteId, nodeId)
    return Response(status_code=204)


# --- the allocation ---------------------------------------------------------------------------


@router.post(
    "/sites/<siteId>/allocation",
    summary="Reallocate the site now",
    description="Computes, records and applies the site's allocation at once (the load-allocation job "
    "does it every minute; a change of the tree, a live load or a limit schedule does it too).",
    tags=TAG,
    responses={200: {"description": "the new allocation"}, **error_responses(401, 403, 404, 422, 503)},
)
def reallocate(siteId: SiteId) -> AllocationOut:
    scope = caller(router, Role.OPERATOR).scope
    api = services(router)
    return allocation_out(api.load_management.reallocate(scope, siteId, api.clock.now(), "Requested"))


@router.get(
    "/sites/<siteId>/allocation",
    summary="The site's current allocation",
    description="Per EVSE its limit; per node its allocated amperes per phase against its limit in force; "
    "the plan of limits (decreases first, increases once every decrease was accepted) and each "
    "step's outcome: the charging profile sent through the command pipeline and its answer.",
    tags=TAG,
    responses={200: {"description": "the latest allocation"}, **error_responses(401, 404, 422, 503)},
)
def get_allocation(siteId: SiteId) -> AllocationOut:
    return allocation_out(_sites().allocation(caller(router).scope, siteId))

"""The live event feed: the caller's tenant's domain events, as a long poll or server-sent events.

``GET /events`` reads the ``domain_events`` table (:class:`csms.services.event_feed.EventFeedService`), the
same events the EventBridge bus carries, each with its feed position ``sequence``. A client
keeps a cursor: it passes the last ``cursor`` it received as ``after`` and gets what came
since, oldest first. Without ``after`` the feed starts at the tenant's current head (only new
events); ``after=0`` replays everything still retained (``events_retention_days``). Delivery
is at least once: a client that loses an answer asks again from its old cursor and sees those
events again, so it deduplicates on the event ``id``.

The operator API sits behind API Gateway REST: 29 s per request, responses buffered, no
streaming. So "live" is a long poll: with ``wait=N`` a request that finds nothing polls the
table with growing pauses (0.1 s, doubling, at most 2 s: :mod:`csms.api.polling`) until an
event arrives or N seconds pass (capped by
``feed_max_wait_seconds``). With ``Accept: text/event-stream`` the same batch is rendered as
server-sent events (``id`` = sequence, ``event`` = type, ``data`` = the envelope, and a
``retry`` hint): an EventSource-style client reconnects when the answer ends and resumes with
``Last-Event-ID``. The gateway delivers the answer when the request ends: a long poll ends as
soon as it finds events, so they reach the client within a poll interval plus its reconnection
delay (about a second or two), as a batch rather than one by one; an idle poll ends after
``wait`` seconds with nothing.

Cost: a long poll holds one Lambda instance, and one unit of the account's concurrency, for
up to ``wait`` seconds while it mostly sleeps (15 indexed queries in 20 s). A dashboard left
open with ``wait=20`` keeps an instance busy around the clock: at 512 MB that is 30 GB-s a
minute, roughly ten times what polling with ``wait=0`` every 5 s costs (which answers up to
5 s late and makes four times the requests). Watchers also take concurrency from the
functions that serve chargers. For more than a handful, subscribe to the EventBridge bus
(``docs/events.md``), or lower ``feed_max_wait_seconds``. See docs/events-feed.md.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Final

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import AfterValidator, Field, WithJsonSchema

from csms.api import polling
from csms.api.auth import caller
from csms.api.common import ApiModel, error_responses
from csms.api.context import services
from csms.domain.events import CATALOGUE, StoredEvent
from csms.domain.stations import CHARGE_POINT_ID_PATTERN

router = APIGatewayRouter()
TAG = ["events"]

#: Longest ``wait`` a request may ask for; ``feed_max_wait_seconds`` caps it per deployment.
MAX_WAIT_SECONDS: Final = 25
#: What a long poll leaves of the function's remaining time for answering.
RESPONSE_MARGIN_SECONDS: Final = 3.0
#: Reconnection delay suggested to EventSource clients (the SSE ``retry`` field).
SSE_RETRY_MILLISECONDS: Final = 1000
SSE: Final = "text/event-stream"
#: Largest cursor accepted: the largest integer a JavaScript client holds exactly (and far
#: beyond any sequence the table will reach).
MAX_CURSOR: Final = 2**53 - 1

_TYPES = "|".join(sorted(CATALOGUE))
TYPE_LIST_PATTERN: Final = f"^({_TYPES})(,({_TYPES}))*$"


def _known_types(value: str) -> str:
    unknown = [name for name in value.split(",") if name not in CATALOGUE]
    if unknown:
        known = ", ".join(sorted(CATALOGUE))
        raise ValueError(f"unknown event type {unknown[0]!r}; the catalogue has {known}")
    return value


#: One ``type`` value: an event type, or several separated by commas.
TypeList = Annotated[
    str,
    AfterValidator(_known_types),
    WithJsonSchema({"type": "string", "pattern": TYPE_LIST_PATTERN}),
]


class EventOut(ApiModel):
    """One domain event: the envelope EventBridge carries, with its feed position."""

    id: str = Field(description="unique per event (UUID): deduplicate on it")
    type: str = Field(description="the event type (docs/events.md); ignore types you do not know")
    version: int = Field(ge=1, description="version of the type's data schema")
    tenant_id: str
    station_id: str | None = Field(description="the charging station")
    occurred_at: str = Field(json_schema_extra={"format": "date-time"}, description="ISO 8601 UTC")
    correlation_id: str = Field(description="ties together the events one cause produced")
    sequence: int = Field(
        ge=1,
        description="feed position; resume after the last item received by passing its sequence as after",
    )
    data: dict[str, Any] = Field(description="the type's data (docs/events.md)")


class EventFeed(ApiModel):
    """A batch of events, oldest first, and where to continue."""

    items: list[EventOut]
    cursor: int = Field(
        ge=0,
        description="pass as `after` next time: the last item's sequence; when there are no items, the "
        "cursor you sent (or the head when you sent none), possibly moved past events your filters "
        "excluded",
    )


_FEED_DESCRIPTION = f"""\
The caller's tenant's domain events after the cursor `after`, oldest first (every role may read).

- Without `after` (and without `Last-Event-ID`) the feed starts at the tenant's current head: only
  events that come later. `after=0` replays everything retained. `Last-Event-ID`, which an
  EventSource client sends when it reconnects, takes precedence over `after`.
- `wait=N`: when no event is there yet, wait for one for up to N seconds (capped by the
  deployment's `feed_max_wait_seconds`, 20 by default) and answer as soon as one arrives.
- JSON (default): `{{"items": [...], "cursor": N}}`; pass `cursor` as `after` next time.
- `Accept: text/event-stream`: the same batch as server-sent events, one message per event
  (`id:` sequence, `event:` type, `data:` the event as JSON) plus `retry: {SSE_RETRY_MILLISECONDS}`;
  with no events a comment line and `id:` with the cursor (so a reconnecting client resumes there).
  API Gateway buffers answers: a batch arrives when the request ends, which a long poll does as
  soon as it finds events (it looks again after 0.1 s, then twice as long each time, at most 2 s
  apart); the client then reconnects
  for the next batch.

Delivery is at least once (deduplicate on `id`); events of a transaction that is still running are
served once it commits, never skipped. See docs/events-feed.md.
"""


@router.get(
    "/events",
    summary="The live event feed (long poll, or server-sent events)",
    description=_FEED_DESCRIPTION,
    tags=TAG,
    responses={
        200: {
            "description": "the events after the cursor (possibly none after waiting)",
            "content": {
                "application/json": {"model": EventFeed},
                SSE: {
                    "schema": {
                        "type": "string",
                        "description": "server-sent events: `retry:`, then per event `id:` (sequence), "
                        "`event:` (type) and `data:` (the event as JSON, one line)",
                    }
                },
            },
        },
        **error_responses(401, 422, 503),
    },
)
def feed(
    after: Annotated[
        int | None,
        Query(
            ge=0,
            le=MAX_CURSOR,
            description="cursor: the events after the one with this sequence (0 = all retained)",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="most events per answer (1-500)")] = 100,
    wait: Annotated[
        float,
        Query(ge=0, le=MAX_WAIT_SECONDS, description="seconds to wait for an event when there is none yet"),
    ] = 0,
    type: Annotated[
        list[TypeList] | None,
        Query(description="only these event types (repeat the parameter or separate with commas)"),
    ] = None,
    stationId: Annotated[
        str | None,
        Query(pattern=CHARGE_POINT_ID_PATTERN.pattern, description="only events of this station"),
    ] = None,
    last_event_id: Annotated[
        int | None,
        Header(
            alias="Last-Event-ID",
            ge=0,
            le=MAX_CURSOR,
            description="the last sequence an EventSource client received; takes precedence over after",
        ),
        # (a header is absent or a number: not the `null` an optional parameter's schema allows)
        WithJsonSchema({"type": "integer", "minimum": 0, "maximum": MAX_CURSOR}),
    ] = None,
) -> Response[Any]:
    scope = caller(router).scope
    events = services(router).events
    types = tuple(sorted({name for value in type or () for name in value.split(",")}))
    stream = _wants_sse(router.current_event.headers)
    wait = min(wait, float(events.max_wait_seconds), _time_left(router.lambda_context))
    start = last_event_id if last_event_id is not None else after
    cursor = events.head(scope) if start is None else start

    found: list[StoredEvent] = []

    def arrived() -> bool:
        nonlocal cursor, found
        # With filters, remember the head before reading: if nothing matches, the cursor can
        # move past what did not match (the next request does not read it again).
        head = events.head(scope) if types or stationId else None
        found = events.read(scope, cursor, limit, types=types, charge_point_id=stationId)
        if found:
            cursor = found[-1].sequence
            return True
        if head:
            cursor = head  # (in feed order the head is at or past the cursor)
        return False

    # Asks again after 0.1 s, then twice as long each time, at most 2 s apart (polling.py).
    polling.wait_until(arrived, wait)

    headers = {"Cache-Control": "no-store"}
    if stream:
        return Response(200, content_type=SSE, body=render_sse(found, cursor, wait), headers=headers)
    body = json.dumps({"items": [s.event.envelope(s.sequence) for s in found], "cursor": cursor})
    return Response(200, content_type="application/json", body=body, headers=headers)


def _wants_sse(headers: dict[str, str]) -> bool:
    """Whether Accept prefers server-sent events to JSON (equal weights: server-sent events)."""
    accept = next((v for k, v in headers.items() if k.lower() == "accept"), "")
    weights: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (p.strip().lower() for p in part.split(";"))
        quality = 1.0
        for name, _, value in (p.partition("=") for p in params):
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        weights[media] = max(quality, weights.get(media, 0.0))
    json_weight = max(weights.get(m, 0.0) for m in ("application/json", "application/*", "*/*"))
    sse_weight = weights.get(SSE, 0.0)
    return sse_weight > 0 and sse_weight >= json_weight


def _time_left(context: Any) -> float:
    """Seconds the function has left for a long poll (Lambda's own deadline)."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return float(MAX_WAIT_SECONDS)
    return max(0.0, float(remaining()) / 1000 - RESPONSE_MARGIN_SECONDS)


def render_sse(batch: list[StoredEvent], cursor: int, waited: float) -> str:
    """The batch as a server-sent events stream (one ``data`` line each: JSON has no newlines)."""
    lines = [f"retry: {SSE_RETRY_MILLISECONDS}", ""]
    for stored in batch:
        lines += [
            f"id: {stored.sequence}",
            f"event: {stored.event.type}",
            f"data: {json.dumps(stored.event.envelope(stored.sequence))}",
            "",
        ]
    if not batch:
        # A comment, so proxies see data; an id without data sets the client's Last-Event-ID
        # (a cursor moved past filtered events included) and dispatches nothing.
        lines += [f": no events within {waited:g} s", f"id: {cursor}", ""]
    return "\n".join(lines) + "\n"

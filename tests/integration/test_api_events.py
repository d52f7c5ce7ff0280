"""The live event feed (GET /api/v1/events): long poll, server-sent events, tenant scoping.

Events come from a simulated charger and, for precise control, from
:func:`csms.data.outbox.append` in a real transaction; they are read through the real local
REST API. Every tenant is fresh (``tenant()``), so tests do not see each other's events.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from ocpp.v16 import call
from sqlalchemy import text

from csms.app import wiring
from csms.data.outbox import append
from csms.domain.events import DomainEvent, new_event
from csms.local.stack import LocalStack
from tests.integration.api_client import ApiClient, Reply
from tests.integration.charger import connected

pytestmark = pytest.mark.integration
FEED = "/api/v1/events"
SSE = {"Accept": "text/event-stream"}


def tenant() -> str:
    return f"feed-{uuid.uuid4().hex[:10]}"


def connected_event(tenant_id: str, charge_point_id: str = "CP-1", n: int = 0) -> DomainEvent:
    return new_event(
        "ChargerConnected",
        tenant_id,
        charge_point_id,
        datetime.now(UTC),
        {
            "connectionId": f"conn-{n}",
            "protocol": "ocpp1.6",
            "registrationStatus": "Accepted",
            "replacedConnectionId": None,
        },
    )


def disconnected_event(tenant_id: str, charge_point_id: str = "CP-1", n: int = 0) -> DomainEvent:
    return new_event(
        "ChargerDisconnected",
        tenant_id,
        charge_point_id,
        datetime.now(UTC),
        {"connectionId": f"conn-{n}", "closeCode": 1000, "closeReason": None},
    )


def write(*events: DomainEvent) -> None:
    """Commit ``events`` in one transaction, as the services do."""
    with wiring.database().begin() as conn:
        append(conn, events)


def sequences_of(*events: DomainEvent) -> list[int]:
    with wiring.database().connect() as conn:
        found = dict(
            conn.execute(
                text("SELECT id::text, sequence FROM domain_events WHERE id::text = ANY(:ids)"),
                {"ids": [e.id for e in events]},
            ).all()
        )
    return [int(found[e.id]) for e in events]


def read(client: ApiClient, query: str = "", headers: dict[str, str] | None = None) -> Reply:
    """GET the feed with a raw query string (``type`` may repeat)."""
    return client.request("GET", f"{FEED}?{query}" if query else FEED, headers=headers)


def ok(reply: Reply) -> Any:
    assert reply.status == 200, reply.body
    return reply.body


def ids(body: dict[str, Any]) -> list[str]:
    return [item["id"] for item in body["items"]]


@dataclass
class SseStream:
    """What an EventSource would make of a text/event-stream body (HTML spec, 9.2.6)."""

    events: list[dict[str, str]] = field(default_factory=list)
    retry: int | None = None
    comments: list[str] = field(default_factory=list)
    last_event_id: str = ""


def parse_sse(body: str) -> SseStream:
    stream = SseStream()
    data: list[str] = []
    kind = ""
    id_buffer = ""
    for line in re.split(r"\r\n|\r|\n", body):
        if line == "":  # dispatch
            stream.last_event_id = id_buffer
            if data:
                stream.events.append({"id": id_buffer, "event": kind or "message", "data": "\n".join(data)})
            data, kind = [], ""
            continue
        if line.startswith(":"):
            stream.comments.append(line[1:].strip())
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name == "event":
            kind = value
        elif name == "id":
            id_buffer = value
        elif name == "retry" and value.isdigit():
            stream.retry = int(value)
    return stream


def later(seconds: float, action: Callable[[], None]) -> threading.Thread:
    """Run ``action`` in another thread after ``seconds``."""

    def run() -> None:
        time.sleep(seconds)
        action()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def long_polls(reconfigure: Callable[..., None]) -> None:
    """Allow long polls of up to 20 s (the test stack caps them at 2 s)."""
    reconfigure(CSMS_FEED_MAX_WAIT_SECONDS="20")


# --- reading ----------------------------------------------------------------------------------


def test_pages_through_the_tenants_events_with_the_cursor(api: ApiClient) -> None:
    t = tenant()
    written = [connected_event(t, n=n) if n % 2 == 0 else disconnected_event(t, n=n) for n in range(5)]
    write(*written[:3])
    write(*written[3:])
    sequences = sequences_of(*written)
    viewer = api.as_(t, "viewer")

    first = ok(read(viewer, "after=0&limit=2"))
    assert ids(first) == [e.id for e in written[:2]]
    assert first["cursor"] == sequences[1]
    second = ok(read(viewer, f"after={first['cursor']}&limit=2"))
    assert ids(second) == [e.id for e in written[2:4]]
    third = ok(read(viewer, f"after={second['cursor']}&limit=2"))
    assert ids(third) == [written[4].id]
    assert third["cursor"] == sequences[4]
    # Nothing new: no items, the cursor stays where it was
    assert ok(read(viewer, f"after={third['cursor']}")) == {"items": [], "cursor": sequences[4]}

    # Each item is the event's envelope, as EventBridge carries it, with its feed position
    everything = ok(read(viewer, "after=0"))
    assert everything["items"] == [e.envelope(s) for e, s in zip(written, sequences, strict=True)]
    assert everything["items"][0]["sequence"] < everything["items"][-1]["sequence"]


def test_without_a_cursor_the_feed_starts_at_the_head(api: ApiClient) -> None:
    t = tenant()
    viewer = api.as_(t, "viewer")
    # A tenant without events: the head is 0
    assert ok(read(viewer)) == {"items": [], "cursor": 0}

    old = [connected_event(t, n=1), disconnected_event(t, n=1)]
    write(*old)
    now = ok(read(viewer))
    assert now == {"items": [], "cursor": sequences_of(*old)[-1]}

    new = connected_event(t, n=2)
    write(new)
    assert ids(ok(read(viewer, f"after={now['cursor']}"))) == [new.id]
    # after=0: everything retained
    assert ids(ok(read(viewer, "after=0"))) == [e.id for e in [*old, new]]


def test_filters_by_type_and_charger(api: ApiClient) -> None:
    t = tenant()
    viewer = api.as_(t, "viewer")
    c1, d1 = connected_event(t, "CP-1"), disconnected_event(t, "CP-1")
    c2, d2 = connected_event(t, "CP-2"), disconnected_event(t, "CP-2")
    write(c1, d1, c2, d2)

    assert ids(ok(read(viewer, "after=0&type=ChargerConnected"))) == [c1.id, c2.id]
    both = [c1.id, d1.id, c2.id, d2.id]
    assert ids(ok(read(viewer, "after=0&type=ChargerConnected&type=ChargerDisconnected"))) == both
    assert ids(ok(read(viewer, "after=0&type=ChargerDisconnected,ChargerConnected"))) == both
    assert ids(ok(read(viewer, "after=0&stationId=CP-2"))) == [c2.id, d2.id]
    assert ids(ok(read(viewer, "after=0&stationId=CP-2&type=ChargerDisconnected"))) == [d2.id]

    # Nothing matches: the cursor moves past what did not match, and a later match is served
    nothing = ok(read(viewer, "after=0&type=ChargerWentOffline"))
    assert nothing == {"items": [], "cursor": sequences_of(d2)[0]}
    assert ok(read(viewer, "after=0&stationId=CP-3"))["items"] == []
    offline = new_event(
        "ChargerWentOffline",
        t,
        "CP-1",
        datetime.now(UTC),
        {"connectionId": "conn-0", "lastSeen": None, "reason": "silent", "heartbeatInterval": 300},
    )
    write(connected_event(t, "CP-3"), offline)
    assert ids(ok(read(viewer, f"after={nothing['cursor']}&type=ChargerWentOffline"))) == [offline.id]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("type=ChargerBooted,NoSuchEvent", "query.type.0"),
        ("type=ChargerBooted&type=chargerbooted", "query.type.1"),
        ("type=", "query.type.0"),
        ("after=-1", "query.after"),
        ("after=abc", "query.after"),
        ("limit=0", "query.limit"),
        ("limit=501", "query.limit"),
        ("wait=26", "query.wait"),
        ("wait=-1", "query.wait"),
        ("stationId=", "query.stationId"),
    ],
)
def test_an_invalid_request_is_a_422_problem(api: ApiClient, query: str, field: str) -> None:
    reply = read(api.as_(tenant(), "viewer"), query)
    assert reply.status == 422, reply.body
    assert reply.content_type == "application/problem+json"
    assert [e["field"] for e in reply.body["errors"]] == [field]
    if "NoSuchEvent" in query:
        assert "unknown event type 'NoSuchEvent'" in reply.body["detail"]


def test_an_invalid_last_event_id_is_a_422_problem(api: ApiClient) -> None:
    reply = read(api.as_(tenant(), "viewer"), headers={"Last-Event-ID": "not-a-number"})
    assert reply.status == 422, reply.body
    assert reply.content_type == "application/problem+json"
    assert reply.body["errors"][0]["field"] == "header.last-event-id"


def test_a_token_is_required(api: ApiClient) -> None:
    reply = read(api.anonymous())
    assert reply.status == 401
    assert reply.content_type == "application/problem+json"


# --- long polling -----------------------------------------------------------------------------


def test_wait_0_answers_at_once(api: ApiClient, long_polls: None) -> None:
    viewer = api.as_(tenant(), "viewer")
    started = time.monotonic()
    assert ok(read(viewer, "wait=0")) == {"items": [], "cursor": 0}
    assert time.monotonic() - started < 5  # not the 20 s a long poll may take


def test_a_long_poll_answers_as_soon_as_an_event_arrives(api: ApiClient, long_polls: None) -> None:
    t = tenant()
    viewer = api.as_(t, "viewer")
    cursor = ok(read(viewer))["cursor"]
    arriving = connected_event(t)
    writer = later(0.5, lambda: write(arriving))

    started = time.monotonic()
    body = ok(read(viewer, f"after={cursor}&wait=18"))
    elapsed = time.monotonic() - started
    writer.join()

    assert ids(body) == [arriving.id]
    assert body["cursor"] == sequences_of(arriving)[0]
    assert elapsed < 12, f"the long poll took {elapsed:.1f} s for an event written after 0.5 s"


def test_a_long_poll_ends_empty_after_the_deployments_longest_wait(api: ApiClient) -> None:
    viewer = api.as_(tenant(), "viewer")
    started = time.monotonic()
    # The test stack allows 2 s (CSMS_FEED_MAX_WAIT_SECONDS); the request asks for 25
    assert ok(read(viewer, "wait=25")) == {"items": [], "cursor": 0}
    elapsed = time.monotonic() - started
    assert 1.9 <= elapsed < 15


def test_a_long_poll_holds_up_no_other_request(api: ApiClient, long_polls: None) -> None:
    """The local API serves requests concurrently, each with its own caller: a waiting long poll
    of tenant A neither blocks tenant B's requests nor gets their answers or tenant."""
    a, b = tenant(), tenant()
    a_viewer, b_viewer = api.as_(a, "viewer"), api.as_(b, "viewer")
    b_event = connected_event(b, "B-CP")
    write(b_event)
    results: dict[str, Any] = {}
    polls = [
        threading.Thread(target=lambda n=n: results.__setitem__(n, read(a_viewer, "wait=18")), daemon=True)
        for n in range(8)
    ]
    for poll in polls:
        poll.start()
    time.sleep(0.5)

    started = time.monotonic()
    for _ in range(5):
        assert ids(ok(read(b_viewer, "after=0"))) == [b_event.id]
        assert ok(b_viewer.get("/api/v1/stations"))["total"] == 0
    assert time.monotonic() - started < 10
    assert all(poll.is_alive() for poll in polls), "the long polls ended before an event arrived"

    a_event = connected_event(a, "A-CP")
    write(a_event)
    for poll in polls:
        poll.join(timeout=20)
    assert [ids(ok(results[n])) for n in range(8)] == [[a_event.id]] * 8


# --- server-sent events -----------------------------------------------------------------------


def test_server_sent_events_carry_id_type_and_envelope(api: ApiClient) -> None:
    t = tenant()
    viewer = api.as_(t, "viewer")
    written = [connected_event(t, n=1), disconnected_event(t, n=1)]
    write(*written)
    sequences = sequences_of(*written)

    reply = read(viewer, "after=0", headers=SSE)
    assert reply.status == 200
    assert reply.content_type == "text/event-stream"
    stream = parse_sse(reply.body)
    assert stream.retry == 1000
    assert [(e["id"], e["event"]) for e in stream.events] == [
        (str(s), e.type) for e, s in zip(written, sequences, strict=True)
    ]
    assert [json.loads(e["data"]) for e in stream.events] == [
        e.envelope(s) for e, s in zip(written, sequences, strict=True)
    ]
    assert stream.last_event_id == str(sequences[-1])

    # Nothing new: a comment for proxies, and the cursor as the id to resume from
    empty = parse_sse(read(viewer, f"after={sequences[-1]}", headers=SSE).body)
    assert empty.events == []
    assert empty.comments
    assert empty.last_event_id == str(sequences[-1])
    # Also when the client starts without a cursor: it resumes at the head it was given
    assert parse_sse(read(viewer, headers=SSE).body).last_event_id == str(sequences[-1])

    # Accept with weights: server-sent events unless JSON is preferred
    for accept, expected in (
        ("text/event-stream, application/json", "text/event-stream"),
        ("text/event-stream;q=0.5, application/json;q=0.4", "text/event-stream"),
        ("application/json, text/event-stream;q=0.5", "application/json"),
        ("text/event-stream;q=0, application/json", "application/json"),
        ("*/*", "application/json"),
    ):
        assert read(viewer, headers={"Accept": accept}).content_type == expected, accept


def test_an_eventsource_resumes_with_last_event_id(api: ApiClient) -> None:
    t = tenant()
    viewer = api.as_(t, "viewer")
    written = [connected_event(t, n=n) for n in range(4)]
    write(*written)
    sequences = sequences_of(*written)

    # The client opened the stream with ?after=0 and got the first two events...
    first = parse_sse(read(viewer, "after=0&limit=2", headers=SSE).body)
    assert [e["id"] for e in first.events] == [str(s) for s in sequences[:2]]
    # ...then reconnects to the same URL with the last id it saw: the header wins
    resumed = parse_sse(
        read(viewer, "after=0&limit=2", headers={**SSE, "Last-Event-ID": first.last_event_id}).body
    )
    assert [e["id"] for e in resumed.events] == [str(s) for s in sequences[2:]]
    # Last-Event-ID in a JSON request too
    body = ok(read(viewer, headers={"Last-Event-ID": str(sequences[2])}))
    assert ids(body) == [written[3].id]


# --- tenant scoping ---------------------------------------------------------------------------


def test_a_tenant_never_sees_another_tenants_events(api: ApiClient) -> None:
    a, b = tenant(), tenant()
    a_events = [connected_event(a, "A-CP", n) for n in range(3)]
    b_events = [connected_event(b, "B-CP", n) for n in range(2)]
    write(a_events[0], b_events[0], a_events[1])
    write(b_events[1], a_events[2])
    a_sequences = sequences_of(*a_events)
    b_admin = api.as_(b, "admin")

    assert ids(ok(read(b_admin, "after=0"))) == [e.id for e in b_events]
    # Cursors taken from A's events show nothing of A's either
    for sequence in a_sequences:
        for query, headers in (
            (f"after={sequence - 1}", {}),
            ("", {"Last-Event-ID": str(sequence - 1)}),
            (f"after={sequence - 1}", SSE),
        ):
            reply = read(b_admin, query, headers=headers)
            assert reply.status == 200
            assert a not in json.dumps(reply.body)
            assert "A-CP" not in json.dumps(reply.body)
    assert ok(read(b_admin, "after=0&stationId=A-CP"))["items"] == []
    assert ok(read(b_admin, "after=0&type=ChargerConnected&stationId=A-CP"))["items"] == []
    # B's head is B's own latest event
    assert ok(read(b_admin))["cursor"] == sequences_of(b_events[1])[0]
    # And A sees only A's
    assert ids(ok(read(api.as_(a, "viewer"), "after=0"))) == [e.id for e in a_events]
    # A cursor past A's last event (B's latest, or made up) serves nothing, not A's history
    a_viewer = api.as_(a, "viewer")
    later_b = connected_event(b, "B-CP", 9)
    write(later_b)
    assert ok(read(a_viewer, f"after={sequences_of(later_b)[0]}"))["items"] == []
    assert ok(read(a_viewer, f"after={2**40}"))["items"] == []


# --- transactions in flight -------------------------------------------------------------------


def test_an_event_of_a_transaction_still_running_is_not_skipped(api: ApiClient) -> None:
    """The first transaction appends (lower sequence) and stays open; a second one commits a
    later event. Serving the later one would move the reader's cursor past the first for good:
    the feed holds both back until the first commits, then serves them in order."""
    t = tenant()
    viewer = api.as_(t, "viewer")
    cursor = ok(read(viewer))["cursor"]
    slow, fast = connected_event(t, n=1), disconnected_event(t, n=1)

    with wiring.database().begin() as first:
        append(first, [slow])
        write(fast)
        assert sequences_of(fast)[0] > cursor
        held = ok(read(viewer, f"after={cursor}"))
        assert held == {"items": [], "cursor": cursor}
        assert ok(read(viewer))["cursor"] == cursor  # nor does the head move past it
    body = ok(read(viewer, f"after={cursor}"))
    assert ids(body) == [slow.id, fast.id]
    assert [item["sequence"] for item in body["items"]] == sorted(item["sequence"] for item in body["items"])


def test_an_event_is_not_skipped_when_its_transaction_started_writing_later(api: ApiClient) -> None:
    """As with two chargers' frames at once: transaction 1 writes (say, the charger's row),
    transaction 2 appends its event, transaction 1 appends its own (a higher sequence) and
    commits first. A reader that follows the cursors gets both."""
    t = tenant()
    viewer = api.as_(t, "viewer")
    cursor = ok(read(viewer))["cursor"]
    early, late = connected_event(t, n=1), disconnected_event(t, n=1)
    engine = wiring.database().engine
    with engine.connect() as first, engine.connect() as second:
        first.begin()
        first.execute(text("SELECT pg_current_xact_id()"))  # its transaction id comes first
        second.begin()
        append(second, [early])
        append(first, [late])
        first.commit()
        # A reader now, while the second transaction is still open...
        body = ok(read(viewer, f"after={cursor}"))
        seen = ids(body)
        second.commit()
    # ...and once it committed, from the cursor it was given
    seen += ids(ok(read(viewer, f"after={body['cursor']}")))
    assert sorted(seen) == sorted([early.id, late.id])


# --- events of a real charger -----------------------------------------------------------------


async def test_a_dashboard_follows_a_charger_booting(api: ApiClient, stack: LocalStack) -> None:
    t = tenant()
    admin, viewer = api.as_(t, "admin"), api.as_(t, "viewer")
    charger = f"FEED-{uuid.uuid4().hex[:6].upper()}"
    station = {"id": charger, "securityProfile": 0}
    assert (await asyncio.to_thread(admin.post, "/api/v1/stations", station)).status == 201
    start = ok(await asyncio.to_thread(read, viewer))["cursor"]

    async with connected(stack, charger) as cp:
        await cp.call(call.BootNotification(charge_point_model="M", charge_point_vendor="Feed"))
        seen: list[dict[str, Any]] = []
        cursor = start
        deadline = time.monotonic() + 20
        while {"ChargerConnected", "ChargerBooted"} - {e["type"] for e in seen}:
            assert time.monotonic() < deadline, f"only {[e['type'] for e in seen]} arrived"
            body = ok(await asyncio.to_thread(read, viewer, urlencode({"after": cursor, "wait": 2})))
            seen += body["items"]
            cursor = body["cursor"]

    assert {e["tenantId"] for e in seen} == {t}
    assert {e["stationId"] for e in seen} == {charger}
    booted = next(e for e in seen if e["type"] == "ChargerBooted")
    assert booted["data"]["vendor"] == "Feed"
    assert [e["sequence"] for e in seen] == sorted(e["sequence"] for e in seen)


def test_concurrent_requests_keep_their_callers(api: ApiClient) -> None:
    """Many requests of different tenants at once: each answer is its caller's."""
    tenants = [tenant() for _ in range(6)]
    events = {t: connected_event(t, f"CP-{t}") for t in tenants}
    write(*events.values())
    wrong: list[str] = []

    def hammer(t: str) -> None:
        client = api.as_(t, "viewer")
        for n in range(15):
            query = "after=0" if n % 2 else "after=0&type=ChargerConnected&limit=5"
            reply = read(client, query)
            if reply.status != 200 or ids(reply.body) != [events[t].id]:
                wrong.append(f"{t}: {reply.status} {str(reply.body)[:200]}")

    threads = [threading.Thread(target=hammer, args=(t,)) for t in tenants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert wrong == []

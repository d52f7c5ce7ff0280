"""$default: every frame a charger sends.

Always returns 200 to API Gateway: the answer to the charger goes through @connections,
and nothing (not even a failing database) may surface as a non-OCPP frame.
"""

from __future__ import annotations

import base64
import binascii
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from time import perf_counter
from typing import Any

from csms.clock import Clock, SystemClock
from csms.domain.connections import ConnectionStore, FrameSender
from csms.domain.stations import ChargerContext
from csms.errors import ConnectionGone
from csms.observability import bind_invocation, reset_invocation
from csms.ocppj import frames
from csms.ocppj.dispatcher import Dispatcher
from csms.ocppj.errors import RpcErrorKind
from csms.services.frame_limits import FrameLimiter, FrameVerdict

log = logging.getLogger(__name__)
OK = {"statusCode": 200}


@dataclass(frozen=True, slots=True)
class MessageDeps:
    connections: ConnectionStore
    #: The dispatcher of a negotiated subprotocol (``ocpp1.6``, ``ocpp2.0.1``).
    dispatchers: Callable[[str], Dispatcher[Any]]
    sender: Callable[[dict[str, Any]], FrameSender]
    clock: Clock
    #: Publishes the domain events the frame's transactions committed (after the answer).
    flush_events: Callable[[], None] = lambda: None
    #: Share of routine frames that get their log line (``Settings.frame_log_sample_rate``).
    log_sample_rate: float = 1.0
    #: Draws the sample (``random.random``; tests pin it).
    draw: Callable[[], float] = random.random
    #: Frames per station (None: unlimited, unit tests).
    frames: FrameLimiter | None = None
    #: Counts a metric (csms.observability.add_count).
    count: Callable[[str, int], None] = lambda name, value: None
    #: Sends the commands that waited for the station to connect (its first frame on a new
    #: connection was answered): csms.app.wiring.deliver_waiting_commands.
    deliver_waiting: Callable[[str], None] = lambda charge_point_id: None


#: Outcomes of a frame that went as expected: sampled in the logs. Anything else (a CALLERROR
#: we answered, a frame we ignored, an answer we could not deliver) is always logged.
ROUTINE_RESULTS = frozenset({"CallResult", "answered"})
ROUTINE_DELIVERIES = frozenset({"sent", "none"})


def default_deps() -> MessageDeps:
    from csms.app import wiring
    from csms.observability import add_count

    return MessageDeps(
        wiring.connections(),
        wiring.dispatcher,
        wiring.sender,
        SystemClock(),
        wiring.flush_events,
        wiring.settings().frame_log_sample_rate,
        frames=wiring.frame_limiter(),
        count=add_count,
        deliver_waiting=wiring.deliver_waiting_commands,
    )


def _body(event: dict[str, Any]) -> str:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        # OCPP-J uses text frames only; decode binary ones anyway and let parsing judge.
        try:
            return base64.b64decode(body).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return ""
    return str(body)


def handle(event: dict[str, Any], context: Any, deps: MessageDeps | None = None) -> dict[str, Any]:
    """Answer one inbound frame. Never raises."""
    started = perf_counter()
    reset_invocation()
    connection_id = str(event.get("requestContext", {}).get("connectionId", ""))
    text = _body(event)
    try:
        deps = deps or default_deps()
        now = deps.clock.now()
        record = deps.connections.touch(connection_id, now)
    except Exception:
        log.exception("cannot look up the connection", extra={"connection_id": connection_id})
        _answer_unattributed(event, deps, connection_id, text, "temporarily unable to process, retry later")
        return OK
    if record is None:
        # The connection record is gone (expired or lost): we cannot tell who is speaking.
        # Answer, then close, so the charger reconnects and registers afresh.
        log.warning("frame on an unregistered connection", extra={"connection_id": connection_id})
        _answer_unattributed(event, deps, connection_id, text, "connection not registered, reconnect")
        _close_quietly(deps, event, connection_id)
        return OK

    verdict = deps.frames.admit(record.charge_point_id, now) if deps.frames is not None else None
    if verdict is not None and verdict is not FrameVerdict.ACCEPT:
        _refuse_flood(event, deps, connection_id, record.charge_point_id, text, verdict)
        return OK

    ctx = ChargerContext(
        charge_point_id=record.charge_point_id,
        tenant_id=record.tenant_id,
        connection_id=connection_id,
        registration_status=record.registration_status,
    )
    outcome = deps.dispatchers(record.protocol).dispatch(text, ctx, now)
    bind_invocation(
        charge_point_id=ctx.charge_point_id, connection_id=connection_id, ocpp_unique_id=outcome.unique_id
    )
    sent = "none"
    if outcome.reply is not None:
        try:
            deps.sender(event).send(connection_id, outcome.reply)
            sent = "sent"
        except ConnectionGone:
            sent = "gone"
        except Exception:
            log.exception("could not send the answer")
            sent = "failed"
    routine = outcome.result in ROUTINE_RESULTS and sent in ROUTINE_DELIVERIES
    # One line per frame (in and out together); routine ones sampled, the rest always.
    if not routine or deps.log_sample_rate >= 1 or deps.draw() < deps.log_sample_rate:
        log.info(
            "frame",
            extra={
                "message_type": outcome.message_type,
                "action": outcome.action,
                "bytes": len(text),
                "outcome": outcome.result,
                "delivery": sent,
                "latency_ms": round((perf_counter() - started) * 1000, 2),
                "sampled": routine,
            },
        )
    if record.awaiting_first_frame:
        _first_frame_answered(deps, record.connection_id, ctx.charge_point_id)
    # The charger has its answer: now the events (the relay never raises).
    deps.flush_events()
    return OK


def _first_frame_answered(deps: MessageDeps, connection_id: str, charge_point_id: str) -> None:
    """The station spoke on its new connection and has its answer: the commands that waited
    for it to connect (offline, or sent to a connection that was gone) go now. After its first
    frame rather than at $connect, where the socket is not open yet (a send would find it gone),
    and after the answer, so a station that rebooted gets its BootNotification answered first;
    only once it is Accepted (the flag stays until then): a Pending or Rejected station gets
    what waited when it is accepted. A failure here is the sweeper's to repeat (it sends stale
    queues every minute)."""
    try:
        if deps.connections.first_frame_answered(connection_id):
            deps.deliver_waiting(charge_point_id)
    except Exception:
        log.exception("sending the commands that waited for the station failed")


def _refuse_flood(
    event: dict[str, Any],
    deps: MessageDeps,
    connection_id: str,
    charge_point_id: str,
    text: str,
    verdict: FrameVerdict,
) -> None:
    """A flooding station: its CALL gets InternalError unprocessed (it retries later), and past
    twice the limit its connection is closed. Logged at most once per frame, counted."""
    deps.count("FramesThrottled", 1)
    bind_invocation(charge_point_id=charge_point_id, connection_id=connection_id)
    if verdict is FrameVerdict.CLOSE:
        log.warning("station flooding frames: connection closed", extra={"bytes": len(text)})
        _close_quietly(deps, event, connection_id)
        return
    log.warning("station over its frame rate: CALL refused", extra={"bytes": len(text)})
    _answer_unattributed(event, deps, connection_id, text, "rate limit: too many frames, retry later")


def _answer_unattributed(
    event: dict[str, Any], deps: MessageDeps | None, connection_id: str, text: str, reason: str
) -> None:
    """Answer a CALL we cannot process with InternalError, so the station retries it (the code
    is spelled alike in every OCPP version: the connection's protocol is unknown here)."""
    if deps is None:
        return
    try:
        frame = frames.parse(text)
    except frames.FrameError:
        return
    if not isinstance(frame, frames.Call):
        return
    try:
        deps.sender(event).send(
            connection_id, frames.call_error(frame.unique_id, RpcErrorKind.INTERNAL_ERROR.value, reason)
        )
    except Exception:
        log.exception("could not send the error answer")


def _close_quietly(deps: MessageDeps, event: dict[str, Any], connection_id: str) -> None:
    try:
        deps.sender(event).close(connection_id)
    except Exception:
        log.exception("could not close the connection")

"""The synchronous, stateless OCPP-J dispatcher: one frame in, at most one frame out.

Every CALL gets exactly one answer: a CALLRESULT, or a CALLERROR with the error code the
station's protocol version spells. CALLRESULT/CALLERROR frames from the station answer our
own CALLs (commands): they go to the injected answer handler (the command pipeline) and are
never answered themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from csms.domain.events import correlation
from csms.domain.stations import ChargerContext, RegistrationStatus
from csms.errors import InvalidInput, NotAccepted, StorageUnavailable
from csms.ocppj import frames
from csms.ocppj.errors import RpcError, RpcErrorKind
from csms.ocppj.registry import InboundAction
from csms.ocppj.schemas import SchemaSet, check_text

log = logging.getLogger(__name__)

S = TypeVar("S")


@dataclass(frozen=True, slots=True)
class Adapter(Generic[S]):
    """What a protocol version gives the shared layer."""

    #: The WebSocket subprotocol, e.g. ``ocpp1.6``.
    subprotocol: str
    actions: Mapping[str, InboundAction[S]]
    schemas: SchemaSet
    #: The version's spelling of each kind of error.
    error_codes: Mapping[RpcErrorKind, str]

    def code(self, kind: RpcErrorKind) -> str:
        return self.error_codes[kind]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one inbound frame (for the reply and the frame log line)."""

    reply: str | None
    message_type: str
    unique_id: str | None = None
    action: str | None = None
    #: "CallResult", the error code answered, "answered" (an answer to our CALL) or "ignored".
    result: str = "ignored"


#: Receives the station's answers to our CALLs.
AnswerHandler = Callable[[ChargerContext, "frames.CallResult | frames.CallError"], None]


class Dispatcher(Generic[S]):
    def __init__(self, adapter: Adapter[S], services: S, answers: AnswerHandler | None = None) -> None:
        self.adapter = adapter
        self._services = services
        self._answers = answers

    def dispatch(self, text: str, ctx: ChargerContext, now: datetime) -> Outcome:
        """Handle one frame from the station behind ``ctx``. Never raises."""
        try:
            frame = frames.parse(text)
        except frames.FrameError as exc:
            if not exc.answerable:
                # A broken answer to one of our CALLs: never answered (a CALLERROR is not
                # answered with a CALLERROR); the deadline sweeper times the command out.
                log.warning(
                    "malformed answer dropped",
                    extra={"ocpp_unique_id": exc.unique_id, "error": exc.description},
                )
                return Outcome(
                    reply=None,
                    message_type="CallResult" if exc.message_type_id == frames.CALLRESULT else "CallError",
                    unique_id=exc.unique_id,
                    result=self.adapter.code(exc.kind),
                )
            return self._error(exc.unique_id, None, "invalid", exc)
        if isinstance(frame, frames.Call):
            # NUL and lone surrogates arrive as \u escapes (or in non-ASCII text): most frames
            # skip that check.
            return self._call(frame, ctx, now, escaped="\\u" in text or not text.isascii())
        message_type = "CallResult" if isinstance(frame, frames.CallResult) else "CallError"
        if self._answers is None:
            log.warning(
                "answer to no pending call dropped",
                extra={"ocpp_unique_id": frame.unique_id, "message_type": message_type},
            )
            return Outcome(reply=None, message_type=message_type, unique_id=frame.unique_id)
        try:
            self._answers(ctx, frame)
        except Exception:
            # Never answered (OCPP forbids answering an answer); the deadline sweeper and the
            # command's audit trail take it from here.
            log.exception("handling the station's answer failed", extra={"ocpp_unique_id": frame.unique_id})
            return Outcome(reply=None, message_type=message_type, unique_id=frame.unique_id, result="error")
        return Outcome(reply=None, message_type=message_type, unique_id=frame.unique_id, result="answered")

    def _call(
        self, call: frames.Call, ctx: ChargerContext, now: datetime, *, escaped: bool = True
    ) -> Outcome:
        action = self.adapter.actions.get(call.action)
        schemas = self.adapter.schemas
        try:
            if action is None:
                if schemas.has(call.action):
                    raise RpcError(RpcErrorKind.NOT_SUPPORTED, f"{call.action} is not supported by this CSMS")
                raise RpcError(RpcErrorKind.NOT_IMPLEMENTED, f"unknown action {call.action!r}")
            if ctx.registration_status is not RegistrationStatus.ACCEPTED and not action.before_acceptance:
                raise RpcError(
                    RpcErrorKind.SECURITY_ERROR,
                    f"station is {ctx.registration_status.value}: "
                    f"{call.action} is not allowed until it is accepted",
                )
            schemas.validate_request(call.action, call.payload)
            if escaped:
                check_text(call.payload)
            # Events the handler records carry the frame as their correlation id.
            with correlation(f"ocpp:{ctx.charge_point_id}:{call.unique_id}"):
                payload = action.handler(self._services, ctx, call.payload, now)
            schemas.validate_response(call.action, payload)
        except RpcError as exc:
            return self._error(call.unique_id, call.action, "Call", exc)
        except StorageUnavailable as exc:
            # Not acknowledged: the station keeps the message and retries it.
            log.error("storage unavailable", extra={"ocpp_unique_id": call.unique_id, "error": str(exc)})
            return self._error(
                call.unique_id,
                call.action,
                "Call",
                RpcError(RpcErrorKind.INTERNAL_ERROR, "storage unavailable, retry later"),
            )
        except NotAccepted as exc:
            return self._error(
                call.unique_id, call.action, "Call", RpcError(RpcErrorKind.SECURITY_ERROR, str(exc))
            )
        except InvalidInput as exc:
            return self._error(
                call.unique_id,
                call.action,
                "Call",
                RpcError(RpcErrorKind.PROPERTY_CONSTRAINT_VIOLATION, str(exc)),
            )
        except Exception:
            log.exception("handler failed", extra={"ocpp_unique_id": call.unique_id, "action": call.action})
            return self._error(
                call.unique_id, call.action, "Call", RpcError(RpcErrorKind.INTERNAL_ERROR, "internal error")
            )
        return Outcome(
            reply=frames.call_result(call.unique_id, payload),
            message_type="Call",
            unique_id=call.unique_id,
            action=call.action,
            result="CallResult",
        )

    def _error(self, unique_id: str, action: str | None, message_type: str, exc: RpcError) -> Outcome:
        code = self.adapter.code(exc.kind)
        return Outcome(
            reply=frames.call_error(unique_id, code, exc.description, exc.details),
            message_type=message_type,
            unique_id=unique_id,
            action=action,
            result=code,
        )

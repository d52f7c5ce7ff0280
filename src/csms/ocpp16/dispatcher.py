"""The synchronous, stateless OCPP 1.6 dispatcher: one frame in, at most one frame out.

Every CALL gets exactly one answer: a CALLRESULT, or a CALLERROR with a 1.6 error code.
CALLRESULT/CALLERROR frames from the charger answer our own CALLs (server commands): they
go to the injected answer handler (the command pipeline) and are never answered themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from csms.domain.events import correlation
from csms.domain.stations import ChargerContext, RegistrationStatus
from csms.errors import InvalidInput, NotAccepted, StorageUnavailable
from csms.ocpp16 import frames, schemas
from csms.ocpp16 import inbound as _inbound  # noqa: F401  (registers the handlers)
from csms.ocpp16.errors import ErrorCode, OcppError
from csms.ocpp16.registry import INBOUND, InboundAction, Services

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one inbound frame (for the reply and the frame log line)."""

    reply: str | None
    message_type: str
    unique_id: str | None = None
    action: str | None = None
    #: "CallResult", an OCPP error code, or "ignored".
    result: str = "ignored"


#: Receives the charger's answers to our CALLs.
AnswerHandler = Callable[[ChargerContext, "frames.CallResult | frames.CallError"], None]


class Dispatcher:
    def __init__(
        self,
        services: Services,
        actions: Mapping[str, InboundAction] = INBOUND,
        answers: AnswerHandler | None = None,
    ) -> None:
        self._services = services
        self._actions = actions
        self._answers = answers

    def dispatch(self, text: str, ctx: ChargerContext, now: datetime) -> Outcome:
        """Handle one frame from the charger behind ``ctx``. Never raises."""
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
                    result=exc.code.value,
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
            log.exception("handling the charger's answer failed", extra={"ocpp_unique_id": frame.unique_id})
            return Outcome(reply=None, message_type=message_type, unique_id=frame.unique_id, result="error")
        return Outcome(reply=None, message_type=message_type, unique_id=frame.unique_id, result="answered")

    def parse_unique_id(self, text: str) -> str:
        """The uniqueId to answer ``text`` with, when the frame cannot even be attributed."""
        try:
            frame = frames.parse(text)
        except frames.FrameError as exc:
            return exc.unique_id
        return frame.unique_id

    def _call(
        self, call: frames.Call, ctx: ChargerContext, now: datetime, *, escaped: bool = True
    ) -> Outcome:
        action = self._actions.get(call.action)
        try:
            if action is None:
                if schemas.has_schema(call.action):
                    raise OcppError(
                        ErrorCode.NOT_SUPPORTED, f"{call.action} is not supported by this Central System"
                    )
                raise OcppError(ErrorCode.NOT_IMPLEMENTED, f"unknown action {call.action!r}")
            if ctx.registration_status is not RegistrationStatus.ACCEPTED and not action.before_acceptance:
                raise OcppError(
                    ErrorCode.SECURITY_ERROR,
                    f"charge point is {ctx.registration_status.value}: "
                    "only BootNotification is allowed until accepted",
                )
            schemas.validate_request(call.action, call.payload)
            if escaped:
                schemas.check_text(call.payload)
            # Events the handler records carry the frame as their correlation id.
            with correlation(f"ocpp:{ctx.charge_point_id}:{call.unique_id}"):
                payload = action.handler(self._services, ctx, call.payload, now)
            schemas.validate_response(call.action, payload)
        except OcppError as exc:
            return self._error(call.unique_id, call.action, "Call", exc)
        except StorageUnavailable as exc:
            # Not acknowledged: the charger keeps the message and retries it.
            log.error("storage unavailable", extra={"ocpp_unique_id": call.unique_id, "error": str(exc)})
            return self._error(
                call.unique_id,
                call.action,
                "Call",
                OcppError(ErrorCode.INTERNAL_ERROR, "storage unavailable, retry later"),
            )
        except NotAccepted as exc:
            return self._error(
                call.unique_id, call.action, "Call", OcppError(ErrorCode.SECURITY_ERROR, str(exc))
            )
        except InvalidInput as exc:
            return self._error(
                call.unique_id,
                call.action,
                "Call",
                OcppError(ErrorCode.PROPERTY_CONSTRAINT_VIOLATION, str(exc)),
            )
        except Exception:
            log.exception("handler failed", extra={"ocpp_unique_id": call.unique_id, "action": call.action})
            return self._error(
                call.unique_id, call.action, "Call", OcppError(ErrorCode.INTERNAL_ERROR, "internal error")
            )
        return Outcome(
            reply=frames.call_result(call.unique_id, payload),
            message_type="Call",
            unique_id=call.unique_id,
            action=call.action,
            result="CallResult",
        )

    @staticmethod
    def _error(unique_id: str, action: str | None, message_type: str, exc: OcppError) -> Outcome:
        return Outcome(
            reply=frames.call_error(unique_id, exc.code, exc.description, exc.details),
            message_type=message_type,
            unique_id=unique_id,
            action=action,
            result=exc.code.value,
        )

"""OCPP-J RPC frames: parsing text into CALL / CALLRESULT / CALLERROR, and building frames.

We parse frames ourselves instead of ``ocpp.messages.unpack`` because on a bad frame we
still want the uniqueId (so the charger can match our CALLERROR) and the 1.6 error codes.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, Final

from csms.ocppj.errors import RpcError, RpcErrorKind

CALL: Final = 2
CALLRESULT: Final = 3
CALLERROR: Final = 4

#: uniqueId of a CALLERROR that answers a frame whose uniqueId could not be read.
UNKNOWN_UNIQUE_ID: Final = "-1"
MAX_UNIQUE_ID_LENGTH: Final = 36

# Salvages the uniqueId from a frame that is not valid JSON, e.g. '[2,"42","Heartbeat",{'.
_UNIQUE_ID_PREFIX = re.compile(r'^\s*\[\s*[234]\s*,\s*"([^"\\]{1,36})"')
# ...and its MessageTypeId: a broken CALLRESULT/CALLERROR must not be answered either.
_MESSAGE_TYPE_PREFIX = re.compile(r"^\s*\[\s*([234])\s*[,\]]")
#: What PostgreSQL text and jsonb cannot hold: NUL, and UTF-16 surrogates (a lone "\ud800"
#: escape is valid JSON but no Unicode character).
UNSTORABLE: Final = re.compile("[\x00\ud800-\udfff]")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):  # 1e400: neither JSON we could echo nor a storable number
        raise ValueError(f"{literal} is out of range")
    return value


# Python's json accepts NaN and Infinity, which RFC 8259 (and PostgreSQL's jsonb) do not.
_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite_float)


@dataclass(frozen=True, slots=True)
class Call:
    unique_id: str
    action: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallResult:
    unique_id: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallError:
    unique_id: str
    error_code: str
    description: str
    details: dict[str, Any]


Frame = Call | CallResult | CallError


class FrameError(RpcError):
    """A frame that cannot be handled, with the uniqueId to answer (or UNKNOWN_UNIQUE_ID)."""

    def __init__(
        self, unique_id: str, kind: RpcErrorKind, description: str, message_type_id: int | None = None
    ) -> None:
        super().__init__(kind, description)
        self.unique_id = unique_id
        #: The frame's MessageTypeId when it is 2, 3 or 4 (even if the rest is broken).
        self.message_type_id = message_type_id

    @property
    def answerable(self) -> bool:
        """False for a broken CALLRESULT or CALLERROR: OCPP-J answers only CALLs (a CALLERROR
        is never answered with a CALLERROR); it is logged and dropped instead."""
        return self.message_type_id not in (CALLRESULT, CALLERROR)


def parse(text: str) -> Frame:
    """Parse one OCPP-J message; raise :class:`FrameError` for anything malformed.

    Text in a CALLRESULT or CALLERROR that PostgreSQL cannot store (NUL, lone surrogates)
    is replaced with U+FFFD: an answer cannot be refused, and must still be recordable.
    """
    try:
        message = _DECODER.decode(text)
    except (ValueError, RecursionError):
        match = _UNIQUE_ID_PREFIX.match(text)
        kind_match = _MESSAGE_TYPE_PREFIX.match(text)
        raise FrameError(
            match.group(1) if match else UNKNOWN_UNIQUE_ID,
            RpcErrorKind.RPC_FRAMEWORK_ERROR,
            "message is not valid JSON",
            int(kind_match.group(1)) if kind_match else None,
        ) from None
    if not isinstance(message, list) or not message:
        raise FrameError(UNKNOWN_UNIQUE_ID, RpcErrorKind.RPC_FRAMEWORK_ERROR, "message must be a JSON array")
    kind = message[0]
    kind_id = kind if type(kind) is int and kind in (CALL, CALLRESULT, CALLERROR) else None
    unique_id = message[1] if len(message) > 1 and isinstance(message[1], str) else None
    # Even an over-long uniqueId is echoed: the charger can then match our CALLERROR.
    answer_id = unique_id or UNKNOWN_UNIQUE_ID
    if unique_id is None:
        raise FrameError(
            UNKNOWN_UNIQUE_ID, RpcErrorKind.RPC_FRAMEWORK_ERROR, "uniqueId must be a string", kind_id
        )
    if not unique_id or len(unique_id) > MAX_UNIQUE_ID_LENGTH:
        raise FrameError(
            answer_id, RpcErrorKind.RPC_FRAMEWORK_ERROR, "uniqueId must have 1-36 characters", kind_id
        )
    if UNSTORABLE.search(unique_id):
        # A CALL's uniqueId becomes its events' correlation id; ours never hold such characters.
        raise FrameError(
            answer_id,
            RpcErrorKind.RPC_FRAMEWORK_ERROR,
            "uniqueId contains NUL or an unpaired surrogate",
            kind_id,
        )
    if kind_id == CALL:
        if len(message) != 4 or not isinstance(message[2], str):
            raise FrameError(
                answer_id,
                RpcErrorKind.RPC_FRAMEWORK_ERROR,
                "a CALL is [2, uniqueId, action, payload]",
                kind_id,
            )
        if not isinstance(message[3], dict):
            raise FrameError(
                answer_id,
                RpcErrorKind.FORMAT_VIOLATION,
                "the payload of a CALL must be a JSON object",
                kind_id,
            )
        return Call(unique_id, message[2], message[3])
    if kind_id == CALLRESULT:
        if len(message) != 3 or not isinstance(message[2], dict):
            raise FrameError(
                answer_id, RpcErrorKind.RPC_FRAMEWORK_ERROR, "a CALLRESULT is [3, uniqueId, payload]", kind_id
            )
        try:
            return CallResult(unique_id, _replace_unstorable(message[2]))
        except RecursionError:
            raise _too_deep(answer_id, kind_id) from None
    if kind_id == CALLERROR:
        if len(message) not in (4, 5) or not isinstance(message[2], str):
            raise FrameError(
                answer_id,
                RpcErrorKind.RPC_FRAMEWORK_ERROR,
                "a CALLERROR is [4, uniqueId, code, description, details]",
                kind_id,
            )
        details = message[4] if len(message) == 5 and isinstance(message[4], dict) else {}
        try:
            code, description, details = _replace_unstorable([message[2], str(message[3]), details])
        except RecursionError:
            raise _too_deep(answer_id, kind_id) from None
        return CallError(unique_id, code, description, details)
    raise FrameError(answer_id, RpcErrorKind.MESSAGE_TYPE_NOT_SUPPORTED, f"unknown MessageTypeId {kind!r}")


def _too_deep(unique_id: str, kind_id: int) -> FrameError:
    return FrameError(unique_id, RpcErrorKind.RPC_FRAMEWORK_ERROR, "message is nested too deeply", kind_id)


def _replace_unstorable(value: Any) -> Any:
    """``value`` with NUL and lone surrogates in its strings (and keys) replaced by U+FFFD."""
    if isinstance(value, str):
        return UNSTORABLE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_replace_unstorable(k): _replace_unstorable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_unstorable(v) for v in value]
    return value


def call(unique_id: str, action: str, payload: dict[str, Any]) -> str:
    """The text of a CALL (the command pipeline's; csms.services.commands measures its size)."""
    return json.dumps([CALL, unique_id, action, payload], separators=(",", ":"))


def call_result(unique_id: str, payload: dict[str, Any]) -> str:
    """The text of a CALLRESULT."""
    return json.dumps([CALLRESULT, unique_id, payload], separators=(",", ":"))


def call_error(unique_id: str, code: str, description: str, details: dict[str, Any] | None = None) -> str:
    """The text of a CALLERROR: ``code`` as the protocol spells it; the description capped at
    the 255 characters OCPP-J allows."""
    return json.dumps([CALLERROR, unique_id, code, description[:255], details or {}], separators=(",", ":"))

"""OCPP-J RPC frames: parsing text into CALL / CALLRESULT / CALLERROR, and building answers.

We parse frames ourselves instead of ``ocpp.messages.unpack`` because on a bad frame we
still want the uniqueId (so the charger can match our CALLERROR) and the 1.6 error codes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final

from csms.ocpp16.errors import ErrorCode, OcppError

CALL: Final = 2
CALLRESULT: Final = 3
CALLERROR: Final = 4

#: uniqueId of a CALLERROR that answers a frame whose uniqueId could not be read.
UNKNOWN_UNIQUE_ID: Final = "-1"
MAX_UNIQUE_ID_LENGTH: Final = 36

# Salvages the uniqueId from a frame that is not valid JSON, e.g. '[2,"42","Heartbeat",{'.
_UNIQUE_ID_PREFIX = re.compile(r'^\s*\[\s*[234]\s*,\s*"([^"\\]{1,36})"')


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


class FrameError(OcppError):
    """A frame that cannot be handled, with the uniqueId to answer (or UNKNOWN_UNIQUE_ID)."""

    def __init__(self, unique_id: str, code: ErrorCode, description: str) -> None:
        super().__init__(code, description)
        self.unique_id = unique_id


def parse(text: str) -> Frame:
    """Parse one OCPP-J message; raise :class:`FrameError` for anything malformed."""
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):
        match = _UNIQUE_ID_PREFIX.match(text)
        raise FrameError(
            match.group(1) if match else UNKNOWN_UNIQUE_ID,
            ErrorCode.FORMATION_VIOLATION,
            "message is not valid JSON",
        ) from None
    if not isinstance(message, list) or not message:
        raise FrameError(UNKNOWN_UNIQUE_ID, ErrorCode.FORMATION_VIOLATION, "message must be a JSON array")
    unique_id = message[1] if len(message) > 1 and isinstance(message[1], str) else None
    # Even an over-long uniqueId is echoed: the charger can then match our CALLERROR.
    answer_id = unique_id or UNKNOWN_UNIQUE_ID
    kind = message[0]
    if unique_id is None:
        raise FrameError(UNKNOWN_UNIQUE_ID, ErrorCode.FORMATION_VIOLATION, "uniqueId must be a string")
    if not unique_id or len(unique_id) > MAX_UNIQUE_ID_LENGTH:
        raise FrameError(answer_id, ErrorCode.FORMATION_VIOLATION, "uniqueId must have 1-36 characters")
    if kind == CALL and type(kind) is int:
        if len(message) != 4 or not isinstance(message[2], str):
            raise FrameError(
                answer_id, ErrorCode.FORMATION_VIOLATION, "a CALL is [2, uniqueId, action, payload]"
            )
        if not isinstance(message[3], dict):
            raise FrameError(
                answer_id, ErrorCode.FORMATION_VIOLATION, "the payload of a CALL must be a JSON object"
            )
        return Call(unique_id, message[2], message[3])
    if kind == CALLRESULT and type(kind) is int:
        if len(message) != 3 or not isinstance(message[2], dict):
            raise FrameError(
                answer_id, ErrorCode.FORMATION_VIOLATION, "a CALLRESULT is [3, uniqueId, payload]"
            )
        return CallResult(unique_id, message[2])
    if kind == CALLERROR and type(kind) is int:
        if len(message) not in (4, 5) or not isinstance(message[2], str):
            raise FrameError(
                answer_id,
                ErrorCode.FORMATION_VIOLATION,
                "a CALLERROR is [4, uniqueId, code, description, details]",
            )
        details = message[4] if len(message) == 5 and isinstance(message[4], dict) else {}
        return CallError(unique_id, message[2], str(message[3]), details)
    raise FrameError(answer_id, ErrorCode.FORMATION_VIOLATION, f"unknown MessageTypeId {kind!r}")


def call_result(unique_id: str, payload: dict[str, Any]) -> str:
    """The text of a CALLRESULT."""
    return json.dumps([CALLRESULT, unique_id, payload], separators=(",", ":"))


def call_error(
    unique_id: str, code: ErrorCode, description: str, details: dict[str, Any] | None = None
) -> str:
    """The text of a CALLERROR (description capped so the frame stays small)."""
    return json.dumps(
        [CALLERROR, unique_id, code.value, description[:255], details or {}], separators=(",", ":")
    )

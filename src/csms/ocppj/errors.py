"""What can go wrong with a CALL, whatever the protocol version calls it.

OCPP-J 1.6 and 2.0.1 share their CALLERROR codes but for spelling (1.6's
``FormationViolation`` and ``OccurenceConstraintViolation``) and for two that only 2.0.1 has
(``RpcFrameworkError``, ``MessageTypeNotSupported``). Handlers and the shared layer raise a
:class:`RpcError` of a kind; each adapter spells it (``csms.ocpp16.errors``,
``csms.ocpp201.errors``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class RpcErrorKind(StrEnum):
    """A CALLERROR's meaning (values: the 2.0.1 spelling, OCPP-J 2.0.1 section 4.3)."""

    NOT_IMPLEMENTED = "NotImplemented"
    NOT_SUPPORTED = "NotSupported"
    INTERNAL_ERROR = "InternalError"
    PROTOCOL_ERROR = "ProtocolError"
    SECURITY_ERROR = "SecurityError"
    FORMAT_VIOLATION = "FormatViolation"
    PROPERTY_CONSTRAINT_VIOLATION = "PropertyConstraintViolation"
    OCCURRENCE_CONSTRAINT_VIOLATION = "OccurrenceConstraintViolation"
    TYPE_CONSTRAINT_VIOLATION = "TypeConstraintViolation"
    GENERIC_ERROR = "GenericError"
    #: The frame is no RPC request at all (not an array, no readable message id).
    RPC_FRAMEWORK_ERROR = "RpcFrameworkError"
    #: A MessageTypeId other than 2, 3 or 4.
    MESSAGE_TYPE_NOT_SUPPORTED = "MessageTypeNotSupported"


class RpcError(Exception):
    """Raised while handling a CALL; becomes the CALLERROR answering it."""

    def __init__(self, kind: RpcErrorKind, description: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.kind = kind
        self.description = description
        self.details = details or {}

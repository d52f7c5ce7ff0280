"""OCPP-J 1.6 CALLERROR codes (section 4.2.3), spelled as the 1.6 specification spells them.

The ``ocpp`` library emits 2.0.1's ``FormatViolation``; 1.6 says ``FormationViolation``,
and its errata keep the typo ``OccurenceConstraintViolation``. 1.6 has no
``RpcFrameworkError`` or ``MessageTypeNotSupported``: a frame that is no RPC request is a
``FormationViolation``, as it always was here.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from csms.ocppj.errors import RpcErrorKind


class ErrorCode(StrEnum):
    NOT_IMPLEMENTED = "NotImplemented"
    NOT_SUPPORTED = "NotSupported"
    INTERNAL_ERROR = "InternalError"
    PROTOCOL_ERROR = "ProtocolError"
    SECURITY_ERROR = "SecurityError"
    FORMATION_VIOLATION = "FormationViolation"
    PROPERTY_CONSTRAINT_VIOLATION = "PropertyConstraintViolation"
    OCCURENCE_CONSTRAINT_VIOLATION = "OccurenceConstraintViolation"
    TYPE_CONSTRAINT_VIOLATION = "TypeConstraintViolation"
    GENERIC_ERROR = "GenericError"


#: Each kind of error as a 1.6 code.
ERROR_CODES: Final[dict[RpcErrorKind, str]] = {
    RpcErrorKind.NOT_IMPLEMENTED: ErrorCode.NOT_IMPLEMENTED,
    RpcErrorKind.NOT_SUPPORTED: ErrorCode.NOT_SUPPORTED,
    RpcErrorKind.INTERNAL_ERROR: ErrorCode.INTERNAL_ERROR,
    RpcErrorKind.PROTOCOL_ERROR: ErrorCode.PROTOCOL_ERROR,
    RpcErrorKind.SECURITY_ERROR: ErrorCode.SECURITY_ERROR,
    RpcErrorKind.FORMAT_VIOLATION: ErrorCode.FORMATION_VIOLATION,
    RpcErrorKind.PROPERTY_CONSTRAINT_VIOLATION: ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    RpcErrorKind.OCCURRENCE_CONSTRAINT_VIOLATION: ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
    RpcErrorKind.TYPE_CONSTRAINT_VIOLATION: ErrorCode.TYPE_CONSTRAINT_VIOLATION,
    RpcErrorKind.GENERIC_ERROR: ErrorCode.GENERIC_ERROR,
    RpcErrorKind.RPC_FRAMEWORK_ERROR: ErrorCode.FORMATION_VIOLATION,
    RpcErrorKind.MESSAGE_TYPE_NOT_SUPPORTED: ErrorCode.FORMATION_VIOLATION,
}

"""The official OCPP 1.6 JSON schemas (from the ``ocpp`` library), and how a failed rule
becomes a 1.6 CALLERROR."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import ocpp

from csms.ocppj.errors import RpcErrorKind
from csms.ocppj.schemas import SchemaSet

SCHEMA_DIR: Final = Path(ocpp.__file__).parent / "v16" / "schemas"

_RULE_KINDS: Final = {
    # "Payload for Action is incomplete"
    "required": RpcErrorKind.PROTOCOL_ERROR,
    # "...violates data type constraints"; CiString lengths and dateTime are types in 1.6
    "type": RpcErrorKind.TYPE_CONSTRAINT_VIOLATION,
    "maxLength": RpcErrorKind.TYPE_CONSTRAINT_VIOLATION,
    "minLength": RpcErrorKind.TYPE_CONSTRAINT_VIOLATION,
    "format": RpcErrorKind.TYPE_CONSTRAINT_VIOLATION,
    # "...at least one field contains an invalid value"
    "enum": RpcErrorKind.PROPERTY_CONSTRAINT_VIOLATION,
    "minimum": RpcErrorKind.PROPERTY_CONSTRAINT_VIOLATION,
    "maximum": RpcErrorKind.PROPERTY_CONSTRAINT_VIOLATION,
    "exclusiveMinimum": RpcErrorKind.PROPERTY_CONSTRAINT_VIOLATION,
    "exclusiveMaximum": RpcErrorKind.PROPERTY_CONSTRAINT_VIOLATION,
    "multipleOf": RpcErrorKind.PROPERTY_CONSTRAINT_VIOLATION,
    "pattern": RpcErrorKind.PROPERTY_CONSTRAINT_VIOLATION,
    # "...violates occurence constraints"
    "minItems": RpcErrorKind.OCCURRENCE_CONSTRAINT_VIOLATION,
    "maxItems": RpcErrorKind.OCCURRENCE_CONSTRAINT_VIOLATION,
    # "...not conform the PDU structure for Action"
    "additionalProperties": RpcErrorKind.FORMAT_VIOLATION,
}

#: Meter readings are stored as bigint and accepted up to 64 bits; other integers are 32-bit.
SCHEMAS: Final = SchemaSet(
    SCHEMA_DIR,
    request_suffix="",
    response_suffix="Response",
    rule_kinds=_RULE_KINDS,
    wide_integers=frozenset({"meterStart", "meterStop"}),
)

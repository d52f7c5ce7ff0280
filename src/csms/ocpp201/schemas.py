"""The official OCPP 2.0.1 JSON schemas (from the ``ocpp`` library), and how a failed rule
becomes a 2.0.1 CALLERROR (Part 4, section 4.3)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import ocpp

from csms.ocppj.errors import RpcErrorKind
from csms.ocppj.schemas import SchemaSet

SCHEMA_DIR: Final = Path(ocpp.__file__).parent / "v201" / "schemas"

_RULE_KINDS: Final = {
    # "Payload for Action is syntactically correct but at least one of the fields violates
    # occurrence constraints": a missing required field, too few or too many items.
    "required": RpcErrorKind.OCCURRENCE_CONSTRAINT_VIOLATION,
    "minItems": RpcErrorKind.OCCURRENCE_CONSTRAINT_VIOLATION,
    "maxItems": RpcErrorKind.OCCURRENCE_CONSTRAINT_VIOLATION,
    # "...violates data type constraints": a wrong JSON type, a string too long, no dateTime.
    "type": RpcErrorKind.TYPE_CONSTRAINT_VIOLATION,
    "maxLength": RpcErrorKind.TYPE_CONSTRAINT_VIOLATION,
    "minLength": RpcErrorKind.TYPE_CONSTRAINT_VIOLATION,
    "format": RpcErrorKind.TYPE_CONSTRAINT_VIOLATION,
    # "...contains an invalid value"
    "enum": RpcErrorKind.PROPERTY_CONSTRAINT_VIOLATION,
    "minimum": RpcErrorKind.PROPERTY_CONSTRAINT_VIOLATION,
    "maximum": RpcErrorKind.PROPERTY_CONSTRAINT_VIOLATION,
    "exclusiveMinimum": RpcErrorKind.PROPERTY_CONSTRAINT_VIOLATION,
    "exclusiveMaximum": RpcErrorKind.PROPERTY_CONSTRAINT_VIOLATION,
    "multipleOf": RpcErrorKind.PROPERTY_CONSTRAINT_VIOLATION,
    "pattern": RpcErrorKind.PROPERTY_CONSTRAINT_VIOLATION,
    # "Payload for Action is syntactically incorrect": a field the schema does not know.
    "additionalProperties": RpcErrorKind.FORMAT_VIOLATION,
}

SCHEMAS: Final = SchemaSet(
    SCHEMA_DIR, request_suffix="Request", response_suffix="Response", rule_kinds=_RULE_KINDS
)

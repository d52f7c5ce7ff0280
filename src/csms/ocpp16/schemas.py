"""Validation of OCPP 1.6 payloads against the official JSON schemas.

The schema files come from the ``ocpp`` library; we compile them with fastjsonschema
(about 20x faster than jsonschema on MeterValues) once per action and process, and map
each failed rule to the OCPP-J 1.6 error code that describes it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import fastjsonschema
import ocpp

from csms.ocpp16.errors import ErrorCode, OcppError

SCHEMA_DIR = Path(ocpp.__file__).parent / "v16" / "schemas"

_RULE_CODES = {
    # "Payload for Action is incomplete"
    "required": ErrorCode.PROTOCOL_ERROR,
    # "...violates data type constraints"; CiString lengths and dateTime are types in 1.6
    "type": ErrorCode.TYPE_CONSTRAINT_VIOLATION,
    "maxLength": ErrorCode.TYPE_CONSTRAINT_VIOLATION,
    "minLength": ErrorCode.TYPE_CONSTRAINT_VIOLATION,
    "format": ErrorCode.TYPE_CONSTRAINT_VIOLATION,
    # "...at least one field contains an invalid value"
    "enum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "minimum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "maximum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "exclusiveMinimum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "exclusiveMaximum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "multipleOf": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "pattern": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    # "...violates occurence constraints"
    "minItems": ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
    "maxItems": ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
    # "...not conform the PDU structure for Action"
    "additionalProperties": ErrorCode.FORMATION_VIOLATION,
}


def parse_datetime(value: str) -> datetime:
    """An OCPP dateTime. Chargers in the field sometimes omit the zone: read that as UTC."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        from datetime import UTC

        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _is_datetime(value: str) -> bool:
    try:
        parse_datetime(value)
    except ValueError:
        return False
    return True


@cache
def _validator(schema_name: str) -> Callable[[Any], Any]:
    path = SCHEMA_DIR / f"{schema_name}.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    schema.pop("$schema", None)
    schema.pop("id", None)
    return fastjsonschema.compile(schema, formats={"date-time": _is_datetime})


def has_schema(action: str) -> bool:
    """True if OCPP 1.6 (with the security extension) defines ``action``."""
    return (SCHEMA_DIR / f"{action}.json").is_file()


def validate_request(action: str, payload: Any) -> None:
    """Raise :class:`OcppError` with the fitting 1.6 code if the CALL payload is invalid."""
    _validate(action, payload)


def validate_response(action: str, payload: Any) -> None:
    """Validate a CALLRESULT payload (our own answers, and chargers' answers to us)."""
    _validate(f"{action}Response", payload)


def _validate(schema_name: str, payload: Any) -> None:
    if not isinstance(payload, dict):
        raise OcppError(ErrorCode.FORMATION_VIOLATION, "payload must be a JSON object")
    try:
        _validator(schema_name)(payload)
    except fastjsonschema.JsonSchemaValueException as exc:
        code = _RULE_CODES.get(str(exc.rule), ErrorCode.FORMATION_VIOLATION)
        field = str(exc.name).removeprefix("data").lstrip(".") or None
        raise OcppError(
            code, exc.message.replace("data.", "", 1), {"field": field} if field else None
        ) from None

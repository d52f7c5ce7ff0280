"""Validation of OCPP 1.6 payloads against the official JSON schemas.

The schema files come from the ``ocpp`` library; we compile them with fastjsonschema
(about 20x faster than jsonschema on MeterValues) once per action and process, and map
each failed rule to the OCPP-J 1.6 error code that describes it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import fastjsonschema
import ocpp

from csms.ocpp16.errors import ErrorCode, OcppError
from csms.ocpp16.frames import UNSTORABLE

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


#: OCPP 1.6 integers are 32-bit; meter readings are stored as bigint and accepted up to 64 bits.
INT32_RANGE = (-(2**31), 2**31 - 1)
INT64_RANGE = (-(2**63), 2**63 - 1)
_WIDE_INTEGERS = frozenset({"meterStart", "meterStop"})


def ocpp_datetime(value: datetime) -> str:
    """UTC with millisecond precision and a 'Z', the form every 1.6 charger parses."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_datetime(value: str) -> datetime:
    """An OCPP dateTime. Chargers in the field sometimes omit the zone: read that as UTC.

    Raises ValueError for a time that has no UTC equivalent within years 1-9999 (such as
    0001-01-01T00:00:00+14:00), which could be neither stored nor compared.
    """
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{value!r} is out of range") from None
    return parsed


def _is_datetime(value: str) -> bool:
    try:
        parse_datetime(value)
    except ValueError:
        return False
    return True


def _bound_integers(node: Any, name: str | None = None) -> None:
    """Give every integer in ``node`` (a JSON schema) the range we can store; ``name`` is the
    property that ``node`` describes."""
    if isinstance(node, list):
        for item in node:
            _bound_integers(item, name)
        return
    if not isinstance(node, dict):
        return
    if node.get("type") == "integer":
        low, high = INT64_RANGE if name in _WIDE_INTEGERS else INT32_RANGE
        node.setdefault("minimum", low)
        node.setdefault("maximum", high)
    for key, child in node.items():
        if key == "properties" and isinstance(child, dict):
            for prop, sub in child.items():
                _bound_integers(sub, prop)
        elif key == "items":
            _bound_integers(child, name)
        elif key == "definitions" and isinstance(child, dict):
            for sub in child.values():
                _bound_integers(sub)


@cache
def _validator(schema_name: str) -> Callable[[Any], Any]:
    path = SCHEMA_DIR / f"{schema_name}.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    schema.pop("$schema", None)
    schema.pop("id", None)
    _bound_integers(schema)
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


def check_text(payload: Any, path: str = "") -> None:
    """Raise PropertyConstraintViolation if a string in ``payload`` (a validated CALL payload)
    holds a character PostgreSQL cannot store: NUL or a lone UTF-16 surrogate."""
    if isinstance(payload, str):
        if UNSTORABLE.search(payload):
            raise OcppError(
                ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
                f"{path or 'payload'} contains NUL or an unpaired surrogate",
                {"field": path} if path else None,
            )
    elif isinstance(payload, dict):
        for key, value in payload.items():
            check_text(key, path)
            check_text(value, f"{path}.{key}" if path else str(key))
    elif isinstance(payload, list):
        for index, value in enumerate(payload):
            check_text(value, f"{path}[{index}]")

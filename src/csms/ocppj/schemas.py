"""Validation of OCPP payloads against the official JSON schemas, for any version.

The schema files come from the ``ocpp`` library; we compile them with fastjsonschema (about
20x faster than jsonschema on a MeterValues) once per action and process, and map each
failed rule to the :class:`~csms.ocppj.errors.RpcErrorKind` the version gives it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import fastjsonschema

from csms.ocppj.errors import RpcError, RpcErrorKind
from csms.ocppj.frames import UNSTORABLE
from csms.ocppj.times import is_datetime

#: OCPP integers are 32-bit unless a version says otherwise for a field.
INT32_RANGE = (-(2**31), 2**31 - 1)
INT64_RANGE = (-(2**63), 2**63 - 1)


class SchemaSet:
    """One version's schemas: ``{action}{request_suffix}.json`` and
    ``{action}{response_suffix}.json`` in ``directory``.

    ``wide_integers``: properties whose integers may use 64 bits (everything else is bounded
    to 32 bits, what every station and every column they land in can hold).
    """

    def __init__(
        self,
        directory: Path,
        *,
        request_suffix: str,
        response_suffix: str,
        rule_kinds: Mapping[str, RpcErrorKind],
        wide_integers: frozenset[str] = frozenset(),
    ) -> None:
        self.directory = directory
        self._request_suffix = request_suffix
        self._response_suffix = response_suffix
        self._rule_kinds = rule_kinds
        self._wide_integers = wide_integers
        self._validator = cache(self._compile)

    def has(self, action: str) -> bool:
        """True if this version defines ``action``."""
        return (self.directory / f"{action}{self._request_suffix}.json").is_file()

    def validate_request(self, action: str, payload: Any) -> None:
        """Raise :class:`RpcError` of the fitting kind if a CALL payload is invalid."""
        self._validate(f"{action}{self._request_suffix}", payload)

    def validate_response(self, action: str, payload: Any) -> None:
        """Validate a CALLRESULT payload (our own answers, and stations' answers to us)."""
        self._validate(f"{action}{self._response_suffix}", payload)

    def _validate(self, schema_name: str, payload: Any) -> None:
        if not isinstance(payload, dict):
            raise RpcError(RpcErrorKind.FORMAT_VIOLATION, "payload must be a JSON object")
        try:
            self._validator(schema_name)(payload)
        except fastjsonschema.JsonSchemaValueException as exc:
            kind = self._rule_kinds.get(str(exc.rule), RpcErrorKind.FORMAT_VIOLATION)
            field = str(exc.name).removeprefix("data").lstrip(".") or None
            raise RpcError(
                kind, exc.message.replace("data.", "", 1), {"field": field} if field else None
            ) from None

    def _compile(self, schema_name: str) -> Callable[[Any], Any]:
        schema = json.loads((self.directory / f"{schema_name}.json").read_text(encoding="utf-8"))
        for key in ("$schema", "$id", "id"):
            schema.pop(key, None)
        _bound_integers(schema, self._wide_integers)
        return fastjsonschema.compile(schema, formats={"date-time": is_datetime})


def _bound_integers(node: Any, wide: frozenset[str], name: str | None = None) -> None:
    """Give every integer in ``node`` (a JSON schema) the range we can store; ``name`` is the
    property that ``node`` describes."""
    if isinstance(node, list):
        for item in node:
            _bound_integers(item, wide, name)
        return
    if not isinstance(node, dict):
        return
    if node.get("type") == "integer":
        low, high = INT64_RANGE if name in wide else INT32_RANGE
        node.setdefault("minimum", low)
        node.setdefault("maximum", high)
    for key, child in node.items():
        if key == "properties" and isinstance(child, dict):
            for prop, sub in child.items():
                _bound_integers(sub, wide, prop)
        elif key == "items":
            _bound_integers(child, wide, name)
        elif key == "definitions" and isinstance(child, dict):
            for sub in child.values():
                _bound_integers(sub, wide)


def check_text(payload: Any, path: str = "") -> None:
    """Raise PropertyConstraintViolation if a string in ``payload`` (a validated CALL payload)
    holds a character PostgreSQL cannot store: NUL or a lone UTF-16 surrogate."""
    if isinstance(payload, str):
        if UNSTORABLE.search(payload):
            raise RpcError(
                RpcErrorKind.PROPERTY_CONSTRAINT_VIOLATION,
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

"""The operator REST API function: resolve one API Gateway REST (proxy) event."""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver


@cache
def resolver() -> APIGatewayRestResolver:
    """Built once per container."""
    from csms.api.app import build_app

    return build_app()


def _media_type(headers: dict[str, Any] | None) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == "content-type" and value:
            return str(value).split(";", 1)[0].strip().lower()
    return None


def _unsupported_media(event: dict[str, Any]) -> dict[str, Any] | None:
    """415 for a body that is not JSON, before Powertools tries to parse it (it would fail
    with a bare ValueError on, e.g., multipart without a boundary)."""
    if not event.get("body"):
        return None
    media = _media_type(event.get("headers"))
    if media is None or media == "application/json" or media.endswith("+json"):
        return None
    problem = {
        "type": "about:blank",
        "title": "Unsupported media type",
        "status": 415,
        "detail": f"send the body as application/json, not {media}",
    }
    return {
        "statusCode": 415,
        "headers": {"Content-Type": "application/problem+json"},
        "body": json.dumps(problem),
        "isBase64Encoded": False,
    }


def _as_plain_json(event: dict[str, Any]) -> None:
    """Name a JSON body's media type ``application/json`` for Powertools, which compares it
    case-sensitively and knows no ``+json`` (media types are case-insensitive: RFC 9110 8.3.1)."""
    for field in ("headers", "multiValueHeaders"):
        headers = event.get(field) or {}
        for key in [k for k in headers if k.lower() == "content-type"]:
            headers[key] = ["application/json"] if field == "multiValueHeaders" else "application/json"


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    refused = _unsupported_media(event)
    if refused is not None:
        return refused
    if event.get("body") and _media_type(event.get("headers")) is not None:
        _as_plain_json(event)
    from csms.api.context import SERVICES
    from csms.app import wiring
    from csms.app.containers import api_services

    app = resolver()
    app.append_context(**{SERVICES: api_services()})  # type: ignore[no-untyped-call]
    try:
        return app.resolve(event, context)
    finally:
        # Events the request committed (a reservation requested, a command failed at once).
        # (The answer is built by now; API Gateway gets it when this returns.)
        wiring.flush_events()

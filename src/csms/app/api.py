"""The operator REST API function: resolve one API Gateway REST (proxy) event."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver


@cache
def resolver() -> APIGatewayRestResolver:
    """Built once per container."""
    from csms.api.app import build_app

    return build_app()


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return resolver().resolve(event, context)

"""Domain events from the bus to the tenant's live consoles (ADR 0025)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from csms.app import fanout
from csms.observability import logger


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return fanout.handle(event, context)

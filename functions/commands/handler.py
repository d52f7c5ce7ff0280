"""Deliver queued commands to chargers (SQS FIFO event source, partial batch responses)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from csms.app import commands
from csms.observability import logger, metrics


@logger.inject_lambda_context
@metrics.log_metrics  # DatabaseUnavailable, when PostgreSQL could not be reached
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return commands.handle(event, context)

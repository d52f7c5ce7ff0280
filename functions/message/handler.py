"""$default: answer every OCPP frame a charger sends."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from csms.app import message
from csms.observability import logger, metrics


@logger.inject_lambda_context
@metrics.log_metrics  # DatabaseUnavailable, when PostgreSQL could not be reached
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return message.handle(event, context)

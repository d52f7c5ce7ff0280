"""$disconnect: mark the charger offline if this was its current connection."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from csms.app import disconnect
from csms.observability import logger, metrics


@logger.inject_lambda_context
@metrics.log_metrics  # EventsNotRecorded, when an event could not be recorded
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return disconnect.handle(event, context)

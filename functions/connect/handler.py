"""$connect: admit a charger (subprotocol, Basic auth) and record its connection."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from csms.app import connect
from csms.observability import logger, metrics


@logger.inject_lambda_context
@metrics.log_metrics  # EventsNotRecorded, when an event could not be recorded
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return connect.handle(event, context)

"""EventBridge Scheduler jobs ({"job": name}): see csms.schedules."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from csms.app import scheduled
from csms.observability import logger, metrics


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return scheduled.handle(event, context)

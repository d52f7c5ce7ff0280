"""$connect: admit a charger (subprotocol, Basic auth) and record its connection."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from csms.app import connect
from csms.observability import logger


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return connect.handle(event, context)

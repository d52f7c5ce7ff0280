"""The commands function: SQS FIFO records (group = charger) trigger command delivery.

Each record names a command and its charger; delivery sends the charger's *oldest* queued
command if its outstanding-CALL slot is free (see csms.services.commands). A busy slot is
not a failure: the command stays queued and goes out as soon as the slot frees. Only real
errors (database down, ...) fail a record, and Powertools' FIFO processor then fails the rest
of that charger's group in the batch so its order holds.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from csms.observability import bind_invocation, reset_invocation

log = logging.getLogger(__name__)
# Skip only the failed record's group: other chargers' triggers in the batch go ahead.
_processor = SqsFifoPartialProcessor(skip_group_on_error=True)


def _record(record: SQSRecord) -> None:
    from csms.app import wiring

    body = json.loads(record.body)
    charge_point_id = body["chargePointId"]
    bind_invocation(charge_point_id=charge_point_id, command_id=body.get("commandId"))
    sent = wiring.commands().deliver_next(charge_point_id)
    log.info("delivery triggered", extra={"sent": sent.id if sent else None})


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    reset_invocation()
    try:
        response = process_partial_response(
            event=event, record_handler=_record, processor=_processor, context=context
        )
    finally:
        # Commands that failed on delivery (charger offline) and their reservations' events.
        from csms.app import wiring

        wiring.flush_events()
    return dict(response)

"""The SQS FIFO queue that triggers command delivery (message group = charger)."""

from __future__ import annotations

import json
from typing import Any

from csms.domain.commands import Command


class SqsCommandQueue:
    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._url = queue_url

    def enqueue(self, command: Command) -> None:
        self._client.send_message(
            QueueUrl=self._url,
            MessageBody=json.dumps({"commandId": command.id, "chargePointId": command.charge_point_id}),
            MessageGroupId=command.charge_point_id,
            MessageDeduplicationId=command.id,
        )

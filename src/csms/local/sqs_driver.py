"""Lambda's SQS event source mapping, locally: poll a queue (the FIFO command queue, the
load-trigger queue), invoke the function with an SQS event, delete what succeeded and leave
reported failures to reappear."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from csms.local.lambdas import LocalLambdaContext

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class EventSourceMapping:
    def __init__(
        self,
        client: Any,
        queue_url: str,
        handler: Handler,
        region: str,
        batch_size: int = 10,
        deliver_twice: bool = False,
        function_name: str = "commands",
    ) -> None:
        self._client = client
        self._url = queue_url
        self._handler = handler
        self._region = region
        self._batch_size = batch_size
        self._function = function_name
        #: Fault injection: hand every batch to the function twice (SQS delivers at least once).
        self.deliver_twice = deliver_twice
        self._name = queue_url.rsplit("/", 1)[-1]
        self._arn = f"arn:aws:sqs:{region}:000000000000:{self._name}"

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                handled = await asyncio.to_thread(self._poll_once)
            except Exception:
                log.exception("polling a queue failed", extra={"queue": self._name})
                handled = 0
            if not handled:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.2)

    def _poll_once(self) -> int:
        messages = self._client.receive_message(
            QueueUrl=self._url,
            MaxNumberOfMessages=self._batch_size,
            WaitTimeSeconds=0,
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        event = {"Records": [self._record(m) for m in messages]}
        result = self._handler(event, LocalLambdaContext(self._function, budget_seconds=60))
        if self.deliver_twice:
            result = self._handler(event, LocalLambdaContext(self._function, budget_seconds=60))
        failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._client.delete_message_batch(
                QueueUrl=self._url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        return len(messages)

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {},
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self._arn,
            "awsRegion": self._region,
        }

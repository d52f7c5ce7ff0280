"""EventBridge: where domain events go once committed (see csms.services.event_relay)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from csms.data.events import StoredEvent
from csms.events import EVENT_SOURCE

#: PutEvents takes at most 10 entries per call.
_BATCH = 10


class EventBridgePublisher:
    """Publishes to one bus with the lean client (csms.aws.signed.EventBridge)."""

    def __init__(self, client: Any, bus_name: str, source: str = EVENT_SOURCE) -> None:
        self._client = client
        self._bus = bus_name
        self._source = source

    def entry(self, stored: StoredEvent) -> dict[str, Any]:
        event = stored.event
        return {
            "Source": self._source,
            "DetailType": event.type,
            "Detail": json.dumps(event.envelope(), separators=(",", ":")),
            "EventBusName": self._bus,
            "Time": event.occurred_at.timestamp(),
        }

    def publish(self, events: Sequence[StoredEvent]) -> dict[int, str]:
        failures: dict[int, str] = {}
        for start in range(0, len(events), _BATCH):
            chunk = events[start : start + _BATCH]
            try:
                answer = self._client.put_events(Entries=[self.entry(stored) for stored in chunk])
            except Exception as exc:
                failures.update({stored.sequence: repr(exc) for stored in chunk})
                continue
            for stored, result in zip(chunk, answer.get("Entries", []), strict=False):
                if result.get("ErrorCode"):
                    failures[stored.sequence] = f"{result['ErrorCode']}: {result.get('ErrorMessage', '')}"
            if len(answer.get("Entries", [])) < len(chunk):  # pragma: no cover - never seen
                failures.update({s.sequence: "no result entry" for s in chunk[len(answer["Entries"]) :]})
        return failures


class SqsDeadLetter:
    """Events that will never reach the bus: one SQS message each (the queue has an alarm)."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def __call__(self, events: Sequence[StoredEvent]) -> None:
        for start in range(0, len(events), 10):
            chunk = events[start : start + 10]
            answer = self._client.send_message_batch(
                QueueUrl=self._queue_url,
                Entries=[
                    {
                        "Id": str(stored.sequence),
                        "MessageBody": json.dumps(
                            stored.event.envelope(stored.sequence), separators=(",", ":")
                        ),
                    }
                    for stored in chunk
                ],
            )
            if answer.get("Failed"):
                raise RuntimeError(f"dead-letter queue refused events: {answer['Failed']}")

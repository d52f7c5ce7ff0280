"""EventBridge: where domain events go once committed (see csms.services.event_relay)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any, TypeVar

from csms.domain.events import EVENT_SOURCE, DomainEvent, StoredEvent

log = logging.getLogger(__name__)

T = TypeVar("T")

#: PutEvents takes at most 10 entries and 256 KiB per call (an entry's size: its Detail,
#: DetailType, Source and a fixed 14 bytes for Time).
_BATCH = 10
_MAX_REQUEST_BYTES = 256 * 1024
#: SQS's message limit, with room for the attributes.
_MAX_DEAD_LETTER_BYTES = 250 * 1024

_Item = tuple[StoredEvent, dict[str, Any], int]


def _entry_size(entry: dict[str, Any]) -> int:
    return 14 + sum(len(str(entry[key]).encode("utf-8")) for key in ("Source", "DetailType", "Detail"))


def _chunks(items: list[_Item]) -> list[list[_Item]]:
    """At most 10 entries and 256 KiB per PutEvents."""
    chunks: list[list[_Item]] = []
    current: list[_Item] = []
    size = 0
    for item in items:
        if current and (len(current) == _BATCH or size + item[2] > _MAX_REQUEST_BYTES):
            chunks.append(current)
            current, size = [], 0
        current.append(item)
        size += item[2]
    if current:
        chunks.append(current)
    return chunks


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
        items: list[_Item] = []
        for stored in events:
            entry = self.entry(stored)
            size = _entry_size(entry)
            if size > _MAX_REQUEST_BYTES:  # never publishable: straight to its attempts' end
                failures[stored.sequence] = f"EntryTooLarge: {size} bytes"
            else:
                items.append((stored, entry, size))
        for chunk in _chunks(items):
            try:
                answer = self._client.put_events(Entries=[entry for _, entry, _ in chunk])
            except Exception as exc:
                failures.update({stored.sequence: repr(exc) for stored, _, _ in chunk})
                continue
            results = answer.get("Entries", [])
            for (stored, _, _), result in zip(chunk, results, strict=False):
                if result.get("ErrorCode"):
                    failures[stored.sequence] = f"{result['ErrorCode']}: {result.get('ErrorMessage', '')}"
            for stored, _, _ in chunk[len(results) :]:  # pragma: no cover - never seen
                failures[stored.sequence] = "no result entry"
        return failures


def _tens(items: Sequence[T]) -> list[Sequence[T]]:
    """``items`` in batches of ten (SQS takes at most ten entries a batch)."""
    return [items[start : start + 10] for start in range(0, len(items), 10)]


class SqsEventParking:
    """:class:`csms.domain.events.EventParking` on an SQS standard queue: one message per event
    (its envelope), taken back by the event-delivery job once PostgreSQL answers."""

    def __init__(self, client: Any, queue_url: str, visibility_seconds: int = 120) -> None:
        self._client = client
        self._queue_url = queue_url
        self._visibility = visibility_seconds

    def park(self, events: Sequence[DomainEvent]) -> None:
        for chunk in _tens(events):
            answer = self._client.send_message_batch(
                QueueUrl=self._queue_url,
                Entries=[
                    {"Id": str(index), "MessageBody": json.dumps(event.envelope(), separators=(",", ":"))}
                    for index, event in enumerate(chunk)
                ],
            )
            if answer.get("Failed"):
                raise RuntimeError(f"the parking queue refused events: {answer['Failed']}")

    def take(self, limit: int) -> list[tuple[str, DomainEvent]]:
        taken: list[tuple[str, DomainEvent]] = []
        while len(taken) < limit:
            messages = self._client.receive_message(
                QueueUrl=self._queue_url,
                MaxNumberOfMessages=min(10, limit - len(taken)),
                WaitTimeSeconds=0,
                VisibilityTimeout=self._visibility,
            ).get("Messages", [])
            if not messages:
                break
            taken += [
                (m["ReceiptHandle"], DomainEvent.from_envelope(json.loads(m["Body"]))) for m in messages
            ]
        return taken

    def release(self, handles: Sequence[str]) -> None:
        for chunk in _tens(handles):
            self._client.delete_message_batch(
                QueueUrl=self._queue_url,
                Entries=[{"Id": str(index), "ReceiptHandle": handle} for index, handle in enumerate(chunk)],
            )

    def give_back(self, handles: Sequence[str]) -> None:
        for chunk in _tens(handles):
            self._client.change_message_visibility_batch(
                QueueUrl=self._queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                    for index, handle in enumerate(chunk)
                ],
            )


class SqsDeadLetter:
    """Events that will never reach the bus: one SQS message each (the queue has an alarm)."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def __call__(self, events: Sequence[StoredEvent]) -> None:
        for chunk in _tens(events):
            answer = self._client.send_message_batch(
                QueueUrl=self._queue_url,
                Entries=[
                    {"Id": str(stored.sequence), "MessageBody": _dead_letter_body(stored)} for stored in chunk
                ],
            )
            if answer.get("Failed"):
                raise RuntimeError(f"dead-letter queue refused events: {answer['Failed']}")


def _dead_letter_body(stored: StoredEvent) -> str:
    """The envelope; one too large for SQS goes without its data (still in domain_events)."""
    envelope = stored.event.envelope(stored.sequence)
    body = json.dumps(envelope, separators=(",", ":"))
    if len(body.encode("utf-8")) <= _MAX_DEAD_LETTER_BYTES:
        return body
    envelope["data"] = {"omitted": "too large for SQS: read domain_events where sequence = this sequence"}
    return json.dumps(envelope, separators=(",", ":"))


def envelopes_of(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The domain-event envelopes of an SQS event whose bodies are EventBridge events."""
    found: list[dict[str, Any]] = []
    for record in event.get("Records") or []:
        try:
            detail = json.loads(record.get("body") or "").get("detail")
        except (ValueError, AttributeError):
            detail = None
        if isinstance(detail, dict):
            found.append(detail)
        else:
            log.warning(
                "a record without an event's detail ignored", extra={"message_id": record.get("messageId")}
            )
    return found

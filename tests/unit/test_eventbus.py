"""Publishing limits: PutEvents batches by count and size; what can never fit fails alone and
still reaches the dead-letter queue."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
from moto import mock_aws

from csms.aws.eventbus import EventBridgePublisher, SqsDeadLetter, _chunks, _entry_size
from csms.domain.events import StoredEvent, new_event

AT = datetime(2026, 11, 21, 10, tzinfo=UTC)


def stored(sequence: int, payload: int = 10) -> StoredEvent:
    samples = [
        {
            "timestamp": "2026-11-21T10:00:00.000Z",
            "measurand": "Energy.Active.Import.Register",
            "phase": None,
            "unit": "Wh",
            "context": "Sample.Periodic",
            "location": "Outlet",
            "format": "Raw",
            "value": "x" * payload,
        }
    ]
    data = {"connectorId": 1, "transactionId": None, "newSamples": 1, "samples": samples}
    return StoredEvent(sequence, new_event("MeterValuesReceived", "t1", "CP-1", AT, data, correlation_id="c"))


def test_batches_hold_at_most_ten_entries_and_256_kib() -> None:
    publisher = EventBridgePublisher(None, "bus")
    small = [(s, e, _entry_size(e)) for s in map(stored, range(25)) for e in [publisher.entry(s)]]
    assert [len(c) for c in _chunks(small)] == [10, 10, 5]
    big = [
        (s, e, _entry_size(e)) for s in (stored(i, 100_000) for i in range(5)) for e in [publisher.entry(s)]
    ]
    chunks = _chunks(big)
    assert [len(c) for c in chunks] == [2, 2, 1]
    assert all(sum(size for _, _, size in chunk) <= 256 * 1024 for chunk in chunks)


@mock_aws
def test_an_entry_too_large_fails_alone_and_its_dead_letter_omits_the_data() -> None:
    events = boto3.client("events", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    publisher = EventBridgePublisher(events, "default")
    huge, fine = stored(1, 300_000), stored(2)

    failures = publisher.publish([huge, fine])

    assert list(failures) == [1]
    assert failures[1].startswith("EntryTooLarge")
    SqsDeadLetter(sqs, queue)([huge])
    [message] = sqs.receive_message(QueueUrl=queue)["Messages"]
    body = json.loads(message["Body"])
    assert (body["id"], body["sequence"], body["type"]) == (huge.event.id, 1, "MeterValuesReceived")
    assert "omitted" in body["data"]


def test_a_dead_letter_that_fits_is_the_whole_envelope() -> None:
    from csms.aws.eventbus import _dead_letter_body

    event = stored(7)
    assert json.loads(_dead_letter_body(event)) == event.event.envelope(7)

"""Reading domain events where they land: the ``domain_events`` table (outbox and feed) and
the EventBridge bus (moto), each checked against the published schemas."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import fastjsonschema
from sqlalchemy import Engine, text

from csms.domain.events import CATALOGUE, ENVELOPE_SCHEMA


@cache
def _validator(schema_json: str) -> Any:
    return fastjsonschema.compile(json.loads(schema_json))


def check(envelope: dict[str, Any]) -> dict[str, Any]:
    """Validate an envelope and its data against docs/events.md's schemas; returns it."""
    _validator(json.dumps(ENVELOPE_SCHEMA, sort_keys=True))(envelope)
    spec = CATALOGUE[envelope["type"]]
    assert envelope["version"] == spec.version
    _validator(json.dumps(spec.data_schema, sort_keys=True))(envelope["data"])
    return envelope


def stored(engine: Engine, *types: str) -> list[dict[str, Any]]:
    """The recorded events (optionally of some types) as envelopes, oldest first, each
    validated; ``published`` says whether the relay put it on the bus."""
    query = (
        "SELECT sequence, id::text AS id, type, version, tenant_id, charge_point_id, occurred_at, "
        "correlation_id, data, published_at IS NOT NULL AS published FROM domain_events"
    )
    params: dict[str, Any] = {}
    if types:
        query += " WHERE type = ANY(:types)"
        params["types"] = list(types)
    with engine.connect() as conn:
        rows = conn.execute(text(query + " ORDER BY sequence"), params).mappings().all()
    found = []
    for row in rows:
        envelope = {
            "id": row["id"],
            "type": row["type"],
            "version": row["version"],
            "tenantId": row["tenant_id"],
            "stationId": row["charge_point_id"],
            "occurredAt": row["occurred_at"].isoformat(),
            "correlationId": row["correlation_id"],
            "sequence": row["sequence"],
            "data": row["data"],
        }
        check({**envelope, "occurredAt": envelope["occurredAt"].replace("+00:00", "Z")})
        found.append({**envelope, "published": row["published"]})
    return found


def data_of(events: list[dict[str, Any]], type_: str) -> list[dict[str, Any]]:
    return [e["data"] for e in events if e["type"] == type_]


class BusTap:
    """An SQS queue subscribed to the bus by an EventBridge rule (moto delivers to it), as an
    integrator would subscribe."""

    def __init__(self, region: str, bus_name: str, name: str = "csms-test-tap") -> None:
        from csms.aws.clients import client

        self._sqs = client("sqs", region)
        events = client("events", region)
        self.queue_url = self._sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events.put_rule(Name=name, EventBusName=bus_name, EventPattern=json.dumps({"source": ["csms"]}))
        events.put_targets(Rule=name, EventBusName=bus_name, Targets=[{"Id": "tap", "Arn": arn}])

    def drain(self) -> list[dict[str, Any]]:
        """Everything delivered since the last drain: EventBridge events (detail = envelope)."""
        received: list[dict[str, Any]] = []
        while True:
            batch = self._sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            if not batch:
                return received
            for message in batch:
                received.append(json.loads(message["Body"]))
                self._sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

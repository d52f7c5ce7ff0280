"""The consoles' live connections in the connections table (ADR 0025).

One item per console connection, ``live#{connectionId}``, beside the chargers' ``conn#`` and
``cp#`` items (csms.aws.schema): it carries ``tenant_id``, so the table's ``by-tenant`` index
lists a tenant's consoles with one Query (``begins_with(pk, "live#")``) and no new table or
index is needed. The chargers' readers all select their own prefixes. A ``ttl`` past API
Gateway's 2-hour maximum removes what a lost ``$disconnect`` left behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, timedelta
from typing import Any, Final

from csms.aws.schema import PARTITION_KEY, TENANT_INDEX, TTL_ATTRIBUTE
from csms.constants import MAX_CONNECTION_SECONDS
from csms.domain.live import LiveSubscriber

PREFIX: Final = "live#"
_TTL_SLACK = timedelta(hours=1)


def _key(connection_id: str) -> dict[str, Any]:
    return {PARTITION_KEY: {"S": f"{PREFIX}{connection_id}"}}


class DynamoLiveSubscribers:
    """The production :class:`csms.domain.live.LiveSubscribers`."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def add(self, subscriber: LiveSubscriber) -> None:
        expires = subscriber.connected_at + timedelta(seconds=MAX_CONNECTION_SECONDS) + _TTL_SLACK
        self._client.put_item(
            TableName=self._table,
            Item={
                **_key(subscriber.connection_id),
                "connection_id": {"S": subscriber.connection_id},
                "tenant_id": {"S": subscriber.tenant_id},
                "role": {"S": subscriber.role.value},
                "subject": {"S": subscriber.subject},
                "connected_at": {"S": subscriber.connected_at.astimezone(UTC).isoformat()},
                TTL_ATTRIBUTE: {"N": str(int(expires.timestamp()))},
            },
        )

    def remove(self, connection_id: str) -> None:
        self._client.delete_item(TableName=self._table, Key=_key(connection_id))

    def of_tenant(self, tenant_id: str) -> Sequence[str]:
        found: list[str] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": TENANT_INDEX,
            "KeyConditionExpression": "tenant_id = :t AND begins_with(#pk, :prefix)",
            "ProjectionExpression": "connection_id",
            "ExpressionAttributeNames": {"#pk": PARTITION_KEY},
            "ExpressionAttributeValues": {":t": {"S": tenant_id}, ":prefix": {"S": PREFIX}},
        }
        while True:
            page = self._client.query(**kwargs)
            found += [str(item["connection_id"]["S"]) for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

"""The limits table (DynamoDB): fixed-window counters and operators' revocation stamps.

One table, partition key ``pk``, TTL ``ttl``: ``count#{key}#{window}`` items (attribute ``n``,
expiring one window after theirs) and ``revoked#{subject}`` items (attribute ``at``, expiring
when every token issued before it has: ``revocation_ttl``). Counting is one ``UpdateItem`` with
``ADD`` (atomic across containers); reading a few counters one ``BatchGetItem``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from csms.aws.schema import LIMITS_KEY, LIMITS_TTL_ATTRIBUTE
from csms.domain.limits import window_key


def _count_key(key: str, window_seconds: int, now: datetime) -> str:
    return f"count#{window_key(key, window_seconds, now)}"


class DynamoCounters:
    """:class:`csms.domain.limits.Counters` and :class:`~csms.domain.limits.Revocations` on
    the limits table (low-level client: boto3's or the lean signed one)."""

    def __init__(self, client: Any, table_name: str, revocation_ttl: timedelta = timedelta(hours=25)) -> None:
        self._client = client
        self._table = table_name
        self._revocation_ttl = revocation_ttl

    def add(self, key: str, amount: int, window_seconds: int, now: datetime) -> int:
        expires = (int(now.timestamp()) // window_seconds + 2) * window_seconds
        answer = self._client.update_item(
            TableName=self._table,
            Key={LIMITS_KEY: {"S": _count_key(key, window_seconds, now)}},
            UpdateExpression="ADD n :amount SET #ttl = if_not_exists(#ttl, :expires)",
            ExpressionAttributeNames={"#ttl": LIMITS_TTL_ATTRIBUTE},
            ExpressionAttributeValues={":amount": {"N": str(amount)}, ":expires": {"N": str(expires)}},
            ReturnValues="UPDATED_NEW",
        )
        return int(answer["Attributes"]["n"]["N"])

    def read(self, keys: Sequence[str], window_seconds: int, now: datetime) -> dict[str, int]:
        if not keys:
            return {}
        stored = {_count_key(key, window_seconds, now): key for key in keys}
        answer = self._client.batch_get_item(
            RequestItems={
                self._table: {
                    "Keys": [{LIMITS_KEY: {"S": k}} for k in stored],
                    "ProjectionExpression": "#pk, n",
                    "ExpressionAttributeNames": {"#pk": LIMITS_KEY},
                    "ConsistentRead": True,
                }
            }
        )
        found = {
            stored[item[LIMITS_KEY]["S"]]: int(item["n"]["N"]) for item in answer["Responses"][self._table]
        }
        return {key: found.get(key, 0) for key in keys}

    def revoke(self, subject: str, at: datetime) -> None:
        self._client.put_item(
            TableName=self._table,
            Item={
                LIMITS_KEY: {"S": f"revoked#{subject}"},
                "at": {"S": at.astimezone(UTC).isoformat()},
                LIMITS_TTL_ATTRIBUTE: {"N": str(int((at + self._revocation_ttl).timestamp()))},
            },
        )

    def revoked_before(self, subject: str) -> datetime | None:
        item = self._client.get_item(
            TableName=self._table, Key={LIMITS_KEY: {"S": f"revoked#{subject}"}}, ConsistentRead=True
        ).get("Item")
        return datetime.fromisoformat(item["at"]["S"]) if item else None

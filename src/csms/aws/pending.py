"""The charger's single outstanding-CALL slot in DynamoDB (table ``csms-pending-calls``).

One item per charger (``pk = cp#{id}``): claiming is a conditional put that succeeds only
when no unexpired call holds the slot (nor an answered one not settled yet); the station's
answer is first recorded on the item (a conditional update on the uniqueId, so an answer can
only settle the call it answers, once), and the item is deleted only after the command's
outcome is in PostgreSQL. Items carry a TTL as a backstop to the sweeper.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from csms.aws.schema import PENDING_KEY, PENDING_TTL_ATTRIBUTE
from csms.domain.commands import Answer, PendingCall

_TTL_SLACK = timedelta(hours=1)


def _key(charge_point_id: str) -> dict[str, Any]:
    return {PENDING_KEY: {"S": f"cp#{charge_point_id}"}}


def _answer(item: dict[str, Any]) -> Answer | None:
    if "answer" not in item:
        return None
    recorded = json.loads(item["answer"]["S"])
    error = recorded.get("error")
    return Answer(payload=recorded.get("payload"), error=(error[0], error[1]) if error else None)


def _call(item: dict[str, Any]) -> PendingCall:
    return PendingCall(
        charge_point_id=item["charge_point_id"]["S"],
        unique_id=item["unique_id"]["S"],
        action=item["action"]["S"],
        command_id=item["command_id"]["S"],
        tenant_id=item["tenant_id"]["S"],
        deadline=datetime.fromisoformat(item["deadline"]["S"]),
        answer=_answer(item),
    )


class DynamoPendingCalls:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def claim(self, call: PendingCall, now: datetime) -> bool:
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    **_key(call.charge_point_id),
                    "charge_point_id": {"S": call.charge_point_id},
                    "unique_id": {"S": call.unique_id},
                    "action": {"S": call.action},
                    "command_id": {"S": call.command_id},
                    "tenant_id": {"S": call.tenant_id},
                    "deadline": {"S": call.deadline.astimezone(UTC).isoformat()},
                    "deadline_epoch": {"N": str(int(call.deadline.timestamp()))},
                    PENDING_TTL_ATTRIBUTE: {"N": str(int((call.deadline + _TTL_SLACK).timestamp()))},
                },
                # Free, or held by a call past its deadline that was not answered (the sweeper
                # times it out); an answered call holds the slot until its outcome is stored.
                ConditionExpression="attribute_not_exists(#pk) OR "
                "(deadline_epoch < :now AND attribute_not_exists(answer))",
                ExpressionAttributeNames={"#pk": PENDING_KEY},
                ExpressionAttributeValues={":now": {"N": str(int(now.timestamp()))}},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def answer(self, charge_point_id: str, unique_id: str, answer: Answer) -> PendingCall | None:
        recorded = {"payload": answer.payload} if answer.error is None else {"error": list(answer.error)}
        try:
            item = self._client.update_item(
                TableName=self._table,
                Key=_key(charge_point_id),
                UpdateExpression="SET answer = :answer",
                ConditionExpression="unique_id = :uid AND attribute_not_exists(answer)",
                ExpressionAttributeValues={
                    ":uid": {"S": unique_id},
                    ":answer": {"S": json.dumps(recorded, separators=(",", ":"))},
                },
                ReturnValues="ALL_NEW",
            ).get("Attributes")
        except self._client.exceptions.ConditionalCheckFailedException:
            return None
        return _call(item) if item else None

    def pop(self, charge_point_id: str, unique_id: str) -> PendingCall | None:
        try:
            old = self._client.delete_item(
                TableName=self._table,
                Key=_key(charge_point_id),
                ConditionExpression="unique_id = :uid",
                ExpressionAttributeValues={":uid": {"S": unique_id}},
                ReturnValues="ALL_OLD",
            ).get("Attributes")
        except self._client.exceptions.ConditionalCheckFailedException:
            return None
        return _call(old) if old else None

    def expired(self, now: datetime) -> list[PendingCall]:
        calls: list[PendingCall] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "FilterExpression": "deadline_epoch < :now",
            "ExpressionAttributeValues": {":now": {"N": str(int(now.timestamp()))}},
        }
        while True:
            page = self._client.scan(**kwargs)
            calls.extend(_call(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return calls
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

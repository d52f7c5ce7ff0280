"""DynamoDB table layouts, shared by the CDK app and the local stack.

The ``connections`` table holds two kinds of item under one partition key:

- ``conn#{connectionId}``: the charger behind a live WebSocket connection (read and
  touched on every frame);
- ``cp#{chargePointId}``: the charger's *current* connection id (replaced by a newer
  ``$connect``, deleted by ``$disconnect`` only if it still names the closing connection).

Both carry a ``ttl`` (epoch seconds) so records of connections whose ``$disconnect`` never
arrived expire on their own, and a ``tenant_id``: the ``by-tenant`` index (partition
``tenant_id``, sort ``pk``) lists a tenant's live connections without a scan.
"""

from typing import Any, Final

PARTITION_KEY: Final = "pk"
TTL_ATTRIBUTE: Final = "ttl"
TENANT_INDEX: Final = "by-tenant"
TENANT_ATTRIBUTE: Final = "tenant_id"
#: What the ``by-tenant`` index copies besides the keys: what listing a tenant's connections
#: needs, and not ``last_seen`` or ``ttl``, so that the message path's liveness writes touch
#: the table alone (an index that projected them would be written, and billed, each time).
TENANT_INDEX_ATTRIBUTES: Final = (
    "connection_id",
    "charge_point_id",
    "protocol",
    "connected_at",
    "registration_status",
    "closed_at",
)


#: The pending-calls table: one item per charger holding its outstanding CALL.
PENDING_KEY: Final = "pk"
PENDING_TTL_ATTRIBUTE: Final = "ttl"


def pending_calls_table_definition(table_name: str) -> dict[str, Any]:
    """Arguments for ``dynamodb.create_table`` for the chargers' outstanding-CALL slots."""
    return {
        "TableName": table_name,
        "KeySchema": [{"AttributeName": PENDING_KEY, "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": PENDING_KEY, "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }


#: Powertools Idempotency's default layout (API Idempotency-Key records).
IDEMPOTENCY_KEY: Final = "id"
IDEMPOTENCY_TTL_ATTRIBUTE: Final = "expiration"


def idempotency_table_definition(table_name: str) -> dict[str, Any]:
    """Arguments for ``dynamodb.create_table`` for the API's idempotency records."""
    return {
        "TableName": table_name,
        "KeySchema": [{"AttributeName": IDEMPOTENCY_KEY, "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": IDEMPOTENCY_KEY, "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }


#: The limits table: counters per client and window, operators' revocation stamps (ADR 0023).
LIMITS_KEY: Final = "pk"
LIMITS_TTL_ATTRIBUTE: Final = "ttl"


def limits_table_definition(table_name: str) -> dict[str, Any]:
    """Arguments for ``dynamodb.create_table`` for the limits table (csms.aws.limits)."""
    return {
        "TableName": table_name,
        "KeySchema": [{"AttributeName": LIMITS_KEY, "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": LIMITS_KEY, "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }


def connections_table_definition(table_name: str) -> dict[str, Any]:
    """Arguments for ``dynamodb.create_table`` that match the table the CDK app deploys."""
    return {
        "TableName": table_name,
        "KeySchema": [{"AttributeName": PARTITION_KEY, "KeyType": "HASH"}],
        "AttributeDefinitions": [
            {"AttributeName": PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": TENANT_ATTRIBUTE, "AttributeType": "S"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": TENANT_INDEX,
                "KeySchema": [
                    {"AttributeName": TENANT_ATTRIBUTE, "KeyType": "HASH"},
                    {"AttributeName": PARTITION_KEY, "KeyType": "RANGE"},
                ],
                "Projection": {
                    "ProjectionType": "INCLUDE",
                    "NonKeyAttributes": list(TENANT_INDEX_ATTRIBUTES),
                },
            }
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }

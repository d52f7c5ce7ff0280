"""Create the AWS resources that the CDK app owns on AWS, for stacks that have no CDK.

Used by ``csms dev`` and the integration tests against moto, and usable against any
DynamoDB endpoint (LocalStack, DynamoDB Local) or real AWS.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any, Final

import boto3  # type: ignore[import-untyped, unused-ignore]  # no stubs installed (see pyproject)

from csms.aws.schema import (
    IDEMPOTENCY_TTL_ATTRIBUTE,
    LIMITS_TTL_ATTRIBUTE,
    PENDING_TTL_ATTRIBUTE,
    TTL_ATTRIBUTE,
    connections_table_definition,
    idempotency_table_definition,
    limits_table_definition,
    pending_calls_table_definition,
)

logger = logging.getLogger(__name__)

LOCAL_CREDENTIALS: Final = ("testing", "testing")
"""Access key id and secret given to local endpoints, which accept any credentials."""

DynamoDBClient = Any
"""A boto3 DynamoDB client (boto3 ships no type information)."""

_WAIT: Final = {"Delay": 1, "MaxAttempts": 120}


class ProvisioningError(RuntimeError):
    """A resource exists in a shape we cannot reconcile without losing data or settings."""


def provisioning_client(service: str, endpoint_url: str | None, region: str) -> Any:
    """A boto3 client for ``endpoint_url``, or for AWS itself when it is ``None``.

    With an endpoint (moto, LocalStack) the client gets :data:`LOCAL_CREDENTIALS`, so it
    never needs (or leaks) real ones. Without one it uses boto3's default chain, which also
    honours ``AWS_ENDPOINT_URL_<SERVICE>`` for an endpoint that wants real credentials.
    """
    if endpoint_url is None:
        session = boto3.session.Session(region_name=region)
    else:
        key_id, secret = LOCAL_CREDENTIALS
        session = boto3.session.Session(
            region_name=region, aws_access_key_id=key_id, aws_secret_access_key=secret
        )
    return session.client(service, endpoint_url=endpoint_url)


def dynamodb_client(endpoint_url: str | None, region: str) -> DynamoDBClient:
    """A DynamoDB client (see :func:`provisioning_client`)."""
    return provisioning_client("dynamodb", endpoint_url, region)


def ensure_connections_table(
    endpoint_url: str | None,
    table_name: str,
    region: str,
    *,
    client: DynamoDBClient | None = None,
) -> None:
    """Create the connections table unless it exists, wait until ACTIVE, enable TTL.

    Idempotent. The layout is :func:`csms.aws.schema.connections_table_definition`, the one
    the CDK app deploys; an existing table is not compared with it.

    Args:
        endpoint_url: DynamoDB endpoint; ``None`` for AWS (see :func:`dynamodb_client`).
        table_name: The table to create.
        region: AWS region (moto and LocalStack keep one namespace per region).
        client: A ready DynamoDB client; replaces ``endpoint_url`` and ``region``.

    Raises:
        ProvisioningError: TTL is already enabled on a different attribute.
    """
    ensure_table(connections_table_definition(table_name), TTL_ATTRIBUTE, endpoint_url, region, client=client)


def ensure_idempotency_table(
    endpoint_url: str | None, table_name: str, region: str, *, client: DynamoDBClient | None = None
) -> None:
    """Create the API's idempotency table unless it exists (same rules as the connections table)."""
    ensure_table(
        idempotency_table_definition(table_name),
        IDEMPOTENCY_TTL_ATTRIBUTE,
        endpoint_url,
        region,
        client=client,
    )


def ensure_pending_calls_table(
    endpoint_url: str | None, table_name: str, region: str, *, client: DynamoDBClient | None = None
) -> None:
    """Create the chargers' outstanding-CALL table unless it exists."""
    ensure_table(
        pending_calls_table_definition(table_name), PENDING_TTL_ATTRIBUTE, endpoint_url, region, client=client
    )


def ensure_limits_table(
    endpoint_url: str | None, table_name: str, region: str, *, client: DynamoDBClient | None = None
) -> None:
    """Create the limits table (counters per client, revocation stamps) unless it exists."""
    ensure_table(
        limits_table_definition(table_name), LIMITS_TTL_ATTRIBUTE, endpoint_url, region, client=client
    )


def ensure_commands_queue(endpoint_url: str | None, queue_name: str, region: str) -> str:
    """Create the SQS FIFO command queue unless it exists; returns its URL."""
    sqs = provisioning_client("sqs", endpoint_url, region)
    url: str = sqs.create_queue(
        QueueName=queue_name,
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false", "VisibilityTimeout": "60"},
    )["QueueUrl"]
    return url


def ensure_command_secrets_key(endpoint_url: str | None, alias: str, region: str) -> str:
    """Create the KMS key that encrypts commands' secrets unless its alias exists; returns the
    alias (what the functions name it by)."""
    kms = provisioning_client("kms", endpoint_url, region)
    name = alias if alias.startswith("alias/") else f"alias/{alias}"
    try:
        kms.describe_key(KeyId=name)
    except kms.exceptions.NotFoundException:
        key_id = kms.create_key(Description="csms command secrets (new station passwords)")["KeyMetadata"][
            "KeyId"
        ]
        kms.create_alias(AliasName=name, TargetKeyId=key_id)
    return name


def ensure_event_bus(endpoint_url: str | None, bus_name: str, region: str) -> str:
    """Create the EventBridge bus for domain events unless it exists; returns its name."""
    events = provisioning_client("events", endpoint_url, region)
    try:
        events.describe_event_bus(Name=bus_name)
    except events.exceptions.ResourceNotFoundException:
        events.create_event_bus(Name=bus_name)
    return bus_name


def ensure_queue(endpoint_url: str | None, queue_name: str, region: str) -> str:
    """Create a standard SQS queue unless it exists; returns its URL."""
    url: str = provisioning_client("sqs", endpoint_url, region).create_queue(QueueName=queue_name)["QueueUrl"]
    return url


def ensure_load_trigger_rules(
    events_endpoint: str | None, sqs_endpoint: str | None, bus_name: str, queue_url: str, region: str
) -> list[str]:
    """The load-trigger rules (csms.load_triggers) on the bus, each delivering to the queue;
    returns the rule names. For the local stack (moto: the meter rule without its filter inside
    the samples, which moto cannot match); the CDK app deploys the real ones."""
    from csms.load_triggers import patterns

    names = []
    for suffix, pattern in patterns(within_arrays=False).items():
        name = f"{bus_name}-load-{suffix}"
        ensure_rule_to_queue(
            events_endpoint, region, bus_name, name, pattern, queue_url, sqs_endpoint=sqs_endpoint
        )
        names.append(name)
    return names


def ensure_user_pool(endpoint_url: str | None, pool_name: str, region: str) -> str:
    """The id of the operators' user pool ``pool_name``, created (with the tenant and role
    attributes the API reads) unless it exists. For the local stack; the CDK app deploys
    the real one."""
    cognito = provisioning_client("cognito-idp", endpoint_url, region)
    for pool in cognito.list_user_pools(MaxResults=60).get("UserPools", []):
        if pool["Name"] == pool_name:
            return str(pool["Id"])
    created: str = cognito.create_user_pool(
        PoolName=pool_name,
        UsernameAttributes=["email"],
        Schema=[
            {"Name": "tenant", "AttributeDataType": "String", "Mutable": False},
            {"Name": "role", "AttributeDataType": "String", "Mutable": True},
        ],
    )["UserPool"]["Id"]
    return created


def ensure_table(
    definition: dict[str, Any],
    ttl_attribute: str,
    endpoint_url: str | None,
    region: str,
    *,
    client: DynamoDBClient | None = None,
) -> None:
    """Create a table from ``definition`` unless it exists, wait until ACTIVE, enable TTL."""
    table_name = definition["TableName"]
    ddb = client if client is not None else dynamodb_client(endpoint_url, region)
    try:
        ddb.create_table(**definition)
        logger.info("Created DynamoDB table %s.", table_name)
    except ddb.exceptions.ResourceInUseException:
        pass  # exists already (or is being created): the waiter below covers both
    # Moto answers ACTIVE at once; on AWS an on-demand table takes a few seconds. The waiter
    # checks before its first sleep, so the 1 s delay costs nothing when it is ready.
    ddb.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig=_WAIT)
    _ensure_ttl(ddb, table_name, ttl_attribute)


def _ensure_ttl(ddb: DynamoDBClient, table_name: str, ttl_attribute: str) -> None:
    description = ddb.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
    status = description.get("TimeToLiveStatus", "DISABLED")
    attribute = description.get("AttributeName")
    if status in ("ENABLED", "ENABLING"):
        if attribute != ttl_attribute:
            # Switching attributes means disabling first, and AWS then blocks changes for
            # up to an hour: a decision for a human, not for a dev command.
            raise ProvisioningError(
                f"Table {table_name} has TTL on {attribute!r}, expected {ttl_attribute!r}."
            )
        return
    ddb.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attribute}
    )
    logger.info("Enabled TTL on %s.%s.", table_name, ttl_attribute)


def ensure_rule_to_queue(
    endpoint_url: str | None,
    region: str,
    bus_name: str,
    rule_name: str,
    pattern: dict[str, Any],
    queue_url: str,
    *,
    sqs_endpoint: str | None = None,
) -> None:
    """A rule on ``bus_name`` routing the events ``pattern`` matches to an SQS queue (created or
    replaced). The local stack's stand-in for a rule with a Lambda target."""
    events = provisioning_client("events", endpoint_url, region)
    sqs_endpoint = sqs_endpoint or os.environ.get("AWS_ENDPOINT_URL_SQS") or endpoint_url
    queue_arn = provisioning_client("sqs", sqs_endpoint, region).get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    events.put_rule(Name=rule_name, EventBusName=bus_name, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=rule_name, EventBusName=bus_name, Targets=[{"Id": "queue", "Arn": queue_arn}])

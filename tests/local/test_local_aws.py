"""Local AWS: moto's server on loopback, and the connections table provisioned into it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from csms.aws.provisioning import ensure_connections_table
from csms.aws.schema import PARTITION_KEY, TTL_ATTRIBUTE
from csms.local.aws import LocalAws, LocalAwsError

pytestmark = pytest.mark.integration

REGION = "eu-west-1"
TABLE = "csms-connections-test"


@pytest.fixture(scope="module")
def local_aws() -> Iterator[LocalAws]:
    with LocalAws() as aws:
        yield aws


@pytest.fixture
def dynamodb(local_aws: LocalAws) -> Any:
    """A moto client. moto's state is global to the process (other tests' stacks share it), so
    tests use their own table names instead of wiping it."""
    return boto3.client(
        "dynamodb",
        endpoint_url=local_aws.endpoint_url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_start_serves_on_loopback(local_aws: LocalAws) -> None:
    assert local_aws.endpoint_url.startswith("http://127.0.0.1:")
    assert local_aws.start() == local_aws.endpoint_url


def test_ensure_connections_table_is_idempotent_and_enables_ttl(local_aws: LocalAws, dynamodb: Any) -> None:
    # When the table is ensured twice
    ensure_connections_table(local_aws.endpoint_url, TABLE, REGION)
    local_aws.ensure_connections_table(TABLE, REGION)
    # Then it is ACTIVE, keyed on pk, and expires items on ttl
    table = dynamodb.describe_table(TableName=TABLE)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["KeySchema"] == [{"AttributeName": PARTITION_KEY, "KeyType": "HASH"}]
    ttl = dynamodb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": TTL_ATTRIBUTE}


def test_items_round_trip_through_the_endpoint(local_aws: LocalAws, dynamodb: Any) -> None:
    # Given the table
    local_aws.ensure_connections_table(TABLE, REGION)
    # When an item is put
    item = {PARTITION_KEY: {"S": "conn#abc="}, "cp": {"S": "CP-1"}, TTL_ATTRIBUTE: {"N": "1900000000"}}
    dynamodb.put_item(TableName=TABLE, Item=item)
    # Then it reads back
    assert dynamodb.get_item(TableName=TABLE, Key={PARTITION_KEY: {"S": "conn#abc="}})["Item"] == item


def test_stop_releases_the_port_and_is_idempotent() -> None:
    # Given a server that was started and stopped (twice)
    aws = LocalAws()
    port = int(aws.start().rsplit(":", 1)[1])
    aws.stop()
    aws.stop()
    # Then the port is free again and the endpoint is gone
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))
    with pytest.raises(LocalAwsError):
        _ = aws.endpoint_url


def test_a_busy_port_is_refused_instead_of_hanging() -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        with pytest.raises(LocalAwsError):
            LocalAws(port=squatter.getsockname()[1]).start()

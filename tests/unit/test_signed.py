"""The lean AWS clients without a network: SigV4 against botocore's signer, retries, errors."""

from __future__ import annotations

import http.client
import json
from datetime import UTC, datetime
from email.message import Message
from typing import Any
from unittest import mock

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest

from csms.aws import signed
from csms.aws.connections import DynamoConnectionStore
from csms.aws.gateway import ApiGatewaySender
from csms.errors import ConnectionGone

NOW = datetime(2026, 11, 21, 8, 30, 5, tzinfo=UTC)
#: A connection record as DynamoDB returns it, last seen long before NOW.
RECORD = {
    "connection_id": {"S": "c"},
    "charge_point_id": {"S": "CP-1"},
    "tenant_id": {"S": "default"},
    "protocol": {"S": "ocpp1.6"},
    "connected_at": {"S": "2026-11-21T07:00:00+00:00"},
    "last_seen": {"S": "2026-11-21T07:00:00+00:00"},
    "registration_status": {"S": "Accepted"},
}
CREDENTIALS = signed.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token")


def botocore_authorization(method: str, url: str, headers: dict[str, str], body: bytes, service: str) -> str:
    request = botocore.awsrequest.AWSRequest(method=method, url=url, data=body, headers=dict(headers))
    credentials = botocore.credentials.Credentials(*CREDENTIALS)
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        botocore.auth.SigV4Auth(credentials, service, "eu-west-1").add_auth(request)
    return str(request.headers["Authorization"])


@pytest.mark.parametrize(
    ("url", "service", "headers", "body"),
    [
        (
            "https://dynamodb.eu-west-1.amazonaws.com/",
            "dynamodb",
            {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.UpdateItem"},
            b'{"TableName":"t"}',
        ),
        (
            "https://abc.execute-api.eu-west-1.amazonaws.com/prod/@connections/Ab1%3D",
            "execute-api",
            {},
            b"[3]",
        ),
        ("http://127.0.0.1:8180/local/@connections/x%2By%3D", "execute-api", {}, b""),
    ],
)
def test_signatures_match_botocores(url: str, service: str, headers: dict[str, str], body: bytes) -> None:
    ours = signed.sign(
        "POST", url, headers, body, service=service, region="eu-west-1", credentials=CREDENTIALS, now=NOW
    )
    assert ours["Authorization"] == botocore_authorization("POST", url, headers, body, service)
    assert ours["X-Amz-Security-Token"] == "session-token"


class ScriptedHttp(signed.SignedHttp):
    """SignedHttp whose transport replays scripted answers (or raises) instead of a socket."""

    def __init__(self, script: list[Any], endpoint: str = "https://dynamodb.eu-west-1.amazonaws.com") -> None:
        super().__init__(
            endpoint,
            service="dynamodb",
            region="eu-west-1",
            credentials=lambda: CREDENTIALS,
            sleep=self._slept,
        )
        self.script = script
        self.requests: list[tuple[str, str, bytes, dict[str, str]]] = []
        self.sleeps: list[float] = []

    def _slept(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def _send(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> Any:
        self.requests.append((method, path, body, headers))
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        status, payload, extra = step
        message = Message()
        for name, value in extra.items():
            message[name] = value
        return signed._Response(status, message, json.dumps(payload).encode())  # type: ignore[arg-type]


def a_dynamodb(script: list[Any]) -> tuple[signed.DynamoDB, ScriptedHttp]:
    client = signed.DynamoDB(
        "eu-west-1", "https://dynamodb.eu-west-1.amazonaws.com", credentials=lambda: CREDENTIALS
    )
    transport = ScriptedHttp(script)
    client._http = transport
    client.exceptions = transport.exceptions
    return client, transport


def test_an_operation_is_one_signed_json_post_with_its_target() -> None:
    client, transport = a_dynamodb([(200, {"Attributes": {"pk": {"S": "conn#1"}}}, {})])
    answer = client.update_item(TableName="t", Key={"pk": {"S": "conn#1"}})
    assert answer == {"Attributes": {"pk": {"S": "conn#1"}}}
    method, path, body, headers = transport.requests[0]
    assert (method, path) == ("POST", "/")
    assert json.loads(body) == {"TableName": "t", "Key": {"pk": {"S": "conn#1"}}}
    assert headers["X-Amz-Target"] == "DynamoDB_20120810.UpdateItem"
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")


def test_a_dropped_keep_alive_connection_and_a_throttle_are_retried_with_backoff() -> None:
    throttled = (400, {"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException"}, {})
    client, transport = a_dynamodb([http.client.RemoteDisconnected("gone"), throttled, (200, {}, {})])
    assert client.put_item(TableName="t", Item={}) == {}
    assert len(transport.requests) == 3
    assert len(transport.sleeps) == 2


def test_a_failed_condition_is_raised_at_once_as_its_own_exception() -> None:
    failed = (400, {"__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"}, {})
    client, transport = a_dynamodb([failed])
    with pytest.raises(client.exceptions.ConditionalCheckFailedException) as caught:
        client.update_item(TableName="t")
    assert caught.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert len(transport.requests) == 1


def test_server_errors_give_up_after_three_attempts() -> None:
    client, transport = a_dynamodb([(500, {}, {}), (503, {}, {}), (500, {}, {})])
    with pytest.raises(signed.AwsError):
        client.get_item(TableName="t")
    assert len(transport.requests) == 3


def test_the_store_maps_a_missing_connection_to_none() -> None:
    client, _ = a_dynamodb([(200, {}, {})])  # GetItem finds no item
    assert DynamoConnectionStore(client, "t").touch("nope", NOW) is None


def test_the_store_maps_a_record_expired_before_its_liveness_write_to_none() -> None:
    found = (200, {"Item": {"pk": {"S": "conn#c"}, **RECORD}}, {})
    failed = (400, {"__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"}, {})
    client, transport = a_dynamodb([found, failed])
    assert DynamoConnectionStore(client, "t").touch("c", NOW) is None
    assert len(transport.requests) == 2


def test_the_sender_turns_410_into_connection_gone() -> None:
    client = signed.ApiGatewayManagement(
        "eu-west-1", "https://abc.execute-api.eu-west-1.amazonaws.com/prod", credentials=lambda: CREDENTIALS
    )
    transport = ScriptedHttp(
        [(200, {}, {}), (410, {"message": "gone"}, {"x-amzn-ErrorType": "GoneException:http://internal"})],
        endpoint="https://abc.execute-api.eu-west-1.amazonaws.com/prod",
    )
    client._http = transport
    client.exceptions = transport.exceptions
    sender = ApiGatewaySender(client)
    sender.send("Ab1=", '[3,"x",{}]')
    with pytest.raises(ConnectionGone):
        sender.send("Ab1=", '[3,"y",{}]')
    method, path, body, _ = transport.requests[0]
    assert (method, path, body) == ("POST", "/prod/@connections/Ab1%3D", b'[3,"x",{}]')


@pytest.mark.parametrize(
    "url",
    [
        "https://abc.execute-api.eu-west-1.amazonaws.com/prod/@connections/Ab1%3D",
        "http://127.0.0.1:8180/local/@connections/x%2By%3D",
    ],
)
@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_get_and_delete_signatures_match_botocores(method: str, url: str) -> None:
    ours = signed.sign(
        method, url, {}, b"", service="execute-api", region="eu-west-1", credentials=CREDENTIALS, now=NOW
    )
    assert ours["Authorization"] == botocore_authorization(method, url, {}, b"", "execute-api")


def test_get_connection_answers_like_boto3_and_a_gone_one_does_not_exist() -> None:
    endpoint = "https://abc.execute-api.eu-west-1.amazonaws.com/prod"
    client = signed.ApiGatewayManagement("eu-west-1", endpoint, credentials=lambda: CREDENTIALS)
    described = {
        "connectedAt": "2026-11-21T08:00:00.250Z",
        "lastActiveAt": "2026-11-21T08:29:59.000Z",
        "identity": {"sourceIp": "192.0.2.7", "userAgent": "ChargerOS/1.0"},
    }
    gone = (410, {"message": "gone"}, {"x-amzn-ErrorType": "GoneException:http://internal"})
    transport = ScriptedHttp([(200, described, {}), (200, described, {}), gone], endpoint=endpoint)
    client._http = transport
    client.exceptions = transport.exceptions

    # boto3's shape: datetimes and capitalised names
    assert client.get_connection(ConnectionId="Ab1=") == {
        "ConnectedAt": datetime(2026, 11, 21, 8, 0, 0, 250_000, tzinfo=UTC),
        "LastActiveAt": datetime(2026, 11, 21, 8, 29, 59, tzinfo=UTC),
        "Identity": {"SourceIp": "192.0.2.7", "UserAgent": "ChargerOS/1.0"},
    }
    method, path, body, headers = transport.requests[0]
    assert (method, path, body) == ("GET", "/prod/@connections/Ab1%3D", b"")
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    # the sender's question: open (200) or gone (410)
    sender = ApiGatewaySender(client)
    assert sender.exists("Ab1=") is True
    assert sender.exists("Ab1=") is False


def test_endpoints_follow_the_standard_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    assert (
        signed.endpoint_for("dynamodb", "eu-west-1", "dynamodb") == "https://dynamodb.eu-west-1.amazonaws.com"
    )
    assert signed.endpoint_for("dynamodb", "cn-north-1", "dynamodb").endswith(".amazonaws.com.cn")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566/")
    assert signed.endpoint_for("dynamodb", "eu-west-1", "dynamodb") == "http://127.0.0.1:4566"
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9000")
    assert signed.endpoint_for("dynamodb", "eu-west-1", "dynamodb") == "http://127.0.0.1:9000"


def test_lambda_credentials_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKID")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "SECRET")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "TOKEN")
    assert signed.default_credentials()() == signed.Credentials("AKID", "SECRET", "TOKEN")


def test_https_clients_share_one_tls_context_made_on_their_first_connection() -> None:
    signed.tls_context.cache_clear()
    made: list[object] = []
    real = signed.ssl.create_default_context

    def counting() -> object:
        made.append(real())
        return made[-1]

    def credentials() -> signed.Credentials:
        return CREDENTIALS

    with mock.patch.object(signed.ssl, "create_default_context", counting):
        # Given two clients of one function (building them loads no CA bundle)
        tables = signed.SignedHttp(
            "https://dynamodb.eu-west-1.amazonaws.com",
            service="dynamodb",
            region="eu-west-1",
            credentials=credentials,
        )
        gateway = signed.SignedHttp(
            "https://abc.execute-api.eu-west-1.amazonaws.com/prod",
            service="execute-api",
            region="eu-west-1",
            credentials=credentials,
        )
        assert made == []

        # When each opens its connection
        with mock.patch.object(http.client.HTTPSConnection, "connect"):
            first = tables._connection()
            second = gateway._connection()

    # Then the CA bundle was loaded once, for both
    assert len(made) == 1
    assert first._context is second._context is made[0]  # type: ignore[attr-defined]
    signed.tls_context.cache_clear()

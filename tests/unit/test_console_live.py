"""Console live updates (ADR 0025): the offered token, the authorizer, the routes, the fan-out
and the Cognito ID-token check, with fakes (no network)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from csms.app import fanout, live
from csms.aws.tokens import CognitoIdTokens, InvalidToken
from csms.constants import LIVE_SUBPROTOCOL, MAX_MESSAGE_BYTES
from csms.domain.tenancy import Role
from csms.services.console_live import ConsoleLive, messages_of, offered_token
from tests.fakes import FakeLiveSubscribers, RecordingSender

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool"
METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc/live/$connect"


def an_envelope(tenant_id: str = "acme", **overrides: Any) -> dict[str, Any]:
    return {
        "id": "7c1e0000-0000-4000-8000-000000000001",
        "type": "ConnectorStatusChanged",
        "version": 2,
        "tenantId": tenant_id,
        "stationId": "CP-1",
        "occurredAt": "2026-12-07T12:00:00.000Z",
        "correlationId": None,
        "data": {"evseId": 1, "status": "Charging"},
        **overrides,
    }


def service(sender: RecordingSender | None = None) -> tuple[ConsoleLive, FakeLiveSubscribers]:
    subscribers = FakeLiveSubscribers()
    return ConsoleLive(subscribers, sender, lambda: T0), subscribers


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (f"{LIVE_SUBPROTOCOL}, bearer.a.b.c", "a.b.c"),
        ("bearer.x.y.z,csms.live.v1", "x.y.z"),
        (LIVE_SUBPROTOCOL, None),
        ("bearer.", None),
        (None, None),
    ],
)
def test_the_token_is_the_offered_bearer_subprotocol(header: str | None, expected: str | None) -> None:
    assert offered_token(header) == expected


def test_a_batch_goes_to_every_console_of_each_tenant_only_in_one_message_and_gone_ones_are_dropped() -> None:
    sender = RecordingSender()
    live_, subscribers = service(sender)
    for connection, tenant in (("a1", "acme"), ("a2", "acme"), ("g1", "globex"), ("a3", "acme")):
        live_.admit(connection, tenant, Role.VIEWER, "someone")
    sender.gone.add("a2")
    first, second = an_envelope("acme", id="e-1"), an_envelope("acme", id="e-2")
    elsewhere = an_envelope("globex", id="e-3")

    outcome = live_.fan_out([first, elsewhere, second])

    assert (outcome.sent, outcome.dropped, outcome.failed) == (3, 1, 0)
    received = {c: json.loads(text) for c, text in sender.sent}
    assert received == {
        "a1": {"events": [first, second]},
        "a3": {"events": [first, second]},
        "g1": {"events": [elsewhere]},
    }
    assert sorted(subscribers.by_connection) == ["a1", "a3", "g1"]


def test_one_failing_console_does_not_keep_the_event_from_the_others() -> None:
    class Flaky(RecordingSender):
        def send(self, connection_id: str, frame: str) -> None:
            if connection_id == "a1":
                raise TimeoutError("throttled")
            super().send(connection_id, frame)

    sender = Flaky()
    live_, subscribers = service(sender)
    live_.admit("a1", "acme", Role.ADMIN, "")
    live_.admit("a2", "acme", Role.ADMIN, "")

    outcome = live_.fan_out([an_envelope()])

    assert (outcome.sent, outcome.dropped, outcome.failed) == (1, 0, 1)
    assert sorted(subscribers.by_connection) == ["a1", "a2"]  # kept: not gone, just failed


def test_an_event_without_a_tenant_goes_nowhere() -> None:
    sender = RecordingSender()
    live_, _ = service(sender)
    live_.admit("a1", "acme", Role.ADMIN, "")
    assert live_.fan_out([an_envelope(tenantId=None)]).sent == 0
    assert sender.sent == []


def test_events_are_packed_into_messages_under_128_kb_in_their_order() -> None:
    events = [an_envelope(id=f"e-{n}", data={"blob": "x" * 30_000}) for n in range(9)]
    messages = messages_of(events)
    assert len(messages) == 3  # four of ~30 KB a message
    assert all(len(m.encode()) <= MAX_MESSAGE_BYTES for m in messages)
    assert [e["id"] for m in messages for e in json.loads(m)["events"]] == [f"e-{n}" for n in range(9)]


def test_an_event_too_large_for_a_websocket_message_goes_without_its_data() -> None:
    big = an_envelope(data={"blob": "x" * MAX_MESSAGE_BYTES})
    [message] = messages_of([an_envelope(id="small"), big])
    small, omitted = json.loads(message)["events"]
    assert small == an_envelope(id="small")
    assert (omitted["data"], omitted["dataOmitted"], omitted["id"]) == ({}, True, big["id"])


def verify_as(claims: dict[str, Any] | Exception) -> Any:
    def verify(token: str) -> dict[str, Any]:
        assert token == "the.token.here"
        if isinstance(claims, Exception):
            raise claims
        return claims

    return verify


def a_connect_request(protocols: str = f"{LIVE_SUBPROTOCOL}, bearer.the.token.here") -> dict[str, Any]:
    return {"type": "REQUEST", "methodArn": METHOD_ARN, "headers": {"sec-websocket-protocol": protocols}}


def test_the_authorizer_allows_this_connect_with_the_operators_tenant_role_and_subject() -> None:
    claims = {
        "sub": "u-1",
        "iat": 1_800_000_000,
        "custom:tenant": "acme",
        "cognito:groups": ["viewer", "operator"],
    }

    answer = live.authorize(a_connect_request(), verify_as(claims))

    assert answer["principalId"] == "u-1"
    assert answer["policyDocument"]["Statement"] == [
        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": METHOD_ARN}
    ]
    assert answer["context"] == {
        "tenantId": "acme",
        "role": "operator",
        "subject": "u-1",
        "issuedAt": "1800000000",
    }


@pytest.mark.parametrize(
    ("protocols", "claims"),
    [
        (LIVE_SUBPROTOCOL, {"sub": "u", "custom:tenant": "acme", "custom:role": "admin"}),
        (f"{LIVE_SUBPROTOCOL}, bearer.the.token.here", InvalidToken("expired")),
        (f"{LIVE_SUBPROTOCOL}, bearer.the.token.here", {"sub": "u", "custom:role": "admin"}),
        (f"{LIVE_SUBPROTOCOL}, bearer.the.token.here", {"sub": "u", "custom:tenant": "acme"}),
    ],
    ids=["no token", "invalid", "no tenant", "no role"],
)
def test_the_authorizer_refuses_as_api_gateway_expects(protocols: str, claims: Any) -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        live.authorize(a_connect_request(protocols), verify_as(claims))


def test_connect_records_the_console_and_echoes_the_subprotocol_and_disconnect_forgets_it() -> None:
    live_, subscribers = service()
    context = {
        "tenantId": "acme",
        "role": "viewer",
        "subject": "u-1",
        "issuedAt": "1800000000",
        "principalId": "u-1",
    }
    connect = {"requestContext": {"routeKey": "$connect", "connectionId": "c-1", "authorizer": context}}
    asked: list[tuple[str, int | None]] = []

    answer = live.handle(connect, None, live_, revoked=lambda subject, at: bool(asked.append((subject, at))))

    assert answer == {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": LIVE_SUBPROTOCOL}}
    assert asked == [("u-1", 1_800_000_000)]
    [subscriber] = subscribers.by_connection.values()
    assert (subscriber.tenant_id, subscriber.role, subscriber.subject, subscriber.connected_at) == (
        "acme",
        Role.VIEWER,
        "u-1",
        T0,
    )
    ping = {"requestContext": {"routeKey": "$default", "connectionId": "c-1", "authorizer": context}}
    assert live.handle(ping, None, live_) == {"statusCode": 200}
    disconnect = {"requestContext": {"routeKey": "$disconnect", "connectionId": "c-1", "authorizer": context}}
    assert live.handle(disconnect, None, live_) == {"statusCode": 200}
    assert subscribers.by_connection == {}


def test_connect_without_the_authorizers_context_admits_nobody() -> None:
    live_, subscribers = service()
    connect = {"requestContext": {"routeKey": "$connect", "connectionId": "c-1"}}
    assert live.handle(connect, None, live_, revoked=lambda subject, at: False) == {"statusCode": 401}
    assert subscribers.by_connection == {}


def test_connect_refuses_a_token_revoked_since_it_was_issued() -> None:
    live_, subscribers = service()
    context = {"tenantId": "acme", "role": "admin", "subject": "u-1", "issuedAt": "1800000000"}
    connect = {"requestContext": {"routeKey": "$connect", "connectionId": "c-1", "authorizer": context}}
    assert live.handle(connect, None, live_, revoked=lambda subject, at: True) == {"statusCode": 401}
    assert subscribers.by_connection == {}


def an_sqs_record(body: str, message_id: str = "m-1") -> dict[str, Any]:
    return {"messageId": message_id, "body": body, "eventSource": "aws:sqs"}


def test_the_fanout_function_sends_the_details_of_the_eventbridge_events_the_queue_holds() -> None:
    sender = RecordingSender()
    live_, _ = service(sender)
    live_.admit("a1", "acme", Role.VIEWER, "")
    bridged = {"detail-type": "ConnectorStatusChanged", "source": "csms", "detail": an_envelope()}
    event = {"Records": [an_sqs_record(json.dumps(bridged)), an_sqs_record("not json", "m-2")]}

    assert fanout.handle(event, None, live_) == {"events": 1, "sent": 1, "dropped": 0, "failed": 0}
    assert json.loads(sender.sent[0][1]) == {"events": [an_envelope()]}
    assert fanout.handle({"Records": []}, None, live_) == {"events": 0, "sent": 0, "dropped": 0, "failed": 0}


# --- Cognito ID tokens -------------------------------------------------------------------------


class _Keys:
    """A key set of one RSA key (PyJWKClient's role), no network."""

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        self._jwk = jwt.PyJWK(json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())), "RS256")

    def get_signing_key_from_jwt(self, token: str) -> jwt.PyJWK:
        return self._jwk


@pytest.fixture(scope="module")
def pool_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def a_cognito_token(key: rsa.RSAPrivateKey, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "u-1",
        "aud": "console-client",
        "token_use": "id",
        "iat": now,
        "exp": now + 3600,
        "custom:tenant": "acme",
        "custom:role": "operator",
        **overrides,
    }
    return jwt.encode(claims, key, algorithm="RS256")


def test_a_pool_id_token_is_accepted(pool_key: rsa.RSAPrivateKey) -> None:
    claims = CognitoIdTokens(ISSUER, _Keys(pool_key)).verify(a_cognito_token(pool_key))
    assert (claims["custom:tenant"], claims["sub"]) == ("acme", "u-1")


@pytest.mark.parametrize(
    "overrides",
    [
        {"token_use": "access"},
        {"iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other"},
        {"exp": int(time.time()) - 10},
    ],
    ids=["access token", "another pool", "expired"],
)
def test_other_tokens_are_refused(pool_key: rsa.RSAPrivateKey, overrides: dict[str, Any]) -> None:
    with pytest.raises(InvalidToken):
        CognitoIdTokens(ISSUER, _Keys(pool_key)).verify(a_cognito_token(pool_key, **overrides))


def test_a_token_signed_by_another_key_is_refused(pool_key: rsa.RSAPrivateKey) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(InvalidToken):
        CognitoIdTokens(ISSUER, _Keys(pool_key)).verify(a_cognito_token(stranger))

"""The consoles' live WebSocket API (ADR 0025) in the template: an authorizer on $connect that
reads the offered subprotocols, the routes to the live function, every domain event to the
fan-out, and each function's grants exactly what its adapter calls."""

from __future__ import annotations

import json

import pytest

from csms.aws.live import DynamoLiveSubscribers
from csms.aws.schema import TENANT_INDEX
from csms.constants import LIVE_ROUTES
from csms.domain.events import EVENT_SOURCE
from csms_infra import names
from tests.infra.support import (
    Synth,
    actions_on,
    client_operations,
    environment_of,
    function_of,
    statements_of,
)

pytestmark = pytest.mark.infra


def _api_id(synth: Synth) -> str:
    return synth.logical_id(synth.stack.console_live.api)


def test_connect_is_authorized_by_the_live_function_from_the_offered_subprotocols(dev: Synth) -> None:
    [authorizer] = [
        a["Properties"]
        for a in dev.of_type("AWS::ApiGatewayV2::Authorizer").values()
        if a["Properties"]["ApiId"] == {"Ref": _api_id(dev)}
    ]
    assert authorizer["AuthorizerType"] == "REQUEST"
    assert authorizer["IdentitySource"] == ["route.request.header.Sec-WebSocket-Protocol"]
    assert dev.logical_id(dev.stack.live.function) in json.dumps(authorizer["AuthorizerUri"])
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in dev.of_type("AWS::ApiGatewayV2::Route").values()
        if r["Properties"]["ApiId"] == {"Ref": _api_id(dev)}
    }
    assert sorted(routes) == sorted(LIVE_ROUTES)
    assert routes["$connect"]["AuthorizationType"] == "CUSTOM"
    assert routes["$default"].get("AuthorizationType", "NONE") == "NONE"
    [stage] = [
        s["Properties"]
        for s in dev.of_type("AWS::ApiGatewayV2::Stage").values()
        if s["Properties"]["ApiId"] == {"Ref": _api_id(dev)}
    ]
    assert stage["StageName"] == names.LIVE_STAGE_NAME
    assert "ConsoleLiveUrl" in dev.template.to_json()["Outputs"]


def test_every_domain_event_goes_to_the_fanout_in_batches_of_up_to_a_second(dev: Synth) -> None:
    queue = dev.logical_id(dev.stack.console_live.queue)
    [rule] = [
        r["Properties"]
        for r in dev.of_type("AWS::Events::Rule").values()
        if queue in json.dumps(r["Properties"].get("Targets", []))
    ]
    assert rule["EventPattern"] == {"source": [EVENT_SOURCE]}
    assert dev.logical_id(dev.stack.events.bus) in json.dumps(rule["EventBusName"])
    [target] = rule["Targets"]
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 120}
    [mapping] = [
        m["Properties"]
        for m in dev.of_type("AWS::Lambda::EventSourceMapping").values()
        if queue in json.dumps(m["Properties"]["EventSourceArn"])
    ]
    assert dev.logical_id(dev.stack.fanout.function) in json.dumps(mapping["FunctionName"])
    assert mapping["MaximumBatchingWindowInSeconds"] == 1
    assert dev.resources[queue]["Properties"]["MessageRetentionPeriod"] == 120


def _grants(synth: Synth, fn: object) -> dict[str, str]:
    found: dict[str, str] = {}
    for statement in statements_of(synth, fn):  # type: ignore[arg-type]
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        for action in actions:
            found[action] = json.dumps(statement["Resource"])
    return found


def test_the_live_function_writes_and_deletes_console_items_and_reads_revocations_only(dev: Synth) -> None:
    table = dev.logical_id(dev.stack.connections.table)
    on_connections = actions_on(dev, dev.stack.live, table)
    expected = {f"dynamodb:{a}" for a in client_operations(DynamoLiveSubscribers, "add", "remove")}
    assert on_connections == expected == {"dynamodb:PutItem", "dynamodb:DeleteItem"}
    # the revocation stamps (the limits grant the REST API's functions share)
    assert "dynamodb:GetItem" in actions_on(dev, dev.stack.live, dev.logical_id(dev.stack.limits.table))
    grants = _grants(dev, dev.stack.live)
    assert not any(a.startswith("execute-api:") for a in grants)
    environment = environment_of(dev, dev.stack.live)
    assert dev.logical_id(dev.stack.users.pool) in json.dumps(environment[names.Env.LIVE_TOKEN_ISSUER])
    assert "VpcConfig" not in function_of(dev, dev.stack.live)["Properties"]


def test_the_fanout_queries_the_tenant_index_deletes_gone_consoles_and_posts_to_the_live_api_only(
    dev: Synth,
) -> None:
    grants = _grants(dev, dev.stack.fanout)
    dynamodb = {a.removeprefix("dynamodb:") for a in grants if a.startswith("dynamodb:")}
    assert (
        dynamodb == client_operations(DynamoLiveSubscribers, "of_tenant", "remove") == {"Query", "DeleteItem"}
    )
    assert f"/index/{TENANT_INDEX}" in grants["dynamodb:Query"]
    posts = grants["execute-api:ManageConnections"]
    assert _api_id(dev) in posts
    assert f"{names.LIVE_STAGE_NAME}/POST/@connections/*" in posts
    assert dev.logical_id(dev.stack.chargers.api) not in posts
    # and the queue's consumer actions (the event source mapping's), nothing else
    assert {a for a in grants if not a.startswith(("logs:", "sqs:"))} == {
        "dynamodb:Query",
        "dynamodb:DeleteItem",
        "execute-api:ManageConnections",
    }
    assert dev.logical_id(dev.stack.console_live.queue) in grants["sqs:ReceiveMessage"]
    environment = environment_of(dev, dev.stack.fanout)
    assert _api_id(dev) in json.dumps(environment[names.Env.LIVE_MANAGEMENT_ENDPOINT])

"""The operator REST API: routes and authorizers, gateway responses, stage, Cognito, grants."""

from __future__ import annotations

import json
from typing import Any

import pytest

from csms.api import API_PREFIX
from csms.api.app import DEEP_HEALTH_PATH, PUBLIC_PATHS
from csms.api.problems import PROBLEM_JSON
from csms.constants import ROLE_CLAIM, TENANT_CLAIM
from csms_infra import names

from .support import (
    WEB_ACL_ARN_API,
    Synth,
    actions_on,
    aurora,
    environment_of,
    function_of,
    statements_of,
    the_one,
)

pytestmark = pytest.mark.infra

PROXY_PATH = f"{API_PREFIX}/{{proxy+}}"
#: The user routes, served by the users function outside the VPC (ADR 0020).
USERS_PATHS = (f"{API_PREFIX}/users", f"{API_PREFIX}/users/{{proxy+}}")
#: What API Gateway substitutes for ``$context.error.messageString``: a JSON string.
SAMPLE_MESSAGE = '"Unauthorized"'


# --- helpers -----------------------------------------------------------------------------
def resource_paths(synth: Synth) -> dict[str, str]:
    """Logical id of each ``AWS::ApiGateway::Resource`` -> its full path."""
    resources = synth.of_type("AWS::ApiGateway::Resource")

    def path_of(logical_id: str) -> str:
        properties = resources[logical_id]["Properties"]
        parent = properties["ParentId"]
        prefix = path_of(parent["Ref"]) if "Ref" in parent else ""
        return f"{prefix}/{properties['PathPart']}"

    return {logical_id: path_of(logical_id) for logical_id in resources}


def methods(synth: Synth) -> dict[tuple[str, str], dict[str, Any]]:
    """``(path, HTTP method)`` -> the method's properties."""
    paths = resource_paths(synth)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for method in synth.of_type("AWS::ApiGateway::Method").values():
        properties = method["Properties"]
        resource = properties["ResourceId"]
        path = paths[resource["Ref"]] if "Ref" in resource else "/"
        found[(path, properties["HttpMethod"])] = properties
    return found


def gateway_responses(synth: Synth) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in synth.of_type("AWS::ApiGateway::GatewayResponse").values()
    }


def rest_stage(synth: Synth) -> dict[str, Any]:
    return the_one(synth.of_type("AWS::ApiGateway::Stage"))


def user_pool(synth: Synth) -> dict[str, Any]:
    return the_one(synth.of_type("AWS::Cognito::UserPool"))


def app_client(synth: Synth) -> dict[str, Any]:
    """The API's client (the console has its own: tests/infra/test_console.py)."""
    properties: dict[str, Any] = synth.resources[synth.logical_id(synth.stack.users.client)]["Properties"]
    return properties


# --- routes and authorizers --------------------------------------------------------------
def test_the_api_has_exactly_the_public_gets_and_authorized_catch_alls(dev: Synth) -> None:
    expected = {(path, "GET") for path in PUBLIC_PATHS}
    expected |= {(path, "ANY") for path in PUBLIC_PATHS}
    expected.add((PROXY_PATH, "ANY"))
    expected |= {(path, "ANY") for path in USERS_PATHS}
    expected.add((DEEP_HEALTH_PATH, "ANY"))  # below the public health path: authorized of its own

    assert set(methods(dev)) == expected


def test_public_paths_answer_get_without_any_authorizer(dev: Synth) -> None:
    for path in PUBLIC_PATHS:
        method = methods(dev)[(path, "GET")]
        assert method["AuthorizationType"] == "NONE"
        assert "AuthorizerId" not in method


def test_everything_else_needs_the_cognito_authorizer_of_the_stage_user_pool(dev: Synth) -> None:
    authorizer_id = dev.logical_id(dev.stack.operator_api.authorizer)
    authorizer = dev.resources[authorizer_id]["Properties"]
    protected = {key: m for key, m in methods(dev).items() if key not in {(p, "GET") for p in PUBLIC_PATHS}}

    assert authorizer["Type"] == "COGNITO_USER_POOLS"
    assert authorizer["IdentitySource"] == "method.request.header.Authorization"
    assert authorizer["ProviderARNs"] == [{"Fn::GetAtt": [dev.logical_id(dev.stack.users.pool), "Arn"]}]
    assert (PROXY_PATH, "ANY") in protected
    for key, method in protected.items():
        assert method["AuthorizationType"] == "COGNITO_USER_POOLS", key
        assert method["AuthorizerId"] == {"Ref": authorizer_id}, key


def test_every_method_proxies_to_the_api_function_and_users_to_the_users_function(dev: Synth) -> None:
    api_arn = {"Fn::GetAtt": [dev.logical_id(dev.stack.api_function.function), "Arn"]}
    users_arn = {"Fn::GetAtt": [dev.logical_id(dev.stack.users_function.function), "Arn"]}
    for key, method in methods(dev).items():
        integration = method["Integration"]
        assert integration["Type"] == "AWS_PROXY", key
        assert integration["IntegrationHttpMethod"] == "POST", key
        expected = users_arn if key[0] in USERS_PATHS else api_arn
        assert expected in integration["Uri"]["Fn::Join"][1], key


def test_api_gateway_may_invoke_the_function_only_from_this_api(dev: Synth) -> None:
    api_id = dev.logical_id(dev.stack.operator_api.api)
    function = dev.logical_id(dev.stack.api_function.function)
    permissions = [
        p["Properties"]
        for p in dev.of_type("AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [function, "Arn"]}
    ]

    assert len(permissions) == len(methods(dev)) - len(USERS_PATHS)
    for permission in permissions:
        assert permission["Principal"] == "apigateway.amazonaws.com"
        assert {"Ref": api_id} in permission["SourceArn"]["Fn::Join"][1]


def test_the_api_is_regional(dev: Synth) -> None:
    api = dev.resources[dev.logical_id(dev.stack.operator_api.api)]["Properties"]

    assert api["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    assert api["Name"] == "csms-dev-operator-api"


# --- gateway responses -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("response_type", "status"),
    [
        ("UNAUTHORIZED", 401),
        ("ACCESS_DENIED", 403),
        ("MISSING_AUTHENTICATION_TOKEN", 404),
        ("THROTTLED", 429),
        ("DEFAULT_4XX", None),
        ("DEFAULT_5XX", None),
    ],
)
def test_gateway_errors_are_problem_json_like_the_function_s(
    dev: Synth, response_type: str, status: int | None
) -> None:
    response = gateway_responses(dev)[response_type]

    assert response["ResponseParameters"]["gatewayresponse.header.Content-Type"] == f"'{PROBLEM_JSON}'"
    assert list(response["ResponseTemplates"]) == ["application/json"]
    body = json.loads(
        response["ResponseTemplates"]["application/json"].replace(
            "$context.error.messageString", SAMPLE_MESSAGE
        )
    )
    assert body["type"] == "about:blank"
    assert body["title"]
    assert body["detail"]
    if status is None:
        # The catch-alls keep API Gateway's status per error, so the body cannot name it.
        assert "StatusCode" not in response
        assert "status" not in body
    else:
        assert response["StatusCode"] == str(status)
        assert body["status"] == status


def test_unauthorized_asks_for_a_bearer_token(dev: Synth) -> None:
    response = gateway_responses(dev)["UNAUTHORIZED"]

    assert response["ResponseParameters"]["gatewayresponse.header.WWW-Authenticate"] == "'Bearer'"
    assert "Bearer" in json.loads(response["ResponseTemplates"]["application/json"])["detail"]


def test_every_gateway_response_is_problem_json(variant: Synth) -> None:
    for response_type, response in gateway_responses(variant).items():
        content_type = response["ResponseParameters"]["gatewayresponse.header.Content-Type"]
        assert content_type == f"'{PROBLEM_JSON}'", response_type


# --- stage -------------------------------------------------------------------------------
def test_the_stage_throttles_every_method_and_logs_errors_but_no_payloads(dev: Synth, prod: Synth) -> None:
    for synth, (rate, burst) in ((dev, (50, 100)), (prod, (500, 1000))):
        [settings] = rest_stage(synth)["Properties"]["MethodSettings"]
        assert settings["HttpMethod"] == "*"
        assert settings["ResourcePath"] == "/*"
        assert (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]) == (rate, burst)
        assert settings["LoggingLevel"] == "ERROR"
        assert settings["DataTraceEnabled"] is False


def test_access_logs_are_one_json_object_per_request(dev: Synth) -> None:
    access = rest_stage(dev)["Properties"]["AccessLogSetting"]
    line = access["Format"].replace("$context.error.messageString", SAMPLE_MESSAGE)

    fields = json.loads(line)
    assert {"requestId", "status", "httpMethod", "resourcePath", "responseLatency", "user"} <= set(fields)
    assert dev.logical_id(dev.stack.operator_api.access_logs) in json.dumps(access["DestinationArn"])


def test_execution_logs_go_to_a_log_group_with_retention(dev: Synth) -> None:
    logs = dev.resources[dev.logical_id(dev.stack.operator_api.execution_logs)]["Properties"]

    assert logs["LogGroupName"] == {
        "Fn::Join": [
            "",
            ["API-Gateway-Execution-Logs_", {"Ref": dev.logical_id(dev.stack.operator_api.api)}, "/dev"],
        ]
    }
    assert logs["RetentionInDays"] == 14


def test_the_stage_waits_for_its_log_group_and_the_account_logging_role(dev: Synth) -> None:
    depends_on = rest_stage(dev)["DependsOn"]

    assert dev.logical_id(dev.stack.operator_api.execution_logs) in depends_on
    assert any("CloudWatchRole" in d for d in depends_on)


def test_tracing_context_traces_the_stage_too(dev: Synth, prod: Synth) -> None:
    assert rest_stage(dev)["Properties"].get("TracingEnabled", False) is False
    assert rest_stage(prod)["Properties"]["TracingEnabled"] is True


def test_waf_is_attached_to_the_stage_only_when_configured(dev: Synth, prod: Synth) -> None:
    dev.template.resource_count_is("AWS::WAFv2::WebACLAssociation", 0)
    association = the_one(prod.of_type("AWS::WAFv2::WebACLAssociation"))["Properties"]

    assert association["WebACLArn"] == WEB_ACL_ARN_API
    stage_arn = json.dumps(association["ResourceArn"])
    assert prod.logical_id(prod.stack.operator_api.api) in stage_arn
    assert prod.logical_id(prod.stack.operator_api.stage) in stage_arn


# --- Cognito -----------------------------------------------------------------------------
def test_the_custom_attributes_are_the_claims_the_api_reads() -> None:
    assert f"custom:{names.TENANT_ATTRIBUTE}" == TENANT_CLAIM
    assert f"custom:{names.ROLE_ATTRIBUTE}" == ROLE_CLAIM


def test_the_user_pool_holds_an_immutable_tenant_and_a_role(dev: Synth) -> None:
    schema = {a["Name"]: a for a in user_pool(dev)["Properties"]["Schema"]}

    assert schema[names.TENANT_ATTRIBUTE]["AttributeDataType"] == "String"
    assert schema[names.TENANT_ATTRIBUTE]["Mutable"] is False
    assert schema[names.ROLE_ATTRIBUTE]["AttributeDataType"] == "String"
    assert schema[names.ROLE_ATTRIBUTE]["Mutable"] is True


def test_only_administrators_create_users_who_sign_in_with_e_mail(dev: Synth) -> None:
    properties = user_pool(dev)["Properties"]

    assert properties["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert properties["UsernameAttributes"] == ["email"]
    policy = properties["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12
    assert all(
        policy[k] for k in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols")
    )


def test_mfa_is_totp_and_follows_the_context(dev: Synth, prod: Synth) -> None:
    assert user_pool(dev)["Properties"]["MfaConfiguration"] == "OPTIONAL"
    assert user_pool(prod)["Properties"]["MfaConfiguration"] == "ON"
    for synth in (dev, prod):
        assert user_pool(synth)["Properties"]["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]


def test_prod_users_are_protected_and_retained(dev: Synth, prod: Synth) -> None:
    assert user_pool(dev)["Properties"]["UserPoolTier"] == "ESSENTIALS"
    assert user_pool(dev)["DeletionPolicy"] == "Delete"
    pool = user_pool(prod)
    assert pool["Properties"]["UserPoolTier"] == "PLUS"
    assert pool["Properties"]["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}
    assert pool["Properties"]["DeletionProtection"] == "ACTIVE"
    assert pool["DeletionPolicy"] == "Retain"


def test_the_app_client_reads_tenant_and_role_but_cannot_write_them(dev: Synth) -> None:
    client = app_client(dev)

    assert {TENANT_CLAIM, ROLE_CLAIM} <= set(client["ReadAttributes"])
    assert not {TENANT_CLAIM, ROLE_CLAIM} & set(client["WriteAttributes"])


def test_the_app_client_signs_in_without_a_secret_or_hosted_ui(dev: Synth) -> None:
    client = app_client(dev)

    assert client["GenerateSecret"] is False
    assert set(client["ExplicitAuthFlows"]) == {
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_USER_SRP_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }
    assert "AllowedOAuthFlows" not in client
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert client["IdTokenValidity"] == 60


# --- the api function --------------------------------------------------------------------
def test_the_api_function_gets_its_settings(dev: Synth, prod: Synth) -> None:
    environment = environment_of(dev, dev.stack.api_function)

    assert (
        function_of(dev, dev.stack.api_function)["Properties"]["Handler"]
        == "functions/api/handler.lambda_handler"
    )
    assert environment["CSMS_CONNECTIONS_TABLE"] == {"Ref": dev.logical_id(dev.stack.connections.table)}
    assert environment["CSMS_IDEMPOTENCY_TABLE"] == {"Ref": dev.logical_id(dev.stack.idempotency.table)}
    assert "CSMS_DATABASE_SECRET_ARN" in environment
    assert "CSMS_WS_MANAGEMENT_ENDPOINT" in environment
    assert "CSMS_ORIGIN_VERIFY_SECRET" not in environment
    assert "CSMS_DATABASE_HOST" not in environment
    # Through the RDS Proxy the function connects to the proxy, not to the secret's host.
    proxy = prod.logical_id(aurora(prod).proxy)
    assert environment_of(prod, prod.stack.api_function)["CSMS_DATABASE_HOST"] == {
        "Fn::GetAtt": [proxy, "Endpoint"]
    }


def test_the_api_may_read_connections_but_not_write_them(dev: Synth) -> None:
    actions = actions_on(dev, dev.stack.api_function, dev.logical_id(dev.stack.connections.table))

    assert {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:DescribeTable"} <= actions
    assert not actions & {
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
    }


def test_the_api_may_query_the_by_tenant_index(dev: Synth) -> None:
    table = dev.logical_id(dev.stack.connections.table)
    query_grants = [
        s
        for s in statements_of(dev, dev.stack.api_function)
        if "dynamodb:Query" in s["Action"] and table in json.dumps(s)
    ]

    [grant] = query_grants
    assert {"Fn::Join": ["", [{"Fn::GetAtt": [table, "Arn"]}, "/index/*"]]} in grant["Resource"]


def test_the_api_may_read_and_write_idempotency_records(dev: Synth) -> None:
    actions = actions_on(dev, dev.stack.api_function, dev.logical_id(dev.stack.idempotency.table))

    assert {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"} <= actions


def test_only_the_api_touches_the_idempotency_table(dev: Synth) -> None:
    table = dev.logical_id(dev.stack.idempotency.table)
    for fn in (dev.stack.connect, dev.stack.message, dev.stack.disconnect, dev.stack.migration.function):
        assert not actions_on(dev, fn, table), fn.name
        assert "CSMS_IDEMPOTENCY_TABLE" not in environment_of(dev, fn)


def test_the_api_may_close_connections_of_this_stage_only(dev: Synth) -> None:
    grants = [
        s
        for s in statements_of(dev, dev.stack.api_function)
        if s["Action"] == "execute-api:ManageConnections"
    ]

    assert len(grants) == 1
    assert json.dumps(grants[0]["Resource"]).endswith('"/dev/DELETE/@connections/*"]]}')


def test_the_api_function_reaches_the_database_from_the_vpc(dev: Synth) -> None:
    properties = function_of(dev, dev.stack.api_function)["Properties"]

    assert "VpcConfig" in properties
    assert properties["Timeout"] == 29  # API Gateway's integration timeout


# --- outputs -----------------------------------------------------------------------------
def test_outputs_name_the_api_url_and_the_user_pool(dev: Synth) -> None:
    outputs = dev.template.to_json()["Outputs"]
    api = dev.logical_id(dev.stack.operator_api.api)
    stage = dev.logical_id(dev.stack.operator_api.stage)

    assert outputs["UserPoolId"]["Value"] == {"Ref": dev.logical_id(dev.stack.users.pool)}
    assert outputs["UserPoolClientId"]["Value"] == {"Ref": dev.logical_id(dev.stack.users.client)}
    assert outputs["ApiUrl"]["Value"] == {
        "Fn::Join": [
            "",
            [
                "https://",
                {"Ref": api},
                ".execute-api.",
                {"Ref": "AWS::Region"},
                ".",
                {"Ref": "AWS::URLSuffix"},
                "/",
                {"Ref": stage},
                API_PREFIX,
            ],
        ]
    }


def test_the_users_function_manages_users_of_its_pool_only_from_outside_the_vpc(dev: Synth) -> None:
    from .support import function_of, statements_of

    api = dev.stack.users_function
    assert "VpcConfig" not in function_of(dev, api)["Properties"]  # Cognito has no IPv6 endpoint
    variables = function_of(dev, api)["Properties"]["Environment"]["Variables"]
    assert names.Env.USER_POOL_ID in variables
    cognito = [
        s
        for s in statements_of(dev, api)
        if any(
            str(a).startswith("cognito-idp:")
            for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        )
    ]
    assert len(cognito) == 1
    assert sorted(cognito[0]["Action"]) == [
        "cognito-idp:AdminCreateUser",
        "cognito-idp:AdminDeleteUser",
        "cognito-idp:AdminGetUser",
        "cognito-idp:AdminUpdateUserAttributes",
        "cognito-idp:ListUsers",
    ]
    assert dev.logical_id(dev.stack.users.pool) in str(cognito[0]["Resource"])
    # and no other function may touch the user pool
    for fn in (dev.stack.message, dev.stack.connect, dev.stack.api_function):
        assert not [s for s in statements_of(dev, fn) if "cognito-idp" in str(s["Action"])]

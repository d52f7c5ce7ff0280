"""Assertions on the synthesised stack: wiring, settings, least privilege, state."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Annotations, Match

from csms.aws.schema import (
    IDEMPOTENCY_TTL_ATTRIBUTE,
    TENANT_INDEX,
    TTL_ATTRIBUTE,
    connections_table_definition,
    idempotency_table_definition,
)
from csms.constants import ORIGIN_VERIFY_HEADER

from .support import (
    CUSTOM_DOMAIN,
    Synth,
    actions_of,
    all_functions,
    as_list,
    aurora,
    database_functions,
    environment_of,
    function_of,
    managed_policies_of,
    serving_functions,
    statements_of,
    the_one,
)

pytestmark = pytest.mark.infra

#: Managed CloudFront policies (ids are fixed by AWS).
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


# --- WebSocket API -----------------------------------------------------------------------
def test_each_route_invokes_its_function(dev: Synth) -> None:
    expected = {
        "$connect": dev.stack.connect,
        "$default": dev.stack.message,
        "$disconnect": dev.stack.disconnect,
    }
    integrations = dev.of_type("AWS::ApiGatewayV2::Integration")
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in dev.of_type("AWS::ApiGatewayV2::Route").values()
        if r["Properties"]["ApiId"] == {"Ref": dev.logical_id(dev.stack.chargers.api)}
    }

    assert set(routes) == set(expected)
    for route_key, fn in expected.items():
        integration_id = routes[route_key]["Target"]["Fn::Join"][1][1]["Ref"]
        integration = integrations[integration_id]["Properties"]
        assert integration["IntegrationType"] == "AWS_PROXY"
        assert {"Fn::GetAtt": [dev.logical_id(fn.function), "Arn"]} in integration["IntegrationUri"][
            "Fn::Join"
        ][1]


def test_replies_go_through_connections_not_route_responses(dev: Synth) -> None:
    dev.template.resource_count_is("AWS::ApiGatewayV2::RouteResponse", 0)
    dev.template.resource_count_is("AWS::ApiGatewayV2::IntegrationResponse", 0)
    for route in dev.of_type("AWS::ApiGatewayV2::Route").values():
        assert "RouteResponseSelectionExpression" not in route["Properties"]


def test_the_stage_auto_deploys_logs_access_and_throttles(dev: Synth) -> None:
    stage = dev.resources[dev.logical_id(dev.stack.chargers.stage)]["Properties"]

    assert stage["StageName"] == "dev"
    assert stage["AutoDeploy"] is True
    assert stage["DefaultRouteSettings"] == {
        "ThrottlingBurstLimit": 200,
        "ThrottlingRateLimit": 100,
        "LoggingLevel": "ERROR",  # errors in the execution log, always
        "DataTraceEnabled": False,
    }
    assert stage["AccessLogSettings"]["DestinationArn"] == {
        "Fn::GetAtt": [dev.logical_id(dev.stack.chargers.access_logs), "Arn"]
    }
    assert "$context.connectionId" in stage["AccessLogSettings"]["Format"]
    # The account-level logging role must be in place before the stage turns on access logs.
    dev.template.has_resource(
        "AWS::ApiGatewayV2::Stage",
        {"DependsOn": Match.array_with([Match.string_like_regexp("CloudWatchRole")])},
    )


# --- functions ---------------------------------------------------------------------------
def test_functions_are_python_313_on_arm64_with_the_shared_code_and_layer(dev: Synth) -> None:
    layer = {"Ref": dev.logical_id(dev.stack.code.layer)}
    for fn in all_functions(dev.stack):
        properties = function_of(dev, fn)["Properties"]
        assert properties["Runtime"] == "python3.13"
        assert properties["Architectures"] == ["arm64"]
        assert properties["MemorySize"] == 512
        assert properties["Layers"] == [layer]
        assert properties["Code"]["S3Key"] == f"{dev.stack.code.code_hash}.zip"
        assert properties["LoggingConfig"]["LogGroup"] == {"Ref": dev.logical_id(fn.log_group)}
        assert "ReservedConcurrentExecutions" not in properties
        assert properties.get("TracingConfig", {}).get("Mode") != "Active"


def test_websocket_functions_use_their_handler_and_the_api_gateway_timeout(dev: Synth) -> None:
    for fn, name in (
        (dev.stack.connect, "connect"),
        (dev.stack.message, "message"),
        (dev.stack.disconnect, "disconnect"),
    ):
        properties = function_of(dev, fn)["Properties"]
        assert properties["Handler"] == f"functions/{name}/handler.lambda_handler"
        assert properties["Timeout"] == 29


def test_tracing_context_turns_on_x_ray(prod: Synth) -> None:
    assert function_of(prod, prod.stack.message)["Properties"]["TracingConfig"]["Mode"] == "Active"
    assert environment_of(prod, prod.stack.message)["CSMS_TRACING"] == "true"


def test_every_function_gets_the_observability_settings(dev: Synth) -> None:
    for fn in all_functions(dev.stack):
        environment = environment_of(dev, fn)
        assert environment["POWERTOOLS_SERVICE_NAME"] == "csms"
        assert environment["POWERTOOLS_METRICS_NAMESPACE"] == "Csms/dev"
        assert environment["CSMS_LOG_LEVEL"] == "INFO"
        assert environment["CSMS_TRACING"] == "false"


def test_connect_gets_what_admission_needs(dev: Synth) -> None:
    environment = environment_of(dev, dev.stack.connect)
    api = dev.logical_id(dev.stack.chargers.api)

    assert environment["CSMS_CONNECTIONS_TABLE"] == {"Ref": dev.logical_id(dev.stack.connections.table)}
    assert environment["CSMS_DATABASE_SECRET_ARN"] == {
        "Ref": Match.string_like_regexp("SecretAttachment")
    } or ("SecretAttachment" in environment["CSMS_DATABASE_SECRET_ARN"]["Ref"])
    assert environment["CSMS_WS_MANAGEMENT_ENDPOINT"] == {
        "Fn::Join": [
            "",
            [
                "https://",
                {"Ref": api},
                ".execute-api.",
                {"Ref": "AWS::Region"},
                ".",
                {"Ref": "AWS::URLSuffix"},
                "/dev",
            ],
        ]
    }
    assert "{{resolve:secretsmanager:" in json.dumps(environment["CSMS_ORIGIN_VERIFY_SECRET"])
    assert environment["CSMS_ALLOW_UNKNOWN_CHARGERS"] == "false"


def test_message_gets_the_heartbeat_interval_and_the_management_endpoint(dev: Synth) -> None:
    environment = environment_of(dev, dev.stack.message)

    assert environment["CSMS_HEARTBEAT_INTERVAL"] == "300"
    assert "CSMS_WS_MANAGEMENT_ENDPOINT" in environment
    assert "CSMS_DATABASE_SECRET_ARN" in environment
    assert "CSMS_ORIGIN_VERIFY_SECRET" not in environment


def test_disconnect_knows_the_connections_table_and_the_database(dev: Synth) -> None:
    environment = environment_of(dev, dev.stack.disconnect)

    # (it records ChargerDisconnected in the outbox: issue 13)
    assert "CSMS_CONNECTIONS_TABLE" in environment
    assert "CSMS_DATABASE_SECRET_ARN" in environment
    for setting in ("CSMS_WS_MANAGEMENT_ENDPOINT", "CSMS_ORIGIN_VERIFY_SECRET"):
        assert setting not in environment


# --- least privilege ---------------------------------------------------------------------
def test_only_connect_and_message_may_manage_connections(dev: Synth) -> None:
    assert "execute-api:ManageConnections" in actions_of(dev, dev.stack.message)
    assert "execute-api:ManageConnections" in actions_of(dev, dev.stack.connect)
    assert "execute-api:ManageConnections" not in actions_of(dev, dev.stack.disconnect)
    assert "execute-api:ManageConnections" not in actions_of(dev, dev.stack.migration.function)


def connection_methods(synth: Synth, fn: Any) -> set[str]:
    """The @connections methods ``fn`` may call (the ARN segment after the stage)."""
    found = set()
    for statement in statements_of(synth, fn):
        if statement["Action"] != "execute-api:ManageConnections":
            continue
        for resource in as_list(statement["Resource"]):
            text = json.dumps(resource)
            assert text.endswith('/@connections/*"]]}'), text  # this stage, connections only
            found.add(text.rsplit("/dev/", 1)[1].split("/", 1)[0])
    return found


def test_manage_connections_is_limited_to_this_stage_and_the_methods_each_function_uses(dev: Synth) -> None:
    # POST sends a frame, DELETE closes a socket, GET describes one (issue 13: every method was
    # granted to every function)
    assert connection_methods(dev, dev.stack.connect) == {"DELETE"}  # a reconnect's superseded socket
    assert connection_methods(dev, dev.stack.message) == {"POST", "DELETE"}  # replies; unknown connections
    assert connection_methods(dev, dev.stack.api_function) == {"DELETE"}  # decommissioning
    assert connection_methods(dev, dev.stack.commands) == {"POST"}
    assert connection_methods(dev, dev.stack.scheduled) == {"POST", "GET", "DELETE"}  # sweep, liveness
    assert connection_methods(dev, dev.stack.disconnect) == set()


def test_database_functions_read_only_the_cluster_secret(dev: Synth) -> None:
    secret_grants = [
        s for s in statements_of(dev, dev.stack.message) if "secretsmanager:GetSecretValue" in s["Action"]
    ]

    assert len(secret_grants) == 1
    assert "SecretAttachment" in json.dumps(secret_grants[0]["Resource"])


def test_no_function_role_carries_the_broad_basic_execution_policy(variant: Synth) -> None:
    stack = variant.stack
    for fn in all_functions(stack):
        assert "AWSLambdaBasicExecutionRole" not in managed_policies_of(variant, fn)
        # Logs go to the function's own log group only.
        log_writes = [s for s in statements_of(variant, fn) if "logs:PutLogEvents" in s["Action"]]
        assert log_writes[0]["Resource"] == {"Fn::GetAtt": [variant.logical_id(fn.log_group), "Arn"]}


def test_only_vpc_functions_get_the_eni_policy(dev: Synth) -> None:
    assert "AWSLambdaVPCAccessExecutionRole" in managed_policies_of(dev, dev.stack.message)
    assert "AWSLambdaVPCAccessExecutionRole" in managed_policies_of(dev, dev.stack.disconnect)
    assert "AWSLambdaVPCAccessExecutionRole" not in managed_policies_of(dev, dev.stack.users_function)


# --- DynamoDB ----------------------------------------------------------------------------
def table_of(synth: Synth, table: Any) -> dict[str, Any]:
    resource: dict[str, Any] = synth.resources[synth.logical_id(table)]
    return resource


def test_connections_table_matches_the_shared_schema(dev: Synth) -> None:
    properties = table_of(dev, dev.stack.connections.table)["Properties"]
    expected = connections_table_definition("any")

    assert properties["KeySchema"] == expected["KeySchema"]
    assert sorted(properties["AttributeDefinitions"], key=str) == sorted(
        expected["AttributeDefinitions"], key=str
    )
    assert properties["GlobalSecondaryIndexes"] == expected["GlobalSecondaryIndexes"]
    assert properties["GlobalSecondaryIndexes"][0]["IndexName"] == TENANT_INDEX
    assert properties["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}


def test_idempotency_table_has_the_powertools_layout(dev: Synth) -> None:
    properties = table_of(dev, dev.stack.idempotency.table)["Properties"]
    expected = idempotency_table_definition("any")

    assert properties["KeySchema"] == expected["KeySchema"]
    assert properties["AttributeDefinitions"] == expected["AttributeDefinitions"]
    assert properties["TimeToLiveSpecification"] == {
        "AttributeName": IDEMPOTENCY_TTL_ATTRIBUTE,
        "Enabled": True,
    }
    assert "GlobalSecondaryIndexes" not in properties


def test_every_table_is_on_demand_with_point_in_time_recovery(variant: Synth) -> None:
    tables = variant.of_type("AWS::DynamoDB::Table")

    assert len(tables) == 4  # connections, pending calls, idempotency, limits
    for table in tables.values():
        assert table["Properties"]["BillingMode"] == "PAY_PER_REQUEST"
        assert table["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert table["Properties"]["TimeToLiveSpecification"]["Enabled"] is True


def test_the_tables_are_retained_in_prod_and_destroyed_in_dev(dev: Synth, prod: Synth) -> None:
    for table in dev.of_type("AWS::DynamoDB::Table").values():
        assert table["DeletionPolicy"] == "Delete"
    for table in prod.of_type("AWS::DynamoDB::Table").values():
        assert table["DeletionPolicy"] == "Retain"
        assert table["Properties"]["DeletionProtectionEnabled"] is True


# --- Aurora ------------------------------------------------------------------------------
def test_aurora_is_serverless_v2_postgres_16_encrypted_with_generated_credentials(dev: Synth) -> None:
    cluster = the_one(dev.of_type("AWS::RDS::DBCluster"))
    properties = cluster["Properties"]

    assert properties["Engine"] == "aurora-postgresql"
    assert properties["EngineVersion"].startswith("16.")
    assert properties["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0, "MaxCapacity": 4}
    assert properties["StorageEncrypted"] is True
    assert not properties.get("EnableIAMDatabaseAuthentication", False)
    assert properties["DeletionProtection"] is False
    assert properties["DatabaseName"] == "csms"
    assert "{{resolve:secretsmanager:" in json.dumps(properties["MasterUserPassword"])
    assert cluster["DeletionPolicy"] == "Delete"
    instances = dev.of_type("AWS::RDS::DBInstance")
    assert [i["Properties"]["DBInstanceClass"] for i in instances.values()] == ["db.serverless"]
    assert all(i["Properties"]["PubliclyAccessible"] is False for i in instances.values())


def test_prod_aurora_is_protected_and_has_a_reader_in_another_az(prod: Synth) -> None:
    cluster = the_one(prod.of_type("AWS::RDS::DBCluster"))

    assert cluster["Properties"]["DeletionProtection"] is True
    assert cluster["DeletionPolicy"] == "Snapshot"
    assert cluster["Properties"]["ServerlessV2ScalingConfiguration"] == {
        "MinCapacity": 0.5,
        "MaxCapacity": 16,
    }
    prod.template.resource_count_is("AWS::RDS::DBInstance", 1)  # ADR 0020: db_readers=1 adds a reader


def test_prod_has_no_access_log_line_per_frame_but_an_error_log(prod: Synth) -> None:
    stage = prod.resources[prod.logical_id(prod.stack.chargers.stage)]["Properties"]

    assert "AccessLogSettings" not in stage
    assert stage["DefaultRouteSettings"]["LoggingLevel"] == "ERROR"
    execution_logs = prod.resources[prod.logical_id(prod.stack.chargers.execution_logs)]["Properties"]
    assert "/aws/apigateway/" in json.dumps(execution_logs["LogGroupName"])
    assert execution_logs["RetentionInDays"] == 90


def test_prod_functions_drop_lambdas_own_records_and_sample_frame_lines(prod: Synth) -> None:
    for fn in all_functions(prod.stack):
        assert function_of(prod, fn)["Properties"]["LoggingConfig"]["SystemLogLevel"] == "WARN"
    assert environment_of(prod, prod.stack.message)["CSMS_FRAME_LOG_SAMPLE_RATE"] == "0.01"


def test_the_database_admits_only_the_database_functions(dev: Synth) -> None:
    cluster_sg = dev.logical_id(aurora(dev).cluster.connections.security_groups[0])
    ingress = [
        r["Properties"]
        for r in dev.of_type("AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [cluster_sg, "GroupId"]}
    ]
    sources = {json.dumps(i["SourceSecurityGroupId"]) for i in ingress}
    expected = {
        json.dumps({"Fn::GetAtt": [dev.logical_id(fn.connections.security_groups[0]), "GroupId"]})
        for fn in database_functions(dev.stack)
    }

    assert sources == expected
    port = {"Fn::GetAtt": [dev.logical_id(aurora(dev).cluster), "Endpoint.Port"]}
    assert all(i["FromPort"] == port and i["ToPort"] == port for i in ingress)


def test_rds_proxy_is_optional_and_then_fronts_the_cluster(dev: Synth, prod: Synth) -> None:
    dev.template.resource_count_is("AWS::RDS::DBProxy", 0)
    prod.template.has_resource_properties(
        "AWS::RDS::DBProxy", {"RequireTLS": True, "EngineFamily": "POSTGRESQL"}
    )
    proxy_endpoint = {"Fn::GetAtt": [prod.logical_id(aurora(prod).proxy), "Endpoint"]}
    for prod_fn, dev_fn in zip(all_functions(prod.stack), all_functions(dev.stack), strict=True):
        # Every database function connects through the proxy (Settings.database_host).
        assert environment_of(prod, prod_fn)["CSMS_DATABASE_HOST"] == proxy_endpoint, prod_fn.name
        assert "CSMS_DATABASE_HOST" not in environment_of(dev, dev_fn)


# --- network -----------------------------------------------------------------------------
def test_ipv6_egress_has_no_nat_and_no_public_ipv4(dev: Synth, prod: Synth) -> None:
    for synth in (dev, prod):
        synth.template.resource_count_is("AWS::EC2::NatGateway", 0)
        synth.template.resource_count_is("AWS::EC2::EIP", 0)
        synth.template.resource_count_is("AWS::EC2::EgressOnlyInternetGateway", 1)
        synth.template.has_resource_properties(
            "AWS::EC2::Route",
            {"DestinationIpv6CidrBlock": "::/0", "EgressOnlyInternetGatewayId": Match.any_value()},
        )
        synth.template.has_resource_properties("AWS::ApiGatewayV2::Api", {"IpAddressType": "dualstack"})
        for fn in database_functions(synth.stack):
            assert function_of(synth, fn)["Properties"]["VpcConfig"]["Ipv6AllowedForDualStack"] is True


def test_the_nat_fallback_has_nat_gateways_and_no_ipv6(isolated: Synth) -> None:
    # egress=nat with nat_gateways=0: the fallback's network without its gateway
    isolated.template.resource_count_is("AWS::EC2::NatGateway", 0)
    isolated.template.resource_count_is("AWS::EC2::EgressOnlyInternetGateway", 0)
    isolated.template.resource_count_is("AWS::EC2::InternetGateway", 0)


def test_without_nat_the_synth_warns_that_replies_cannot_leave_the_vpc(isolated: Synth) -> None:
    Annotations.from_stack(isolated.stack).has_warning("*", Match.string_like_regexp("nat_gateways=0"))


def test_aws_services_are_reached_through_vpc_endpoints(variant: Synth) -> None:
    endpoints = [e["Properties"] for e in variant.of_type("AWS::EC2::VPCEndpoint").values()]
    services = {json.dumps(e["ServiceName"]): e.get("VpcEndpointType", "Gateway") for e in endpoints}

    assert any("dynamodb" in s and t == "Gateway" for s, t in services.items())
    interface = variant.stack.config.vpc_endpoints
    assert interface == any("secretsmanager" in s and t == "Interface" for s, t in services.items())
    assert interface == any(".sqs" in s and t == "Interface" for s, t in services.items())
    # execute-api endpoints serve only private REST APIs and would capture the public
    # execute-api host names (403) - there must be none.
    assert not any("execute-api" in s for s in services)


def test_vpc_flow_logs_are_on(dev: Synth) -> None:
    dev.template.has_resource_properties("AWS::EC2::FlowLog", {"TrafficType": "REJECT"})


def test_database_functions_run_in_the_functions_subnets(dev: Synth) -> None:
    for fn in database_functions(dev.stack):
        subnet_ids = json.dumps(function_of(dev, fn)["Properties"]["VpcConfig"]["SubnetIds"])
        assert "FunctionsSubnet1" in subnet_ids
        assert "FunctionsSubnet2" in subnet_ids


# --- front door --------------------------------------------------------------------------
def test_cloudfront_forwards_to_the_stage_with_the_secret_header(dev: Synth) -> None:
    config = the_one(dev.of_type("AWS::CloudFront::Distribution"))["Properties"]["DistributionConfig"]
    # The chargers' origin is the default behaviour's (the console's S3 and the REST API have theirs).
    origin = next(o for o in config["Origins"] if o["Id"] == config["DefaultCacheBehavior"]["TargetOriginId"])
    connect_secret = environment_of(dev, dev.stack.connect)["CSMS_ORIGIN_VERIFY_SECRET"]

    assert origin["OriginPath"] == "/dev"
    assert "execute-api" in json.dumps(origin["DomainName"])
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert origin["CustomOriginConfig"]["OriginSSLProtocols"] == ["TLSv1.2"]
    # CloudFront sends exactly the value the connect function expects.
    assert origin["OriginCustomHeaders"] == [
        {"HeaderName": ORIGIN_VERIFY_HEADER, "HeaderValue": connect_secret}
    ]


def test_cloudfront_does_not_cache_and_forwards_handshake_and_auth_headers(dev: Synth) -> None:
    behavior = the_one(dev.of_type("AWS::CloudFront::Distribution"))["Properties"]["DistributionConfig"][
        "DefaultCacheBehavior"
    ]

    assert behavior["CachePolicyId"] == CACHING_DISABLED
    assert behavior["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    assert behavior["ViewerProtocolPolicy"] == "https-only"
    assert behavior["FunctionAssociations"] == [
        {
            "EventType": "viewer-request",
            "FunctionARN": {"Fn::GetAtt": [dev.logical_id(dev.stack.front_door.function), "FunctionARN"]},
        }
    ]


def test_the_cloudfront_function_is_the_tested_file(dev: Synth) -> None:
    from csms_infra.frontdoor import CHARGER_PATH_FUNCTION

    function = dev.resources[dev.logical_id(dev.stack.front_door.function)]["Properties"]
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    assert function["FunctionCode"] == CHARGER_PATH_FUNCTION.read_text()


def test_custom_domain_enforces_modern_tls_and_names_the_charger_url(prod: Synth) -> None:
    config = the_one(prod.of_type("AWS::CloudFront::Distribution"))["Properties"]["DistributionConfig"]

    assert config["Aliases"] == [CUSTOM_DOMAIN]
    assert config["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert config["WebACLId"].startswith("arn:aws:wafv2:")
    prod.template.has_output("ChargerUrl", {"Value": f"wss://{CUSTOM_DOMAIN}/ocpp/{{chargePointId}}"})


def test_outputs_print_the_charger_url_and_the_endpoints(dev: Synth) -> None:
    outputs = dev.template.to_json()["Outputs"]
    distribution = dev.logical_id(dev.stack.front_door.distribution)

    assert outputs["ChargerUrl"]["Value"] == {
        "Fn::Join": ["", ["wss://", {"Fn::GetAtt": [distribution, "DomainName"]}, "/ocpp/{chargePointId}"]]
    }
    assert {"ExecuteApiUrl", "ManagementEndpoint", "ConnectionsTableName", "DatabaseSecretArn"} <= set(
        outputs
    )


# --- migrations --------------------------------------------------------------------------
def test_migrations_run_on_every_new_code_or_layer(dev: Synth) -> None:
    migration = the_one(dev.of_type("Custom::CsmsMigration"))["Properties"]
    migrate = function_of(dev, dev.stack.migration.function)["Properties"]

    assert migration["CodeHash"] == dev.stack.code.code_hash
    assert migration["LayerHash"] == dev.stack.code.layer_hash
    # The database it migrates: another one (external_database_secret_arn) migrates again.
    assert (
        migration["DatabaseSecretArn"]
        == environment_of(dev, dev.stack.migration.function)["CSMS_DATABASE_SECRET_ARN"]
    )
    assert migration["DatabaseHost"] == ""
    assert migrate["Handler"] == "csms.app.migrate.lambda_handler"
    assert migrate["Timeout"] == 300
    assert "VpcConfig" in migrate


def test_functions_that_serve_traffic_take_it_only_after_the_migration(dev: Synth) -> None:
    migration = dev.logical_id(dev.stack.migration.cfn_resource)
    for fn in serving_functions(dev.stack):
        assert migration in function_of(dev, fn)["DependsOn"], fn.name


def test_the_migration_waits_for_the_database(dev: Synth) -> None:
    depends_on = dev.resources[dev.logical_id(dev.stack.migration.cfn_resource)]["DependsOn"]

    assert dev.logical_id(aurora(dev).cluster) in depends_on
    assert any("Writer" in d for d in depends_on)


def test_every_handler_module_is_in_the_code_asset(dev: Synth) -> None:
    code = dev.stack.code
    for fn in all_functions(dev.stack):
        assert code.contains_handler(function_of(dev, fn)["Properties"]["Handler"])
    assert not code.contains_handler("functions/nope/handler.lambda_handler")

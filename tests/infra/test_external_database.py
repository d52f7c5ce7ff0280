"""``external_database_secret_arn``: an existing PostgreSQL (TimescaleDB) instead of Aurora."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Annotations, Match

from csms_infra import names

from .support import (
    EXTERNAL_DATABASE_HOST,
    EXTERNAL_SECRET_ARN,
    Synth,
    actions_of,
    as_list,
    context_for,
    database_functions,
    environment_of,
    function_of,
    serving_functions,
    statements_of,
)

pytestmark = pytest.mark.infra

SECRET_READ = {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}


def secret_statements(synth: Synth, fn: Any) -> list[dict[str, Any]]:
    return [
        s
        for s in statements_of(synth, fn)
        if any(str(action).startswith("secretsmanager:") for action in as_list(s["Action"]))
    ]


def test_no_aurora_is_created(external: Synth) -> None:
    assert external.stack.aurora is None
    for resource_type in (
        "AWS::RDS::DBCluster",
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBProxy",
        "AWS::RDS::DBSubnetGroup",
        "AWS::SecretsManager::SecretTargetAttachment",
    ):
        external.template.resource_count_is(resource_type, 0)
    # The one generated secret left is the front door's origin header.
    secrets = external.of_type("AWS::SecretsManager::Secret")
    assert list(secrets) == [external.logical_id(external.stack.origin_verify.secret)]


def test_every_database_function_reads_that_secret_and_nothing_else(external: Synth) -> None:
    for fn in database_functions(external.stack):
        statements = secret_statements(external, fn)
        assert [s["Resource"] for s in statements] == [EXTERNAL_SECRET_ARN], fn.name
        assert {a for s in statements for a in as_list(s["Action"])} == SECRET_READ, fn.name
        environment = environment_of(external, fn)
        assert environment[names.Env.DATABASE_SECRET_ARN] == EXTERNAL_SECRET_ARN, fn.name
        # external_database_host overrides the secret's host (Settings.database_host).
        assert environment[names.Env.DATABASE_HOST] == EXTERNAL_DATABASE_HOST, fn.name


def test_the_functions_keep_the_vpc_and_leave_it_through_nat(external: Synth) -> None:
    external.template.resource_count_is("AWS::EC2::NatGateway", 1)
    for fn in database_functions(external.stack):
        subnets = json.dumps(function_of(external, fn)["Properties"]["VpcConfig"]["SubnetIds"])
        assert "FunctionsSubnet1" in subnets, fn.name
        group = external.resources[external.logical_id(fn.connections.security_groups[0])]["Properties"]
        # Any port to any address: the database's host and port are only known at run time.
        assert group["SecurityGroupEgress"] == [
            {
                "CidrIp": "0.0.0.0/0",
                "Description": "Allow all outbound traffic by default",
                "IpProtocol": "-1",
            }
        ], fn.name


def test_migrations_still_run_on_deploy_before_new_code_takes_traffic(external: Synth) -> None:
    resources = external.resources
    migration = external.logical_id(external.stack.migration.cfn_resource)
    depends_on = {resources[d]["Type"] for d in resources[migration]["DependsOn"]}

    assert not any(t.startswith("AWS::RDS::") for t in depends_on)
    assert "AWS::EC2::NatGateway" in depends_on  # routes and NAT first
    assert actions_of(external, external.stack.migration.function) >= SECRET_READ
    # Switching a stack from Aurora to this database changes the migration, so it runs again.
    properties = resources[migration]["Properties"]
    assert (properties["DatabaseSecretArn"], properties["DatabaseHost"]) == (
        EXTERNAL_SECRET_ARN,
        EXTERNAL_DATABASE_HOST,
    )
    for fn in serving_functions(external.stack):
        assert migration in function_of(external, fn)["DependsOn"], fn.name


def test_outputs_name_the_secret_and_no_cluster_endpoint(external: Synth) -> None:
    outputs = external.template.to_json()["Outputs"]

    assert outputs["DatabaseSecretArn"]["Value"] == EXTERNAL_SECRET_ARN
    assert "DatabaseEndpoint" not in outputs


def test_the_aurora_stage_sets_no_host_override(dev: Synth) -> None:
    for fn in database_functions(dev.stack):
        assert names.Env.DATABASE_HOST not in environment_of(dev, fn), fn.name


def _external_database_in(region: str, *, nat_gateways: int = 1) -> Annotations:
    from aws_cdk import App, Environment, Stack

    from csms_infra.config import StageConfig
    from csms_infra.data import ExternalDatabase
    from csms_infra.network import Network

    config = StageConfig.from_mapping(
        context_for(
            {
                "external_database_secret_arn": EXTERNAL_SECRET_ARN,
                "egress": "nat",
                "nat_gateways": nat_gateways,
            }
        ).get
    )
    stack = Stack(App(), "Probe", env=Environment(account="123456789012", region=region))
    ExternalDatabase(
        stack, "ExternalDatabase", config=config, network=Network(stack, "Network", config=config)
    )
    return Annotations.from_stack(stack)


def test_a_secret_in_another_region_fails_the_synth() -> None:
    # Given the secret in eu-west-1, when the stack deploys to us-east-1
    annotations = _external_database_in("us-east-1")

    annotations.has_error("*", Match.string_like_regexp("eu-west-1"))
    _external_database_in("eu-west-1").has_no_error("*", Match.any_value())


def test_without_nat_the_synth_warns_that_the_database_needs_a_route() -> None:
    _external_database_in("eu-west-1", nat_gateways=0).has_warning(
        "*", Match.string_like_regexp("external_database_secret_arn without NAT")
    )

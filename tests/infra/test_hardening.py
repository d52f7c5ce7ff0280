"""Issue 13 in the template: database roles and rotation, verify-full, reserved concurrency,
WAF rate limits per address, TLS 1.2 in prod (ADR 0021)."""

from __future__ import annotations

import json
import re
import ssl

import pytest

from csms_infra import names

from .support import (
    CERTIFICATE_ARN,
    CUSTOM_DOMAIN,
    WEB_ACL_ARN_API,
    Synth,
    aurora,
    context_for,
    environment_of,
    function_of,
    the_one,
)

pytestmark = pytest.mark.infra


def secret_ref(synth: Synth, fn: object) -> str:
    return json.dumps(environment_of(synth, fn)[names.Env.DATABASE_SECRET_ARN])  # type: ignore[arg-type]


def test_each_path_logs_in_as_its_own_role_and_only_the_jobs_as_the_owner(dev: Synth) -> None:
    stack = dev.stack
    database = aurora(dev)
    charger = json.dumps({"Ref": dev.logical_id(database.role_secrets["charger"])})
    operator = json.dumps({"Ref": dev.logical_id(database.role_secrets["operator"])})
    owner = json.dumps({"Ref": dev.logical_id(database.secret)})
    for fn in (stack.connect, stack.message, stack.disconnect, stack.commands):
        assert secret_ref(dev, fn) == charger, fn.name
    assert secret_ref(dev, stack.api_function) == operator
    # (partition DDL needs the tables' owner; the migration creates the roles)
    for fn in (stack.scheduled, stack.migration.function, stack.rotation.function):
        assert secret_ref(dev, fn) == owner, fn.name
    roles = environment_of(dev, stack.migration.function)[names.Env.DATABASE_ROLE_SECRET_ARNS]
    assert charger.strip('"') in json.dumps(roles) or dev.logical_id(
        database.role_secrets["charger"]
    ) in json.dumps(roles)
    assert dev.logical_id(database.role_secrets["operator"]) in json.dumps(roles)


def test_every_database_secret_rotates_every_30_days_through_our_function(dev: Synth) -> None:
    schedules = dev.of_type("AWS::SecretsManager::RotationSchedule")
    rotate = json.dumps({"Fn::GetAtt": [dev.logical_id(dev.stack.rotation.function.function), "Arn"]})
    assert len(schedules) == 3
    for schedule in schedules.values():
        properties = schedule["Properties"]
        assert json.dumps(properties["RotationLambdaARN"]) == rotate
        assert properties["RotationRules"]["ScheduleExpression"] == "rate(30 days)"


def test_database_connections_verify_the_server_with_the_bundle_the_asset_ships(dev: Synth) -> None:
    for fn in (dev.stack.message, dev.stack.api_function, dev.stack.scheduled):
        assert environment_of(dev, fn)[names.Env.DATABASE_CA_FILE] == f"/var/task/{names.RDS_CA_BUNDLE}"
    bundle = (dev.stack.code._staged / names.RDS_CA_BUNDLE).read_text()
    certificates = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", bundle, re.S)
    assert len(certificates) >= 100  # every Region's RDS CAs and the Amazon roots (RDS Proxy)
    assert len(ssl.create_default_context(cadata=bundle).get_ca_certs()) == len(certificates)


def test_prod_reserves_concurrency_so_the_operator_path_cannot_starve_the_chargers(
    dev: Synth, prod: Synth
) -> None:
    stack = prod.stack
    expected = {
        stack.connect: names.RESERVED_CONCURRENCY["connect"],
        stack.message: names.RESERVED_CONCURRENCY["message"],
        stack.disconnect: names.RESERVED_CONCURRENCY["disconnect"],
        stack.api_function: names.RESERVED_CONCURRENCY["api"],
        stack.users_function: names.RESERVED_CONCURRENCY["users"],
        stack.commands: names.RESERVED_CONCURRENCY["commands"],
        stack.scheduled: names.RESERVED_CONCURRENCY["scheduled"],
    }
    for fn, reserved in expected.items():
        assert function_of(prod, fn)["Properties"]["ReservedConcurrentExecutions"] == reserved, fn.name
    charger_path = sum(names.RESERVED_CONCURRENCY[n] for n in ("connect", "message", "disconnect"))
    operator_path = names.RESERVED_CONCURRENCY["api"] + names.RESERVED_CONCURRENCY["users"]
    assert charger_path > 6 * operator_path
    assert sum(names.RESERVED_CONCURRENCY.values()) <= 1000 - 100  # Lambda keeps 100 unreserved
    assert "ReservedConcurrentExecutions" not in function_of(dev, dev.stack.message)["Properties"]


@pytest.fixture(scope="module")
def prod_defaults(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """``-c stage=prod`` with only the custom domain it requires."""
    from aws_cdk.assertions import Template

    from csms_infra.application import build_app

    context = {"stage": "prod", "domain_name": CUSTOM_DOMAIN, "certificate_arn": CERTIFICATE_ARN}
    app, stack = build_app(context_for(context), outdir=str(tmp_path_factory.mktemp("prod")), with_nag=False)
    return Synth(app=app, stack=stack, template=Template.from_stack(stack))


def test_prod_rate_limits_each_source_address_on_the_rest_stage(
    dev: Synth, prod: Synth, prod_defaults: Synth
) -> None:
    acl = the_one(prod_defaults.of_type("AWS::WAFv2::WebACL"))["Properties"]
    assert acl["Scope"] == "REGIONAL"
    assert acl["DefaultAction"] == {"Allow": {}}
    (rule,) = acl["Rules"]
    assert rule["Action"] == {"Block": {}}
    rate = rule["Statement"]["RateBasedStatement"]
    assert (rate["AggregateKeyType"], rate["Limit"], rate["EvaluationWindowSec"]) == ("IP", 1500, 300)
    association = the_one(prod_defaults.of_type("AWS::WAFv2::WebACLAssociation"))["Properties"]
    web_acl = prod_defaults.stack.operator_api.web_acl
    assert association["WebACLArn"] == {"Fn::GetAtt": [prod_defaults.logical_id(web_acl), "Arn"]}
    # A web ACL of your own (web_acl_arn_api) replaces it; dev has none
    assert prod.of_type("AWS::WAFv2::WebACL") == {}
    own = the_one(prod.of_type("AWS::WAFv2::WebACLAssociation"))["Properties"]
    assert own["WebACLArn"] == WEB_ACL_ARN_API
    assert dev.of_type("AWS::WAFv2::WebACL") == {}


def test_prod_viewers_need_tls_1_2(prod: Synth) -> None:
    distribution = the_one(prod.of_type("AWS::CloudFront::Distribution"))["Properties"]["DistributionConfig"]
    assert distribution["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"


def test_the_functions_that_may_wait_longer_on_postgresql_say_so(dev: Synth) -> None:
    # (the frame path keeps the 5 s statement / 6 s unit-of-work defaults of csms.settings)
    def bounds(fn: object) -> tuple[str | None, str | None]:
        environment = environment_of(dev, fn)  # type: ignore[arg-type]
        return (
            environment.get(names.Env.DATABASE_STATEMENT_TIMEOUT_MS),
            environment.get(names.Env.DATABASE_STALL_TIMEOUT_SECONDS),
        )

    assert bounds(dev.stack.message) == (None, None)
    assert bounds(dev.stack.api_function) == ("20000", "25")
    assert bounds(dev.stack.scheduled) == ("50000", "55")
    assert bounds(dev.stack.migration.function) == ("290000", "295")

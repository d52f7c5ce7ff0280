"""The cost model cannot drift from the template: every billable resource type of the
``prod`` stack has a line in ``csms cost`` (or is listed as free, with the reason), and the
quantities the model assumes for the fixed floor are the template's."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from csms.cost.model import (
    FREE_RESOURCES,
    PRESETS,
    RESOURCE_LINES,
    Assumptions,
    FrameCosts,
    MessageMix,
    PriceTable,
    estimate,
    preset,
)

from .support import CERTIFICATE_ARN, CUSTOM_DOMAIN, Synth, context_for


@pytest.fixture(scope="module", params=["prod", "nat"])
def deployed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Synth, Assumptions]:
    """The ``prod`` stage as ``cdk deploy -c stage=prod`` makes it (and with its egress
    fallback), with the model's assumptions for it."""
    from aws_cdk.assertions import Template

    from csms_infra.application import build_app

    context: dict[str, Any] = {
        "stage": "prod",
        "domain_name": CUSTOM_DOMAIN,
        "certificate_arn": CERTIFICATE_ARN,
    }
    if request.param == "nat":
        context["egress"] = "nat"
    app, stack = build_app(context_for(context), outdir=str(tmp_path_factory.mktemp("cost")), with_nag=False)
    return Synth(app=app, stack=stack, template=Template.from_stack(stack)), preset(request.param, 500)


def types(synth: Synth) -> Counter[str]:
    return Counter(r["Type"] for r in synth.resources.values())


def test_every_resource_type_is_billed_by_a_line_or_known_to_be_free(
    deployed: tuple[Synth, Assumptions],
) -> None:
    synth, assumptions = deployed
    unknown = sorted(t for t in types(synth) if t not in RESOURCE_LINES and t not in FREE_RESOURCES)
    assert not unknown, (
        f"add these to csms.cost.model.RESOURCE_LINES (with a line) or FREE_RESOURCES: {unknown}"
    )
    bill = estimate(assumptions, PriceTable.load(), MessageMix.load(), FrameCosts.load())
    for resource_type in types(synth):
        for service, item in RESOURCE_LINES.get(resource_type, ()):
            assert any(line.service == service and item in line.item for line in bill.lines), (
                f"{resource_type}: no line '{service}: {item}...'"
            )


def test_the_fixed_floor_has_the_templates_quantities(deployed: tuple[Synth, Assumptions]) -> None:
    synth, a = deployed
    counted = types(synth)
    nat = a.nat_gateways if a.egress == "nat" else 0
    assert counted["AWS::EC2::NatGateway"] == nat
    assert counted["AWS::EC2::EIP"] == nat  # one public IPv4 address each
    interface = [
        r["Properties"]
        for r in synth.of_type("AWS::EC2::VPCEndpoint").values()
        if r["Properties"].get("VpcEndpointType") == "Interface"
    ]
    assert len(interface) == a.interface_endpoints
    assert counted["AWS::RDS::DBInstance"] == a.db_instances
    cluster = next(iter(synth.of_type("AWS::RDS::DBCluster").values()))["Properties"]
    assert cluster["ServerlessV2ScalingConfiguration"]["MinCapacity"] == a.db_min_acu
    assert counted["AWS::CloudWatch::Dashboard"] == a.dashboards
    assert counted["AWS::SecretsManager::Secret"] == a.secrets
    assert counted["AWS::KMS::Key"] == a.kms_keys
    assert counted["AWS::WAFv2::WebACL"] == a.waf_web_acls
    rules = sum(len(acl["Properties"]["Rules"]) for acl in synth.of_type("AWS::WAFv2::WebACL").values())
    assert rules == a.waf_rules
    rotated = {
        json.dumps(s["Properties"]["SecretId"])
        for s in synth.of_type("AWS::SecretsManager::RotationSchedule").values()
    }
    assert len(rotated) * 4 * 730 / (30 * 24) == pytest.approx(a.secret_rotation_invocations)
    alarm_metrics = 0
    for alarm in synth.of_type("AWS::CloudWatch::Alarm").values():
        metrics = alarm["Properties"].get("Metrics")
        alarm_metrics += 1 if metrics is None else sum(1 for m in metrics if "MetricStat" in m)
    assert alarm_metrics == a.alarm_metrics


def test_the_per_frame_knobs_of_the_template_are_the_models(deployed: tuple[Synth, Assumptions]) -> None:
    synth, a = deployed
    stack = synth.stack
    message = synth.resources[synth.logical_id(stack.message.function)]["Properties"]
    assert float(message["Environment"]["Variables"]["CSMS_FRAME_LOG_SAMPLE_RATE"]) == a.frame_log_sample_rate
    assert message["MemorySize"] == a.lambda_memory_mb
    # Lambda's START/END/REPORT records are dropped (WARN) exactly when the model counts none.
    assert (message["LoggingConfig"]["SystemLogLevel"] == "WARN") == (a.platform_log_bytes == 0)
    stage = synth.resources[synth.logical_id(stack.chargers.stage)]["Properties"]
    assert ("AccessLogSettings" in stage) == (a.access_log_bytes > 0)
    archive = next(iter(synth.of_type("AWS::Events::Archive").values()))["Properties"]
    assert archive["RetentionDays"] == a.archive_days
    assert ("MeterValuesReceived" in json.dumps(archive["EventPattern"])) == (not a.archive_meter_values)
    for group in synth.of_type("AWS::Logs::LogGroup").values():
        assert group["Properties"]["RetentionInDays"] == a.log_retention_days


def test_every_preset_names_only_assumptions() -> None:
    fields = set(Assumptions.__dataclass_fields__)
    for name, overrides in PRESETS.items():
        assert set(overrides) <= fields, name

"""cdk-nag AwsSolutions: zero unacknowledged findings, and every acknowledgment is narrow."""

from __future__ import annotations

from typing import Any

import pytest

from .support import Synth

pytestmark = pytest.mark.infra

ACKNOWLEDGED = "aws:cdk:acknowledged-rules"


def acknowledgments(synth: Synth) -> list[tuple[str, str, str]]:
    """``(construct path, rule id, reason)`` of every cdk-nag acknowledgment in the app.

    aws-cdk-lib records a few of its own (``CloudFormation-Validate::...``); those are not ours.
    """
    found: list[tuple[str, str, str]] = []
    for construct in synth.app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == ACKNOWLEDGED:
                data: dict[str, Any] = entry.data
                found.extend(
                    (construct.node.path, rule, reason)
                    for rule, reason in data.items()
                    if "AwsSolutions-" in rule
                )
    return found


def test_aws_solutions_checks_find_nothing_unacknowledged(variant: Synth) -> None:
    from cdk_nag import AwsSolutionsChecks

    report = AwsSolutionsChecks().validate_scope(variant.app)

    findings = [
        f"{v.rule_name} on {', '.join(str(r.construct_path) for r in v.violating_resources)}: {v.description}"
        for v in report.violations
    ]
    assert findings == []


def test_acknowledgments_sit_on_the_constructs_that_cause_them(variant: Synth) -> None:
    stack_path = variant.stack.node.path
    for path, rule, reason in acknowledgments(variant):
        # Never on the app or the whole stack: that would hide future findings too.
        assert path not in ("", stack_path), rule
        assert rule.startswith("Annotation::AwsSolutions-"), rule
        assert len(reason) >= 40, f"{rule} on {path} needs a real reason"


def test_identity_wildcards_are_acknowledged_per_finding_only(variant: Synth) -> None:
    for path, rule, _ in acknowledgments(variant):
        if "IAM4" in rule or "IAM5" in rule:
            # e.g. AwsSolutions-IAM5[Resource::...], never the whole rule
            assert rule.endswith("]"), f"{rule} on {path} acknowledges every finding of the rule"


def test_only_the_public_api_gets_go_without_an_authorizer(variant: Synth) -> None:
    from csms.api.app import PUBLIC_PATHS

    allowed = {f"{variant.stack.operator_api.api.node.path}/Default{path}/GET" for path in PUBLIC_PATHS}
    for path, rule, _ in acknowledgments(variant):
        if rule.endswith(("AwsSolutions-COG4", "AwsSolutions-APIG4")) and "/OperatorApi/" in path:
            assert path in allowed, f"{rule} on {path}"
    acknowledged = {p for p, r, _ in acknowledgments(variant) if r.endswith("AwsSolutions-COG4")}
    assert acknowledged == allowed

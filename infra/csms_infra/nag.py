"""cdk-nag wiring: the AwsSolutions pack on every synth, and narrow acknowledgments.

cdk-nag 3 is a CDK validation plugin (``Validations.of(app).add_plugins``); a finding
fails ``cdk synth``. Findings we accept are acknowledged on the construct that causes
them, never on the stack, each with the reason next to it.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

PACK = "AwsSolutions"


def register(app: IConstruct) -> None:
    """Run the AwsSolutions checks when ``app`` synthesises."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))


def acknowledge(scope: IConstruct, rule: str, reason: str, *, finding: str | None = None) -> None:
    """Accept ``AwsSolutions-<rule>`` (optionally one ``[finding]`` of it) on ``scope`` and below.

    ``finding`` narrows IAM4/IAM5 to one policy or one resource pattern, e.g.
    ``Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole``.
    """
    rule_id = f"{PACK}-{rule}" + (f"[{finding}]" if finding else "")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def managed_policy(name: str) -> str:
    """The IAM4 finding id of an AWS managed policy (``service-role/...`` included)."""
    return f"Policy::arn:<AWS::Partition>:iam::aws:policy/{name}"

"""Shared test data and the :class:`Synth` wrapper for the infra tests.

Nothing here imports aws_cdk at module level: ``conftest`` must prepare the environment
before jsii starts Node.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_cdk import App
    from aws_cdk.assertions import Template

    from csms_infra.function import CsmsFunction
    from csms_infra.stack import CsmsStack

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA_DIR = REPO_ROOT / "infra"

#: A certificate ARN of the right shape; nothing is looked up.
CERTIFICATE_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
CUSTOM_DOMAIN = "ocpp.example.com"
WEB_ACL_ARN_API = (
    "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/csms-api/66666666-7777-8888-9999-000000000000"
)
ALARM_EMAIL = "ops@example.com"

VARIANTS: Mapping[str, Mapping[str, Any]] = {
    "dev": {},
    # Every optional knob at once: custom domain, both WAFs, RDS Proxy, tracing, required MFA,
    # alarm e-mail, prod defaults.
    "prod": {
        "stage": "prod",
        "domain_name": CUSTOM_DOMAIN,
        "certificate_arn": CERTIFICATE_ARN,
        "web_acl_arn": "arn:aws:wafv2:us-east-1:123456789012:global/webacl/csms/11111111-2222-3333-4444-5555",
        "rds_proxy": True,
        "tracing": True,
        "web_acl_arn_api": WEB_ACL_ARN_API,
        "alarm_email": ALARM_EMAIL,
        "user_pool_mfa": "required",
    },
    # Strings, as ``-c key=value`` delivers them.
    "isolated": {"nat_gateways": "0", "vpc_endpoints": "true"},
}


def cdk_json_context() -> dict[str, Any]:
    """The context ``cdk.json`` gives the CLI (feature flags, default stage)."""
    context: dict[str, Any] = json.loads((INFRA_DIR / "cdk.json").read_text())["context"]
    return context


def context_for(variant: Mapping[str, Any]) -> dict[str, Any]:
    return {**cdk_json_context(), "skip_bundling": True, **variant}


@dataclass(frozen=True)
class Synth:
    """One synthesised variant: the app, its stack and the stack's template."""

    app: App
    stack: CsmsStack
    template: Template

    @property
    def resources(self) -> dict[str, Any]:
        resources: dict[str, Any] = self.template.to_json()["Resources"]
        return resources

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == resource_type}

    def logical_id(self, construct: Any) -> str:
        """Logical id of a construct's CloudFormation resource (itself or its default child)."""
        from aws_cdk import CfnElement

        element = construct if isinstance(construct, CfnElement) else construct.node.default_child
        return str(self.stack.get_logical_id(element))


# --- template helpers ----------------------------------------------------------------------
def function_of(synth: Synth, fn: CsmsFunction) -> dict[str, Any]:
    resource: dict[str, Any] = synth.resources[synth.logical_id(fn.function)]
    return resource


def environment_of(synth: Synth, fn: CsmsFunction) -> dict[str, Any]:
    variables: dict[str, Any] = function_of(synth, fn)["Properties"]["Environment"]["Variables"]
    return variables


def statements_of(synth: Synth, fn: CsmsFunction) -> list[dict[str, Any]]:
    """Every statement of the inline policies attached to ``fn``'s role."""
    role = {"Ref": synth.logical_id(fn.role)}
    return [
        statement
        for policy in synth.of_type("AWS::IAM::Policy").values()
        if role in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def actions_of(synth: Synth, fn: CsmsFunction) -> set[str]:
    return {action for statement in statements_of(synth, fn) for action in as_list(statement["Action"])}


def actions_on(synth: Synth, fn: CsmsFunction, logical_id: str) -> set[str]:
    """Actions ``fn`` may take on the resource ``logical_id`` (or anything under its ARN)."""
    return {
        action
        for statement in statements_of(synth, fn)
        if logical_id in json.dumps(statement["Resource"])
        for action in as_list(statement["Action"])
    }


def managed_policies_of(synth: Synth, fn: CsmsFunction) -> str:
    return json.dumps(synth.resources[synth.logical_id(fn.role)]["Properties"].get("ManagedPolicyArns", []))


def all_functions(stack: CsmsStack) -> tuple[CsmsFunction, ...]:
    """Every csms function of the stack (the migration's included)."""
    return (stack.connect, stack.message, stack.disconnect, stack.api_function, stack.migration.function)


def the_one(resources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    assert len(resources) == 1, list(resources)
    return next(iter(resources.values()))

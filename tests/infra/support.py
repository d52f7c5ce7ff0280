"""Shared test data and the :class:`Synth` wrapper for the infra tests.

Nothing here imports aws_cdk at module level: ``conftest`` must prepare the environment
before jsii starts Node.
"""

from __future__ import annotations

import ast
import inspect
import json
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_cdk import App
    from aws_cdk.assertions import Template

    from csms_infra.data import Database
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
#: An existing secret of an external PostgreSQL (TimescaleDB), as create-secret prints it.
EXTERNAL_SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:csms/timescale-AbC123"
EXTERNAL_DATABASE_HOST = "timescale.internal.example.com"

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
    # The fallback egress of ADR 0020 without a NAT gateway, with the interface endpoints.
    "isolated": {"egress": "nat", "nat_gateways": "0", "vpc_endpoints": "true"},
    # No Aurora: an existing PostgreSQL (TimescaleDB) behind a secret, with a host override.
    "external": {
        "external_database_secret_arn": EXTERNAL_SECRET_ARN,
        "external_database_host": EXTERNAL_DATABASE_HOST,
        "events_archive_days": "7",
        # An IPv4-only database: the NAT fallback of ADR 0020 (infra/README.md says so).
        "egress": "nat",
    },
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
    return (*serving_functions(stack), stack.migration.function)


def serving_functions(stack: CsmsStack) -> tuple[CsmsFunction, ...]:
    """The functions that take traffic or work (everything but the migration)."""
    return (
        stack.connect,
        stack.message,
        stack.disconnect,
        stack.api_function,
        stack.commands,
        stack.scheduled,
    )


def database_functions(stack: CsmsStack) -> tuple[CsmsFunction, ...]:
    """The functions in the VPC that talk to PostgreSQL (all of them, and the secrets' rotation)."""
    rotation = getattr(stack, "rotation", None)
    return (*all_functions(stack), *((rotation.function,) if rotation is not None else ()))


def client_operations(cls: type, *methods: str) -> set[str]:
    """The AWS operations ``cls`` calls through ``self._client`` in ``methods`` (all if none).

    ``self._client.put_item(...)`` -> ``PutItem``: the IAM action name without the service
    prefix. Grants are checked against this, so an adapter that starts issuing a new call
    fails the infra tests instead of a deployed function.
    """
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    defined = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    assert set(methods) <= defined, f"{cls.__name__} has no {sorted(set(methods) - defined)}"
    found: set[str] = set()
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef) or (methods and function.name not in methods):
            continue
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Attribute)
                and node.func.value.attr == "_client"
            ):
                found.add("".join(part.capitalize() for part in node.func.attr.split("_")))
    return found


def aurora(synth: Synth) -> Database:
    """The stack's Aurora construct (every variant but ``external`` has one)."""
    assert synth.stack.aurora is not None, "this variant uses an external database"
    return synth.stack.aurora


def the_one(resources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    assert len(resources) == 1, list(resources)
    return next(iter(resources.values()))

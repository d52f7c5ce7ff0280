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

    from csms_infra.stack import CsmsStack

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA_DIR = REPO_ROOT / "infra"

#: A certificate ARN of the right shape; nothing is looked up.
CERTIFICATE_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
CUSTOM_DOMAIN = "ocpp.example.com"

VARIANTS: Mapping[str, Mapping[str, Any]] = {
    "dev": {},
    # Every optional knob at once: custom domain, WAF, RDS Proxy, tracing, prod defaults.
    "prod": {
        "stage": "prod",
        "domain_name": CUSTOM_DOMAIN,
        "certificate_arn": CERTIFICATE_ARN,
        "web_acl_arn": "arn:aws:wafv2:us-east-1:123456789012:global/webacl/csms/11111111-2222-3333-4444-5555",
        "rds_proxy": True,
        "tracing": True,
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

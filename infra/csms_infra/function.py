"""The one place that knows how a csms Lambda function is configured."""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from aws_cdk import Annotations, Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from . import nag, names
from .assets import ARCHITECTURE, RUNTIME, CodeAssets
from .config import StageConfig

#: API Gateway gives up on an integration after 29 s; a longer Lambda timeout would only
#: keep working on a request nobody waits for.
WEBSOCKET_TIMEOUT = Duration.seconds(29)
DEFAULT_MEMORY_MB = 512


class CsmsFunction(Construct):
    """A Lambda function built from the shared code asset and dependency layer.

    Defaults: Python 3.13 on arm64, 512 MB, 29 s, JSON logs into a log group with the stage's
    retention (Lambda's own records at ``system_log_level``), the Powertools and logging
    variables, X-Ray only when the ``tracing`` context is on, no reserved concurrency.

    The role starts empty apart from writing to its own log group (no
    ``AWSLambdaBasicExecutionRole``, whose ``logs:*`` reach every log group); callers add
    exactly what the function needs through ``grant_*``. A function given a ``vpc`` gets
    the ENI permissions Lambda needs and a security group of its own, which is what the
    database's security group admits.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        code: CodeAssets,
        name: str,
        description: str,
        handler: str | None = None,
        environment: Mapping[str, str] | None = None,
        timeout: Duration = WEBSOCKET_TIMEOUT,
        memory_size: int = DEFAULT_MEMORY_MB,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        ipv6: bool = False,
        reserved_concurrency: int | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.name = name
        handler = handler or names.function_handler(name)
        if not code.contains_handler(handler):
            message = f"{handler}: module not in the code asset; the deployed function would fail"
            # A real deploy must not ship a broken function; a unit-test synth may.
            if config.skip_bundling:
                Annotations.of(self).add_warning_v2("csms:MissingHandler", message)
            else:
                Annotations.of(self).add_error(message)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=config.log_retention,
            removal_policy=config.log_removal_policy,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"csms {config.stage} {name} function",
        )
        if vpc is not None:
            # Lambda creates and deletes the function's ENIs with the function's role.
            self.role.add_managed_policy(
                iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWSLambdaVPCAccessExecutionRole")
            )
        self.function = lambda_.Function(
            self,
            "Function",
            description=description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=code.code,
            layers=[code.layer],
            handler=handler,
            memory_size=memory_size,
            timeout=timeout,
            role=self.role,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            # WARN drops Lambda's START/END/REPORT records (INFO): ~700 bytes of logs per
            # invocation; the same figures are in the free Lambda metrics (issue 16).
            system_log_level_v2=lambda_.SystemLogLevel(config.system_log_level),
            tracing=lambda_.Tracing.ACTIVE if config.tracing else lambda_.Tracing.DISABLED,
            environment={**common_environment(config), **(environment or {})},
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            # Outbound IPv6 through the egress-only internet gateway (ADR 0020).
            ipv6_allowed_for_dual_stack=True if vpc is not None and ipv6 else None,
            # Both a floor and a ceiling (ADR 0021): the charger path keeps its share, the
            # operator path cannot take the account's.
            reserved_concurrent_executions=reserved_concurrency,
        )
        self.log_group.grant_write(self.role)

        nag.acknowledge(
            self.function,
            "L1",
            f"Pinned to {RUNTIME.name} on purpose: the dependency layer holds wheels built for it, so "
            "the runtime moves only together with the layer (RUNTIME and LAYER_PYTHON_VERSION in assets.py).",
        )
        if vpc is not None:
            nag.acknowledge(
                self.role,
                "IAM4",
                "AWS-maintained ENI permissions Lambda needs to place the function in the VPC; "
                "ec2:CreateNetworkInterface and friends support no resource scoping.",
                finding=nag.managed_policy("service-role/AWSLambdaVPCAccessExecutionRole"),
            )
        if config.tracing:
            nag.acknowledge(
                self.role,
                "IAM5",
                "xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions.",
                finding="Resource::*",
            )

    def add_environment(self, key: str, value: str) -> None:
        """Set one more variable (grants that come with a setting use this)."""
        self.function.add_environment(key, value)

    @property
    def cfn_function(self) -> lambda_.CfnFunction:
        """The ``AWS::Lambda::Function`` resource alone (for precise ``DependsOn``)."""
        return cast(lambda_.CfnFunction, self.function.node.default_child)

    @property
    def connections(self) -> ec2.Connections:
        """Security-group handle (only meaningful for functions in the VPC)."""
        return self.function.connections


def common_environment(config: StageConfig) -> dict[str, str]:
    """Variables every function reads: service name, metrics namespace, log level, tracing."""
    return {
        names.Env.SERVICE_NAME: names.SERVICE_NAME,
        names.Env.METRICS_NAMESPACE: names.metrics_namespace(config.stage),
        names.Env.LOG_LEVEL: config.log_level,
        names.Env.TRACING: "true" if config.tracing else "false",
    }

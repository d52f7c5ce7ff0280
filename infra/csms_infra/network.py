"""The VPC the database and the database-facing functions live in."""

from __future__ import annotations

from aws_cdk import Annotations, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from . import nag, names
from .config import StageConfig

FUNCTIONS_SUBNETS = "Functions"
DATABASE_SUBNETS = "Database"


class Network(Construct):
    """Two AZs; the database in isolated subnets; functions in their own subnets.

    The functions call AWS APIs that have no free gateway endpoint: the WebSocket
    ``@connections`` API above all (the ``execute-api`` interface endpoint serves only
    *private* REST APIs, and with private DNS it would capture the public execute-api names
    and answer 403), SQS, EventBridge and Secrets Manager. ``egress`` decides how (ADR 0020):

    - ``ipv6`` (default): the VPC is dual-stack (an Amazon-provided /56), the functions'
      subnets route ``::/0`` to an egress-only internet gateway (no hourly or per-GB charge)
      and the functions send IPv6 (``Ipv6AllowedForDualStack``). Secrets Manager's and SQS's
      regional endpoints are dual-stack; EventBridge's is ``events.<region>.api.aws``
      (:attr:`dual_stack_environment`); the WebSocket API is made dual-stack. No NAT gateway,
      no public IPv4 address.
    - ``nat``: the design of ADR 0009, IPv4 through ``nat_gateways`` NAT gateways (1 or 2).

    DynamoDB keeps its (free) gateway endpoint either way. ``vpc_endpoints`` adds interface
    endpoints for Secrets Manager, SQS and EventBridge (off by default: $7.30 per endpoint and
    AZ a month buys nothing once the functions have egress).

    Context: ``egress`` (ipv6 | nat), ``nat_gateways`` (0-2, with egress=nat),
    ``vpc_endpoints`` (bool).
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.ipv6 = config.ipv6_egress
        #: Whether the functions can reach public IPv4 addresses (NAT); ``has_egress`` is any.
        self.has_ipv4_egress = config.nat_gateway_count > 0
        self.has_egress = self.ipv6 or self.has_ipv4_egress
        functions_subnet_type = (
            ec2.SubnetType.PRIVATE_WITH_EGRESS if self.has_egress else ec2.SubnetType.PRIVATE_ISOLATED
        )
        subnets = [
            ec2.SubnetConfiguration(name=FUNCTIONS_SUBNETS, subnet_type=functions_subnet_type, cidr_mask=20),
            ec2.SubnetConfiguration(
                name=DATABASE_SUBNETS, subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
            ),
        ]
        if self.has_ipv4_egress:
            # NAT gateways need public subnets; nothing else is placed there.
            subnets.insert(
                0, ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24)
            )
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=config.nat_gateway_count,
            # Dual-stack: CDK gives PRIVATE_WITH_EGRESS subnets a ::/0 route to an egress-only
            # internet gateway.
            ip_protocol=ec2.IpProtocol.DUAL_STACK if self.ipv6 else ec2.IpProtocol.IPV4_ONLY,
            subnet_configuration=subnets,
            restrict_default_security_group=True,
        )
        self.functions_subnets = ec2.SubnetSelection(subnet_group_name=FUNCTIONS_SUBNETS)
        self.database_subnets = ec2.SubnetSelection(subnet_group_name=DATABASE_SUBNETS)

        # Rejected flows only: enough to debug a security group, cheap to ingest.
        flow_logs = logs.LogGroup(
            self, "FlowLogs", retention=config.log_retention, removal_policy=config.log_removal_policy
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )

        self.vpc.add_gateway_endpoint(
            "DynamoDb", service=ec2.GatewayVpcEndpointAwsService.DYNAMODB, subnets=[self.functions_subnets]
        )
        self._interface_endpoints = config.vpc_endpoints
        self.add_interface_endpoint("SecretsManager", ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER)
        self.add_interface_endpoint("Sqs", ec2.InterfaceVpcEndpointAwsService.SQS)
        self.add_interface_endpoint("Events", ec2.InterfaceVpcEndpointAwsService.EVENTBRIDGE)

        if not self.has_egress:
            Annotations.of(self).add_warning_v2(
                "csms:NoEgress",
                "egress=nat with nat_gateways=0: functions in the VPC cannot reach the API Gateway "
                "@connections API (no VPC endpoint serves public WebSocket APIs), so chargers get no "
                "replies.",
            )

    @property
    def dual_stack_environment(self) -> dict[str, str]:
        """Endpoint variables the functions in the VPC need with IPv6 egress.

        EventBridge's regional endpoint (``events.<region>.amazonaws.com``) is IPv4-only; its
        dual-stack one is ``events.<region>.api.aws``; KMS's likewise ``kms.<region>.api.aws``.
        Secrets Manager's and SQS's regional endpoints are dual-stack already (ADR 0020 has the
        sources). With interface endpoints on, EventBridge's private DNS answers the IPv4 name
        inside the VPC, so nothing changes for it (KMS has no interface endpoint here).
        """
        if not self.ipv6:
            return {}
        stack = Stack.of(self)
        # KMS (the command-secrets key) has no interface endpoint here: its dual-stack endpoint
        # is kms.<region>.api.aws, the regional one IPv4-only.
        dual_stack = {names.Env.KMS_ENDPOINT: f"https://kms.{stack.region}.api.aws"}
        if not self._interface_endpoints:
            dual_stack[names.Env.EVENTBRIDGE_ENDPOINT] = f"https://events.{stack.region}.api.aws"
        return dual_stack

    def add_interface_endpoint(self, construct_id: str, service: ec2.IInterfaceVpcEndpointService) -> None:
        """Add an interface endpoint in the functions' subnets (no-op with ``vpc_endpoints=false``)."""
        if not self._interface_endpoints:
            return
        endpoint = self.vpc.add_interface_endpoint(
            construct_id, service=service, subnets=self.functions_subnets, private_dns_enabled=True
        )
        nag.acknowledge(
            endpoint,
            "EC23",
            "The endpoint's security group admits HTTPS from the VPC CIDR only; the rule cannot "
            "evaluate the CIDR because it is a Fn::GetAtt of the VPC.",
        )

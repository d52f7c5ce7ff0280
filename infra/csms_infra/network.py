"""The VPC the database and the database-facing functions live in."""

from __future__ import annotations

from aws_cdk import Annotations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from . import nag
from .config import StageConfig

FUNCTIONS_SUBNETS = "Functions"
DATABASE_SUBNETS = "Database"


class Network(Construct):
    """Two AZs; the database in isolated subnets; functions in their own subnets.

    AWS services are reached through VPC endpoints: a (free) DynamoDB gateway endpoint and,
    with ``vpc_endpoints`` on, interface endpoints for Secrets Manager (every database
    function), SQS (the api function enqueues commands) and EventBridge (domain events);
    more join through :meth:`add_interface_endpoint`.

    The WebSocket ``@connections`` API is the exception. The ``execute-api`` interface
    endpoint serves only *private* REST APIs, and with private DNS it would even capture
    the public execute-api host names and answer 403. So there is deliberately no such
    endpoint, and the functions that reply to chargers reach the API through NAT
    (``nat_gateways``, default 1 in dev, 2 in prod). With ``nat_gateways=0`` the
    functions' subnets are isolated and ``@connections`` calls from the VPC time out.

    Context: ``nat_gateways`` (0-2), ``vpc_endpoints`` (bool).
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.has_egress = config.nat_gateways > 0
        functions_subnet_type = (
            ec2.SubnetType.PRIVATE_WITH_EGRESS if self.has_egress else ec2.SubnetType.PRIVATE_ISOLATED
        )
        subnets = [
            ec2.SubnetConfiguration(name=FUNCTIONS_SUBNETS, subnet_type=functions_subnet_type, cidr_mask=20),
            ec2.SubnetConfiguration(
                name=DATABASE_SUBNETS, subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
            ),
        ]
        if self.has_egress:
            # NAT gateways need public subnets; nothing else is placed there.
            subnets.insert(
                0, ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24)
            )
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=config.nat_gateways,
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
                "nat_gateways=0: functions in the VPC cannot reach the API Gateway @connections API "
                "(no VPC endpoint serves public WebSocket APIs), so chargers get no replies.",
            )

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

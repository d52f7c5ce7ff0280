"""The API Gateway WebSocket API chargers connect to (through the front door)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, cast

import jsii
from aws_cdk import CfnElement, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from . import nag, names
from .config import StageConfig
from .function import CsmsFunction

#: One line per connect, frame and disconnect; ``sourceIp`` is CloudFront's, the charger
#: id is in the ``$connect`` function's log under the same ``connectionId``.
ACCESS_LOG_FORMAT = apigw.AccessLogFormat.custom(
    # Only variables documented for WebSocket APIs; API Gateway rejects unknown ones.
    '{"requestId":"$context.requestId","connectionId":"$context.connectionId",'
    '"eventType":"$context.eventType","routeKey":"$context.routeKey","status":"$context.status",'
    '"integrationLatency":"$context.integrationLatency","error":$context.error.messageString,'
    '"sourceIp":"$context.identity.sourceIp","requestTime":"$context.requestTimeEpoch",'
    '"messageId":"$context.messageId"}'
)


#: Why each route has no API Gateway authorizer (cdk-nag APIG4).
_ROUTE_AUTHORIZATION = {
    "$connect": "Chargers authenticate with OCPP Basic auth (Security Profiles 1/2), checked in the "
    "$connect function together with the CloudFront origin secret; an authorizer would add a "
    "second Lambda to every connect.",
    "$default": "WebSocket APIs authorize only $connect; frames ride the connection admitted there.",
    "$disconnect": "WebSocket APIs authorize only $connect; $disconnect belongs to an admitted connection.",
}


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    """``IAccessLogSettings`` is an interface in aws-cdk-lib, so Python has to implement it."""

    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return ACCESS_LOG_FORMAT


#: The @connections methods (API Gateway management API).
MANAGEMENT_METHODS: Final = frozenset({"POST", "GET", "DELETE"})


class ApiGatewayCloudWatchRole(Construct):
    """The account-wide role API Gateway (REST and WebSocket) writes access logs with.

    It is one setting per account and region; ``apigw_account_role=false`` leaves an
    existing setting alone. The role is retained on ``cdk destroy`` so other APIs in the
    account keep logging.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(
                    "service-role/AmazonAPIGatewayPushToCloudWatchLogs"
                )
            ],
        )
        role.apply_removal_policy(RemovalPolicy.RETAIN)
        nag.acknowledge(
            role,
            "IAM4",
            "The AWS-maintained policy API Gateway documents for the account's logging role; it "
            "must reach log groups of every API in the account.",
            finding=nag.managed_policy("service-role/AmazonAPIGatewayPushToCloudWatchLogs"),
        )
        self.account = apigw.CfnAccount(self, "Account", cloud_watch_role_arn=role.role_arn)


class ChargerWebSocketApi(Construct):
    """WebSocket API + stage: ``$connect``, ``$default``, ``$disconnect`` to Lambda.

    No route responses: replies travel through ``@connections`` (an empty route response
    can put an empty frame on the wire, and Lambda errors would surface as non-OCPP JSON;
    ADR 0020 weighs them again). The stage auto-deploys, logs errors (execution log, ERROR
    level) and, with ``ws_access_logs``, every request, and throttles routes. With
    ``egress=ipv6`` the API is dual-stack.

    Context: ``ws_rate_limit``, ``ws_burst_limit`` (default route throttling),
    ``apigw_account_role``, ``ws_access_logs``.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.api = apigwv2.WebSocketApi(
            self,
            "Api",
            api_name=names.websocket_api_name(config.stage),
            description=f"csms {config.stage}: OCPP-J chargers (behind CloudFront)",
            # Dual-stack, so functions with IPv6-only egress reach @connections (ADR 0020).
            ip_address_type=apigwv2.IpAddressType.DUAL_STACK if config.ipv6_egress else None,
        )
        #: One line per frame (``ws_access_logs``; off in prod: ~250 bytes a frame, and API
        #: Gateway cannot sample them). Errors are in the execution log at ERROR level either way.
        self.access_logs: logs.LogGroup | None = None
        if config.ws_access_logs:
            self.access_logs = logs.LogGroup(
                self, "AccessLogs", retention=config.log_retention, removal_policy=config.log_removal_policy
            )
        self.stage = apigwv2.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.api,
            stage_name=config.stage,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=config.ws_rate_limit, burst_limit=config.ws_burst_limit
            ),
            access_log_settings=_AccessLogSettings(self.access_logs) if self.access_logs else None,
        )
        # Execution logs, errors only (integration failures, throttles, oversized frames):
        # what an operator needs from API Gateway without a line per frame. API Gateway would
        # create the group itself, without retention.
        self.execution_logs = logs.LogGroup(
            self,
            "ExecutionLogs",
            log_group_name=f"/aws/apigateway/{self.api.api_id}/{config.stage}",
            retention=config.log_retention,
            removal_policy=config.log_removal_policy,
        )
        if self.access_logs is None:
            nag.acknowledge(
                self.stage,
                "APIG1",
                "ws_access_logs=false (the prod default, issue 16): a line per charger frame cannot be "
                "sampled by API Gateway; errors go to the execution log (ERROR level) and every frame's "
                "outcome to the message function's sampled log and the stage's metrics.",
            )
        cfn_stage = cast(apigwv2.CfnStage, self.stage.node.default_child)
        cfn_stage.add_property_override("DefaultRouteSettings.LoggingLevel", "ERROR")
        cfn_stage.add_property_override("DefaultRouteSettings.DataTraceEnabled", False)
        self.stage.node.add_dependency(self.execution_logs)
        #: The account's API Gateway logging setting (None with ``apigw_account_role=false``);
        #: every stage with access logs, REST ones included, must wait for it.
        self.account_logging: apigw.CfnAccount | None = None
        if config.apigw_account_role:
            self.account_logging = ApiGatewayCloudWatchRole(self, "CloudWatchRole").account
            # The stage can only enable access logs once the account has the role.
            self.stage.node.add_dependency(self.account_logging)

    @property
    def execute_api_domain(self) -> str:
        """``{apiId}.execute-api.{region}.{urlSuffix}``: the front door's origin."""
        return f"{self.api.api_id}.execute-api.{self.stage.stack.region}.{self.stage.stack.url_suffix}"

    def metric(self, metric_name: str, **props: Any) -> cloudwatch.Metric:
        """An ``AWS/ApiGateway`` metric of this API's stage (ConnectCount, MessageCount, ...)."""
        return cloudwatch.Metric(
            namespace="AWS/ApiGateway",
            metric_name=metric_name,
            dimensions_map={"ApiId": self.api.api_id, "Stage": self.stage.stage_name},
            **props,
        )

    @property
    def management_endpoint(self) -> str:
        """``https://{apiId}.execute-api.{region}.{urlSuffix}/{stage}`` for ``@connections``."""
        return self.stage.callback_url

    def add_route(self, route_key: str, fn: CsmsFunction) -> apigwv2.WebSocketRoute:
        """Route ``route_key`` to ``fn`` (Lambda proxy integration, no route response)."""
        # The integration's id must not be "Default": CDK drops that id from logical ids and
        # the $default route's resources would collide.
        integration = integrations.WebSocketLambdaIntegration(
            f"{fn.name.capitalize()}Integration", fn.function
        )
        route = self.api.add_route(route_key, integration=integration, return_response=False)
        nag.acknowledge(route, "APIG4", _ROUTE_AUTHORIZATION[route_key])
        return route

    def grant_manage_connections(self, fn: CsmsFunction, *methods: str) -> None:
        """``execute-api:ManageConnections`` on this stage for the HTTP ``methods`` only (POST
        sends a frame, DELETE closes a connection, GET describes one), and the endpoint setting.

        The resource ARN's segment after the stage is the method
        (``{api}/{stage}/POST/@connections/*``), so a function that only closes sockets cannot
        put frames on a charger's wire.
        """
        if not methods or not set(methods) <= MANAGEMENT_METHODS:
            raise ValueError(f"methods must be some of {sorted(MANAGEMENT_METHODS)}, got {methods}")
        grant_manage_connections(
            self.api,
            self.stage,
            fn,
            sorted(set(methods)),
            names.Env.WS_MANAGEMENT_ENDPOINT,
            self.management_endpoint,
            who="Connection ids",
            where="this API's stage",
        )


def grant_manage_connections(
    api: apigwv2.WebSocketApi,
    stage: apigwv2.WebSocketStage,
    fn: CsmsFunction,
    methods: Sequence[str],
    env_var: str,
    endpoint: str,
    *,
    who: str,
    where: str,
) -> None:
    """``execute-api:ManageConnections`` on ``stage``'s ``@connections`` for ``methods`` only, the
    endpoint in ``env_var``, and the cdk-nag acknowledgement of each wildcard (``who``: whose
    connection ids, known only at run time; ``where``: which stage, in words)."""
    stack = Stack.of(api)
    arns = [
        stack.format_arn(
            service="execute-api",
            resource=api.api_id,
            resource_name=f"{stage.stage_name}/{method}/@connections/*",
        )
        for method in methods
    ]
    iam.Grant.add_to_principal(grantee=fn.role, actions=["execute-api:ManageConnections"], resource_arns=arns)
    fn.add_environment(env_var, endpoint)
    api_logical_id = stack.get_logical_id(cast(CfnElement, api.node.default_child))
    for method in methods:
        nag.acknowledge(
            fn.role,
            "IAM5",
            f"{who} are only known at run time, so ManageConnections is granted on "
            f"{method} @connections/* of {where} and nothing else.",
            finding=(
                "Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:"
                f"<{api_logical_id}>/{stage.stage_name}/{method}/@connections/*"
            ),
        )

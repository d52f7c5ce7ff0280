"""The CSMS stack: composes the constructs, wires permissions, prints the URLs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import CfnOutput, Stack, Tags
from constructs import Construct

from . import names
from .assets import CodeAssets
from .config import StageConfig
from .data import ConnectionsTable, Database, IdempotencyTable
from .frontdoor import ChargerFrontDoor, OriginVerifySecret
from .function import CsmsFunction
from .migration import DatabaseMigration
from .network import Network
from .operations import Operations
from .operator_api import OperatorRestApi, OperatorUserPool
from .websocket import ChargerWebSocketApi


class CsmsStack(Stack):
    """Everything one stage of the CSMS needs, deployable with one ``cdk deploy``.

    Today: the charger path (CloudFront -> WebSocket API -> connect/message/disconnect),
    the operator API (REST API + Cognito -> api), the connections and idempotency tables,
    Aurora in a VPC, migrations on deploy, alarms and a dashboard.

    Hooks for the issues still to come: the command queue and ``functions/commands``, the
    pending-calls table, the EventBridge bus and the Scheduler schedules for
    ``functions/scheduled`` each arrive as their own construct plus an :meth:`add_function`
    call; the function goes into ``migration.run_before`` and into the ``functions`` that
    :class:`~csms_infra.operations.Operations` watches, and queue alarms (DLQ depth) go
    through ``operations.add_alarm``.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, **kwargs: Any) -> None:
        super().__init__(
            scope,
            construct_id,
            description=f"csms {config.stage}: serverless OCPP 1.6J central system",
            **kwargs,
        )
        self.config = config
        # The proxy target group's L1 claims tag support its CloudFormation schema lacks.
        untaggable = ["AWS::RDS::DBProxyTargetGroup"]
        Tags.of(self).add("project", names.PROJECT, exclude_resource_types=untaggable)
        Tags.of(self).add("stage", config.stage, exclude_resource_types=untaggable)

        self.network = Network(self, "Network", config=config)
        self.connections = ConnectionsTable(self, "Connections", config=config)
        self.idempotency = IdempotencyTable(self, "Idempotency", config=config)
        self.database = Database(self, "Database", config=config, network=self.network)
        self.code = CodeAssets(self, "Code", config=config)
        self.migration = DatabaseMigration(
            self, "Migration", config=config, code=self.code, network=self.network, database=self.database
        )
        self.chargers = ChargerWebSocketApi(self, "Chargers", config=config)
        self.origin_verify = OriginVerifySecret(self, "OriginVerify")

        # --- WebSocket route functions ----------------------------------------------------
        self.connect = self.add_function(
            "Connect",
            names.CONNECT,
            "csms: $connect - subprotocol, Basic auth, connection record",
            database=True,
            environment={
                names.Env.ORIGIN_VERIFY_SECRET: self.origin_verify.value,
                names.Env.ALLOW_UNKNOWN_CHARGERS: str(config.allow_unknown_chargers).lower(),
            },
        )
        # connect deletes the superseded connection of a charger that reconnects.
        self.chargers.grant_manage_connections(self.connect)

        message_environment = {names.Env.HEARTBEAT_INTERVAL: str(config.heartbeat_interval)}
        if config.data_transfer_vendors:
            message_environment[names.Env.DATA_TRANSFER_VENDORS] = config.data_transfer_vendors
        self.message = self.add_function(
            "Message",
            names.MESSAGE,
            "csms: $default - one OCPP frame, replies via @connections",
            database=True,
            environment=message_environment,
        )
        self.chargers.grant_manage_connections(self.message)

        # disconnect only deletes the connection record: no database, so no VPC either.
        self.disconnect = self.add_function(
            "Disconnect", names.DISCONNECT, "csms: $disconnect - drop the connection record", database=False
        )

        routes = {"$connect": self.connect, "$default": self.message, "$disconnect": self.disconnect}
        for route_key, fn in routes.items():
            self.chargers.add_route(route_key, fn)
            self.connections.grant(fn)

        # --- operator REST API --------------------------------------------------------------
        self.api_function = self.add_function(
            "Api", names.API, "csms: operator REST API (API Gateway proxy integration)", database=True
        )
        self.connections.grant_read(self.api_function)  # lists live connections (by-tenant index)
        self.idempotency.grant(self.api_function)  # Idempotency-Key records
        # Decommissioning a charger closes its connection.
        self.chargers.grant_manage_connections(self.api_function)
        self.users = OperatorUserPool(self, "Operators", config=config)
        self.operator_api = OperatorRestApi(
            self,
            "OperatorApi",
            config=config,
            function=self.api_function,
            user_pool=self.users,
            account_logging=self.chargers.account_logging,
        )

        # New code takes traffic only after its migrations ran.
        self.migration.run_before(*routes.values(), self.api_function)

        self.front_door = ChargerFrontDoor(
            self,
            "FrontDoor",
            config=config,
            origin_domain=self.chargers.execute_api_domain,
            origin_verify=self.origin_verify,
        )
        self.operations = Operations(
            self,
            "Operations",
            config=config,
            functions=[self.connect, self.message, self.disconnect, self.api_function],
            message=self.message,
            chargers=self.chargers,
            api=self.operator_api,
            database=self.database,
            tables={"connections": self.connections.table, "idempotency": self.idempotency.table},
        )
        self._outputs()

    def add_function(
        self,
        construct_id: str,
        name: str,
        description: str,
        *,
        database: bool,
        environment: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> CsmsFunction:
        """``functions/<name>`` as a Lambda; with ``database`` it runs in the VPC with DB access."""
        fn = CsmsFunction(
            self,
            construct_id,
            config=self.config,
            code=self.code,
            name=name,
            description=description,
            environment=environment,
            vpc=self.network.vpc if database else None,
            vpc_subnets=self.network.functions_subnets if database else None,
            **kwargs,
        )
        if database:
            self.database.grant_connect(fn)
        return fn

    def _outputs(self) -> None:
        CfnOutput(
            self,
            "ChargerUrl",
            value=names.charger_url(self.front_door.host),
            description="Configure chargers with this URL (OCPP-J, Basic auth user = charge point id)",
        )
        CfnOutput(self, "CloudFrontDomain", value=self.front_door.distribution.distribution_domain_name)
        CfnOutput(
            self,
            "ExecuteApiUrl",
            value=self.chargers.stage.url,
            description="WebSocket API behind CloudFront; $connect refuses calls without the origin secret",
        )
        CfnOutput(self, "ManagementEndpoint", value=self.chargers.management_endpoint)
        CfnOutput(self, "ConnectionsTableName", value=self.connections.table.table_name)
        CfnOutput(self, "DatabaseSecretArn", value=self.database.secret.secret_arn)
        CfnOutput(self, "DatabaseEndpoint", value=self.database.cluster.cluster_endpoint.hostname)
        CfnOutput(
            self,
            "ApiUrl",
            value=self.operator_api.url,
            description="Operator REST API base; Swagger UI at .../api/docs; Authorization: Bearer <IdToken>",
        )
        CfnOutput(self, "UserPoolId", value=self.users.pool.user_pool_id)
        CfnOutput(
            self,
            "UserPoolClientId",
            value=self.users.client.user_pool_client_id,
            description="App client for initiate-auth (USER_PASSWORD_AUTH or SRP), no secret",
        )
        CfnOutput(self, "IdempotencyTableName", value=self.idempotency.table.table_name)
        CfnOutput(
            self,
            "AlarmTopicArn",
            value=self.operations.topic.topic_arn,
            description="Subscribe e-mail, chat or paging tools to the alarms here",
        )
        CfnOutput(self, "DashboardUrl", value=self.operations.dashboard_url)

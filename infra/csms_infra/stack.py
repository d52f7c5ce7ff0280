"""The CSMS stack: composes the constructs, wires permissions, prints the URLs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import CfnOutput, Stack, Tags
from constructs import Construct

from . import names
from .assets import CodeAssets
from .config import StageConfig
from .data import ConnectionsTable, Database
from .frontdoor import ChargerFrontDoor, OriginVerifySecret
from .function import CsmsFunction
from .migration import DatabaseMigration
from .network import Network
from .websocket import ChargerWebSocketApi


class CsmsStack(Stack):
    """Everything one stage of the CSMS needs, deployable with one ``cdk deploy``.

    Today: the charger path (CloudFront -> WebSocket API -> connect/message/disconnect),
    the connections table, Aurora in a VPC, migrations on deploy. The operator API,
    command queue, event bus and schedules join as further :meth:`add_function` calls
    plus their own constructs.
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
        # New code takes traffic only after its migrations ran.
        self.migration.run_before(*routes.values())

        self.front_door = ChargerFrontDoor(
            self,
            "FrontDoor",
            config=config,
            origin_domain=self.chargers.execute_api_domain,
            origin_verify=self.origin_verify,
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

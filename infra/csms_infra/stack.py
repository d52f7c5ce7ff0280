"""The CSMS stack: composes the constructs, wires permissions, prints the URLs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import CfnOutput, Stack, Tags
from constructs import Construct

from csms.constants import DATABASE_BOUNDS

from . import names
from .assets import CodeAssets
from .commands import COMMANDS_TIMEOUT, CommandQueue
from .config import StageConfig
from .console import ConsoleLogin, ConsoleSite
from .console_live import ConsoleLiveApi
from .data import (
    ConnectionsTable,
    Database,
    ExternalDatabase,
    IdempotencyTable,
    LimitsTable,
    PendingCallsTable,
    PostgresAccess,
)
from .events import DomainEventBus
from .frontdoor import ChargerFrontDoor, OriginVerifySecret
from .function import CsmsFunction
from .load_triggers import LoadTriggers
from .migration import DatabaseMigration
from .network import Network
from .operations import Operations
from .operator_api import OperatorRestApi, OperatorUserPool
from .rotation import SecretRotation
from .scheduler import SCHEDULED_TIMEOUT, ScheduledJobs
from .websocket import ChargerWebSocketApi


class CsmsStack(Stack):
    """Everything one stage of the CSMS needs, deployable with one ``cdk deploy``.

    The charger path (CloudFront -> WebSocket API -> connect/message/disconnect), the
    operator API (REST API + Cognito -> api), the command pipeline (api -> SQS FIFO ->
    commands -> @connections; answers through message; the deadline sweep in scheduled,
    run by EventBridge Scheduler), the domain-event bus, the connections, pending-calls and
    idempotency tables, Aurora (or an external PostgreSQL such as TimescaleDB) reached from a
    VPC, migrations on deploy, alarms and a dashboard.

    A new function arrives through :meth:`add_function`, its grants, ``migration.run_before``
    and the ``functions`` that :class:`~csms_infra.operations.Operations` watches.
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
        self.pending_calls = PendingCallsTable(self, "PendingCalls", config=config)
        self.idempotency = IdempotencyTable(self, "Idempotency", config=config)
        self.limits = LimitsTable(self, "Limits", config=config)
        self.command_queue = CommandQueue(self, "CommandQueue", config=config)
        self.events = DomainEventBus(self, "Events", config=config)
        # Aurora, unless external_database_secret_arn names the PostgreSQL to use instead.
        self.aurora: Database | None = None
        self.database: PostgresAccess
        if config.uses_aurora:
            self.aurora = Database(self, "Database", config=config, network=self.network)
            self.database = self.aurora
        else:
            self.database = ExternalDatabase(self, "ExternalDatabase", config=config, network=self.network)
        self.code = CodeAssets(self, "Code", config=config)
        self.migration = DatabaseMigration(
            self, "Migration", config=config, code=self.code, network=self.network, database=self.database
        )
        if self.aurora is not None:
            self.rotation = SecretRotation(
                self,
                "SecretRotation",
                config=config,
                code=self.code,
                network=self.network,
                database=self.aurora,
            )
        self.chargers = ChargerWebSocketApi(self, "Chargers", config=config)
        self.origin_verify = OriginVerifySecret(self, "OriginVerify")

        # --- WebSocket route functions ----------------------------------------------------
        self.connect = self.add_function(
            "Connect",
            names.CONNECT,
            "csms: $connect - subprotocol, Basic auth, connection record",
            database=True,
            db_role="charger",
            environment={
                names.Env.ORIGIN_VERIFY_SECRET: self.origin_verify.value,
                names.Env.ALLOW_UNKNOWN_CHARGERS: str(config.allow_unknown_chargers).lower(),
            },
        )
        # connect deletes the superseded connection of a charger that reconnects.
        self.chargers.grant_manage_connections(self.connect, "DELETE")

        message_environment = {names.Env.HEARTBEAT_INTERVAL: str(config.heartbeat_interval)}
        if config.data_transfer_vendors:
            message_environment[names.Env.DATA_TRANSFER_VENDORS] = config.data_transfer_vendors
        message_environment[names.Env.FRAME_LOG_SAMPLE_RATE] = f"{config.frame_log_sample_rate:g}"
        self.message = self.add_function(
            "Message",
            names.MESSAGE,
            "csms: $default - one OCPP frame, replies via @connections",
            database=True,
            db_role="charger",
            environment=message_environment,
        )
        # Replies and commands (POST); a frame on an unknown connection closes it (DELETE).
        self.chargers.grant_manage_connections(self.message, "POST", "DELETE")

        # disconnect deletes the connection record and records ChargerDisconnected in the
        # outbox: PostgreSQL, so the VPC (issue 13: without it every event was lost).
        self.disconnect = self.add_function(
            "Disconnect",
            names.DISCONNECT,
            "csms: $disconnect - drop the connection record, record ChargerDisconnected",
            database=True,
            db_role="charger",
        )

        # Failed logins (connect) and frames (message) per station, counted across containers.
        self.limits.grant(self.connect)
        self.limits.grant(self.message)

        routes = {"$connect": self.connect, "$default": self.message, "$disconnect": self.disconnect}
        for route_key, fn in routes.items():
            self.chargers.add_route(route_key, fn)
            self.connections.grant(fn)

        # --- operator REST API --------------------------------------------------------------
        self.api_function = self.add_function(
            "Api",
            names.API,
            "csms: operator REST API (API Gateway proxy integration)",
            database=True,
            db_role="operator",
        )
        self.connections.grant_read(self.api_function)  # lists live connections (by-tenant index)
        self.idempotency.grant(self.api_function)  # Idempotency-Key records
        self.limits.grant(self.api_function)  # rate limits, revocation stamps
        # Decommissioning a charger closes its connection.
        self.chargers.grant_manage_connections(self.api_function, "DELETE")
        # Submitting a command writes its row (PostgreSQL) and enqueues a trigger; reading
        # commands is PostgreSQL only. The api never delivers, so no pending-calls table.
        self.command_queue.grant_send(self.api_function)
        # A command's expiry is set when it is submitted (ADR 0027).
        self.api_function.add_environment(
            names.Env.COMMAND_EXPIRY_SECONDS, str(config.command_expiry_seconds)
        )
        self.users = OperatorUserPool(self, "Operators", config=config)
        # Admins manage their tenant's users (csms.aws.users): these five calls, this pool. The
        # /users routes touch Cognito only, whose API has no dual-stack endpoint: they run in a
        # second function of the same code outside the VPC (ADR 0020), so no function in the
        # VPC needs IPv4 egress.
        self.users_function = self.add_function(
            "Users",
            names.API,
            "csms: operator REST API, /users (Cognito only, outside the VPC)",
            database=False,
        )
        self.users_function.add_environment(names.Env.USER_POOL_ID, self.users.pool.user_pool_id)
        # Removing or demoting a user stamps the revocation the api function checks.
        self.limits.grant(self.users_function)
        self.users.pool.grant(
            self.users_function.function,
            "cognito-idp:AdminCreateUser",
            "cognito-idp:AdminGetUser",
            "cognito-idp:AdminUpdateUserAttributes",
            "cognito-idp:AdminDeleteUser",
            "cognito-idp:ListUsers",
        )
        self.operator_api = OperatorRestApi(
            self,
            "OperatorApi",
            config=config,
            function=self.api_function,
            users_function=self.users_function,
            user_pool=self.users,
            account_logging=self.chargers.account_logging,
        )

        # --- command pipeline (ADR 0010) ----------------------------------------------------
        # Each deliverer sends a charger's oldest queued command when its slot is free: it
        # claims the slot (pending calls), looks up the charger's connection and posts the
        # CALL. message also frees the slot when the answer comes (it already reads and
        # writes the connections table and posts through @connections).
        self.pending_calls.grant_slot(self.message)
        self.command_queue.name_it(self.message)
        self.message.add_environment(names.Env.COMMAND_TIMEOUT_SECONDS, str(config.command_timeout_seconds))

        self.commands = self.add_function(
            "Commands",
            names.COMMANDS,
            "csms: deliver queued commands (SQS FIFO trigger, group = charger)",
            database=True,
            db_role="charger",
            timeout=COMMANDS_TIMEOUT,
            environment={names.Env.COMMAND_TIMEOUT_SECONDS: str(config.command_timeout_seconds)},
        )
        self.command_queue.add_consumer(self.commands)
        self.pending_calls.grant_slot(self.commands)
        self.connections.grant_lookup(self.commands)
        self.chargers.grant_manage_connections(self.commands, "POST")

        # The sweeper times out calls past their deadline (Scan), frees their slots and
        # delivers what is queued behind them; it never enqueues.
        self.scheduled = self.add_function(
            "Scheduled",
            names.SCHEDULED,
            'csms: scheduled jobs (EventBridge Scheduler sends {"job": name})',
            database=True,
            timeout=SCHEDULED_TIMEOUT,
            environment={names.Env.COMMAND_TIMEOUT_SECONDS: str(config.command_timeout_seconds)},
        )
        self.pending_calls.grant_sweep(self.scheduled)
        self.connections.grant_lookup(self.scheduled)
        # The fleet-gauges job counts connected chargers (a Select=COUNT Scan).
        self.connections.grant_count(self.scheduled)
        # The liveness job scans the connections, closes stale records and releases chargers.
        self.connections.grant_liveness(self.scheduled)
        # Liveness describes (GET) and closes (DELETE) silent connections; the deadline sweep
        # sends the next queued command (POST).
        self.chargers.grant_manage_connections(self.scheduled, "POST", "GET", "DELETE")
        # The reservations job asks chargers for a connector's status (TriggerMessage).
        self.command_queue.grant_send(self.scheduled)
        self.jobs = ScheduledJobs(self, "Jobs", config=config, function=self.scheduled)
        # Domain events reallocate the sites they touch (load management, ADR 0024 §3).
        self.load_triggers = LoadTriggers(
            self, "LoadTriggers", config=config, bus=self.events.bus, consumer=self.scheduled
        )
        # The load manager's next profiles go out when one is answered (message), fails at
        # delivery (commands) or times out (scheduled): those enqueue them.
        for fn in (self.message, self.commands):
            self.command_queue.grant_enqueue(fn)

        # Every function that changes state publishes domain events (the migration does not).
        for fn in (
            self.connect,
            self.message,
            self.disconnect,
            self.api_function,
            self.commands,
            self.scheduled,
        ):
            self.events.grant_publish(fn)
        # Only the event-delivery job dead-letters (a request's own flush only retries later).
        self.events.grant_dead_letter(self.scheduled)
        # Events about DynamoDB state are parked when PostgreSQL cannot record them (emit):
        # connect and disconnect, and the liveness job; the event-delivery job records them.
        for fn in (self.connect, self.disconnect):
            self.events.grant_park(fn)
        self.events.grant_park(self.scheduled)
        self.events.grant_recover(self.scheduled)

        # --- consoles' live updates (ADR 0025) --------------------------------------------------
        # Neither touches PostgreSQL: outside the VPC, where the authorizer reaches the user
        # pool's key set and the fan-out the live API's @connections.
        self.live = self.add_function(
            "Live",
            names.LIVE,
            "csms: consoles' live WebSocket - $connect authorizer (Cognito ID token) and routes",
            database=False,
            environment={names.Env.LIVE_TOKEN_ISSUER: self.users.pool.user_pool_provider_url},
        )
        self.connections.grant_live(self.live)
        # $connect refuses tokens revoked since they were issued (ADR 0023's stamps).
        self.limits.grant(self.live)
        self.fanout = self.add_function(
            "Fanout",
            names.FANOUT,
            "csms: every domain event to its tenant's live consoles (@connections)",
            database=False,
            memory_size=256,
        )
        self.connections.grant_fanout(self.fanout)
        self.console_live = ConsoleLiveApi(
            self,
            "ConsoleLive",
            config=config,
            live=self.live,
            fanout=self.fanout,
            bus=self.events.bus,
            account_logging=self.chargers.account_logging,
        )

        # New code takes traffic only after its migrations ran.
        self.migration.run_before(*routes.values(), self.api_function, self.commands, self.scheduled)

        self.front_door = ChargerFrontDoor(
            self,
            "FrontDoor",
            config=config,
            origin_domain=self.chargers.execute_api_domain,
            origin_verify=self.origin_verify,
        )
        # The operator console (issue 14): on the distribution's host with the API under /api/.
        self.console_login = ConsoleLogin(
            self, "ConsoleLogin", config=config, pool=self.users.pool, host=self.front_door.host
        )
        self.console = ConsoleSite(
            self,
            "Console",
            config=config,
            distribution=self.front_door.distribution,
            api_origin_domain=self.operator_api.execute_api_domain,
            login=self.console_login,
            # ADR 0025: the operators' live WebSocket API (not behind CloudFront).
            live={"mode": "websocket", "url": self.console_live.url},
            live_origin=self.console_live.origin,
        )
        self.operations = Operations(
            self,
            "Operations",
            config=config,
            functions=[
                self.connect,
                self.message,
                self.disconnect,
                self.api_function,
                self.commands,
                self.scheduled,
                # the consoles' live path (ADR 0025): a failure there silences open consoles
                self.live,
                self.fanout,
            ],  # the users function's failures are the operator API's 5XX alarm
            message=self.message,
            commands=self.commands,
            chargers=self.chargers,
            api=self.operator_api,
            database=self.aurora,
            tables={
                "connections": self.connections.table,
                "pending": self.pending_calls.table,
                "idempotency": self.idempotency.table,
            },
            command_queue=self.command_queue,
            jobs=self.jobs,
            events=self.events,
        )
        self._outputs()

    def add_function(
        self,
        construct_id: str,
        name: str,
        description: str,
        *,
        database: bool,
        db_role: str | None = None,
        environment: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> CsmsFunction:
        """``functions/<name>`` as a Lambda; with ``database`` it runs in the VPC with DB access."""
        in_vpc = {**self.network.dual_stack_environment} if database else {}
        reserved_for = "users" if construct_id == "Users" else name
        if self.config.reserved_concurrency:
            kwargs.setdefault("reserved_concurrency", names.RESERVED_CONCURRENCY[reserved_for])
        fn = CsmsFunction(
            self,
            construct_id,
            config=self.config,
            code=self.code,
            name=name,
            description=description,
            environment={**in_vpc, **(environment or {})},
            vpc=self.network.vpc if database else None,
            vpc_subnets=self.network.functions_subnets if database else None,
            ipv6=self.network.ipv6,
            **kwargs,
        )
        if database:
            # A runtime role (rows only) for the charger and operator paths; the owner for the
            # scheduled jobs (partition DDL). ADR 0021.
            self.database.grant_connect(fn, db_role)
            if name in DATABASE_BOUNDS and construct_id != "Users":
                statement_ms, stall_s = DATABASE_BOUNDS[name]
                fn.add_environment(names.Env.DATABASE_STATEMENT_TIMEOUT_MS, str(statement_ms))
                fn.add_environment(names.Env.DATABASE_STALL_TIMEOUT_SECONDS, f"{stall_s:g}")
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
            "ConsoleUrl",
            value=f"https://{self.front_door.host}/console/",
            description="The operator console (sign in through Cognito's managed login)",
        )
        CfnOutput(self, "ConsoleClientId", value=self.console_login.client.user_pool_client_id)
        CfnOutput(
            self,
            "ExecuteApiUrl",
            value=self.chargers.stage.url,
            description="WebSocket API behind CloudFront; $connect refuses calls without the origin secret",
        )
        CfnOutput(self, "ManagementEndpoint", value=self.chargers.management_endpoint)
        CfnOutput(self, "ConnectionsTableName", value=self.connections.table.table_name)
        CfnOutput(self, "DatabaseSecretArn", value=self.database.secret.secret_arn)
        if self.aurora is not None:
            CfnOutput(self, "DatabaseEndpoint", value=self.aurora.cluster.cluster_endpoint.hostname)
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
        CfnOutput(self, "LimitsTableName", value=self.limits.table.table_name)
        CfnOutput(
            self,
            "CommandsQueueUrl",
            value=self.command_queue.queue.queue_url,
            description="SQS FIFO trigger of command delivery; its dead-letter queue is "
            + names.commands_dead_letter_queue_name(self.config.stage),
        )
        CfnOutput(self, "PendingCallsTableName", value=self.pending_calls.table.table_name)
        CfnOutput(
            self,
            "AlarmTopicArn",
            value=self.operations.topic.topic_arn,
            description="Subscribe e-mail, chat or paging tools to the alarms here",
        )
        CfnOutput(self, "DashboardUrl", value=self.operations.dashboard_url)
        CfnOutput(
            self,
            "EventBusName",
            value=self.events.bus.event_bus_name,
            description="Domain events: subscribe with an EventBridge rule on this bus (infra/README.md)",
        )
        CfnOutput(self, "EventBusArn", value=self.events.bus.event_bus_arn)
        CfnOutput(
            self,
            "ConsoleLiveUrl",
            value=self.console_live.url,
            description="The console's live.url (/console/config.json): WebSocket, subprotocols "
            "csms.live.v1 and bearer.<ID token> (ADR 0025)",
        )

"""The operators' live WebSocket API (ADR 0025): consoles receive their tenant's domain events.

```
console ──wss://{api}.execute-api.{region}.../live (subprotocols csms.live.v1, bearer.<ID token>)
   $connect ── Lambda REQUEST authorizer (functions/live: the Cognito ID token) ── functions/live
   $default, $disconnect ──────────────────────────────────────────────────────── functions/live
domain-event bus ── rule {source: csms} ── SQS ── (batches, up to 1 s) ── functions/fanout
   ── @connections POST {"events": [...]} to each console of the events' tenants
```
"""

from __future__ import annotations

from typing import Final

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from csms.constants import LIVE_ROUTES
from csms.services.console_live import EVENT_PATTERN

from . import nag, names
from .config import StageConfig
from .function import CsmsFunction
from .websocket import _AccessLogSettings, grant_manage_connections

#: Where the authorizer finds the token: the console offers it as a subprotocol (ADR 0025).
IDENTITY_SOURCE: Final = "route.request.header.Sec-WebSocket-Protocol"
#: The fan-out posts frames; nothing else of @connections.
FANOUT_METHODS: Final = ("POST",)
#: A live event older than this is of no use to a console (it reads the feed when it reconnects).
MAX_EVENT_AGE: Final = Duration.minutes(2)
#: The fan-out takes what arrived within a second, so an open console costs at most about one
#: message a second (API Gateway bills per 32 KB message), however busy the fleet.
BATCH_WINDOW: Final = Duration.seconds(1)
BATCH_SIZE: Final = 1000


class ConsoleLiveApi(Construct):
    """WebSocket API + stage ``live`` for the consoles, with the rule that feeds them.

    - ``$connect`` has a Lambda REQUEST authorizer (``live``; identity source the
      ``Sec-WebSocket-Protocol`` header, so a handshake without one never invokes it); the
      routes go to ``live`` too (Lambda proxy, no route responses).
    - A rule on the domain-event bus puts every domain event on a queue, which triggers
      ``fanout`` with what arrived within a second (:data:`BATCH_WINDOW`): one message per
      console and batch instead of one per event. Messages expire after two minutes; no
      dead-letter queue: a live event that could not be delivered is one the console reads
      from the feed when it reconnects.
    - ``fanout`` may POST to this stage's @connections only; ``live`` may write and delete the
      consoles' items of the connections table (:meth:`ConnectionsTable.grant_live`).

    Access logs follow ``ws_access_logs`` as the chargers' API does (no token is in them: it
    rides in a header the log format does not name).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        live: CsmsFunction,
        fanout: CsmsFunction,
        bus: events.IEventBus,
        account_logging: apigw.CfnAccount | None,
    ) -> None:
        super().__init__(scope, construct_id)
        handler = integrations.WebSocketLambdaIntegration("LiveIntegration", live.function)
        authorizer = authorizers.WebSocketLambdaAuthorizer(
            "LiveAuthorizer", live.function, identity_source=[IDENTITY_SOURCE]
        )
        self.api = apigwv2.WebSocketApi(
            self,
            "Api",
            api_name=names.live_api_name(config.stage),
            description=f"csms {config.stage}: operators' consoles, live domain events (ADR 0025)",
            ip_address_type=apigwv2.IpAddressType.DUAL_STACK if config.ipv6_egress else None,
        )
        self.routes = {
            route: self.api.add_route(
                route,
                integration=handler,
                authorizer=authorizer if route == "$connect" else None,
                return_response=False,
            )
            for route in LIVE_ROUTES
        }
        for route in ("$default", "$disconnect"):
            nag.acknowledge(
                self.routes[route],
                "APIG4",
                "WebSocket APIs authorize only $connect (a Lambda REQUEST authorizer here); this route "
                "belongs to a connection admitted there.",
            )
        self.access_logs: logs.LogGroup | None = None
        if config.ws_access_logs:
            self.access_logs = logs.LogGroup(
                self, "AccessLogs", retention=config.log_retention, removal_policy=config.log_removal_policy
            )
        self.stage = apigwv2.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.api,
            stage_name=names.LIVE_STAGE_NAME,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=50, burst_limit=100),
            access_log_settings=_AccessLogSettings(self.access_logs) if self.access_logs else None,
        )
        if self.access_logs is None:
            nag.acknowledge(
                self.stage,
                "APIG1",
                "ws_access_logs=false (the prod default): as on the chargers' API; errors go to the "
                "functions' logs and the stage's metrics.",
            )
        elif account_logging is not None:
            self.stage.node.add_dependency(account_logging)

        # Every domain event to the fan-out, in batches.
        self.queue = sqs.Queue(
            self,
            "Queue",
            queue_name=names.live_queue_name(config.stage),
            retention_period=MAX_EVENT_AGE,
            visibility_timeout=Duration.seconds(60),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        nag.acknowledge(
            self.queue,
            "SQS3",
            "Live events are worth something for seconds: what the fan-out could not deliver expires "
            "(two minutes) and the console reads it from the event feed when it reconnects; a "
            "dead-letter queue would keep what nobody will ever want.",
        )
        self.rule = events.Rule(
            self,
            "Rule",
            event_bus=bus,
            description="csms: every domain event to the consoles' fan-out (ADR 0025)",
            event_pattern=events.EventPattern(source=list(EVENT_PATTERN["source"])),
            targets=[targets.SqsQueue(self.queue, retry_attempts=2, max_event_age=MAX_EVENT_AGE)],
        )
        fanout.function.add_event_source(
            sources.SqsEventSource(self.queue, batch_size=BATCH_SIZE, max_batching_window=BATCH_WINDOW)
        )
        self._grant_post(fanout)

    @property
    def url(self) -> str:
        """``wss://{apiId}.execute-api.{region}.{urlSuffix}/live``: the console's ``live.url``."""
        return self.stage.url

    @property
    def origin(self) -> str:
        """``wss://{apiId}.execute-api.{region}.{urlSuffix}``: what the console's CSP must allow."""
        stack = Stack.of(self)
        return f"wss://{self.api.api_id}.execute-api.{stack.region}.{stack.url_suffix}"

    @property
    def management_endpoint(self) -> str:
        return self.stage.callback_url

    def _grant_post(self, fn: CsmsFunction) -> None:
        grant_manage_connections(
            self.api,
            self.stage,
            fn,
            FANOUT_METHODS,
            names.Env.LIVE_MANAGEMENT_ENDPOINT,
            self.management_endpoint,
            who="Console connection ids",
            where="the live API's stage",
        )

"""Operations: CloudWatch alarms, the SNS topic they notify, and the dashboard."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from . import names
from .commands import MAX_RECEIVE_COUNT, CommandQueue
from .config import StageConfig
from .data import Database
from .events import DomainEventBus
from .function import CsmsFunction
from .operator_api import OperatorRestApi
from .scheduler import ScheduledJobs
from .websocket import ChargerWebSocketApi

FIVE_MINUTES: Final = Duration.minutes(5)
ONE_MINUTE: Final = Duration.minutes(1)
PERCENTILES: Final = ("p50", "p95", "p99")
#: The DynamoDB operations the product issues (the ``Operation`` dimension's spelling);
#: their throttles are summed per table (an alarm's metric math takes at most 10 metrics).
TABLE_OPERATIONS: Final = ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan")
#: Commands timed out in 5 minutes before anyone is told: one charger that does not answer
#: is the charger's problem; several in a row point at the delivery path.
COMMAND_TIMEOUTS_THRESHOLD: Final = 5
#: Refused station logins in 5 minutes that page: a few typos are normal, a guessing run is not.
LOGIN_FAILURES_THRESHOLD: Final = 50


def _description(stage: str, *, aurora: bool) -> str:
    database = (
        "Aurora and DynamoDB" if aurora else "DynamoDB (watch the external PostgreSQL with its own tools)"
    )
    return (
        f"# csms {stage}\n"
        "Chargers (WebSocket API, `message` function), the operator API, commands (queue, `commands` "
        f"and `scheduled` functions), the functions, {database}; the alarms are at the bottom. "
        "Frames per minute = `message` invocations.\n\n"
        f"{names.Metric.CHARGERS_ONLINE} and {names.Metric.OPEN_TRANSACTIONS} are gauges the scheduled "
        "function's `fleet-gauges` job publishes every minute (connections table, open transactions in "
        f"PostgreSQL); {names.Metric.COMMANDS_TIMED_OUT} counts what the `command-timeouts` sweep timed "
        f"out. Namespace `{names.metrics_namespace(stage)}`, dimension `service={names.SERVICE_NAME}`."
    )


def _graph(
    title: str,
    left: Sequence[cloudwatch.IMetric],
    width: int = 8,
    right: Sequence[cloudwatch.IMetric] = (),
    annotations: Sequence[cloudwatch.HorizontalAnnotation] = (),
) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(
        title=title,
        left=list(left),
        right=list(right) or None,
        left_annotations=list(annotations) or None,
        width=width,
        height=6,
    )


def _throttled_requests(label: str, table: dynamodb.Table, period: Duration) -> cloudwatch.MathExpression:
    """Throttled requests of ``table`` summed over :data:`TABLE_OPERATIONS` (table and indexes).

    DynamoDB publishes ``ThrottledRequests`` only for operations that were throttled, and
    metric math yields no data when any term has none, so every term is ``FILL``ed with 0
    (CDK's own helper adds the bare terms). Its ids would also clash between two tables in
    one graph; these carry the table's label.
    """
    per_operation = {
        f"{label}_{operation.lower()}": table.metric_throttled_requests_for_operation(
            operation, statistic="Sum", period=period
        )
        for operation in TABLE_OPERATIONS
    }
    return cloudwatch.MathExpression(
        expression=" + ".join(f"FILL({metric_id}, 0)" for metric_id in per_operation),
        using_metrics=per_operation,
        label=label,
        period=period,
    )


class Operations(Construct):
    """What an operator watches and what wakes them up.

    Alarms (each notifies the SNS topic when it fires and when it clears; missing data is
    not breaching, so an idle dev stage stays green):

    - per function: any error, any throttle (5 min); the handlers catch everything, so an
      error is a crash, a timeout or an out-of-memory;
    - operator API: 5 or more 5XX answers in 5 min;
    - WebSocket API: 5 or more integration errors in 5 min (function failures or throttles
      as chargers see them);
    - Aurora (not with an external database): ACU utilisation at 90 % of ``db_max_acu`` for
      15 min; connections at ``db_connections_alarm`` (default 80 % of the estimated
      ``max_connections``);
    - DynamoDB: any throttled request, per table;
    - commands: any message in the command queue's dead-letter queue; 5 or more commands
      timed out in 5 min (``CommandsTimedOut``, counted by the sweep);
    - EventBridge Scheduler: any invocation of the scheduled function dropped after retries.

    The topic always exists (alarms need somewhere to go; subscribe chat or paging tools to
    ``AlarmTopicArn``); ``alarm_email`` adds an e-mail subscription. A later function or
    queue joins through :meth:`watch_function` and :meth:`add_alarm`, called from here so the
    dashboard's alarm widget lists it.

    Context: ``alarm_email``, ``db_connections_alarm``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        functions: Sequence[CsmsFunction],
        message: CsmsFunction,
        commands: CsmsFunction,
        chargers: ChargerWebSocketApi,
        api: OperatorRestApi,
        database: Database | None,
        tables: Mapping[str, dynamodb.Table],
        command_queue: CommandQueue,
        jobs: ScheduledJobs,
        events: DomainEventBus,
    ) -> None:
        super().__init__(scope, construct_id)
        self._stage = config.stage
        self.topic = sns.Topic(
            self, "AlarmTopic", display_name=f"csms {config.stage} alarms", enforce_ssl=True
        )
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        self.alarms: list[cloudwatch.Alarm] = []

        for fn in functions:
            self.watch_function(fn)
        self.add_alarm(
            "ApiServerErrors",
            "api-5xx",
            api.stage.metric_server_error(period=FIVE_MINUTES, statistic="Sum"),
            threshold=5,
            description="The operator API answered 5XX (function errors, 503 database unavailable, "
            "gateway timeouts). See the api function's log and the API's access log.",
        )
        self.add_alarm(
            "WebSocketIntegrationErrors",
            "websocket-integration-errors",
            chargers.metric("IntegrationError", period=FIVE_MINUTES, statistic="Sum"),
            threshold=5,
            description="WebSocket frames whose function failed or was throttled: chargers got no "
            "answer. See the connect/message function alarms and logs.",
        )
        if database is not None:
            self._watch_aurora(config, database)
        for label, table in tables.items():
            self.add_alarm(
                f"{label.capitalize()}TableThrottles",
                f"dynamodb-{label}-throttles",
                _throttled_requests(label, table, FIVE_MINUTES),
                threshold=1,
                description=f"DynamoDB throttled requests on the {label} table (hot partition or "
                "account limits).",
            )
        self.add_alarm(
            "CommandsDeadLetters",
            "commands-dlq",
            command_queue.dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=FIVE_MINUTES, statistic="Maximum"
            ),
            threshold=1,
            description=f"Command triggers failed {MAX_RECEIVE_COUNT} times and sit in the dead-letter "
            "queue (see the commands function's errors and log). The commands stay queued in PostgreSQL "
            "and the sweeper retries them; redrive the messages once the cause is fixed.",
        )
        self.add_alarm(
            "CommandTimeouts",
            "command-timeouts",
            self._custom(names.Metric.COMMANDS_TIMED_OUT, statistic="Sum", period=FIVE_MINUTES),
            threshold=COMMAND_TIMEOUTS_THRESHOLD,
            description=f"{COMMAND_TIMEOUTS_THRESHOLD} or more commands in 5 minutes got no answer before "
            "their deadline: chargers are not answering or our CALLs do not reach them (@connections, NAT).",
        )
        self.add_alarm(
            "EventsDeadLetters",
            "events-dlq",
            events.dead_letters.metric_approximate_number_of_messages_visible(
                period=FIVE_MINUTES, statistic="Maximum"
            ),
            threshold=1,
            description="Domain events could not be published to the bus after every retry and sit in "
            "the events dead-letter queue (see the scheduled function's event-delivery log). They are "
            "still in PostgreSQL (domain_events, dead_lettered_at) and in the live feed; republish the "
            "messages' detail once the cause is fixed.",
        )
        self.add_alarm(
            "EventsNotRecorded",
            "events-not-recorded",
            self._custom(names.Metric.EVENTS_NOT_RECORDED, statistic="Sum", period=FIVE_MINUTES),
            threshold=1,
            description="A connect/disconnect event could not be written to PostgreSQL and is lost "
            "(the connection itself was handled). See the connect/disconnect function logs.",
        )
        self.add_alarm(
            "DatabaseUnavailable",
            "database-unavailable",
            self._custom(names.Metric.DATABASE_UNAVAILABLE, statistic="Sum", period=ONE_MINUTE),
            threshold=1,
            evaluation_periods=2,
            description="PostgreSQL could not be reached, or did not answer within the functions' bounds, "
            "in two minutes running: chargers get CALLERROR InternalError for what needs the database "
            "(they retry; nothing is acknowledged falsely) and the operator API answers 503. Check the "
            "cluster's status and events (a writer being replaced takes minutes), its connections and "
            "CPU, and the functions' 'storage unavailable' log lines. It clears by itself.",
        )
        self.add_alarm(
            "ChargerLoginFailures",
            "charger-login-failures",
            self._custom(names.Metric.CHARGER_LOGIN_FAILURES, statistic="Sum", period=FIVE_MINUTES),
            threshold=LOGIN_FAILURES_THRESHOLD,
            description=f"{LOGIN_FAILURES_THRESHOLD} or more station handshakes in 5 minutes were refused "
            "for an unknown id or a missing or wrong password: someone is guessing, or a fleet has the "
            "wrong passwords (a rotation gone wrong). The connect function's 'connection refused' lines "
            "name the station id and the client address; ChargerLoginsLockedOut counts the lockouts.",
        )
        self.add_alarm(
            "SchedulesDropped",
            "schedules-dropped",
            jobs.group.metric_dropped(period=FIVE_MINUTES, statistic="Sum"),
            threshold=1,
            description="EventBridge Scheduler gave up invoking the scheduled function (throttled, "
            "permissions, function missing): command timeouts are not swept, the fleet gauges and "
            "reservations not updated.",
        )

        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=names.dashboard_name(config.stage),
            default_interval=Duration.hours(3),
        )
        self._connections_threshold = config.db_connections_alarm_threshold
        self._widgets(
            functions=functions,
            message=message,
            commands=commands,
            chargers=chargers,
            api=api,
            database=database,
            tables=tables,
            command_queue=command_queue,
            jobs=jobs,
            events=events,
        )
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms), width=24, height=4)
        )

    # --- alarms -----------------------------------------------------------------------------
    def watch_function(self, fn: CsmsFunction) -> None:
        """Alarm on any error or throttle of ``fn`` (5 minutes)."""
        label = fn.name.capitalize()
        self.add_alarm(
            f"{label}Errors",
            f"{fn.name}-errors",
            fn.function.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
            threshold=1,
            description=f"The {fn.name} function failed (uncaught error, timeout or out of memory). "
            "Its log group has the stack trace.",
        )
        self.add_alarm(
            f"{label}Throttles",
            f"{fn.name}-throttles",
            fn.function.metric_throttles(period=FIVE_MINUTES, statistic="Sum"),
            threshold=1,
            description=f"The {fn.name} function was throttled: the account's concurrency limit is "
            "reached. Request a higher Lambda concurrency quota.",
        )

    def _watch_aurora(self, config: StageConfig, database: Database) -> None:
        """ACU utilisation and connections of the Aurora cluster (none for an external database)."""
        self.add_alarm(
            "AuroraCapacity",
            "aurora-acu",
            database.cluster.metric_acu_utilization(period=FIVE_MINUTES, statistic="Average"),
            threshold=90,
            evaluation_periods=3,
            description=f"Aurora has run at 90 % of its maximum capacity ({config.db_max_acu} ACU) "
            "for 15 minutes: raise db_max_acu before queries queue up.",
        )
        self.add_alarm(
            "AuroraConnections",
            "aurora-connections",
            database.cluster.metric_database_connections(period=FIVE_MINUTES, statistic="Maximum"),
            threshold=config.db_connections_alarm_threshold,
            evaluation_periods=2,
            description=f"PostgreSQL connections near max_connections (~{config.db_max_connections}): "
            "every warm Lambda container holds one. Consider rds_proxy=true or a higher db_max_acu.",
        )

    def add_alarm(
        self,
        construct_id: str,
        subject: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        description: str,
        evaluation_periods: int = 1,
    ) -> cloudwatch.Alarm:
        """An alarm at ``metric >= threshold`` that notifies the topic when it fires and clears."""
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            alarm_name=names.alarm_name(self._stage, subject),
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        action = actions.SnsAction(self.topic)
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
        self.alarms.append(alarm)
        return alarm

    # --- dashboard --------------------------------------------------------------------------
    def _custom(
        self, metric_name: str, *, statistic: str, period: Duration, label: str | None = None
    ) -> cloudwatch.Metric:
        """A product metric (Powertools EMF: namespace ``Csms/<stage>``, dimension ``service``)."""
        return cloudwatch.Metric(
            namespace=names.metrics_namespace(self._stage),
            metric_name=metric_name,
            dimensions_map=dict(names.Metric.DIMENSIONS),
            statistic=statistic,
            period=period,
            label=label,
        )

    def _widgets(
        self,
        *,
        functions: Sequence[CsmsFunction],
        message: CsmsFunction,
        commands: CsmsFunction,
        chargers: ChargerWebSocketApi,
        api: OperatorRestApi,
        database: Database | None,
        tables: Mapping[str, dynamodb.Table],
        command_queue: CommandQueue,
        jobs: ScheduledJobs,
        events: DomainEventBus,
    ) -> None:
        graph = _graph
        ws = chargers.metric
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(
                markdown=_description(self._stage, aurora=database is not None), width=24, height=3
            )
        )
        self.dashboard.add_widgets(
            cloudwatch.SingleValueWidget(
                title="Chargers online, open transactions (latest)",
                metrics=self._gauges(),
                sparkline=True,
                width=6,
                height=6,
            ),
            graph("Chargers online and open transactions", self._gauges(), width=6),
            graph(
                "WebSocket connects and messages / min",
                [
                    ws("ConnectCount", statistic="Sum", period=ONE_MINUTE, label="connects"),
                    ws("MessageCount", statistic="Sum", period=ONE_MINUTE, label="messages (in + out)"),
                ],
                width=6,
            ),
            graph(
                "Frames per minute (message invocations)",
                [message.function.metric_invocations(statistic="Sum", period=ONE_MINUTE, label="frames")],
                width=6,
            ),
        )
        self.dashboard.add_widgets(
            graph(
                "Message handler latency (ms)",
                [
                    message.function.metric_duration(statistic=p, period=ONE_MINUTE, label=p)
                    for p in PERCENTILES
                ],
                width=12,
            ),
            graph(
                "WebSocket errors",
                [
                    ws(name, statistic="Sum", period=FIVE_MINUTES, label=name)
                    for name in ("IntegrationError", "ExecutionError", "ClientError")
                ],
                width=12,
            ),
        )
        self.dashboard.add_widgets(
            graph(
                "Operator API requests and errors",
                [
                    api.stage.metric_count(statistic="Sum", period=ONE_MINUTE, label="requests"),
                    api.stage.metric_client_error(statistic="Sum", period=ONE_MINUTE, label="4XX"),
                    api.stage.metric_server_error(statistic="Sum", period=ONE_MINUTE, label="5XX"),
                ],
                width=12,
            ),
            graph(
                "Operator API latency (ms)",
                [api.stage.metric_latency(statistic=p, period=ONE_MINUTE, label=p) for p in PERCENTILES],
                width=12,
            ),
        )
        queue, dead_letters = command_queue.queue, command_queue.dead_letter_queue
        self.dashboard.add_widgets(
            graph(
                "Command queue (messages)",
                [
                    queue.metric_approximate_number_of_messages_visible(
                        statistic="Maximum", period=ONE_MINUTE, label="queued"
                    ),
                    queue.metric_approximate_number_of_messages_not_visible(
                        statistic="Maximum", period=ONE_MINUTE, label="in flight"
                    ),
                    dead_letters.metric_approximate_number_of_messages_visible(
                        statistic="Maximum", period=ONE_MINUTE, label="dead letters"
                    ),
                ],
                width=6,
            ),
            graph(
                "Oldest command message (s)",
                [
                    queue.metric_approximate_age_of_oldest_message(
                        statistic="Maximum", period=ONE_MINUTE, label="queue"
                    ),
                    dead_letters.metric_approximate_age_of_oldest_message(
                        statistic="Maximum", period=ONE_MINUTE, label="dead letters"
                    ),
                ],
                width=6,
            ),
            graph(
                "Command deliveries / min",
                [
                    commands.function.metric_invocations(
                        statistic="Sum", period=ONE_MINUTE, label="invocations"
                    ),
                    commands.function.metric_errors(statistic="Sum", period=ONE_MINUTE, label="errors"),
                    self._custom(
                        names.Metric.COMMANDS_TIMED_OUT, statistic="Sum", period=ONE_MINUTE, label="timed out"
                    ),
                ],
                width=6,
            ),
            graph(
                "Scheduled jobs / 5 min",
                [
                    jobs.group.metric_attempts(statistic="Sum", period=FIVE_MINUTES, label="invocations"),
                    jobs.group.metric_target_errors(
                        statistic="Sum", period=FIVE_MINUTES, label="invoke errors"
                    ),
                    jobs.group.metric_dropped(statistic="Sum", period=FIVE_MINUTES, label="dropped"),
                ],
                width=6,
            ),
        )
        self.dashboard.add_widgets(
            graph(
                "Domain events: unpublished backlog, dead letters, lost",
                [
                    self._custom(
                        names.Metric.EVENT_BACKLOG, statistic="Maximum", period=FIVE_MINUTES, label="backlog"
                    ),
                    self._custom(
                        names.Metric.EVENTS_DEAD_LETTERED,
                        statistic="Sum",
                        period=FIVE_MINUTES,
                        label="dead-lettered",
                    ),
                    self._custom(
                        names.Metric.EVENTS_NOT_RECORDED,
                        statistic="Sum",
                        period=FIVE_MINUTES,
                        label="not recorded",
                    ),
                    events.dead_letters.metric_approximate_number_of_messages_visible(
                        statistic="Maximum", period=FIVE_MINUTES, label="in the dead-letter queue"
                    ),
                ],
                width=24,
            ),
        )
        self.dashboard.add_widgets(
            graph(
                "Function errors",
                [
                    fn.function.metric_errors(statistic="Sum", period=FIVE_MINUTES, label=fn.name)
                    for fn in functions
                ],
            ),
            graph(
                "Function throttles",
                [
                    fn.function.metric_throttles(statistic="Sum", period=FIVE_MINUTES, label=fn.name)
                    for fn in functions
                ],
            ),
            graph(
                "Concurrent executions",
                [
                    fn.function.metric(
                        "ConcurrentExecutions", statistic="Maximum", period=ONE_MINUTE, label=fn.name
                    )
                    for fn in functions
                ],
            ),
        )
        if database is not None:
            self._aurora_widgets(database)

        consumed: list[cloudwatch.IMetric] = []
        throttled: list[cloudwatch.IMetric] = []
        for label, table in tables.items():
            consumed += [
                table.metric_consumed_read_capacity_units(
                    statistic="Sum", period=ONE_MINUTE, label=f"{label} read"
                ),
                table.metric_consumed_write_capacity_units(
                    statistic="Sum", period=ONE_MINUTE, label=f"{label} write"
                ),
            ]
            throttled.append(_throttled_requests(label, table, FIVE_MINUTES))
        self.dashboard.add_widgets(
            graph("DynamoDB consumed capacity / min", consumed, width=12),
            graph("DynamoDB throttled requests", throttled, width=12),
        )

    def _gauges(self) -> list[cloudwatch.IMetric]:
        """The fleet gauges of the ``fleet-gauges`` job: the latest of each minute."""
        return [
            self._custom(
                names.Metric.CHARGERS_ONLINE, statistic="Maximum", period=ONE_MINUTE, label="chargers online"
            ),
            self._custom(
                names.Metric.OPEN_TRANSACTIONS,
                statistic="Maximum",
                period=ONE_MINUTE,
                label="open transactions",
            ),
        ]

    def _aurora_widgets(self, database: Database) -> None:
        cluster = database.cluster
        graph = _graph
        self.dashboard.add_widgets(
            graph(
                "Aurora capacity (ACU) and utilisation (%)",
                [
                    cluster.metric_serverless_database_capacity(
                        statistic="Maximum", period=ONE_MINUTE, label="ACU"
                    )
                ],
                width=12,
                right=[
                    cluster.metric_acu_utilization(statistic="Average", period=ONE_MINUTE, label="% of max")
                ],
            ),
            graph(
                "Aurora connections",
                [
                    cluster.metric_database_connections(
                        statistic="Maximum", period=ONE_MINUTE, label="connections"
                    )
                ],
                width=12,
                annotations=[
                    cloudwatch.HorizontalAnnotation(
                        value=self._connections_threshold, label="alarm", color=cloudwatch.Color.RED
                    )
                ],
            ),
        )

    @property
    def dashboard_url(self) -> str:
        region = Stack.of(self).region
        return (
            f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
            f"#dashboards:name={names.dashboard_name(self._stage)}"
        )

"""Operations: alarms, their topic, the dashboard."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

from csms_infra import names
from csms_infra.function import CsmsFunction

from .support import ALARM_EMAIL, Synth, aurora, environment_of, serving_functions, the_one

pytestmark = pytest.mark.infra


# --- helpers -----------------------------------------------------------------------------
def alarms(synth: Synth) -> dict[str, dict[str, Any]]:
    """Alarm name -> properties."""
    return {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in synth.of_type("AWS::CloudWatch::Alarm").values()
    }


def alarm(synth: Synth, subject: str) -> dict[str, Any]:
    return alarms(synth)[names.alarm_name(synth.stack.config.stage, subject)]


def _flatten(value: Any) -> str:
    """A ``Fn::Join`` of strings and references as one string; references become ``<ref>``."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_flatten(part) for part in parts)
    return "<ref>"


def dashboard(synth: Synth) -> dict[str, Any]:
    properties = the_one(synth.of_type("AWS::CloudWatch::Dashboard"))["Properties"]
    body: dict[str, Any] = json.loads(_flatten(properties["DashboardBody"]))
    body["name"] = properties["DashboardName"]
    return body


def graphed_metrics(body: dict[str, Any]) -> set[str]:
    """Metric names graphed anywhere on the dashboard."""
    found: set[str] = set()
    for widget in body["widgets"]:
        for row in widget.get("properties", {}).get("metrics", []):
            # [namespace, name, dim, value, ..., {options}] or [".", name, ...] continuation rows
            strings = [item for item in row if isinstance(item, str)]
            if len(strings) >= 2:
                found.add(strings[1])
    return found


# --- alarms ------------------------------------------------------------------------------
def test_every_serving_function_alarms_on_errors_and_throttles(variant: Synth) -> None:
    watched_functions: tuple[CsmsFunction, ...] = serving_functions(variant.stack)
    assert {fn.name for fn in watched_functions} == {
        "connect",
        "message",
        "disconnect",
        "api",
        "commands",
        "scheduled",
    }
    for fn in watched_functions:
        function = {"Name": "FunctionName", "Value": {"Ref": variant.logical_id(fn.function)}}
        for subject, metric in (("errors", "Errors"), ("throttles", "Throttles")):
            watched = alarm(variant, f"{fn.name}-{subject}")
            assert watched["MetricName"] == metric
            assert watched["Dimensions"] == [function]
            assert watched["Threshold"] == 1


def test_the_consoles_live_functions_alarm_on_errors_and_throttles(dev: Synth) -> None:
    for fn in (dev.stack.live, dev.stack.fanout):
        function = {"Name": "FunctionName", "Value": {"Ref": dev.logical_id(fn.function)}}
        for subject, metric in (("errors", "Errors"), ("throttles", "Throttles")):
            watched = alarm(dev, f"{fn.name}-{subject}")
            assert (watched["MetricName"], watched["Dimensions"]) == (metric, [function])


def test_every_alarm_notifies_the_topic_when_it_fires_and_clears(variant: Synth) -> None:
    topic = {"Ref": variant.logical_id(variant.stack.operations.topic)}
    found = alarms(variant)

    # errors + throttles per function (the six serving ones, the consoles' live and fanout); API,
    # WebSocket, 2 Aurora; 3 tables; DLQ, timeouts, schedules; events DLQ and lost events; the
    # database unreachable; station logins refused
    aurora_alarms = 2 if variant.stack.aurora is not None else 0
    assert len(found) == 2 * 8 + 2 + aurora_alarms + 3 + 3 + 2 + 1 + 1
    for name, properties in found.items():
        assert name.startswith(f"csms-{variant.stack.config.stage}-")
        assert properties["AlarmActions"] == [topic], name
        assert properties["OKActions"] == [topic], name
        assert properties["TreatMissingData"] == "notBreaching", name
        assert properties["ComparisonOperator"] == "GreaterThanOrEqualToThreshold", name
        assert properties["AlarmDescription"], name


def test_the_operator_api_alarms_on_5xx_answers(dev: Synth) -> None:
    watched = alarm(dev, "api-5xx")

    assert (watched["Namespace"], watched["MetricName"], watched["Statistic"]) == (
        "AWS/ApiGateway",
        "5XXError",
        "Sum",
    )
    dimensions = {d["Name"]: d["Value"] for d in watched["Dimensions"]}
    assert dimensions["ApiName"] == "csms-dev-operator-api"
    assert dimensions["Stage"] == {"Ref": dev.logical_id(dev.stack.operator_api.stage)}


def test_the_websocket_api_alarms_on_integration_errors(dev: Synth) -> None:
    watched = alarm(dev, "websocket-integration-errors")

    assert (watched["Namespace"], watched["MetricName"]) == ("AWS/ApiGateway", "IntegrationError")
    assert {d["Name"]: d["Value"] for d in watched["Dimensions"]} == {
        "ApiId": {"Ref": dev.logical_id(dev.stack.chargers.api)},
        "Stage": "dev",
    }


def test_aurora_alarms_on_capacity_and_connections(dev: Synth, prod: Synth) -> None:
    capacity = alarm(dev, "aurora-acu")
    assert (capacity["Namespace"], capacity["MetricName"]) == ("AWS/RDS", "ACUUtilization")
    assert (capacity["Threshold"], capacity["EvaluationPeriods"]) == (90, 3)
    assert capacity["Dimensions"] == [
        {"Name": "DBClusterIdentifier", "Value": {"Ref": dev.logical_id(aurora(dev).cluster)}}
    ]

    # 80 % of max_connections: ~901 at 4 ACU (dev), the 2000 cap with min ACU 0.5 (prod).
    assert alarm(dev, "aurora-connections")["MetricName"] == "DatabaseConnections"
    assert alarm(dev, "aurora-connections")["Threshold"] == 720
    assert alarm(prod, "aurora-connections")["Threshold"] == 1600


def test_each_table_alarms_on_throttled_requests_including_queries(dev: Synth) -> None:
    for label, table in (
        ("connections", dev.stack.connections.table),
        ("pending", dev.stack.pending_calls.table),
        ("idempotency", dev.stack.idempotency.table),
    ):
        watched = alarm(dev, f"dynamodb-{label}-throttles")
        metrics = [m["MetricStat"]["Metric"] for m in watched["Metrics"] if "MetricStat" in m]
        operations = set()
        for metric in metrics:
            dimensions = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
            assert metric["MetricName"] == "ThrottledRequests"
            assert dimensions["TableName"] == {"Ref": dev.logical_id(table)}
            operations.add(dimensions["Operation"])
        assert {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan"} == operations
        # An alarm's metric math takes at most 10 metrics.
        assert len(watched["Metrics"]) <= 10
        # A sparse term must not blank the sum: each one is filled with 0.
        [expression] = [m["Expression"] for m in watched["Metrics"] if "Expression" in m]
        assert expression.count("FILL(") == len(operations)


def test_the_command_dead_letter_queue_alarms_on_its_first_message(variant: Synth) -> None:
    watched = alarm(variant, "commands-dlq")
    dead_letters = variant.stack.command_queue.dead_letter_queue

    assert (watched["Namespace"], watched["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert watched["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [variant.logical_id(dead_letters), "QueueName"]}}
    ]
    assert (watched["Statistic"], watched["Threshold"]) == ("Maximum", 1)


def test_the_events_dead_letter_queue_alarms_on_its_first_message(variant: Synth) -> None:
    watched = alarm(variant, "events-dlq")
    dead_letters = variant.stack.events.dead_letters

    assert (watched["Namespace"], watched["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert watched["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [variant.logical_id(dead_letters), "QueueName"]}}
    ]
    assert (watched["Statistic"], watched["Threshold"]) == ("Maximum", 1)


def test_a_lost_event_alarms_at_once(dev: Synth) -> None:
    watched = alarm(dev, "events-not-recorded")

    assert (watched["Namespace"], watched["MetricName"], watched["Statistic"]) == (
        "Csms/dev",
        names.Metric.EVENTS_NOT_RECORDED,
        "Sum",
    )
    assert watched["Threshold"] == 1


def test_a_postgresql_outage_and_a_guessing_run_raise_alarms(dev: Synth) -> None:
    # Issue 13: an outage answered chargers with CALLERROR but raised nothing; Basic-auth
    # guessing was unlimited and unseen.
    outage = alarm(dev, "database-unavailable")
    guessing = alarm(dev, "charger-login-failures")

    assert (outage["Namespace"], outage["MetricName"], outage["Statistic"]) == (
        "Csms/dev",
        names.Metric.DATABASE_UNAVAILABLE,
        "Sum",
    )
    assert (outage["Threshold"], outage["EvaluationPeriods"], outage["Period"]) == (1, 2, 60)
    assert (guessing["MetricName"], guessing["Threshold"], guessing["Period"]) == (
        names.Metric.CHARGER_LOGIN_FAILURES,
        50,
        300,
    )


def test_command_timeouts_alarm_on_the_count_the_sweeper_emits(dev: Synth) -> None:
    watched = alarm(dev, "command-timeouts")

    assert (watched["Namespace"], watched["MetricName"], watched["Statistic"]) == (
        "Csms/dev",
        names.Metric.COMMANDS_TIMED_OUT,
        "Sum",
    )
    assert watched["Dimensions"] == [{"Name": "service", "Value": "csms"}]
    assert watched["Threshold"] == 5


def test_dropped_scheduler_invocations_raise_an_alarm(dev: Synth) -> None:
    watched = alarm(dev, "schedules-dropped")

    assert (watched["Namespace"], watched["MetricName"], watched["Statistic"]) == (
        "AWS/Scheduler",
        "InvocationDroppedCount",
        "Sum",
    )
    assert watched["Dimensions"] == [{"Name": "ScheduleGroup", "Value": "csms-dev"}]
    assert watched["Threshold"] == 1


def test_the_alarm_topic_takes_tls_only_and_mails_only_when_asked(dev: Synth, prod: Synth) -> None:
    for synth in (dev, prod):
        policy = the_one(synth.of_type("AWS::SNS::TopicPolicy"))["Properties"]["PolicyDocument"]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in policy["Statement"]
        )
    dev.template.resource_count_is("AWS::SNS::Subscription", 0)
    prod.template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": ALARM_EMAIL}
    )


# --- dashboard ---------------------------------------------------------------------------
def test_the_dashboard_shows_what_an_operator_watches(dev: Synth) -> None:
    body = dashboard(dev)
    metrics = graphed_metrics(body)

    assert body["name"] == "csms-dev"
    # chargers: connections, frames, handler latency
    assert {"ConnectCount", "MessageCount", "Invocations", "Duration", "IntegrationError"} <= metrics
    # operator API, functions, Aurora, DynamoDB
    assert {
        "Count",
        "Latency",
        "4XXError",
        "5XXError",
        "Errors",
        "Throttles",
        "ConcurrentExecutions",
    } <= metrics
    assert {"ServerlessDatabaseCapacity", "ACUUtilization", "DatabaseConnections"} <= metrics
    assert {"ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits", "ThrottledRequests"} <= metrics
    # commands: queue depth and age, deliveries, timeouts, scheduler
    assert {
        "ApproximateNumberOfMessagesVisible",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateAgeOfOldestMessage",
        names.Metric.COMMANDS_TIMED_OUT,
        "InvocationAttemptCount",
        "TargetErrorCount",
        "InvocationDroppedCount",
    } <= metrics
    # the fleet gauges of the fleet-gauges job
    assert {names.Metric.CHARGERS_ONLINE, names.Metric.OPEN_TRANSACTIONS} <= metrics


def test_handler_and_api_latency_are_shown_as_percentiles(dev: Synth) -> None:
    text = json.dumps(dashboard(dev))

    for percentile in ("p50", "p95", "p99"):
        assert f'"stat": "{percentile}"' in text


def test_the_dashboard_explains_the_product_metrics_and_lists_every_alarm(dev: Synth) -> None:
    widgets = dashboard(dev)["widgets"]
    text = next(w for w in widgets if w["type"] == "text")["properties"]["markdown"]
    status = next(w for w in widgets if w["type"] == "alarm")["properties"]

    assert "TODO" not in text
    for metric in (
        names.Metric.CHARGERS_ONLINE,
        names.Metric.OPEN_TRANSACTIONS,
        names.Metric.COMMANDS_TIMED_OUT,
    ):
        assert metric in text
    assert "fleet-gauges" in text
    assert len(status["alarms"]) == len(alarms(dev))


def test_the_fleet_gauges_are_shown_as_latest_value_and_as_graph(dev: Synth) -> None:
    environment = environment_of(dev, dev.stack.scheduled)
    # What Powertools in the scheduled function writes: its namespace, dimension service=<service>.
    namespace = environment["POWERTOOLS_METRICS_NAMESPACE"]
    service = environment["POWERTOOLS_SERVICE_NAME"]
    assert (namespace, service) == ("Csms/dev", "csms")
    expected = [
        [namespace, metric, "service", service, {"label": label, "period": 60, "stat": "Maximum"}]
        for metric, label in (
            (names.Metric.CHARGERS_ONLINE, "chargers online"),
            (names.Metric.OPEN_TRANSACTIONS, "open transactions"),
        )
    ]
    widgets = [w["properties"] for w in dashboard(dev)["widgets"] if w["type"] == "metric"]
    showing = [w for w in widgets if w["metrics"] == expected]

    assert {w["view"] for w in showing} == {"singleValue", "timeSeries"}
    # They sit in the first row, next to connects and frames.
    assert widgets.index(showing[0]) == 0


def test_the_scheduled_jobs_emit_what_the_dashboard_and_the_alarm_read(
    dev: Synth, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aws_lambda_powertools import Metrics

    from csms import observability
    from csms.app import scheduled, wiring
    from csms.settings import Settings

    # Given Powertools configured as the deployed scheduled function configures it
    for key, value in environment_of(dev, dev.stack.scheduled).items():
        if isinstance(value, str):
            monkeypatch.setenv(key, value)
    settings = Settings.from_env()
    emf = Metrics(namespace=settings.metrics_namespace, service=settings.service_name)
    emf.clear_metrics()
    monkeypatch.setattr(observability, "metrics", emf)
    # and the stores the jobs read
    monkeypatch.setattr(wiring, "connections", lambda: _Counted(count_connected=7))
    monkeypatch.setattr(wiring, "database", lambda: _Counted(count_open_transactions=3))
    monkeypatch.setattr(wiring, "commands", lambda *_: _Counted(sweep={"timed_out": 2}))
    monkeypatch.setattr(wiring, "parked_events", lambda: _Counted(recover={"recovered": 0, "duplicates": 0}))
    # (cached like the real factory: flush_events asks whether it was built)
    monkeypatch.setattr(
        wiring,
        "event_relay",
        cache(lambda: _Counted(redeliver={"published": 4, "dead_lettered": 1, "backlog": 5}, flush={})),
    )
    try:
        # When the jobs run
        scheduled.run("fleet-gauges")
        scheduled.run("command-timeouts")
        scheduled.run("event-delivery")
        blob: dict[str, Any] = dict(emf.serialize_metric_set())
    finally:
        emf.clear_metrics()

    # Then the EMF names the metrics, namespace and dimension the dashboard and the alarm use
    [directive] = blob["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == names.metrics_namespace("dev")
    assert directive["Dimensions"] == [list(names.Metric.DIMENSIONS)]
    assert {k: blob[k] for k in names.Metric.DIMENSIONS} == names.Metric.DIMENSIONS
    assert {m["Name"]: m["Unit"] for m in directive["Metrics"]} == {
        names.Metric.CHARGERS_ONLINE: "Count",
        names.Metric.OPEN_TRANSACTIONS: "Count",
        names.Metric.COMMANDS_TIMED_OUT: "Count",
        "EventsRedelivered": "Count",
        names.Metric.EVENTS_DEAD_LETTERED: "Count",
        names.Metric.EVENT_BACKLOG: "Count",
    }
    assert (blob["ChargersOnline"], blob["OpenTransactions"], blob["CommandsTimedOut"]) == ([7], [3], [2])
    assert (blob[names.Metric.EVENTS_DEAD_LETTERED], blob[names.Metric.EVENT_BACKLOG]) == ([1], [5])
    assert {
        names.Metric.CHARGERS_ONLINE,
        names.Metric.OPEN_TRANSACTIONS,
        names.Metric.COMMANDS_TIMED_OUT,
        names.Metric.EVENTS_DEAD_LETTERED,
        names.Metric.EVENT_BACKLOG,
    } <= (graphed_metrics(dashboard(dev)))


class _Counted:
    """A store or service whose methods return fixed answers (``count_connected=7``)."""

    def __init__(self, **answers: Any) -> None:
        self._answers = answers

    def __getattr__(self, name: str) -> Any:
        try:
            answer = self._answers[name]
        except KeyError:
            raise AttributeError(name) from None
        return lambda *_args, **_kwargs: answer


def test_an_external_database_has_no_aurora_alarms_or_widgets(external: Synth) -> None:
    found = alarms(external)
    body = dashboard(external)

    assert not any("aurora" in name for name in found)
    assert not {"ServerlessDatabaseCapacity", "ACUUtilization", "DatabaseConnections"} & graphed_metrics(body)
    assert {names.Metric.CHARGERS_ONLINE, names.Metric.OPEN_TRANSACTIONS} <= graphed_metrics(body)
    text = next(w for w in body["widgets"] if w["type"] == "text")["properties"]["markdown"]
    assert "Aurora" not in text


def test_outputs_name_the_alarm_topic_and_the_dashboard(dev: Synth) -> None:
    outputs = dev.template.to_json()["Outputs"]

    assert outputs["AlarmTopicArn"]["Value"] == {"Ref": dev.logical_id(dev.stack.operations.topic)}
    assert "#dashboards:name=csms-dev" in json.dumps(outputs["DashboardUrl"]["Value"])

"""The domain events that reallocate a site (ADR 0024 §3): EventBridge rules on the domain-event
bus (``csms.load_triggers``, the same patterns ``csms dev`` creates locally) to an SQS queue that
triggers the scheduled function."""

from __future__ import annotations

from typing import Final

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from csms.load_triggers import patterns

from . import nag, names
from .config import StageConfig
from .function import CsmsFunction

#: Records per invocation: one batch reallocates each site it touches once.
BATCH_SIZE: Final = 10
#: Invocations at once: reallocations of one site queue on its row lock anyway, and the
#: database should not see a burst of them after an outage.
MAX_CONCURRENCY: Final = 5
#: A trigger older than this is worthless: the minute's job has reallocated since.
RETENTION: Final = Duration.hours(1)
#: At least six times the consuming function's timeout (60 s), as AWS advises.
VISIBILITY_TIMEOUT: Final = Duration.minutes(6)


class LoadTriggers(Construct):
    """``csms-<stage>-load-triggers``: TransactionStarted/Stopped, ChargerConnected/Disconnected/
    WentOffline and frames with a current reading, delivered by one rule per pattern, consumed by
    the scheduled function in batches (``csms.app.scheduled.load_triggers``)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        bus: events.IEventBus,
        consumer: CsmsFunction,
    ) -> None:
        super().__init__(scope, construct_id)
        self.queue = sqs.Queue(
            self,
            "Queue",
            queue_name=names.load_triggers_queue_name(config.stage),
            retention_period=RETENTION,
            visibility_timeout=VISIBILITY_TIMEOUT,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        nag.acknowledge(
            self.queue,
            "SQS3",
            "A trigger is a hint, not a record: a message that keeps failing is dropped after its "
            "retention, and the load-allocation job reallocates every site every minute anyway.",
        )
        self.rules: dict[str, events.Rule] = {}
        for suffix, pattern in patterns().items():
            self.rules[suffix] = events.Rule(
                self,
                "".join(part.capitalize() for part in suffix.split("-")),
                event_bus=bus,
                rule_name=f"{names.load_triggers_queue_name(config.stage)}-{suffix}",
                description=f"csms {config.stage}: reallocate the sites these events touch",
                event_pattern=events.EventPattern(
                    source=pattern["source"],
                    detail_type=pattern["detail-type"],
                    detail=pattern.get("detail"),
                ),
                targets=[targets.SqsQueue(self.queue)],
            )
        consumer.function.add_event_source(
            event_sources.SqsEventSource(self.queue, batch_size=BATCH_SIZE, max_concurrency=MAX_CONCURRENCY)
        )

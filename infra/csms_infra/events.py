"""The domain-event bus: EventBridge, with an archive, that integrators subscribe to."""

from __future__ import annotations

from typing import Final

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from . import nag, names
from .config import StageConfig
from .function import CsmsFunction

#: What a publishing function may do on the bus (``PutEvents``, nothing else).
PUBLISH_ACTIONS: Final = ("events:PutEvents",)
#: How long dead-lettered events wait for an operator (SQS maximum).
DEAD_LETTER_RETENTION: Final = Duration.days(14)
#: Event types the archive leaves out unless ``events_archive_meter_values`` is on.
ARCHIVE_EXCLUDED_TYPES: Final = ("MeterValuesReceived",)
#: The statement id of the bus policy (CDK prefixes it with ``cdk-``).
ACCOUNT_ONLY_SID: Final = "OnlyThisAccountPutsEvents"


class DomainEventBus(Construct):
    """``csms-<stage>-events``: every meaningful state change, for billing, roaming, dashboards.

    - **Publishers** get :meth:`grant_publish`: ``events:PutEvents`` on this bus alone and
      the variable naming it (:attr:`names.Env.EVENT_BUS_NAME`).
    - **Resource policy**: only principals of this account may put events (no other account,
      no organisation-wide grant). Same-account principals still need IAM permission, so
      in practice only the publishing functions do.
    - **Archive** of every event from this account but ``MeterValuesReceived`` (unless
      ``events_archive_meter_values``), kept ``events_archive_days`` (0 = forever),
      so a subscriber added later, or one that was down, can replay (``aws events
      start-replay``). The archive is a replay buffer; PostgreSQL stays the record.
    - **Subscribers** add an EventBridge rule on this bus with a target of their choice
      (``infra/README.md``); a rule's target brings its own delivery dead-letter queue
      (``--targets ... DeadLetterConfig``). The stack's own rules are load management's
      (``load_triggers.py``) and one that sends every event to the consoles' fan-out
      (:class:`~csms_infra.console_live.ConsoleLiveApi`, ADR 0025).
    - **Publishing dead letters**: events are recorded in PostgreSQL with the change and
      published after the commit; the ``event-delivery`` job retries what failed and, after
      ``CSMS_EVENT_PUBLISH_MAX_ATTEMPTS``, sends it to :attr:`dead_letters` (granted by
      :meth:`grant_dead_letter`; an alarm in ``operations.py`` fires on the first message).

    Bus and archive are destroyed with the stack, in prod too: the bus is named, so a
    retained one would block the next deploy of the stage.

    Context: ``events_archive_days``, ``events_archive_meter_values``.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.bus = events.EventBus(
            self,
            "Bus",
            event_bus_name=names.event_bus_name(config.stage),
            description=f"csms {config.stage}: domain events (chargers, transactions, commands)",
        )
        self.bus.add_to_resource_policy(
            iam.PolicyStatement(
                sid=ACCOUNT_ONLY_SID,
                principals=[iam.AccountRootPrincipal()],
                actions=list(PUBLISH_ACTIONS),
                resources=[self.bus.event_bus_arn],
            )
        )
        self.archive = self.bus.archive(
            "Archive",
            archive_name=names.event_archive_name(config.stage),
            description=f"csms {config.stage}: every domain event, for replay",
            # Everything put on the bus (the policy admits this account only) but, unless asked
            # for, the per-frame MeterValuesReceived: most of the volume, and PostgreSQL keeps
            # the samples themselves (issue 16).
            event_pattern=events.EventPattern(
                account=[stack.account],
                detail_type=None
                if config.events_archive_meter_values
                else events.Match.anything_but(*ARCHIVE_EXCLUDED_TYPES),
            ),
            retention=Duration.days(config.events_archive_days),
        )
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            queue_name=names.events_dead_letter_queue_name(config.stage),
            retention_period=DEAD_LETTER_RETENTION,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        nag.acknowledge(
            self.dead_letters,
            "SQS3",
            "This queue is itself the end of the line: events the event-delivery job could never "
            "publish. Nothing consumes it automatically; an alarm fires on its first message.",
        )

        # Events about DynamoDB state (connected, disconnected, went offline) that PostgreSQL
        # could not record when they happened wait here for the event-delivery job (issue 13).
        self.parking = sqs.Queue(
            self,
            "Parking",
            queue_name=names.events_parking_queue_name(config.stage),
            retention_period=DEAD_LETTER_RETENTION,
            visibility_timeout=Duration.minutes(2),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        nag.acknowledge(
            self.parking,
            "SQS3",
            "A holding queue, not a work queue: the event-delivery job takes its messages back every "
            "minute and records each event once (by id); a message it cannot record is made visible "
            "again, and nothing is ever given up, so a dead-letter queue would only hide events.",
        )

    def grant_park(self, fn: CsmsFunction) -> None:
        """Park events PostgreSQL cannot record (``csms.app.wiring.emit``), and the variable."""
        self.parking.grant_send_messages(fn.role)
        fn.add_environment(names.Env.EVENTS_PARKING_QUEUE_URL, self.parking.queue_url)

    def grant_recover(self, fn: CsmsFunction) -> None:
        """Take parked events back (receive, delete, make visible again): the event-delivery job."""
        self.parking.grant(
            fn.role,
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:ChangeMessageVisibility",
            "sqs:GetQueueAttributes",
        )
        fn.add_environment(names.Env.EVENTS_PARKING_QUEUE_URL, self.parking.queue_url)

    def grant_publish(self, fn: CsmsFunction) -> None:
        """``events:PutEvents`` on this bus, and the variable naming it."""
        iam.Grant.add_to_principal(
            grantee=fn.role, actions=list(PUBLISH_ACTIONS), resource_arns=[self.bus.event_bus_arn]
        )
        fn.add_environment(names.Env.EVENT_BUS_NAME, self.bus.event_bus_name)

    def grant_dead_letter(self, fn: CsmsFunction) -> None:
        """Send to the dead-letter queue (``SendMessageBatch`` needs ``sqs:SendMessage``), and
        the variable naming it."""
        self.dead_letters.grant_send_messages(fn.role)
        fn.add_environment(names.Env.EVENTS_DEAD_LETTER_QUEUE_URL, self.dead_letters.queue_url)

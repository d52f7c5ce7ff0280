"""The command queue: SQS FIFO (group = charger) that triggers ``functions/commands``."""

from __future__ import annotations

from typing import Final

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from . import names
from .config import StageConfig
from .function import CsmsFunction

#: The commands function's timeout. A batch is at most ten deliveries of a few
#: milliseconds each; the margin is for Aurora resuming from zero capacity (~15 s).
COMMANDS_TIMEOUT: Final = Duration.seconds(30)
#: AWS advises a visibility timeout of at least six times the consuming function's timeout
#: (an event source mapping retries throttled invocations while the batch is invisible).
VISIBILITY_TIMEOUT_FACTOR: Final = 6
#: Records per invocation (the most a FIFO event source mapping takes).
BATCH_SIZE: Final = 10
#: Receives before a message goes to the dead-letter queue.
MAX_RECEIVE_COUNT: Final = 5
DEAD_LETTER_RETENTION: Final = Duration.days(14)
#: ``csms.aws.queue.SqsCommandQueue.enqueue``: one SendMessage, nothing else.
SEND_ACTIONS: Final = ("sqs:SendMessage",)


class CommandQueue(Construct):
    """SQS FIFO queue with a FIFO dead-letter queue (ADR 0010: PostgreSQL holds the commands).

    A message only says "this charger has queued commands"; the ``commands`` row is the
    record. The producer sets ``MessageGroupId`` = charger (one charger's messages in order,
    chargers in parallel) and ``MessageDeduplicationId`` = command id, so content-based
    deduplication stays off. SSE with SQS-managed keys, TLS-only access.

    After :data:`MAX_RECEIVE_COUNT` failed receives a message moves to the dead-letter
    queue, which raises an alarm. Nothing is lost with it: the command is still queued in
    PostgreSQL and the deadline sweeper kicks chargers whose queue stalled, so a redrive is
    only needed to hurry things up.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.visibility_timeout = Duration.seconds(COMMANDS_TIMEOUT.to_seconds() * VISIBILITY_TIMEOUT_FACTOR)
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            queue_name=names.commands_dead_letter_queue_name(config.stage),
            fifo=True,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DEAD_LETTER_RETENTION,
        )
        # rotate-password's new password, encrypted between submit and delivery (ADR 0019): the
        # key never leaves KMS; the API encrypts, the deliverers decrypt.
        self.secrets_key = kms.Key(
            self,
            "SecretsKey",
            description=f"csms {config.stage}: command secrets (new station passwords)",
            enable_key_rotation=True,
            # A secret lives minutes; a key kept after the stack is gone decrypts nothing useful.
            removal_policy=config.removal_policy,
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            queue_name=names.commands_queue_name(config.stage),
            fifo=True,
            content_based_deduplication=False,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=self.visibility_timeout,
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letter_queue, max_receive_count=MAX_RECEIVE_COUNT
            ),
        )

    def add_consumer(self, fn: CsmsFunction) -> event_sources.SqsEventSource:
        """Trigger ``fn`` with batches of up to ten records, reporting partial failures.

        ``ReportBatchItemFailures``: the handler (Powertools' ``SqsFifoPartialProcessor``)
        returns the failed record and every later one of the batch, so only those return
        to the queue and a charger's order holds. The mapping grants ``fn`` what consuming
        takes (receive, delete, change visibility, queue attributes).
        """
        timeout = fn.function.timeout
        visibility = self.visibility_timeout.to_seconds()
        if timeout is None or timeout.to_seconds() * VISIBILITY_TIMEOUT_FACTOR > visibility:
            raise ValueError(
                f"{fn.name}: the queue's visibility timeout ({visibility:g} s) must be at least "
                f"{VISIBILITY_TIMEOUT_FACTOR}x the function's timeout"
            )
        source = event_sources.SqsEventSource(
            self.queue, batch_size=BATCH_SIZE, report_batch_item_failures=True
        )
        fn.function.add_event_source(source)
        self.name_it(fn)
        return source

    def grant_send(self, fn: CsmsFunction) -> None:
        """Enqueue commands: ``sqs:SendMessage`` on this queue only (SQS-managed keys need no KMS grant)."""
        self.queue.grant(fn.role, *SEND_ACTIONS)
        self.secrets_key.grant(fn.role, "kms:Encrypt")
        self.name_it(fn)

    def grant_enqueue(self, fn: CsmsFunction) -> None:
        """Enqueue commands without secrets (the load manager's profiles): ``sqs:SendMessage``."""
        self.queue.grant(fn.role, *SEND_ACTIONS)
        self.name_it(fn)

    def name_it(self, fn: CsmsFunction) -> None:
        """The queue URL and the command-secrets key, which it may decrypt with (to deliver).

        ``csms.app.wiring.commands()`` refuses to build the command service without the queue,
        so every function that builds the service gets it; the api and the reservations job
        (``scheduled``) send to the queue (and encrypt), ``message`` and ``commands`` deliver
        directly and enqueue only the load manager's profiles (no secret in them).
        """
        fn.add_environment(names.Env.COMMANDS_QUEUE_URL, self.queue.queue_url)
        fn.add_environment(names.Env.COMMAND_SECRETS_KEY_ID, self.secrets_key.key_arn)
        self.secrets_key.grant(fn.role, "kms:Decrypt")

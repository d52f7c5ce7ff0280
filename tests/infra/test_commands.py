"""The command pipeline: FIFO queue and its dead-letter queue, the commands function and its
trigger, the pending-calls table, and who may do what to them (ADR 0010)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from csms.aws.connections import DynamoConnectionStore
from csms.aws.pending import DynamoPendingCalls
from csms.aws.queue import SqsCommandQueue
from csms.aws.schema import PENDING_TTL_ATTRIBUTE, pending_calls_table_definition
from csms_infra import names
from csms_infra.commands import BATCH_SIZE, COMMANDS_TIMEOUT, MAX_RECEIVE_COUNT, VISIBILITY_TIMEOUT_FACTOR
from csms_infra.function import CsmsFunction

from .support import (
    Synth,
    actions_of,
    actions_on,
    client_operations,
    context_for,
    environment_of,
    function_of,
    serving_functions,
    statements_of,
    the_one,
)

pytestmark = pytest.mark.infra

#: SQS actions that take a message off the queue or hide it: only the consumer has them.
CONSUME_ACTIONS = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"}


# --- helpers -----------------------------------------------------------------------------
def queue_of(synth: Synth) -> dict[str, Any]:
    resource: dict[str, Any] = synth.resources[synth.logical_id(synth.stack.command_queue.queue)]
    return resource


def dead_letter_queue_of(synth: Synth) -> dict[str, Any]:
    resource: dict[str, Any] = synth.resources[synth.logical_id(synth.stack.command_queue.dead_letter_queue)]
    return resource


def on_queue(synth: Synth, fn: CsmsFunction) -> set[str]:
    return actions_on(synth, fn, synth.logical_id(synth.stack.command_queue.queue))


def on_pending(synth: Synth, fn: CsmsFunction) -> set[str]:
    return actions_on(synth, fn, synth.logical_id(synth.stack.pending_calls.table))


def on_connections(synth: Synth, fn: CsmsFunction) -> set[str]:
    return actions_on(synth, fn, synth.logical_id(synth.stack.connections.table))


def dynamodb(*operations: str) -> set[str]:
    return {f"dynamodb:{operation}" for operation in operations}


# --- the queue ---------------------------------------------------------------------------
def test_the_command_queue_is_fifo_without_content_based_deduplication(variant: Synth) -> None:
    properties = queue_of(variant)["Properties"]
    stage = variant.stack.config.stage

    assert properties["FifoQueue"] is True
    assert properties["QueueName"] == f"csms-{stage}-commands.fifo"
    # The producer sets MessageDeduplicationId = command id (csms.aws.queue).
    assert properties["ContentBasedDeduplication"] is False


def test_failed_messages_go_to_a_fifo_dead_letter_queue_after_five_receives(variant: Synth) -> None:
    redrive = queue_of(variant)["Properties"]["RedrivePolicy"]
    dead_letters = dead_letter_queue_of(variant)["Properties"]

    assert redrive == {
        "deadLetterTargetArn": {
            "Fn::GetAtt": [variant.logical_id(variant.stack.command_queue.dead_letter_queue), "Arn"]
        },
        "maxReceiveCount": MAX_RECEIVE_COUNT,
    }
    assert MAX_RECEIVE_COUNT == 5
    assert dead_letters["FifoQueue"] is True
    assert dead_letters["QueueName"].endswith("-commands-dlq.fifo")
    assert dead_letters["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert "RedrivePolicy" not in dead_letters


def test_every_queue_is_encrypted_and_takes_tls_only(variant: Synth) -> None:
    queues = variant.of_type("AWS::SQS::Queue")
    policies = variant.of_type("AWS::SQS::QueuePolicy").values()

    # commands, their dead letters, the events' dead letters and parking, load triggers, the
    # consoles' live events
    assert len(queues) == 6
    for logical_id, queue in queues.items():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True, logical_id
        [policy] = [p for p in policies if p["Properties"]["Queues"] == [{"Ref": logical_id}]]
        assert {
            "Action": "sqs:*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Resource": {"Fn::GetAtt": [logical_id, "Arn"]},
        } in policy["Properties"]["PolicyDocument"]["Statement"]


def test_the_visibility_timeout_is_six_times_the_commands_timeout(dev: Synth) -> None:
    visibility = queue_of(dev)["Properties"]["VisibilityTimeout"]
    timeout = function_of(dev, dev.stack.commands)["Properties"]["Timeout"]

    assert timeout == COMMANDS_TIMEOUT.to_seconds() == 30
    assert visibility >= VISIBILITY_TIMEOUT_FACTOR * timeout
    assert VISIBILITY_TIMEOUT_FACTOR >= 6


def test_a_consumer_slower_than_the_visibility_timeout_allows_is_refused() -> None:
    from aws_cdk import App, Duration, Stack

    from csms_infra.assets import CodeAssets
    from csms_infra.commands import CommandQueue
    from csms_infra.config import StageConfig

    config = StageConfig.from_mapping(context_for({}).get)
    stack = Stack(App())
    queue = CommandQueue(stack, "Queue", config=config)
    slow = CsmsFunction(
        stack,
        "Slow",
        config=config,
        code=CodeAssets(stack, "Code", config=config),
        name=names.COMMANDS,
        description="too slow for the queue",
        timeout=Duration.seconds(31),
    )

    with pytest.raises(ValueError, match="6x"):
        queue.add_consumer(slow)


# --- the commands function and its trigger -------------------------------------------------
def test_the_commands_function_is_triggered_by_the_queue_with_partial_batch_responses(dev: Synth) -> None:
    queue = {"Fn::GetAtt": [dev.logical_id(dev.stack.command_queue.queue), "Arn"]}
    mapping = the_one(
        {
            k: m
            for k, m in dev.of_type("AWS::Lambda::EventSourceMapping").items()
            if m["Properties"]["EventSourceArn"] == queue
        }
    )["Properties"]

    assert mapping["FunctionName"] == {"Ref": dev.logical_id(dev.stack.commands.function)}
    assert mapping["BatchSize"] == BATCH_SIZE == 10
    # Powertools' SqsFifoPartialProcessor returns batchItemFailures.
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # FIFO event sources take no batching window.
    assert "MaximumBatchingWindowInSeconds" not in mapping


def test_the_commands_function_runs_its_handler_in_the_vpc_after_the_migration(dev: Synth) -> None:
    function = function_of(dev, dev.stack.commands)

    assert function["Properties"]["Handler"] == "functions/commands/handler.lambda_handler"
    assert "VpcConfig" in function["Properties"]
    assert dev.logical_id(dev.stack.migration.cfn_resource) in function["DependsOn"]


def test_the_api_sets_each_commands_expiry_from_the_stage(dev: Synth) -> None:
    # A command submitted for a station that is away waits until then (ADR 0027).
    assert environment_of(dev, dev.stack.api_function)["CSMS_COMMAND_EXPIRY_SECONDS"] == "900"


def test_the_commands_function_gets_every_setting_delivery_reads(dev: Synth) -> None:
    environment = environment_of(dev, dev.stack.commands)

    assert environment["CSMS_PENDING_CALLS_TABLE"] == {"Ref": dev.logical_id(dev.stack.pending_calls.table)}
    assert environment["CSMS_COMMANDS_QUEUE_URL"] == {"Ref": dev.logical_id(dev.stack.command_queue.queue)}
    assert environment["CSMS_COMMAND_TIMEOUT_SECONDS"] == "60"
    assert environment["CSMS_CONNECTIONS_TABLE"] == {"Ref": dev.logical_id(dev.stack.connections.table)}
    assert (
        environment["CSMS_WS_MANAGEMENT_ENDPOINT"]
        == environment_of(dev, dev.stack.message)["CSMS_WS_MANAGEMENT_ENDPOINT"]
    )
    assert "CSMS_DATABASE_SECRET_ARN" in environment
    assert "CSMS_IDEMPOTENCY_TABLE" not in environment


def test_every_function_that_builds_the_command_service_names_the_queue(dev: Synth) -> None:
    # csms.app.wiring.commands() refuses to start without CSMS_COMMANDS_QUEUE_URL.
    builders = (dev.stack.api_function, dev.stack.message, dev.stack.commands, dev.stack.scheduled)
    queue_url = {"Ref": dev.logical_id(dev.stack.command_queue.queue)}
    for fn in serving_functions(dev.stack):
        environment = environment_of(dev, fn)
        if fn in builders:
            assert environment["CSMS_COMMANDS_QUEUE_URL"] == queue_url, fn.name
        else:
            assert "CSMS_COMMANDS_QUEUE_URL" not in environment, fn.name


def test_the_functions_that_deliver_share_the_command_timeout(dev: Synth, prod: Synth) -> None:
    for synth in (dev, prod):
        for fn in (synth.stack.message, synth.stack.commands, synth.stack.scheduled):
            assert environment_of(synth, fn)["CSMS_COMMAND_TIMEOUT_SECONDS"] == "60", fn.name


# --- least privilege: the queue ------------------------------------------------------------
def test_the_api_may_send_to_the_queue_and_do_nothing_else_with_it(dev: Synth) -> None:
    sqs = {f"sqs:{operation}" for operation in client_operations(SqsCommandQueue)}

    assert on_queue(dev, dev.stack.api_function) == sqs == {"sqs:SendMessage"}
    assert not any(a.startswith("sqs:") for a in actions_of(dev, dev.stack.api_function) - sqs)


def test_only_the_commands_function_consumes(dev: Synth) -> None:
    assert on_queue(dev, dev.stack.commands) >= CONSUME_ACTIONS
    for fn in serving_functions(dev.stack):
        if fn is not dev.stack.commands:
            assert not on_queue(dev, fn) & CONSUME_ACTIONS, fn.name
    # message and commands deliver directly; they enqueue only the load manager's next profiles
    # (when one of its profiles is answered or fails), never a secret.
    assert on_queue(dev, dev.stack.message) == {"sqs:SendMessage"}
    assert on_queue(dev, dev.stack.commands) - CONSUME_ACTIONS == {
        "sqs:SendMessage",
        "sqs:GetQueueAttributes",  # the event source mapping's own
        "sqs:GetQueueUrl",
    }
    for fn in (dev.stack.connect, dev.stack.disconnect):
        assert not on_queue(dev, fn), fn.name
    # scheduled enqueues a TriggerMessage when a reservation expires (jobs/reservations.py)
    assert on_queue(dev, dev.stack.scheduled) == {"sqs:SendMessage"}


def test_nobody_may_touch_the_dead_letter_queue(dev: Synth) -> None:
    dead_letters = dev.logical_id(dev.stack.command_queue.dead_letter_queue)
    for fn in serving_functions(dev.stack):
        assert not actions_on(dev, fn, dead_letters), fn.name


# --- least privilege: the pending-calls table ----------------------------------------------
def test_deliverers_may_claim_and_free_slots_and_only_the_sweeper_may_scan(dev: Synth) -> None:
    slot = dynamodb(*client_operations(DynamoPendingCalls, "claim", "answer", "pop"))
    sweep = dynamodb(*client_operations(DynamoPendingCalls))

    # What the adapter calls today; a new call must come with a new grant.
    assert slot == dynamodb("PutItem", "UpdateItem", "DeleteItem")
    assert sweep == slot | dynamodb("Scan")
    assert on_pending(dev, dev.stack.commands) == slot
    assert on_pending(dev, dev.stack.message) == slot
    assert on_pending(dev, dev.stack.scheduled) == sweep


def test_functions_that_never_deliver_have_no_access_to_the_pending_calls(dev: Synth) -> None:
    for fn in (dev.stack.connect, dev.stack.disconnect, dev.stack.api_function, dev.stack.migration.function):
        assert not on_pending(dev, fn), fn.name
        assert "CSMS_PENDING_CALLS_TABLE" not in environment_of(dev, fn), fn.name


def test_pending_call_grants_name_the_table_and_nothing_under_it(dev: Synth) -> None:
    table = {"Fn::GetAtt": [dev.logical_id(dev.stack.pending_calls.table), "Arn"]}
    for fn in (dev.stack.message, dev.stack.commands, dev.stack.scheduled):
        grants = [
            s
            for s in statements_of(dev, fn)
            if dev.logical_id(dev.stack.pending_calls.table) in json.dumps(s["Resource"])
        ]
        assert [g["Resource"] for g in grants] == [table], fn.name


def test_commands_and_scheduled_only_look_connections_up(dev: Synth) -> None:
    lookup = dynamodb(*client_operations(DynamoConnectionStore, "current_connection"))
    count = dynamodb(*client_operations(DynamoConnectionStore, "count_connected"))
    table = {"Fn::GetAtt": [dev.logical_id(dev.stack.connections.table), "Arn"]}

    assert lookup == dynamodb("GetItem")
    assert on_connections(dev, dev.stack.commands) == lookup
    # scheduled also counts the connected chargers (fleet-gauges job; test_schedules.py)
    # and runs the liveness job (scan, re-read, conditional close and release).
    liveness = dynamodb(
        *client_operations(
            DynamoConnectionStore, "liveness_scan", "open_connection", "close_stale", "release"
        )
    )
    assert liveness == dynamodb("Scan", "GetItem", "UpdateItem", "DeleteItem")
    assert on_connections(dev, dev.stack.scheduled) == lookup | count | liveness
    for fn in (dev.stack.commands, dev.stack.scheduled):
        grants = [
            s
            for s in statements_of(dev, fn)
            if dev.logical_id(dev.stack.connections.table) in json.dumps(s["Resource"])
        ]
        # The table only: no index/* (and so no IAM5 acknowledgment either).
        assert {json.dumps(g["Resource"]) for g in grants} == {json.dumps(table)}, fn.name


def test_message_keeps_its_connection_grants_and_answers_through_connections(dev: Synth) -> None:
    assert {"dynamodb:GetItem", "dynamodb:UpdateItem"} <= on_connections(dev, dev.stack.message)
    for fn in (dev.stack.message, dev.stack.commands, dev.stack.scheduled):
        assert "execute-api:ManageConnections" in actions_of(dev, fn), fn.name


# --- the table -----------------------------------------------------------------------------
def test_the_pending_calls_table_matches_the_shared_schema(variant: Synth) -> None:
    table = variant.resources[variant.logical_id(variant.stack.pending_calls.table)]
    properties = table["Properties"]
    expected = pending_calls_table_definition("any")

    assert properties["KeySchema"] == expected["KeySchema"]
    assert properties["AttributeDefinitions"] == expected["AttributeDefinitions"]
    assert properties["BillingMode"] == expected["BillingMode"]
    assert properties["TimeToLiveSpecification"] == {"AttributeName": PENDING_TTL_ATTRIBUTE, "Enabled": True}
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert "GlobalSecondaryIndexes" not in properties
    retained = variant.stack.config.is_prod
    assert table["DeletionPolicy"] == ("Retain" if retained else "Delete")
    assert properties.get("DeletionProtectionEnabled", False) is retained


# --- network and outputs ---------------------------------------------------------------------
def test_with_interface_endpoints_the_api_reaches_sqs_through_one(isolated: Synth) -> None:
    endpoints = [e["Properties"] for e in isolated.of_type("AWS::EC2::VPCEndpoint").values()]

    assert any(
        "sqs" in json.dumps(e["ServiceName"])
        and e["VpcEndpointType"] == "Interface"
        and e["PrivateDnsEnabled"]
        for e in endpoints
    )


def test_outputs_name_the_queue_and_the_pending_calls_table(dev: Synth) -> None:
    outputs = dev.template.to_json()["Outputs"]

    assert outputs["CommandsQueueUrl"]["Value"] == {"Ref": dev.logical_id(dev.stack.command_queue.queue)}
    assert outputs["PendingCallsTableName"]["Value"] == {"Ref": dev.logical_id(dev.stack.pending_calls.table)}


# --- the command-secrets key (rotate-password, ADR 0019) -----------------------------------------


def on_secrets_key(synth: Synth, fn: CsmsFunction) -> set[str]:
    return actions_on(synth, fn, synth.logical_id(synth.stack.command_queue.secrets_key))


def test_the_api_encrypts_new_passwords_and_only_the_deliverers_decrypt(dev: Synth) -> None:
    stack = dev.stack
    [key] = dev.of_type("AWS::KMS::Key").values()
    assert key["Properties"]["EnableKeyRotation"] is True
    assert on_secrets_key(dev, stack.api_function) == {"kms:Encrypt", "kms:Decrypt"}
    for deliverer in (stack.commands, stack.message):
        assert on_secrets_key(dev, deliverer) == {"kms:Decrypt"}
    assert on_secrets_key(dev, stack.connect) == set()
    for fn in (stack.api_function, stack.commands, stack.message, stack.scheduled):
        environment = environment_of(dev, fn)
        assert environment[names.Env.COMMAND_SECRETS_KEY_ID] == {
            "Fn::GetAtt": [dev.logical_id(stack.command_queue.secrets_key), "Arn"]
        }
        # in the VPC with IPv6 egress: KMS's dual-stack endpoint
        assert environment["AWS_ENDPOINT_URL_KMS"] == {
            "Fn::Join": ["", ["https://kms.", {"Ref": "AWS::Region"}, ".api.aws"]]
        }


def test_the_key_variable_is_the_one_settings_will_read() -> None:
    from csms.settings import env_vars

    assert env_vars("command_secrets_key_id") == (names.Env.COMMAND_SECRETS_KEY_ID,)

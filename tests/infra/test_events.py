"""The domain-event bus: its archive, its policy, who may publish, and how they find it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from csms_infra import names
from csms_infra.function import CsmsFunction

from .support import (
    Synth,
    actions_of,
    actions_on,
    as_list,
    client_operations,
    environment_of,
    serving_functions,
    statements_of,
    the_one,
)

pytestmark = pytest.mark.infra

#: The functions that will publish domain events (issue 5): everything but the migration.
PUBLISHERS = ("connect", "message", "disconnect", "api", "commands", "scheduled")


def bus_arn(synth: Synth) -> dict[str, Any]:
    return {"Fn::GetAtt": [synth.logical_id(synth.stack.events.bus), "Arn"]}


def put_events_grants(synth: Synth, fn: CsmsFunction) -> list[dict[str, Any]]:
    return [s for s in statements_of(synth, fn) if "events:PutEvents" in as_list(s["Action"])]


# --- the bus -------------------------------------------------------------------------------
def test_each_stage_has_its_own_named_bus(dev: Synth, prod: Synth) -> None:
    for synth, name in ((dev, "csms-dev-events"), (prod, "csms-prod-events")):
        bus = the_one(synth.of_type("AWS::Events::EventBus"))
        assert bus["Properties"]["Name"] == name == names.event_bus_name(synth.stack.config.stage)
        # Named, so destroyed with the stack even in prod: a retained one would block the next deploy.
        assert bus.get("DeletionPolicy", "Delete") == "Delete"


def test_the_archive_keeps_every_event_of_the_account_for_the_stage_retention(
    dev: Synth, prod: Synth, external: Synth
) -> None:
    for synth, days in ((dev, 30), (prod, 90), (external, 7)):  # external: -c events_archive_days=7
        archive = the_one(synth.of_type("AWS::Events::Archive"))["Properties"]
        assert archive["SourceArn"] == bus_arn(synth)
        assert archive["RetentionDays"] == days
        assert archive["ArchiveName"] == f"csms-{synth.stack.config.stage}-events"
        # Every event of the account but the per-frame meter values (PostgreSQL has the samples).
        assert archive["EventPattern"] == {
            "account": [{"Ref": "AWS::AccountId"}],
            "detail-type": [{"anything-but": ["MeterValuesReceived"]}],
        }


def test_only_this_account_may_put_events_on_the_bus(variant: Synth) -> None:
    policy = the_one(variant.of_type("AWS::Events::EventBusPolicy"))["Properties"]
    statement = policy["Statement"]

    assert policy["EventBusName"] == {"Ref": variant.logical_id(variant.stack.events.bus)}
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "events:PutEvents"
    assert statement["Resource"] == bus_arn(variant)
    principal = json.dumps(statement["Principal"])
    assert '{"Ref": "AWS::AccountId"}' in principal
    assert principal.endswith(':root"]]}}')
    assert "*" not in principal
    assert "Condition" not in statement  # no organisation-wide or cross-account grant


def test_the_stacks_own_rules_the_subscribers_bring_theirs(variant: Synth) -> None:
    # Subscribers add their own rules (infra/README.md); the stack's own are load management's
    # two and one that sends every event to the consoles' fan-out (ADR 0025).
    rules = list(variant.of_type("AWS::Events::Rule").values())
    load = [r for r in rules if "-load-triggers-" in r["Properties"].get("Name", "")]
    live = [r for r in rules if r not in load]
    assert len(load) == 2
    assert len(live) == 1
    targets = json.dumps(live[0]["Properties"]["Targets"])
    assert variant.logical_id(variant.stack.console_live.queue) in targets
    # the command queue, its DLQ, the events' publishing dead letters, the parked events, the
    # load triggers and the consoles' live events
    assert len(variant.of_type("AWS::SQS::Queue")) == 6


def test_events_that_never_publish_go_to_an_encrypted_dead_letter_queue_only_scheduled_sends_to(
    variant: Synth,
) -> None:
    from csms.aws.eventbus import SqsDeadLetter

    queue = variant.resources[variant.logical_id(variant.stack.events.dead_letters)]["Properties"]
    assert queue["QueueName"] == f"csms-{variant.stack.config.stage}-events-dlq"
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    queue_id = variant.logical_id(variant.stack.events.dead_letters)
    # SendMessageBatch is authorised by sqs:SendMessage.
    assert {f"sqs:{op}" for op in client_operations(SqsDeadLetter)} == {"sqs:SendMessageBatch"}
    for fn in serving_functions(variant.stack):
        on_queue = actions_on(variant, fn, queue_id)
        if fn is variant.stack.scheduled:
            assert "sqs:SendMessage" in on_queue
            assert environment_of(variant, fn)[names.Env.EVENTS_DEAD_LETTER_QUEUE_URL] == {"Ref": queue_id}
        else:
            assert not on_queue
            assert names.Env.EVENTS_DEAD_LETTER_QUEUE_URL not in environment_of(variant, fn)


# --- publishers ----------------------------------------------------------------------------
def test_every_serving_function_may_put_events_on_the_bus_and_knows_its_name(variant: Synth) -> None:
    bus = variant.logical_id(variant.stack.events.bus)
    functions = serving_functions(variant.stack)

    assert tuple(fn.name for fn in functions) == PUBLISHERS
    for fn in functions:
        assert actions_on(variant, fn, bus) == {"events:PutEvents"}, fn.name
        # This bus and nothing else.
        assert [g["Resource"] for g in put_events_grants(variant, fn)] == [bus_arn(variant)], fn.name
        assert environment_of(variant, fn)[names.Env.EVENT_BUS_NAME] == {"Ref": bus}, fn.name


def test_the_migration_publishes_nothing(dev: Synth) -> None:
    migrate = dev.stack.migration.function

    assert not any(action.startswith("events:") for action in actions_of(dev, migrate))
    assert names.Env.EVENT_BUS_NAME not in environment_of(dev, migrate)


def test_the_variable_is_the_one_settings_will_read() -> None:
    from csms.settings import env_vars

    assert names.Env.EVENT_BUS_NAME == "CSMS_EVENT_BUS_NAME"
    assert env_vars("event_bus_name") == (names.Env.EVENT_BUS_NAME,)


def test_vpc_functions_reach_eventbridge_on_its_dual_stack_endpoint(dev: Synth, prod: Synth) -> None:
    for synth in (dev, prod):
        for fn in (synth.stack.message, synth.stack.connect, synth.stack.api_function, synth.stack.scheduled):
            environment = environment_of(synth, fn)
            assert environment["AWS_ENDPOINT_URL_EVENTBRIDGE"] == {
                "Fn::Join": ["", ["https://events.", {"Ref": "AWS::Region"}, ".api.aws"]]
            }


def test_with_interface_endpoints_eventbridge_is_reached_through_one(isolated: Synth) -> None:
    endpoints = [e["Properties"] for e in isolated.of_type("AWS::EC2::VPCEndpoint").values()]

    assert any(
        ".events" in json.dumps(e["ServiceName"])
        and e["VpcEndpointType"] == "Interface"
        and e["PrivateDnsEnabled"]
        for e in endpoints
    )
    assert "AWS_ENDPOINT_URL_EVENTBRIDGE" not in environment_of(isolated, isolated.stack.message)


def test_outputs_name_the_bus(dev: Synth) -> None:
    outputs = dev.template.to_json()["Outputs"]
    bus = dev.logical_id(dev.stack.events.bus)

    assert outputs["EventBusName"]["Value"] == {"Ref": bus}
    assert outputs["EventBusArn"]["Value"] == bus_arn(dev)
    assert "rule" in outputs["EventBusName"]["Description"]


# --- the events that reallocate a site (load management) ------------------------------------
def test_the_load_trigger_rules_are_the_patterns_the_code_defines_and_feed_the_scheduled_function(
    dev: Synth,
) -> None:
    from csms.load_triggers import patterns

    queue = dev.logical_id(dev.stack.load_triggers.queue)
    rules = [r["Properties"] for r in dev.of_type("AWS::Events::Rule").values()]
    mine = [r for r in rules if r.get("Name", "").startswith(names.load_triggers_queue_name("dev"))]
    assert sorted(json.dumps(r["EventPattern"], sort_keys=True) for r in mine) == sorted(
        json.dumps(p, sort_keys=True) for p in patterns().values()
    )
    for rule in mine:
        assert rule["EventBusName"] == {"Ref": dev.logical_id(dev.stack.events.bus)}
        assert [t["Arn"] for t in rule["Targets"]] == [{"Fn::GetAtt": [queue, "Arn"]}]
    # The scheduled function consumes the queue, a few invocations at a time
    mappings = [
        m["Properties"]
        for m in dev.of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [queue, "Arn"]}
    ]
    assert [m["FunctionName"] for m in mappings] == [{"Ref": dev.logical_id(dev.stack.scheduled.function)}]
    assert mappings[0]["ScalingConfig"] == {"MaximumConcurrency": 5}
    # Only EventBridge, for these rules, may send to it
    [policy] = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in dev.of_type("AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [{"Ref": queue}]
    ]
    senders = [s for s in policy if s["Effect"] == "Allow"]
    assert {s["Principal"]["Service"] for s in senders} == {"events.amazonaws.com"}
    assert all("aws:SourceArn" in s["Condition"]["ArnEquals"] for s in senders)


def test_the_functions_that_answer_the_load_managers_profiles_may_enqueue_the_next(dev: Synth) -> None:
    queue = dev.logical_id(dev.stack.command_queue.queue)
    for fn in (dev.stack.message, dev.stack.commands, dev.stack.scheduled):
        assert "sqs:SendMessage" in actions_on(dev, fn, queue), fn.name

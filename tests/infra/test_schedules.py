"""EventBridge Scheduler: one schedule per job of csms.schedules, invoking functions/scheduled."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from csms.app.scheduled import JOBS as RUNNABLE_JOBS
from csms.aws.connections import DynamoConnectionStore
from csms.schedules import SCHEDULES
from csms_infra.scheduler import MAX_EVENT_AGE, RETRY_ATTEMPTS

from .support import (
    Synth,
    actions_of,
    actions_on,
    as_list,
    client_operations,
    environment_of,
    function_of,
    statements_of,
    the_one,
)

pytestmark = pytest.mark.infra


def schedules(synth: Synth) -> dict[str, dict[str, Any]]:
    """Schedule name -> properties."""
    return {
        s["Properties"]["Name"]: s["Properties"] for s in synth.of_type("AWS::Scheduler::Schedule").values()
    }


def test_there_is_one_schedule_per_job_with_its_expression_and_description(variant: Synth) -> None:
    found = schedules(variant)

    assert set(found) == {job.name for job in SCHEDULES}
    for job in SCHEDULES:
        schedule = found[job.name]
        assert schedule["ScheduleExpression"] == job.expression
        assert schedule["Description"] == job.description
        assert schedule["State"] == "ENABLED"
        assert schedule["GroupName"] == f"csms-{variant.stack.config.stage}"


def test_schedules_wait_for_their_group_and_their_role_policy(dev: Synth) -> None:
    # The group name is a literal in the schedule, so only DependsOn orders the creation.
    jobs = dev.stack.jobs
    for logical_id in dev.of_type("AWS::Scheduler::Schedule"):
        depends_on = dev.resources[logical_id]["DependsOn"]
        assert dev.logical_id(jobs.group) in depends_on
        assert dev.logical_id(jobs.role.node.find_child("DefaultPolicy")) in depends_on


def test_every_job_a_schedule_names_is_one_the_function_runs() -> None:
    assert {job.name for job in SCHEDULES} <= set(RUNNABLE_JOBS)


def test_the_scheduled_handler_runs_the_job_each_schedule_sends(
    dev: Synth, monkeypatch: pytest.MonkeyPatch
) -> None:
    from csms.app import scheduled

    ran: list[str] = []

    def job(name: str) -> Callable[[datetime], dict[str, Any]]:
        def run(now: datetime) -> dict[str, Any]:
            ran.append(name)
            return {}

        return run

    monkeypatch.setattr(scheduled, "JOBS", {j.name: job(j.name) for j in SCHEDULES})
    for schedule in SCHEDULES:
        # Given the event the deployed schedule sends
        event = json.loads(schedules(dev)[schedule.name]["Target"]["Input"])
        # When the function's handler receives it
        scheduled.handle(event, None)
    # Then each schedule ran its own job
    assert ran == [j.name for j in SCHEDULES]


def test_each_schedule_invokes_the_scheduled_function_with_its_job(dev: Synth) -> None:
    function_arn = {"Fn::GetAtt": [dev.logical_id(dev.stack.scheduled.function), "Arn"]}
    role_arn = {"Fn::GetAtt": [dev.logical_id(dev.stack.jobs.role), "Arn"]}
    for job in SCHEDULES:
        target = schedules(dev)[job.name]["Target"]
        assert target["Arn"] == function_arn
        assert target["RoleArn"] == role_arn
        # csms.app.scheduled.handle reads event["job"].
        assert json.loads(target["Input"]) == {"job": job.name}


def test_schedules_fire_on_time_and_retry_little(dev: Synth) -> None:
    for schedule in schedules(dev).values():
        assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
        assert schedule["Target"]["RetryPolicy"] == {
            "MaximumRetryAttempts": RETRY_ATTEMPTS,
            "MaximumEventAgeInSeconds": MAX_EVENT_AGE.to_seconds(),
        }
        assert RETRY_ATTEMPTS <= 3
        assert "DeadLetterConfig" not in schedule["Target"]


def test_the_schedule_group_belongs_to_the_stage(dev: Synth, prod: Synth) -> None:
    for synth, name in ((dev, "csms-dev"), (prod, "csms-prod")):
        group = the_one(synth.of_type("AWS::Scheduler::ScheduleGroup"))
        assert group["Properties"]["Name"] == name
        # Schedules are configuration, not state: destroyed with the stack, also in prod.
        assert group["DeletionPolicy"] == "Delete"


def test_the_scheduler_role_trusts_only_this_accounts_schedule_group(dev: Synth) -> None:
    role = dev.resources[dev.logical_id(dev.stack.jobs.role)]["Properties"]
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]

    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {
        "StringEquals": {
            "aws:SourceAccount": {"Ref": "AWS::AccountId"},
            "aws:SourceArn": {"Fn::GetAtt": [dev.logical_id(dev.stack.jobs.group), "Arn"]},
        }
    }
    assert "ManagedPolicyArns" not in role


def test_the_scheduler_role_may_invoke_the_scheduled_function_and_nothing_else(dev: Synth) -> None:
    role = {"Ref": dev.logical_id(dev.stack.jobs.role)}
    statements = [
        statement
        for policy in dev.of_type("AWS::IAM::Policy").values()
        if role in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]

    assert statements == [
        {
            "Action": "lambda:InvokeFunction",
            "Effect": "Allow",
            # The unqualified ARN only: no versions or aliases (":*").
            "Resource": {"Fn::GetAtt": [dev.logical_id(dev.stack.scheduled.function), "Arn"]},
        }
    ]


def test_a_failed_job_is_not_retried_by_lambda_the_next_tick_is(dev: Synth) -> None:
    config = the_one(dev.of_type("AWS::Lambda::EventInvokeConfig"))["Properties"]

    assert config["FunctionName"] == {"Ref": dev.logical_id(dev.stack.scheduled.function)}
    assert config["MaximumRetryAttempts"] == 0


# --- the scheduled function ----------------------------------------------------------------
def test_the_scheduled_function_runs_its_handler_in_the_vpc_after_the_migration(dev: Synth) -> None:
    function = function_of(dev, dev.stack.scheduled)

    assert function["Properties"]["Handler"] == "functions/scheduled/handler.lambda_handler"
    assert "VpcConfig" in function["Properties"]
    assert function["Properties"]["Timeout"] == 60
    assert dev.logical_id(dev.stack.migration.cfn_resource) in function["DependsOn"]


def test_the_scheduled_function_gets_what_the_sweep_needs(dev: Synth) -> None:
    environment = environment_of(dev, dev.stack.scheduled)

    assert environment["CSMS_PENDING_CALLS_TABLE"] == {"Ref": dev.logical_id(dev.stack.pending_calls.table)}
    assert environment["CSMS_CONNECTIONS_TABLE"] == {"Ref": dev.logical_id(dev.stack.connections.table)}
    assert environment["CSMS_COMMANDS_QUEUE_URL"] == {"Ref": dev.logical_id(dev.stack.command_queue.queue)}
    assert environment["CSMS_COMMAND_TIMEOUT_SECONDS"] == "60"
    assert "CSMS_WS_MANAGEMENT_ENDPOINT" in environment
    assert "CSMS_DATABASE_SECRET_ARN" in environment
    assert "execute-api:ManageConnections" in actions_of(dev, dev.stack.scheduled)


def test_the_scheduled_function_has_no_resource_policy(dev: Synth) -> None:
    # Scheduler invokes it with the execution role; no service principal may invoke it directly.
    scheduled = {"Fn::GetAtt": [dev.logical_id(dev.stack.scheduled.function), "Arn"]}
    for permission in dev.of_type("AWS::Lambda::Permission").values():
        assert permission["Properties"]["FunctionName"] != scheduled


def test_the_fleet_gauges_job_counts_connections_with_a_scan_of_the_table_alone(dev: Synth) -> None:
    # count_connected: Scan with Select=COUNT and a filter on the cp# prefix of pk
    count = {f"dynamodb:{op}" for op in client_operations(DynamoConnectionStore, "count_connected")}
    table = dev.logical_id(dev.stack.connections.table)
    scanned = [
        resource
        for statement in statements_of(dev, dev.stack.scheduled)
        if "dynamodb:Scan" in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
        if table in json.dumps(resource)
    ]

    assert "fleet-gauges" in schedules(dev)
    assert count == {"dynamodb:Scan"}
    # The table itself: not its index, and no queries on it. The only writes are the liveness
    # job's (close a stale record, release its charger: test_commands.py).
    assert {json.dumps(resource) for resource in scanned} == {json.dumps({"Fn::GetAtt": [table, "Arn"]})}
    assert actions_on(dev, dev.stack.scheduled, table) == {
        "dynamodb:GetItem",
        "dynamodb:Scan",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    }
    # The job's other half (open transactions) is PostgreSQL, which the function reaches already.
    assert "CSMS_DATABASE_SECRET_ARN" in environment_of(dev, dev.stack.scheduled)
    # commands only looks connections up: the Scan is the scheduled function's alone.
    assert "dynamodb:Scan" not in actions_on(dev, dev.stack.commands, table)

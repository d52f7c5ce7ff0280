"""EventBridge Scheduler: one schedule per job of ``csms.schedules`` to ``functions/scheduled``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import jsii
from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from csms.schedules import Schedule

from . import names
from .config import StageConfig
from .function import CsmsFunction

#: The scheduled function's timeout: a sweep that outlasts its one-minute cadence would
#: overlap the next run (safe, every job is idempotent, but a sign of a backlog).
SCHEDULED_TIMEOUT: Final = Duration.seconds(60)
#: Scheduler retries only a failed *invocation* (Lambda throttled or unavailable; it invokes
#: asynchronously, so a failing job is not retried here). A job runs again at its next tick
#: anyway, so two quick retries within a minute are plenty.
RETRY_ATTEMPTS: Final = 2
MAX_EVENT_AGE: Final = Duration.minutes(1)
#: Lambda's own retries of a failed asynchronous invocation: none, the next tick is the retry
#: (and an error alarm says the job failed).
FUNCTION_RETRY_ATTEMPTS: Final = 0
FUNCTION_MAX_EVENT_AGE: Final = Duration.minutes(5)
INVOKE_ACTIONS: Final = ("lambda:InvokeFunction",)


@jsii.implements(scheduler.IScheduleTarget)
class _InvokeJob:
    """Invoke the function with ``{"job": name}``, with a role of our own.

    ``aws_scheduler_targets.LambdaInvoke`` would grant the role every version of the
    function too (``<arn>:*``); the schedule calls the unqualified ARN, so this target
    grants exactly that.
    """

    def __init__(self, function: lambda_.IFunction, role: iam.IRole, job: Schedule) -> None:
        self._function = function
        self._role = role
        self._job = job

    def bind(self, _schedule: scheduler.ISchedule) -> scheduler.ScheduleTargetConfig:
        return scheduler.ScheduleTargetConfig(
            arn=self._function.function_arn,
            role=self._role,
            input=scheduler.ScheduleTargetInput.from_object(names.job_input(self._job)),
            retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                maximum_retry_attempts=RETRY_ATTEMPTS,
                maximum_event_age_in_seconds=int(MAX_EVENT_AGE.to_seconds()),
            ),
        )


class ScheduledJobs(Construct):
    """A schedule group per stage and one schedule per job, all invoking ``function``.

    Each schedule takes its name, expression and description from :mod:`csms.schedules`
    (the same definitions ``csms dev`` runs locally) and sends ``{"job": name}``. Flexible
    time window off: a sweep should run on the minute. No dead-letter queue: a missed run
    is made up by the next one; dropped invocations raise an alarm (``Operations``).

    The execution role trusts only EventBridge Scheduler acting for this account and this
    schedule group, and may invoke only the scheduled function.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        function: CsmsFunction,
        jobs: Sequence[Schedule] = names.JOBS,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        # Schedules hold no state; a retained group would block the next deploy of the stage.
        self.group = scheduler.ScheduleGroup(
            self,
            "Group",
            schedule_group_name=names.schedule_group_name(config.stage),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self,
            "Role",
            description=f"csms {config.stage}: EventBridge Scheduler invokes the {function.name} function",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={
                    # Confused-deputy guard: only schedules of this account's group.
                    "StringEquals": {
                        "aws:SourceAccount": stack.account,
                        "aws:SourceArn": self.group.schedule_group_arn,
                    }
                },
            ),
        )
        iam.Grant.add_to_principal(
            grantee=self.role, actions=list(INVOKE_ACTIONS), resource_arns=[function.function.function_arn]
        )
        function.function.configure_async_invoke(
            retry_attempts=FUNCTION_RETRY_ATTEMPTS, max_event_age=FUNCTION_MAX_EVENT_AGE
        )

        self.schedules: dict[str, scheduler.Schedule] = {}
        for job in jobs:
            schedule = scheduler.Schedule(
                self,
                _construct_id(job.name),
                schedule_name=job.name,
                schedule_group=self.group,
                schedule=scheduler.ScheduleExpression.expression(job.expression),
                description=job.description,
                target=_InvokeJob(function.function, self.role, job),
                time_window=scheduler.TimeWindow.off(),
            )
            # The group is named, so the schedule refers to it by a literal, not a Ref:
            # CloudFormation would not know to create it first. The role's policy must
            # exist before Scheduler first assumes it.
            schedule.node.add_dependency(self.group, self.role)
            self.schedules[job.name] = schedule


def _construct_id(job_name: str) -> str:
    """``command-timeouts`` -> ``CommandTimeouts``."""
    return "".join(part.capitalize() for part in job_name.replace("_", "-").split("-"))

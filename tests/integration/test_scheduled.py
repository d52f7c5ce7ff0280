"""The scheduled function, invoked as EventBridge Scheduler invokes it."""

from __future__ import annotations

import pytest

from csms.local.gateway import LocalLambdaContext
from csms.local.stack import LocalStack, load_handler
from csms.schedules import SCHEDULES

pytestmark = pytest.mark.integration


def test_every_schedule_runs_its_job(stack: LocalStack) -> None:
    handler = load_handler("scheduled")
    for schedule in SCHEDULES:
        result = handler({"job": schedule.name}, LocalLambdaContext("scheduled"))
        assert result["job"] == schedule.name


def test_an_unknown_job_fails_loudly(stack: LocalStack) -> None:
    with pytest.raises(ValueError, match="unknown job 'nope'"):
        load_handler("scheduled")({"job": "nope"}, LocalLambdaContext("scheduled"))

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


async def test_fleet_gauges_count_connected_chargers_and_open_transactions(
    stack: LocalStack, provisioning: object, now: object
) -> None:
    from ocpp.v16 import call

    from csms.services.provisioning import ProvisioningService
    from tests.integration.charger import connected

    assert isinstance(provisioning, ProvisioningService)
    provisioning.add_charger("GAUGE-1", "default", now, security_profile=0)  # type: ignore[arg-type]
    provisioning.add_charger("GAUGE-2", "default", now, security_profile=0)  # type: ignore[arg-type]
    handler = load_handler("scheduled")
    async with connected(stack, "GAUGE-1") as cp:
        await cp.call(
            call.StartTransaction(connector_id=1, id_tag="T", meter_start=0, timestamp="2026-11-21T10:00:00Z")
        )
        result = handler({"job": "fleet-gauges"}, LocalLambdaContext("scheduled"))
    assert (result["chargers_online"], result["open_transactions"]) == (1, 1)

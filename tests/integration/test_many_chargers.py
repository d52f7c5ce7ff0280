"""Many chargers at once: each gets its own answers and its own rows."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from ocpp.v16 import call
from sqlalchemy import Engine

from csms.local.stack import LocalStack
from csms.services.provisioning import ProvisioningService
from tests.builders import a_meter_values
from tests.integration.charger import SimulatedCharger, connected
from tests.integration.conftest import rows

pytestmark = pytest.mark.integration
CHARGERS = 60


class PatientCharger(SimulatedCharger):
    """60 chargers at once through one machine's functions and database: on 2 busy cores an
    answer can take longer than the usual 10 s. What this test checks is that each charger gets
    its own answers and rows, not how fast (a missing answer still fails, after a minute)."""

    response_timeout = 60


async def test_sixty_chargers_connected_at_once(
    stack: LocalStack, engine: Engine, provisioning: ProvisioningService, now: datetime
) -> None:
    # Given 60 provisioned chargers (every other one with a password) and a tag each
    ids = [f"FLEET-{i:03d}" for i in range(CHARGERS)]
    for i, cp_id in enumerate(ids):
        if i % 2:
            provisioning.add_charger(cp_id, "fleet", now, password=f"password-of-{cp_id}")
        else:
            provisioning.add_charger(cp_id, "fleet", now, security_profile=0)
        provisioning.add_id_token(f"TAG-{i:03d}", "fleet", now)
    all_connected = asyncio.Event()
    online = 0

    async def session(i: int, cp_id: str) -> int:
        nonlocal online
        password = f"password-of-{cp_id}" if i % 2 else None
        async with connected(stack, cp_id, PatientCharger, password=password) as cp:
            online += 1
            if online == CHARGERS:
                all_connected.set()
            # every charger is connected before any of them finishes
            await asyncio.wait_for(all_connected.wait(), 30)
            boot = await cp.call(call.BootNotification(charge_point_model="M", charge_point_vendor=cp_id))
            assert boot.status == "Accepted"
            await cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Preparing"))
            start = await cp.call(
                call.StartTransaction(
                    connector_id=1, id_tag=f"TAG-{i:03d}", meter_start=0, timestamp="2026-11-21T10:00:00Z"
                )
            )
            assert start.id_tag_info["status"] == "Accepted"
            await cp.call(
                call.MeterValues(
                    connector_id=1,
                    transaction_id=start.transaction_id,
                    meter_value=a_meter_values(samples=3)["meterValue"],
                )
            )
            await cp.call(
                call.StopTransaction(
                    meter_stop=100 + i, timestamp="2026-11-21T11:00:00Z", transaction_id=start.transaction_id
                )
            )
            await cp.call(call.Heartbeat())
            return int(start.transaction_id)

    transaction_ids = await asyncio.gather(*(session(i, cp_id) for i, cp_id in enumerate(ids)))
    assert len(set(transaction_ids)) == CHARGERS
    assert rows(engine, "SELECT count(*) AS n FROM charge_points WHERE vendor = id") == [{"n": CHARGERS}]
    assert rows(engine, "SELECT count(*) AS n FROM transactions WHERE meter_stop IS NOT NULL") == [
        {"n": CHARGERS}
    ]
    assert rows(engine, "SELECT count(*) AS n FROM meter_samples") == [{"n": 3 * CHARGERS}]
    assert rows(engine, "SELECT count(*) AS n FROM connectors WHERE status = 'Preparing'") == [
        {"n": CHARGERS}
    ]
    # each transaction belongs to the charger that started it
    owners = rows(
        engine,
        "SELECT count(*) AS n FROM transactions t JOIN id_tokens g ON g.id_token = t.id_token "
        "WHERE substr(t.charge_point_id, 7) = substr(g.id_token, 5)",
    )
    assert owners == [{"n": CHARGERS}]

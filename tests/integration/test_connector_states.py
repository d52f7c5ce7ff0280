"""Connector status in the version-neutral model, against PostgreSQL: EVSE and connector
addressing, the reported status beside the normalized state and charging state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from csms.data.database import PgDatabase
from csms.domain.stations import AvailabilityState, ChargingState, ConnectorStatus, StatusRecorded
from csms.services.provisioning import ProvisioningService
from tests.integration.conftest import rows

pytestmark = pytest.mark.integration

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def a_status(**overrides: object) -> ConnectorStatus:
    values: dict[str, object] = {
        "evse_id": 1,
        "connector_id": 1,
        "status": "Occupied",
        "state": AvailabilityState.OCCUPIED,
        "timestamp": T0,
    }
    values.update(overrides)
    return ConnectorStatus(**values)  # type: ignore[arg-type]


def record(engine: Engine, status: ConnectorStatus) -> StatusRecorded | None:
    return PgDatabase(engine).run(lambda uow: uow.connectors.record_status("acme", "ST-1", status, T0))


@pytest.fixture(autouse=True)
def station(provisioning: ProvisioningService) -> None:
    provisioning.add_charger("ST-1", "acme", T0, security_profile=0)


def test_a_report_without_a_charging_state_keeps_it_while_occupied(engine: Engine) -> None:
    # Given a connector charging (as a 1.6 Charging, or a 2.0.1 transaction's charging state)
    record(engine, a_status(status="Charging", charging_state=ChargingState.CHARGING))
    # When a report that says nothing about charging (2.0.1 StatusNotification Occupied) follows
    kept = record(engine, a_status(timestamp=T0 + timedelta(minutes=1)))
    # Then it stays Charging, in the latest status and in the history
    assert kept == StatusRecorded(
        new_report=True,
        previous_status="Charging",
        previous_state=AvailabilityState.OCCUPIED,
        previous_charging_state=ChargingState.CHARGING,
        charging_state=ChargingState.CHARGING,
    )
    # And once the connector is no longer occupied, it has none
    cleared = record(
        engine,
        a_status(status="Faulted", state=AvailabilityState.FAULTED, timestamp=T0 + timedelta(minutes=2)),
    )
    assert cleared is not None
    assert cleared.charging_state is None
    assert rows(
        engine,
        "SELECT status, state, charging_state, error_code FROM connector_status_history "
        "ORDER BY status_timestamp",
    ) == [
        {"status": "Charging", "state": "Occupied", "charging_state": "Charging", "error_code": None},
        {"status": "Occupied", "state": "Occupied", "charging_state": "Charging", "error_code": None},
        {"status": "Faulted", "state": "Faulted", "charging_state": None, "error_code": None},
    ]


def test_connectors_of_one_evse_are_apart(engine: Engine) -> None:
    # Two connectors of EVSE 1 report the same status at the same instant (after a boot)
    for connector in (1, 2):
        recorded = record(
            engine, a_status(connector_id=connector, status="Available", state=AvailabilityState.AVAILABLE)
        )
        assert recorded is not None
        assert recorded.new_report
    # A retried report is one history row
    available = {"status": "Available", "state": AvailabilityState.AVAILABLE}
    retried = record(engine, a_status(connector_id=2, **available))
    assert retried is not None
    assert not retried.new_report
    assert rows(engine, "SELECT evse_id, connector_id, status FROM connectors ORDER BY connector_id") == [
        {"evse_id": 1, "connector_id": 1, "status": "Available"},
        {"evse_id": 1, "connector_id": 2, "status": "Available"},
    ]
    assert rows(engine, "SELECT count(*) AS n FROM connector_status_history") == [{"n": 2}]

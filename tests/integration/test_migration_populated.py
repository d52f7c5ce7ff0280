"""Migrations 0010 onward (issue 12, the version-neutral model) carry a populated 1.6 database
over: every row keeps its ids, and a 1.6 charger then works against the migrated rows.

The database is built at revision 0009 (the last one before the neutral model) with what a
year of 1.6 operation leaves behind, upgraded to head, and read back. A 1.6 charger is then
played through the real 1.6 dispatcher and the PostgreSQL repositories on that database.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, text

from csms.data.database import PgDatabase
from csms.data.device_model import PgDeviceModelStore
from csms.data.fleet import PgFleetQueries
from csms.data.liveness import PgHeartbeatIntervals
from csms.data.migrate import alembic_config, upgrade
from csms.domain.device_model import LOCAL_LIST_ENTRIES, VariableSource
from csms.domain.stations import ChargerContext
from csms.ocpp16.adapter import ADAPTER
from csms.ocpp16.configuration import configuration_values
from csms.ocpp16.registry import Services
from csms.ocppj.dispatcher import Dispatcher
from csms.security import hash_password, verify_password
from csms.services.admission import AdmissionService
from csms.services.authorization import AuthorizationService
from csms.services.core import ChargePointService, DataTransferService
from csms.services.device_model import DeviceModelService
from csms.services.stations import Stations
from csms.services.transactions import TransactionService
from tests.fakes import FakeConnectionStore
from tests.integration.conftest import rows

pytestmark = pytest.mark.integration

MIGRATION_DB = "csms_populated_migration"
BEFORE = "0009"
T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
PASSWORD = "a-station-password-16"


@pytest.fixture
def scratch_engine(engine: Engine) -> Iterator[Engine]:
    """A database of its own on the same server, to migrate step by step."""
    admin = create_engine(engine.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {MIGRATION_DB} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {MIGRATION_DB}"))
    scratch = create_engine(
        engine.url.set(database=MIGRATION_DB), connect_args={"options": "-c timezone=UTC"}
    )
    try:
        yield scratch
    finally:
        scratch.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {MIGRATION_DB} WITH (FORCE)"))
        admin.dispose()


def _insert(conn: Any, table: str, **values: Any) -> Any:
    columns = ", ".join(values)
    params = ", ".join(f":{k}" for k in values)
    encoded = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in values.items()}
    return conn.execute(
        text(f"INSERT INTO {table} ({columns}) VALUES ({params}) RETURNING *"), encoded
    ).first()


def populate_16(engine: Engine) -> dict[str, Any]:
    """What a 1.6 deployment at revision 0009 holds; returns the ids allocated."""
    ids: dict[str, Any] = {}
    with engine.begin() as conn:
        _insert(conn, "tenants", id="acme", name="Acme", created_at=T0)
        _insert(conn, "locations", id="depot", tenant_id="acme", name="Depot", created_at=T0, updated_at=T0)
        for cp, password in (("CP-A", PASSWORD), ("CP-B", None)):
            _insert(
                conn,
                "charge_points",
                id=cp,
                tenant_id="acme",
                password_hash=hash_password(password) if password else None,
                registration_status="Accepted",
                vendor="Acme",
                model="Fast-22",
                charge_box_serial_number="BOX-1",
                meter_type="ABB",
                last_boot_at=T0,
                created_at=T0,
                updated_at=T0,
                location_id="depot",
            )
        # Connector 0 (the charger), a charging connector 1 and a faulted connector 2
        for connector, status, error in (
            (0, "Available", "NoError"),
            (1, "Charging", "NoError"),
            (2, "Faulted", "GroundFailure"),
        ):
            _insert(
                conn,
                "connectors",
                tenant_id="acme",
                charge_point_id="CP-A",
                connector_id=connector,
                status=status,
                error_code=error,
                status_timestamp=T0,
                updated_at=T0,
            )
        for minutes, status in ((0, "Available"), (5, "Preparing"), (6, "Charging"), (50, "Finishing")):
            _insert(
                conn,
                "connector_status_history",
                tenant_id="acme",
                charge_point_id="CP-A",
                connector_id=1,
                status=status,
                error_code="NoError",
                status_timestamp=T0 + timedelta(minutes=minutes),
                received_at=T0 + timedelta(minutes=minutes),
            )
        for tag, status, parent in (("TAG-OLD", "Accepted", "FLEET"), ("TAG-BLOCKED", "Blocked", None)):
            _insert(
                conn,
                "id_tags",
                tenant_id="acme",
                id_tag=tag,
                status=status,
                parent_id_tag=parent,
                expiry_date=T0 + timedelta(days=3650),
                created_at=T0,
                updated_at=T0,
            )
        closed = _insert(
            conn,
            "transactions",
            tenant_id="acme",
            charge_point_id="CP-A",
            connector_id=1,
            id_tag="TAG-OLD",
            start_auth_status="Accepted",
            meter_start=1000,
            start_timestamp=T0,
            meter_stop=9000,
            stop_timestamp=T0 + timedelta(hours=1),
            stop_reason="Local",
            stop_id_tag="TAG-OLD",
            started_received_at=T0,
            stopped_received_at=T0 + timedelta(hours=1),
        )
        opened = _insert(
            conn,
            "transactions",
            tenant_id="acme",
            charge_point_id="CP-A",
            connector_id=2,
            id_tag="TAG-OLD",
            start_auth_status="Accepted",
            meter_start=500,
            start_timestamp=T0 + timedelta(hours=2),
            started_received_at=T0 + timedelta(hours=2),
        )
        refused = _insert(
            conn,
            "transactions",
            tenant_id="acme",
            charge_point_id="CP-A",
            connector_id=1,
            id_tag="TAG-BLOCKED",
            start_auth_status="Blocked",
            meter_start=9000,
            start_timestamp=T0 + timedelta(hours=3),
            meter_stop=9000,
            stop_timestamp=T0 + timedelta(hours=3, minutes=1),
            stop_reason="DeAuthorized",
            started_received_at=T0 + timedelta(hours=3),
            stopped_received_at=T0 + timedelta(hours=3, minutes=1),
        )
        ids["closed"], ids["open"], ids["refused"] = closed.id, opened.id, refused.id
        # The day's rollup counted the refused start as a session (two then, one now)
        _insert(
            conn,
            "energy_rollup",
            tenant_id="acme",
            charge_point_id="CP-A",
            day=T0.date(),
            energy_wh=8000.0,
            session_count=3,
            computed_at=T0 + timedelta(days=1),
        )
        _insert(
            conn,
            "unknown_transaction_stops",
            tenant_id="acme",
            charge_point_id="CP-A",
            transaction_id=777,
            meter_stop=10,
            stop_timestamp=T0,
            received_at=T0,
        )
        # Samples in two monthly partitions (and the default one, far in the past)
        conn.execute(text("SELECT csms_ensure_meter_partitions(:first, 2)"), {"first": T0})
        for at, value in (
            (T0 + timedelta(minutes=30), "5000"),
            (T0 + timedelta(days=31), "7000"),
            (datetime(2001, 1, 1, tzinfo=UTC), "1"),
        ):
            _insert(
                conn,
                "meter_samples",
                tenant_id="acme",
                charge_point_id="CP-A",
                connector_id=1,
                transaction_id=closed.id,
                timestamp=at,
                measurand="Energy.Active.Import.Register",
                unit="Wh",
                context="Sample.Periodic",
                location="Outlet",
                format="Raw",
                value=value,
                numeric_value=float(value),
                received_at=at,
            )
        for key, value, readonly, known, at in (
            ("HeartbeatInterval", "120", False, True, T0),
            # the old key was case-sensitive: the newer of the two stays
            ("heartbeatinterval", "60", False, True, T0 - timedelta(hours=1)),
            ("LightIntensity", "40", False, True, T0),
            ("NumberOfConnectors", "2", True, True, T0),
            ("LocalAuthListMaxLength", "500", True, True, T0),
            ("MaxChargingProfilesInstalled", "many", True, True, T0),
            ("AuthorizationKey", "00112233445566778899", False, True, T0),
            ("TransactionMessageAttempts", "3", False, True, T0),
            ("ReserveConnectorZeroSupported", None, None, False, T0),
        ):
            _insert(
                conn,
                "charge_point_configuration",
                tenant_id="acme",
                charge_point_id="CP-A",
                key=key,
                value=value,
                readonly=readonly,
                known=known,
                updated_at=at,
            )
        reservation = _insert(
            conn,
            "reservations",
            tenant_id="acme",
            charge_point_id="CP-A",
            connector_id=2,
            id_tag="TAG-OLD",
            parent_id_tag="FLEET",
            expiry_date=T0 + timedelta(days=1),
            status="used",
            transaction_id=opened.id,
            created_at=T0,
            updated_at=T0,
        )
        ids["reservation"] = reservation.id
        profile = _insert(
            conn,
            "charging_profiles",
            tenant_id="acme",
            charge_point_id="CP-A",
            connector_id=1,
            charging_profile_id=7,
            purpose="TxDefaultProfile",
            stack_level=0,
            kind="Absolute",
            schedule={"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}]},
            status="installed",
            created_at=T0,
            updated_at=T0,
        )
        ids["profile"] = profile.id
        _insert(
            conn,
            "commands",
            id="cmd-1",
            tenant_id="acme",
            charge_point_id="CP-A",
            action="ReserveNow",
            request={"connectorId": 2, "idTag": "TAG-OLD", "reservationId": reservation.id},
            status="accepted",
            response={"status": "Accepted"},
            created_at=T0,
        )
    return ids


def dispatcher_16(engine: Engine) -> Dispatcher[Services]:
    db = PgDatabase(engine)
    return Dispatcher(
        ADAPTER,
        Services(
            charge_points=ChargePointService(db, FakeConnectionStore(), heartbeat_interval=300),
            authorization=AuthorizationService(db),
            transactions=TransactionService(db),
            data_transfer=DataTransferService(),
        ),
    )


def answer(dispatcher: Dispatcher[Services], action: str, payload: dict[str, Any], at: datetime) -> Any:
    ctx = ChargerContext(charge_point_id="CP-A", tenant_id="acme", connection_id="c-1")
    outcome = dispatcher.dispatch(json.dumps([2, "m-1", action, payload]), ctx, at)
    assert outcome.reply is not None
    reply = json.loads(outcome.reply)
    assert reply[0] == 3, reply
    return reply[2]


def _variable(
    component: str,
    variable: str,
    value: str | None,
    mutability: str | None,
    *,
    key: str,
    instance: str = "",
    limit: int | None = None,
    known: bool = True,
) -> dict[str, Any]:
    return {
        "component": component,
        "component_instance": "",
        "evse_id": -1,
        "connector_id": -1,
        "variable": variable,
        "variable_instance": instance,
        "attribute_type": "Actual",
        "value": value,
        "mutability": mutability,
        "characteristics": {"maxLimit": limit} if limit is not None else None,
        "known": known,
        "source": "Migrated",
        "ocpp16_key": key,
        "updated_at": T0,
    }


def test_a_populated_16_database_is_carried_over(scratch_engine: Engine) -> None:
    # Given a 1.6 database at the last revision before the version-neutral model
    upgrade(scratch_engine, BEFORE)
    ids = populate_16(scratch_engine)

    # When it is migrated to head
    upgrade(scratch_engine)

    # Then the stations keep their ids, settings and password, unpinned and of unknown protocol
    stations = rows(scratch_engine, "SELECT * FROM charge_points ORDER BY id")
    assert [s["id"] for s in stations] == ["CP-A", "CP-B"]
    assert verify_password(PASSWORD, str(stations[0]["password_hash"]))
    assert stations[1]["password_hash"] is None
    # (0017) the one with a password needs it (profile 2); the one without keeps connecting
    # without, now as an explicit profile 0 the API shows
    assert [s["security_profile"] for s in stations] == [2, 0]
    assert [(s["ocpp_version"], s["last_protocol"], s["boot_reason"]) for s in stations] == [
        (None, None, None)
    ] * 2
    assert (stations[0]["charge_box_serial_number"], stations[0]["location_id"]) == ("BOX-1", "depot")
    # 1.6 connector N is EVSE N connector 1 (connector 0: EVSE 0 connector 0), with the
    # normalized state and charging state next to the status as reported
    assert rows(
        scratch_engine,
        "SELECT evse_id, connector_id, status, state, charging_state, error_code FROM connectors "
        "ORDER BY evse_id, connector_id",
    ) == [
        {
            "evse_id": 0,
            "connector_id": 0,
            "status": "Available",
            "state": "Available",
            "charging_state": "Idle",
            "error_code": "NoError",
        },
        {
            "evse_id": 1,
            "connector_id": 1,
            "status": "Charging",
            "state": "Occupied",
            "charging_state": "Charging",
            "error_code": "NoError",
        },
        {
            "evse_id": 2,
            "connector_id": 1,
            "status": "Faulted",
            "state": "Faulted",
            "charging_state": None,
            "error_code": "GroundFailure",
        },
    ]
    assert rows(
        scratch_engine,
        "SELECT id, evse_id, connector_id, status, state, charging_state FROM connector_status_history "
        "ORDER BY id",
    ) == [
        {
            "id": 1,
            "evse_id": 1,
            "connector_id": 1,
            "status": "Available",
            "state": "Available",
            "charging_state": "Idle",
        },
        {
            "id": 2,
            "evse_id": 1,
            "connector_id": 1,
            "status": "Preparing",
            "state": "Occupied",
            "charging_state": "EVConnected",
        },
        {
            "id": 3,
            "evse_id": 1,
            "connector_id": 1,
            "status": "Charging",
            "state": "Occupied",
            "charging_state": "Charging",
        },
        {
            "id": 4,
            "evse_id": 1,
            "connector_id": 1,
            "status": "Finishing",
            "state": "Occupied",
            "charging_state": "EVConnected",
        },
    ]
    # Id tags are id tokens: RFID cards (ISO14443), their parent a group token of the CSMS's
    assert rows(
        scratch_engine,
        "SELECT id_token, type, status, group_id_token, group_id_token_type, expiry_date FROM id_tokens "
        "ORDER BY id_token",
    ) == [
        {
            "id_token": "TAG-BLOCKED",
            "type": "ISO14443",
            "status": "Blocked",
            "group_id_token": None,
            "group_id_token_type": None,
            "expiry_date": T0 + timedelta(days=3650),
        },
        {
            "id_token": "TAG-OLD",
            "type": "ISO14443",
            "status": "Accepted",
            "group_id_token": "FLEET",
            "group_id_token_type": "Central",
            "expiry_date": T0 + timedelta(days=3650),
        },
    ]
    # Reservations and charging profiles address the EVSE of their 1.6 connector; a reservation's
    # tag is its (untyped) token
    assert rows(
        scratch_engine,
        "SELECT id, evse_id, status, transaction_id, id_token, id_token_type, group_id_token "
        "FROM reservations",
    ) == [
        {
            "id": ids["reservation"],
            "evse_id": 2,
            "status": "used",
            "transaction_id": ids["open"],
            "id_token": "TAG-OLD",
            "id_token_type": None,
            "group_id_token": "FLEET",
        }
    ]
    assert rows(scratch_engine, "SELECT id, evse_id, charging_profile_id, status FROM charging_profiles") == [
        {"id": ids["profile"], "evse_id": 1, "charging_profile_id": 7, "status": "installed"}
    ]
    assert rows(scratch_engine, "SELECT id, action, status FROM commands") == [
        {"id": "cmd-1", "action": "ReserveNow", "status": "accepted"}
    ]
    # Transactions keep their ids, which are their protocol ids as text; 1.6 connector N is
    # EVSE N connector 1; the tag is an untyped token; a refused start is deauthorized
    assert rows(
        scratch_engine,
        "SELECT id, transaction_id, protocol, evse_id, connector_id, id_token, id_token_type, "
        "start_auth_status, meter_start, meter_stop, stop_id_token, "
        "deauthorized_at IS NOT NULL AS deauthorized FROM transactions ORDER BY id",
    ) == [
        {
            "id": ids["closed"],
            "transaction_id": str(ids["closed"]),
            "protocol": "ocpp1.6",
            "evse_id": 1,
            "connector_id": 1,
            "id_token": "TAG-OLD",
            "id_token_type": None,
            "start_auth_status": "Accepted",
            "meter_start": 1000,
            "meter_stop": 9000,
            "stop_id_token": "TAG-OLD",
            "deauthorized": False,
        },
        {
            "id": ids["open"],
            "transaction_id": str(ids["open"]),
            "protocol": "ocpp1.6",
            "evse_id": 2,
            "connector_id": 1,
            "id_token": "TAG-OLD",
            "id_token_type": None,
            "start_auth_status": "Accepted",
            "meter_start": 500,
            "meter_stop": None,
            "stop_id_token": None,
            "deauthorized": False,
        },
        {
            "id": ids["refused"],
            "transaction_id": str(ids["refused"]),
            "protocol": "ocpp1.6",
            "evse_id": 1,
            "connector_id": 1,
            "id_token": "TAG-BLOCKED",
            "id_token_type": None,
            "start_auth_status": "Blocked",
            "meter_start": 9000,
            "meter_stop": 9000,
            "stop_id_token": None,
            "deauthorized": True,
        },
    ]
    # each with the 1.6 events it stands for: Started, and Ended once stopped
    assert rows(
        scratch_engine,
        "SELECT transaction_pk, seq_no, event_type, id_token_status FROM transaction_events "
        "ORDER BY transaction_pk, event_type DESC",
    ) == [
        {
            "transaction_pk": ids["closed"],
            "seq_no": 0,
            "event_type": "Started",
            "id_token_status": "Accepted",
        },
        {"transaction_pk": ids["closed"], "seq_no": None, "event_type": "Ended", "id_token_status": None},
        {"transaction_pk": ids["open"], "seq_no": 0, "event_type": "Started", "id_token_status": "Accepted"},
        {
            "transaction_pk": ids["refused"],
            "seq_no": 0,
            "event_type": "Started",
            "id_token_status": "Blocked",
        },
        {"transaction_pk": ids["refused"], "seq_no": None, "event_type": "Ended", "id_token_status": None},
    ]
    # Samples stay in their partitions, by EVSE, with their transaction
    assert rows(
        scratch_engine,
        "SELECT tableoid::regclass::text AS part, evse_id, transaction_id, value FROM meter_samples "
        "ORDER BY value",
    ) == [
        {"part": "meter_samples_default", "evse_id": 1, "transaction_id": ids["closed"], "value": "1"},
        {"part": "meter_samples_2026_06", "evse_id": 1, "transaction_id": ids["closed"], "value": "5000"},
        {"part": "meter_samples_2026_07", "evse_id": 1, "transaction_id": ids["closed"], "value": "7000"},
    ]
    assert rows(scratch_engine, "SELECT transaction_id FROM unknown_transaction_stops") == [
        {"transaction_id": "777"}
    ]
    # The configuration is the device model: each key under its 2.0.1 variable (a capacity as the
    # maxLimit of what it counts; one that is not a number, and keys without an equivalent, under
    # component OCPP16), keeping the key; the credential without its value
    assert rows(
        scratch_engine,
        "SELECT component, component_instance, evse_id, connector_id, variable, variable_instance, "
        "attribute_type, value, mutability, characteristics, known, source, ocpp16_key, updated_at "
        "FROM device_model_variables ORDER BY lower(component), lower(variable)",
    ) == [
        _variable("LocalAuthListCtrlr", "Entries", None, "ReadOnly", key="LocalAuthListMaxLength", limit=500),
        _variable("OCPP16", "LightIntensity", "40", "ReadWrite", key="LightIntensity"),
        _variable(
            "OCPP16", "MaxChargingProfilesInstalled", "many", "ReadOnly", key="MaxChargingProfilesInstalled"
        ),
        _variable("OCPP16", "NumberOfConnectors", "2", "ReadOnly", key="NumberOfConnectors"),
        _variable("OCPPCommCtrlr", "HeartbeatInterval", "120", "ReadWrite", key="HeartbeatInterval"),
        _variable(
            "OCPPCommCtrlr",
            "MessageAttempts",
            "3",
            "ReadWrite",
            key="TransactionMessageAttempts",
            instance="TransactionEvent",
        ),
        _variable(
            "ReservationCtrlr",
            "NonEvseSpecific",
            None,
            None,
            key="ReserveConnectorZeroSupported",
            known=False,
        ),
        _variable("SecurityCtrlr", "BasicAuthPassword", None, "ReadWrite", key="AuthorizationKey"),
    ]
    # and the refused start is no session in the rolled-up day (its energy stays)
    assert rows(scratch_engine, "SELECT energy_wh, session_count FROM energy_rollup") == [
        {"energy_wh": 8000.0, "session_count": 2}
    ]


def test_a_16_charger_works_against_the_migrated_rows(scratch_engine: Engine) -> None:
    upgrade(scratch_engine, BEFORE)
    ids = populate_16(scratch_engine)
    upgrade(scratch_engine)
    at = T0 + timedelta(days=40)

    # The station with a password is admitted with it
    admission = AdmissionService(PgDatabase(scratch_engine), allow_unknown=False, default_tenant="acme")
    from csms.security import BasicCredentials

    admitted = admission.admit("CP-A", BasicCredentials("CP-A", PASSWORD), at)
    assert admitted.refusal is None

    # An old tag is authorised as before (whatever its case), with its parent
    dispatcher = dispatcher_16(scratch_engine)
    assert answer(dispatcher, "Authorize", {"idTag": "tag-old"}, at) == {
        "idTagInfo": {"status": "Accepted", "expiryDate": "2036-05-29T08:00:00.000Z", "parentIdTag": "FLEET"}
    }
    assert answer(dispatcher, "Authorize", {"idTag": "TAG-BLOCKED"}, at)["idTagInfo"]["status"] == "Blocked"
    # It stops the transaction left open before the migration by its integer id, after a
    # MeterValues for it
    samples = {
        "connectorId": 2,
        "transactionId": ids["open"],
        "meterValue": [{"timestamp": at.isoformat(), "sampledValue": [{"value": "2500"}]}],
    }
    assert answer(dispatcher, "MeterValues", samples, at) == {}
    stop = {"transactionId": ids["open"], "meterStop": 3000, "timestamp": at.isoformat(), "idTag": "TAG-OLD"}
    assert answer(dispatcher, "StopTransaction", stop, at)["idTagInfo"]["status"] == "Accepted"
    assert rows(
        scratch_engine,
        "SELECT meter_start, meter_stop, stop_timestamp, flagged_at FROM transactions WHERE id = :id",
        id=ids["open"],
    ) == [{"meter_start": 500, "meter_stop": 3000, "stop_timestamp": at, "flagged_at": None}]
    assert rows(
        scratch_engine,
        "SELECT evse_id, transaction_id FROM meter_samples WHERE value = '2500'",
    ) == [{"evse_id": 2, "transaction_id": ids["open"]}]
    # and a new transaction continues the ids
    started = answer(
        dispatcher,
        "StartTransaction",
        {"connectorId": 1, "idTag": "TAG-OLD", "meterStart": 9000, "timestamp": at.isoformat()},
        at,
    )
    assert started["transactionId"] > ids["refused"]
    assert started["idTagInfo"]["status"] == "Accepted"
    # A status report replaces the migrated one of the same connector
    report = {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": at.isoformat()}
    assert answer(dispatcher, "StatusNotification", report, at) == {}
    assert rows(
        scratch_engine, "SELECT status, state FROM connectors WHERE evse_id = 1 AND connector_id = 1"
    ) == [{"status": "Available", "state": "Available"}]
    # The migrated HeartbeatInterval is the station's heartbeat interval (the liveness job reads
    # OCPPCommCtrlr.HeartbeatInterval), and a later GetConfiguration answer lands on the same
    # variable, whatever the key's case
    intervals = PgHeartbeatIntervals(PgDatabase(scratch_engine))
    assert intervals.heartbeat_intervals(["CP-A", "CP-B"]) == {"CP-A": 120}
    device_model = DeviceModelService(
        PgDeviceModelStore(PgDatabase(scratch_engine)), Stations(PgFleetQueries(PgDatabase(scratch_engine)))
    )
    device_model.record(
        "acme",
        "CP-A",
        configuration_values([{"key": "HEARTBEATINTERVAL", "readonly": False, "value": "30"}], []),
        VariableSource.GET_CONFIGURATION,
        at,
    )
    assert intervals.heartbeat_intervals(["CP-A"]) == {"CP-A": 30}
    assert rows(
        scratch_engine,
        "SELECT variable, value, source, ocpp16_key FROM device_model_variables "
        "WHERE lower(variable) = 'heartbeatinterval'",
    ) == [
        {
            "variable": "HeartbeatInterval",
            "value": "30",
            "source": "GetConfiguration",
            "ocpp16_key": "HEARTBEATINTERVAL",
        }
    ]
    assert device_model.known("acme", "CP-A", [LOCAL_LIST_ENTRIES])[LOCAL_LIST_ENTRIES].max_limit() == 500


def test_the_migrations_go_back_down_with_the_16_data(scratch_engine: Engine) -> None:
    # Given the populated 1.6 database migrated to head
    upgrade(scratch_engine, BEFORE)
    ids = populate_16(scratch_engine)
    before = {
        table: rows(scratch_engine, f"SELECT {columns} FROM {table} ORDER BY {order}")
        for table, columns, order in _ROUND_TRIP
    }
    upgrade(scratch_engine)

    # When it goes back down to the revision before the version-neutral model
    _downgrade(scratch_engine, BEFORE)

    # Then the 1.6 rows are back as they were, except what the neutral model does not keep: a
    # credential's value, and the older of two keys differing only in case
    after = {
        table: rows(scratch_engine, f"SELECT {columns} FROM {table} ORDER BY {order}")
        for table, columns, order in _ROUND_TRIP
    }
    configuration = [
        {**r, "value": None} if r["key"] == "AuthorizationKey" else r
        for r in before.pop("charge_point_configuration")
        if r["key"] != "heartbeatinterval"
    ]
    assert after.pop("charge_point_configuration") == configuration
    assert after == before
    assert {r["id"] for r in after["transactions"]} == {ids["closed"], ids["open"], ids["refused"]}


#: (table, columns, order) of the 1.6 schema compared before upgrading and after downgrading.
_ROUND_TRIP = (
    ("charge_points", "id, tenant_id, password_hash, location_id, last_boot_at", "id"),
    ("connectors", "charge_point_id, connector_id, status, error_code", "charge_point_id, connector_id"),
    ("connector_status_history", "id, connector_id, status", "id"),
    ("id_tags", "tenant_id, id_tag, status, parent_id_tag, expiry_date", "id_tag"),
    (
        "transactions",
        "id, charge_point_id, connector_id, id_tag, start_auth_status, meter_start, meter_stop, "
        "start_timestamp, stop_timestamp, stop_reason, stop_id_tag",
        "id",
    ),
    ("meter_samples", "connector_id, transaction_id, value", "value"),
    ("unknown_transaction_stops", "transaction_id", "transaction_id"),
    ("reservations", "id, connector_id, id_tag, parent_id_tag, status, transaction_id", "id"),
    ("charging_profiles", "id, connector_id, charging_profile_id, status", "id"),
    ("charge_point_configuration", "charge_point_id, key, value, readonly, known, updated_at", "key"),
)


def _downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

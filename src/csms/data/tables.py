"""The relational schema as SQLAlchemy Core tables (the queries' view of it).

The schema itself is owned by the Alembic migrations in ``migrations/versions``; a test
checks that a migrated database matches these definitions.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    Text,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

metadata = MetaData()

TS = DateTime(timezone=True)

tenants = Table(
    "tenants",
    metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("created_at", TS, nullable=False),
    # Migration 0017: the URL schemes and hosts its firmware and diagnostics URLs may use
    # (NULL: the deployment's default, CSMS_FILE_URL_SCHEMES; hosts NULL: any).
    Column("file_url_schemes", ARRAY(Text)),
    Column("file_url_hosts", ARRAY(Text)),
    # Migration 0020: the security profile a station gets when provisioned without one.
    Column("default_security_profile", SmallInteger, nullable=False, server_default="2"),
)

charge_points = Table(
    "charge_points",
    metadata,
    # Globally unique: a charger presents only its id in the URL, so the id alone must
    # identify it (and hence its tenant).
    Column("id", Text, primary_key=True),
    Column("tenant_id", Text, ForeignKey("tenants.id"), nullable=False),
    Column("password_hash", Text),
    # Migration 0019: a password rotation (rotate-password): the new password's hash while it is
    # in flight, the old one's after the station accepted (until it connects with the new one).
    Column("pending_password_hash", Text),
    Column("previous_password_hash", Text),
    Column("password_command_id", Text),
    Column("password_rotation", Text),
    Column("registration_status", Text, nullable=False),
    Column("vendor", Text),
    Column("model", Text),
    Column("serial_number", Text),
    Column("charge_box_serial_number", Text),
    Column("firmware_version", Text),
    Column("iccid", Text),
    Column("imsi", Text),
    Column("meter_type", Text),
    Column("meter_serial_number", Text),
    Column("last_boot_at", TS),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    # With tenant_id, references locations (tenant_id, id); ON DELETE SET NULL (location_id).
    Column("location_id", Text),
    #: Set when an operator decommissions the charger: it may no longer connect, its
    #: history stays.
    Column("decommissioned_at", TS),
    # Migration 0010: the protocol the station is pinned to (ocpp1.6 | ocpp2.0.1; NULL
    # negotiates), the protocol of its latest connection, and the reason of its latest boot.
    Column("ocpp_version", Text),
    Column("last_protocol", Text),
    Column("boot_reason", Text),
    # Migration 0017: 0 (no password, an explicit choice), 1 or 2 (HTTP Basic auth; 2 = TLS).
    Column("security_profile", SmallInteger, nullable=False, server_default="2"),
    # Migration 0020: 'station' (asked for, or implied by a password) or 'tenant' (its default).
    Column("security_profile_source", Text, nullable=False, server_default="station"),
)

locations = Table(
    "locations",
    metadata,
    # Per tenant: (tenant_id, id) is the key.
    Column("id", Text, primary_key=True),
    Column("tenant_id", Text, ForeignKey("tenants.id"), primary_key=True),
    Column("name", Text, nullable=False),
    Column("address", Text),
    Column("city", Text),
    Column("postal_code", Text),
    Column("country", Text),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)

connectors = Table(
    "connectors",
    metadata,
    Column("tenant_id", Text, nullable=False),
    Column("charge_point_id", Text, ForeignKey("charge_points.id", ondelete="CASCADE"), nullable=False),
    # Migration 0010: an EVSE (0 = the station itself) and a connector within it; the status
    # as reported, and the normalized state and charging state every report reads.
    Column("evse_id", Integer, nullable=False),
    Column("connector_id", Integer, nullable=False),
    Column("status", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("charging_state", Text),
    Column("error_code", Text),
    Column("info", Text),
    Column("vendor_id", Text),
    Column("vendor_error_code", Text),
    Column("status_timestamp", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    PrimaryKeyConstraint("charge_point_id", "evse_id", "connector_id"),
)

connector_status_history = Table(
    "connector_status_history",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("charge_point_id", Text, ForeignKey("charge_points.id", ondelete="CASCADE"), nullable=False),
    Column("evse_id", Integer, nullable=False),
    Column("connector_id", Integer, nullable=False),
    Column("status", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("charging_state", Text),
    Column("error_code", Text),
    Column("info", Text),
    Column("vendor_id", Text),
    Column("vendor_error_code", Text),
    Column("status_timestamp", TS, nullable=False),
    Column("received_at", TS, nullable=False),
)

#: Migration 0011 (was id_tags): typed tokens, unique per tenant by (type, lower(id_token)).
id_tokens = Table(
    "id_tokens",
    metadata,
    Column("tenant_id", Text, ForeignKey("tenants.id"), nullable=False),
    Column("id_token", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("expiry_date", TS),
    Column("group_id_token", Text),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("type", Text, nullable=False),
    Column("group_id_token_type", Text),
    PrimaryKeyConstraint("tenant_id", "type", "id_token"),
)

transactions = Table(
    "transactions",
    metadata,
    # Ours: a 32-bit integer allocated by PostgreSQL (and a 1.6 charger's transactionId).
    Column("id", Integer, Identity(), primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("charge_point_id", Text, ForeignKey("charge_points.id"), nullable=False),
    Column("evse_id", Integer),
    Column("id_token", Text),
    Column("start_auth_status", Text),
    Column("meter_start", BigInteger),
    Column("start_timestamp", TS, nullable=False),
    Column("reservation_id", Integer),
    Column("meter_stop", BigInteger),
    Column("stop_timestamp", TS),
    Column("stop_reason", Text),
    Column("stop_id_token", Text),
    Column("transaction_data", JSONB),
    Column("started_received_at", TS, nullable=False),
    Column("stopped_received_at", TS),
    # Migration 0005: flagged for an operator; closed_by is 'csms' when the CSMS closed it
    # (OCPP made the end certain), NULL when the station did.
    Column("flagged_at", TS),
    Column("flag_reason", Text),
    Column("closed_by", Text),
    # Migration 0012: the protocol's id (1.6: id::text; 2.0.1: the station's), unique per
    # station, and what a 2.0.1 transaction's events tell.
    Column("connector_id", Integer),
    Column("transaction_id", Text, nullable=False),
    Column("id_token_type", Text),
    Column("stop_id_token_type", Text),
    Column("protocol", Text, nullable=False, server_default="ocpp1.6"),
    Column("seq_no", Integer),
    Column("charging_state", Text),
    Column("remote_start_id", Integer),
    Column("deauthorized_at", TS),
    Column("offline", Boolean, nullable=False, server_default=false()),
    Column("meter_start_at", TS),
    Column("meter_start_context", Text),
    Column("meter_stop_at", TS),
    Column("meter_stop_context", Text),
)

#: Migration 0012: every event of a transaction as received (1.6: its start and stop).
transaction_events = Table(
    "transaction_events",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("charge_point_id", Text, nullable=False),
    Column("transaction_pk", Integer, ForeignKey("transactions.id", ondelete="CASCADE"), nullable=False),
    Column("seq_no", Integer),
    Column("event_type", Text, nullable=False),
    Column("trigger_reason", Text),
    Column("timestamp", TS, nullable=False),
    Column("offline", Boolean, nullable=False, server_default=false()),
    Column("evse_id", Integer),
    Column("connector_id", Integer),
    Column("charging_state", Text),
    Column("stopped_reason", Text),
    Column("id_token", Text),
    Column("id_token_type", Text),
    Column("id_token_status", Text),
    Column("remote_start_id", Integer),
    Column("reservation_id", Integer),
    Column("meter_values", Integer, nullable=False, server_default="0"),
    Column("after_end", Boolean, nullable=False, server_default=false()),
    Column("received_at", TS, nullable=False),
)

unknown_transaction_stops = Table(
    "unknown_transaction_stops",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("charge_point_id", Text, nullable=False),
    Column("transaction_id", Text, nullable=False),
    Column("id_tag", Text),
    Column("meter_stop", BigInteger, nullable=False),
    Column("stop_timestamp", TS, nullable=False),
    Column("reason", Text),
    Column("transaction_data", JSONB),
    Column("received_at", TS, nullable=False),
)

meter_samples = Table(
    "meter_samples",
    metadata,
    # Time-partitioned (or a TimescaleDB hypertable): no surrogate key, the natural key
    # (charger, EVSE, time, measurand, phase, location, context, format) dedupes retries.
    Column("tenant_id", Text, nullable=False),
    Column("charge_point_id", Text, nullable=False),
    Column("evse_id", Integer, nullable=False),
    Column("transaction_id", Integer),
    Column("timestamp", TS, nullable=False),
    Column("measurand", Text, nullable=False),
    Column("phase", Text, nullable=False, server_default=""),  # "" = no phase
    Column("unit", Text, nullable=False),
    Column("context", Text, nullable=False),
    Column("location", Text, nullable=False),
    Column("format", Text, nullable=False),
    Column("value", Text, nullable=False),
    Column("numeric_value", Float),
    Column("received_at", TS, nullable=False),
)

__all__ = [
    "charge_point_events",
    "charge_points",
    "charging_limits",
    "charging_profiles",
    "command_secrets",
    "commands",
    "connector_status_history",
    "connectors",
    "device_events",
    "device_model_variables",
    "domain_events",
    "energy_rollup",
    "energy_rollup_days",
    "ev_charging_needs",
    "id_tokens",
    "load_allocations",
    "load_limit_schedules",
    "load_live_loads",
    "load_nodes",
    "load_sites",
    "local_auth_lists",
    "locations",
    "metadata",
    "meter_samples",
    "report_parts",
    "reservations",
    "security_events",
    "tenants",
    "transaction_events",
    "transactions",
    "unknown_transaction_stops",
]

# --- commands (migration 0003) -------------------------------------------------------------

#: A command's secret (a new password), encrypted, until the command ends (migration 0019).
command_secrets = Table(
    "command_secrets",
    metadata,
    Column("command_id", Text, primary_key=True),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("created_at", TS, nullable=False),
)

commands = Table(
    "commands",
    metadata,
    Column("id", Text, primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("charge_point_id", Text, ForeignKey("charge_points.id"), nullable=False),
    # Migration 0019: the neutral name (or the OCPP action of a protocol-specific command), the
    # protocol it was translated for and the OCPP action sent (NULL until it is known), the
    # operator's request, the OCPP payload, the id the station echoes, the neutral result.
    Column("name", Text, nullable=False),
    Column("protocol", Text),
    Column("action", Text),
    Column("request", JSONB, nullable=False),
    Column("ocpp_request", JSONB),
    Column("request_id", Integer),
    Column("result", JSONB),
    Column("status", Text, nullable=False),
    Column("ocpp_unique_id", Text),
    Column("response", JSONB),
    Column("error_code", Text),
    Column("reason", Text),
    Column("requested_by", Text),
    Column("created_at", TS, nullable=False),
    Column("sent_at", TS),
    Column("deadline", TS),
    Column("finished_at", TS),
    Column("late_response", JSONB),
    Column("late_response_at", TS),
    # Migration 0020: until when it may wait to be sent (station offline, connection gone), and
    # how many times it was sent.
    Column("expires_at", TS),
    Column("attempts", Integer, nullable=False, server_default="0"),
)

#: The device model: one row per attribute (absent instances '', absent EVSE/connector -1).
#: Unique by ux_device_model_variables (charge_point_id, lower(component),
#: lower(component_instance), evse_id, connector_id, lower(variable), lower(variable_instance),
#: attribute_type), an expression index of migration 0013.
device_model_variables = Table(
    "device_model_variables",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("charge_point_id", Text, ForeignKey("charge_points.id", ondelete="CASCADE"), nullable=False),
    Column("component", Text, nullable=False),
    Column("component_instance", Text, nullable=False, server_default=""),
    Column("evse_id", Integer, nullable=False, server_default="-1"),
    Column("connector_id", Integer, nullable=False, server_default="-1"),
    Column("variable", Text, nullable=False),
    Column("variable_instance", Text, nullable=False, server_default=""),
    Column("attribute_type", Text, nullable=False, server_default="Actual"),
    Column("value", Text),
    Column("mutability", Text),
    Column("persistent", Boolean),
    Column("constant", Boolean),
    # None is SQL NULL (not JSON null): the upsert keeps stored characteristics when none are given.
    Column("characteristics", JSONB(none_as_null=True)),
    Column("known", Boolean, nullable=False, server_default="true"),
    Column("source", Text, nullable=False),
    Column("ocpp16_key", Text),
    Column("updated_at", TS, nullable=False),
)

charge_point_events = Table(
    "charge_point_events",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("charge_point_id", Text, ForeignKey("charge_points.id", ondelete="CASCADE"), nullable=False),
    Column("kind", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("received_at", TS, nullable=False),
    # Migration 0022: the 2.0.1 requestId of the command reported on; NULL for 1.6.
    Column("request_id", Integer),
)

local_auth_lists = Table(
    "local_auth_lists",
    metadata,
    Column("tenant_id", Text, nullable=False),
    Column("charge_point_id", Text, ForeignKey("charge_points.id", ondelete="CASCADE"), primary_key=True),
    Column("sent_version", Integer),
    Column("sent_at", TS),
    Column("reported_version", Integer),
    Column("reported_at", TS),
)

reservations = Table(
    "reservations",
    metadata,
    Column("id", Integer, Identity(), primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("charge_point_id", Text, ForeignKey("charge_points.id"), nullable=False),
    # Migration 0019: NULL = no particular EVSE (2.0.1).
    Column("evse_id", Integer),
    Column("id_token", Text, nullable=False),
    Column("group_id_token", Text),
    Column("expiry_date", TS, nullable=False),
    Column("status", Text, nullable=False),
    Column("transaction_id", Integer),
    Column("command_id", Text),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    # Migration 0011: NULL for a reservation made with a 1.6 ReserveNow (its tag has no type).
    Column("id_token_type", Text),
    # Migration 0019
    Column("connector_type", Text),
    Column("group_id_token_type", Text),
)

charging_profiles = Table(
    "charging_profiles",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("charge_point_id", Text, ForeignKey("charge_points.id"), nullable=False),
    Column("evse_id", Integer, nullable=False),
    Column("charging_profile_id", Integer, nullable=False),
    Column("purpose", Text, nullable=False),
    Column("stack_level", Integer, nullable=False),
    Column("kind", Text, nullable=False),
    Column("recurrency_kind", Text),
    Column("valid_from", TS),
    Column("valid_to", TS),
    # Migration 0019: the protocol's transaction id (text); one to three schedules.
    Column("transaction_id", Text),
    Column("schedules", JSONB, nullable=False),
    Column("status", Text, nullable=False),
    Column("command_id", Text),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)

# --- domain events (migration 0005): the outbox and the live feed's log -------------------------

domain_events = Table(
    "domain_events",
    metadata,
    Column("sequence", BigInteger, Identity(), primary_key=True),
    Column("id", UUID(as_uuid=False), nullable=False, unique=True),
    Column("tenant_id", Text, nullable=False),
    Column("charge_point_id", Text),
    Column("type", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("occurred_at", TS, nullable=False),
    Column("correlation_id", Text, nullable=False),
    Column("data", JSONB, nullable=False),
    Column("txid", BigInteger, nullable=False, server_default=text("pg_current_xact_id()::text::bigint")),
    Column("published_at", TS),
    Column("publish_attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("dead_lettered_at", TS),
)

# --- energy rollup (migration 0006): the energy report's complete days --------------------------

#: Per charger and UTC day with energy or sessions: what the energy report computes from the
#: raw data (csms.data.reports), written by the meter-housekeeping job (csms.data.housekeeping).
energy_rollup = Table(
    "energy_rollup",
    metadata,
    Column("tenant_id", Text, nullable=False),
    Column("charge_point_id", Text, nullable=False),
    Column("day", Date, nullable=False),
    Column("energy_wh", Float, nullable=False),
    Column("session_count", Integer, nullable=False),
    Column("computed_at", TS, nullable=False),
    PrimaryKeyConstraint("tenant_id", "day", "charge_point_id"),
)

#: The tenant's days that are rolled up (with or without energy_rollup rows), and when.
energy_rollup_days = Table(
    "energy_rollup_days",
    metadata,
    Column("tenant_id", Text, nullable=False),
    Column("day", Date, nullable=False),
    Column("computed_at", TS, nullable=False),
    PrimaryKeyConstraint("tenant_id", "day"),
)

# --- what stations report on their own (migration 0015): security events, device events,
# answers in parts, charging limits and vehicles' needs ------------------------------------

security_events = Table(
    "security_events",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("charge_point_id", Text, ForeignKey("charge_points.id", ondelete="CASCADE"), nullable=False),
    Column("type", Text, nullable=False),
    Column("timestamp", TS, nullable=False),
    Column("tech_info", Text),
    Column("received_at", TS, nullable=False),
)

device_events = Table(
    "device_events",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("charge_point_id", Text, ForeignKey("charge_points.id", ondelete="CASCADE"), nullable=False),
    Column("event_id", Integer, nullable=False),
    Column("timestamp", TS, nullable=False),
    Column("trigger", Text, nullable=False),
    Column("actual_value", Text, nullable=False),
    Column("component", Text, nullable=False),
    Column("component_instance", Text),
    Column("evse_id", Integer),
    Column("connector_id", Integer),
    Column("variable", Text, nullable=False),
    Column("variable_instance", Text),
    Column("notification_type", Text, nullable=False),
    Column("cause", Integer),
    Column("tech_code", Text),
    Column("tech_info", Text),
    Column("cleared", Boolean),
    Column("transaction_id", Text),
    Column("variable_monitoring_id", Integer),
    Column("received_at", TS, nullable=False),
)

#: Answers that arrive in parts, by station, kind (NotifyReport, ReportChargingProfiles,
#: NotifyCustomerInformation) and request id (csms.domain.station_reports).
report_parts = Table(
    "report_parts",
    metadata,
    Column("tenant_id", Text, nullable=False),
    Column("charge_point_id", Text, ForeignKey("charge_points.id", ondelete="CASCADE"), nullable=False),
    Column("kind", Text, nullable=False),
    Column("request_id", Integer, nullable=False),
    Column("part", Text, nullable=False),
    Column("seq_no", Integer),
    Column("to_be_continued", Boolean, nullable=False),
    Column("generated_at", TS),
    Column("payload", JSONB, nullable=False),
    Column("received_at", TS, nullable=False),
    PrimaryKeyConstraint("charge_point_id", "kind", "request_id", "part"),
)

charging_limits = Table(
    "charging_limits",
    metadata,
    Column("tenant_id", Text, nullable=False),
    Column("charge_point_id", Text, ForeignKey("charge_points.id", ondelete="CASCADE"), nullable=False),
    Column("source", Text, nullable=False),
    # 0 = the whole station (2.0.1's EVSE 0)
    Column("evse_id", Integer, nullable=False),
    Column("is_grid_critical", Boolean),
    Column("schedules", JSONB, nullable=False),
    Column("reported_at", TS, nullable=False),
    Column("cleared_at", TS),
    PrimaryKeyConstraint("charge_point_id", "source", "evse_id"),
)

ev_charging_needs = Table(
    "ev_charging_needs",
    metadata,
    Column("tenant_id", Text, nullable=False),
    Column("charge_point_id", Text, ForeignKey("charge_points.id", ondelete="CASCADE"), nullable=False),
    Column("evse_id", Integer, nullable=False),
    Column("requested_energy_transfer", Text, nullable=False),
    Column("departure_time", TS),
    Column("max_schedule_tuples", Integer),
    Column("parameters", JSONB),
    Column("reported_at", TS, nullable=False),
    PrimaryKeyConstraint("charge_point_id", "evse_id"),
)

# --- load management (migration 0018, ADR 0024) ---------------------------------------------

load_sites = Table(
    "load_sites",
    metadata,
    # With tenant_id, references locations (tenant_id, id); ON DELETE SET NULL (location_id).
    Column("tenant_id", Text, ForeignKey("tenants.id"), primary_key=True),
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("location_id", Text),
    Column("nominal_voltage_v", Float, nullable=False),
    Column("headroom_a", Float, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)

#: The electrical tree: phases, wiring and per-phase amperes are JSON ({"L1": 32.0}, ["L2"]).
load_nodes = Table(
    "load_nodes",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("site_id", Text, primary_key=True),
    Column("id", Text, primary_key=True),
    Column("parent_id", Text),
    Column("kind", Text, nullable=False),
    Column("name", Text),
    Column("phases", JSONB, nullable=False),
    Column("limit_a", JSONB, nullable=False),
    Column("max_power_kw", Float),
    Column("non_ev_allowance_a", JSONB, nullable=False),
    # An EVSE (kind 'evse') is a node of one site at most: unique (station_id, evse_id).
    Column("station_id", Text, ForeignKey("charge_points.id", ondelete="CASCADE")),
    Column("evse_id", Integer),
    Column("wiring", JSONB),
    Column("min_current_a", Float),
    Column("max_current_a", Float),
    Column("priority", Float),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)

load_live_loads = Table(
    "load_live_loads",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("site_id", Text, primary_key=True),
    Column("node_id", Text, primary_key=True),
    Column("values_a", JSONB, nullable=False),
    Column("measured_at", TS, nullable=False),
    Column("expires_at", TS, nullable=False),
    Column("received_at", TS, nullable=False),
)

load_limit_schedules = Table(
    "load_limit_schedules",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("site_id", Text, primary_key=True),
    Column("node_id", Text, primary_key=True),
    Column("periods", JSONB, nullable=False),
    Column("set_at", TS, nullable=False),
)

load_allocations = Table(
    "load_allocations",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("site_id", Text, nullable=False),
    Column("computed_at", TS, nullable=False),
    Column("cause", Text, nullable=False),
    Column("inputs", JSONB, nullable=False),
    Column("result", JSONB, nullable=False),
    Column("plan", JSONB, nullable=False),
    Column("outcomes", JSONB),
)

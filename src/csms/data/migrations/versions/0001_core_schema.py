"""Core schema: tenants, charge points, connectors, id tags, transactions, meter samples.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "charge_points",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("password_hash", sa.Text),
        sa.Column("registration_status", sa.Text, nullable=False),
        sa.Column("vendor", sa.Text),
        sa.Column("model", sa.Text),
        sa.Column("serial_number", sa.Text),
        sa.Column("charge_box_serial_number", sa.Text),
        sa.Column("firmware_version", sa.Text),
        sa.Column("iccid", sa.Text),
        sa.Column("imsi", sa.Text),
        sa.Column("meter_type", sa.Text),
        sa.Column("meter_serial_number", sa.Text),
        sa.Column("last_boot_at", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint(
            "registration_status IN ('Accepted', 'Pending', 'Rejected')", name="ck_charge_points_registration"
        ),
    )
    op.create_index("ix_charge_points_tenant", "charge_points", ["tenant_id", "id"])

    op.create_table(
        "connectors",
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column(
            "charge_point_id", sa.Text, sa.ForeignKey("charge_points.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("connector_id", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("error_code", sa.Text, nullable=False),
        sa.Column("info", sa.Text),
        sa.Column("vendor_id", sa.Text),
        sa.Column("vendor_error_code", sa.Text),
        sa.Column("status_timestamp", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("charge_point_id", "connector_id"),
    )
    op.create_index("ix_connectors_tenant_status", "connectors", ["tenant_id", "status"])

    op.create_table(
        "connector_status_history",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column(
            "charge_point_id", sa.Text, sa.ForeignKey("charge_points.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("connector_id", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("error_code", sa.Text, nullable=False),
        sa.Column("info", sa.Text),
        sa.Column("vendor_id", sa.Text),
        sa.Column("vendor_error_code", sa.Text),
        sa.Column("status_timestamp", TS, nullable=False),
        sa.Column("received_at", TS, nullable=False),
    )
    # A retried StatusNotification is the same report: keep one row.
    op.create_index(
        "ux_connector_status_history_report",
        "connector_status_history",
        ["charge_point_id", "connector_id", "status_timestamp", "status", "error_code"],
        unique=True,
    )
    op.create_index(
        "ix_connector_status_history_timeline",
        "connector_status_history",
        ["tenant_id", "charge_point_id", "connector_id", sa.text("status_timestamp DESC")],
    )

    op.create_table(
        "id_tags",
        sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("id_tag", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("expiry_date", TS),
        sa.Column("parent_id_tag", sa.Text),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id_tag"),
        sa.CheckConstraint(
            "status IN ('Accepted', 'Blocked', 'Expired', 'Invalid')", name="ck_id_tags_status"
        ),
        sa.CheckConstraint("char_length(id_tag) <= 20", name="ck_id_tags_length"),
    )

    op.create_table(
        "transactions",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("charge_point_id", sa.Text, sa.ForeignKey("charge_points.id"), nullable=False),
        sa.Column("connector_id", sa.Integer, nullable=False),
        sa.Column("id_tag", sa.Text, nullable=False),
        sa.Column("start_auth_status", sa.Text, nullable=False),
        sa.Column("meter_start", sa.BigInteger, nullable=False),
        sa.Column("start_timestamp", TS, nullable=False),
        sa.Column("reservation_id", sa.Integer),
        sa.Column("meter_stop", sa.BigInteger),
        sa.Column("stop_timestamp", TS),
        sa.Column("stop_reason", sa.Text),
        sa.Column("stop_id_tag", sa.Text),
        sa.Column("transaction_data", JSONB),
        sa.Column("started_received_at", TS, nullable=False),
        sa.Column("stopped_received_at", TS),
    )
    # The identity of a StartTransaction: a retry of the same start finds this row.
    op.create_index(
        "ux_transactions_start",
        "transactions",
        ["charge_point_id", "connector_id", "id_tag", "meter_start", "start_timestamp"],
        unique=True,
    )
    op.create_index(
        "ix_transactions_charger_time",
        "transactions",
        ["tenant_id", "charge_point_id", sa.text("start_timestamp DESC")],
    )
    op.create_index(
        "ix_transactions_tenant_time", "transactions", ["tenant_id", sa.text("start_timestamp DESC")]
    )
    op.create_index(
        "ix_transactions_open_by_tag",
        "transactions",
        ["tenant_id", "id_tag"],
        postgresql_where=sa.text("stop_timestamp IS NULL"),
    )

    op.create_table(
        "unknown_transaction_stops",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("charge_point_id", sa.Text, nullable=False),
        sa.Column("transaction_id", sa.Integer, nullable=False),
        sa.Column("id_tag", sa.Text),
        sa.Column("meter_stop", sa.BigInteger, nullable=False),
        sa.Column("stop_timestamp", TS, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("transaction_data", JSONB),
        sa.Column("received_at", TS, nullable=False),
    )
    op.create_index(
        "ux_unknown_transaction_stops_report",
        "unknown_transaction_stops",
        ["charge_point_id", "transaction_id", "stop_timestamp"],
        unique=True,
    )
    op.create_index(
        "ix_unknown_transaction_stops_tenant",
        "unknown_transaction_stops",
        ["tenant_id", sa.text("received_at DESC")],
    )

    _create_meter_samples()


_METER_COLUMNS = """
    tenant_id        text             NOT NULL,
    charge_point_id  text             NOT NULL,
    connector_id     integer          NOT NULL,
    transaction_id   integer,
    "timestamp"      timestamptz      NOT NULL,
    measurand        text             NOT NULL,
    phase            text             NOT NULL DEFAULT '',
    unit             text             NOT NULL,
    context          text             NOT NULL,
    location         text             NOT NULL,
    format           text             NOT NULL,
    value            text             NOT NULL,
    numeric_value    double precision,
    received_at      timestamptz      NOT NULL
"""


def _create_meter_samples() -> None:
    """Meter samples are the bulk of the data: partition them by time.

    With TimescaleDB available the table becomes a hypertable (chunking, compression,
    retention and continuous aggregates come with it); otherwise it is a natively
    range-partitioned table with monthly partitions and a default partition that catches
    anything outside them (the meter-housekeeping job creates partitions ahead of time).
    ``phase`` is '' rather than NULL so the natural key below dedupes retried frames.
    """
    bind = op.get_bind()
    has_timescale = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")
    ).scalar()
    if has_timescale:
        op.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        op.execute(f"CREATE TABLE meter_samples ({_METER_COLUMNS})")
        op.execute(
            "SELECT create_hypertable('meter_samples', 'timestamp', chunk_time_interval => INTERVAL '7 days')"
        )
    else:
        op.execute(f'CREATE TABLE meter_samples ({_METER_COLUMNS}) PARTITION BY RANGE ("timestamp")')
        op.execute("CREATE TABLE meter_samples_default PARTITION OF meter_samples DEFAULT")
        op.execute(_CREATE_PARTITION_FUNCTION)
        # The current month, the previous one (late uploads) and three ahead.
        op.execute("SELECT csms_ensure_meter_partitions(now() - INTERVAL '1 month', 5)")
    op.execute(
        "CREATE UNIQUE INDEX ux_meter_samples_natural ON meter_samples "
        '(charge_point_id, connector_id, "timestamp", measurand, phase, location, context)'
    )
    op.execute(
        'CREATE INDEX ix_meter_samples_transaction ON meter_samples (transaction_id, "timestamp") '
        "WHERE transaction_id IS NOT NULL"
    )
    op.execute(
        "CREATE INDEX ix_meter_samples_connector ON meter_samples "
        '(tenant_id, charge_point_id, connector_id, "timestamp")'
    )


_CREATE_PARTITION_FUNCTION = """
CREATE FUNCTION csms_ensure_meter_partitions(first_month timestamptz, months integer)
RETURNS integer LANGUAGE plpgsql SET timezone = 'UTC' AS $$
DECLARE
    created integer := 0;
    lower_bound timestamptz;
    upper_bound timestamptz;
    partition_name text;
BEGIN
    FOR i IN 0 .. months - 1 LOOP
        lower_bound := date_trunc('month', first_month) + make_interval(months => i);  -- UTC (SET above)
        upper_bound := lower_bound + INTERVAL '1 month';
        partition_name := 'meter_samples_' || to_char(lower_bound AT TIME ZONE 'UTC', 'YYYY_MM');
        IF to_regclass(partition_name) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF meter_samples FOR VALUES FROM (%L) TO (%L)',
                partition_name, lower_bound, upper_bound);
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END $$;
"""


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS meter_samples CASCADE")
    op.execute("DROP FUNCTION IF EXISTS csms_ensure_meter_partitions(timestamptz, integer)")
    for table in (
        "unknown_transaction_stops",
        "transactions",
        "id_tags",
        "connector_status_history",
        "connectors",
        "charge_points",
        "tenants",
    ):
        op.drop_table(table)

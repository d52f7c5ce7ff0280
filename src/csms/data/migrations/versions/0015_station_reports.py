"""What stations report on their own, beyond status and transactions (OCPP 2.0.1):
security events (SecurityEventNotification), device events (NotifyEvent), the parts of answers
that arrive as the station's own messages (NotifyReport, ReportChargingProfiles,
NotifyCustomerInformation), charging limits set from outside the CSMS (NotifyChargingLimit,
ClearedChargingLimit) and vehicles' charging needs (NotifyEVChargingNeeds).

A station retries a message it got no answer to, so each table has the natural key that makes
a retry a no-op: a security event's type, timestamp and text; a device event's id and
timestamp; a part its kind, request id and sequence number (or what stands for one).

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0015"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def _station() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column(
            "charge_point_id", sa.Text, sa.ForeignKey("charge_points.id", ondelete="CASCADE"), nullable=False
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "security_events",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        *_station(),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("timestamp", TS, nullable=False),
        sa.Column("tech_info", sa.Text),
        sa.Column("received_at", TS, nullable=False),
    )
    op.execute(
        "CREATE UNIQUE INDEX ux_security_events_natural ON security_events "
        "(charge_point_id, type, timestamp, coalesce(tech_info, ''))"
    )
    op.execute("CREATE INDEX ix_security_events_by_time ON security_events (charge_point_id, timestamp DESC)")
    op.create_table(
        "device_events",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        *_station(),
        sa.Column("event_id", sa.Integer, nullable=False),
        sa.Column("timestamp", TS, nullable=False),
        sa.Column("trigger", sa.Text, nullable=False),
        sa.Column("actual_value", sa.Text, nullable=False),
        sa.Column("component", sa.Text, nullable=False),
        sa.Column("component_instance", sa.Text),
        sa.Column("evse_id", sa.Integer),
        sa.Column("connector_id", sa.Integer),
        sa.Column("variable", sa.Text, nullable=False),
        sa.Column("variable_instance", sa.Text),
        sa.Column("notification_type", sa.Text, nullable=False),
        sa.Column("cause", sa.Integer),
        sa.Column("tech_code", sa.Text),
        sa.Column("tech_info", sa.Text),
        sa.Column("cleared", sa.Boolean),
        sa.Column("transaction_id", sa.Text),
        sa.Column("variable_monitoring_id", sa.Integer),
        sa.Column("received_at", TS, nullable=False),
        sa.UniqueConstraint("charge_point_id", "event_id", "timestamp", name="ux_device_events_natural"),
    )
    op.execute("CREATE INDEX ix_device_events_by_time ON device_events (charge_point_id, timestamp DESC)")
    op.create_table(
        "report_parts",
        *_station(),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("request_id", sa.Integer, nullable=False),
        sa.Column("part", sa.Text, nullable=False),
        sa.Column("seq_no", sa.Integer),
        sa.Column("to_be_continued", sa.Boolean, nullable=False),
        sa.Column("generated_at", TS),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("charge_point_id", "kind", "request_id", "part"),
    )
    op.create_table(
        "charging_limits",
        *_station(),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("evse_id", sa.Integer, nullable=False),
        sa.Column("is_grid_critical", sa.Boolean),
        sa.Column("schedules", JSONB, nullable=False),
        sa.Column("reported_at", TS, nullable=False),
        sa.Column("cleared_at", TS),
        sa.PrimaryKeyConstraint("charge_point_id", "source", "evse_id"),
    )
    op.create_table(
        "ev_charging_needs",
        *_station(),
        sa.Column("evse_id", sa.Integer, nullable=False),
        sa.Column("requested_energy_transfer", sa.Text, nullable=False),
        sa.Column("departure_time", TS),
        sa.Column("max_schedule_tuples", sa.Integer),
        sa.Column("parameters", JSONB),
        sa.Column("reported_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("charge_point_id", "evse_id"),
    )


def downgrade() -> None:
    for table in (
        "ev_charging_needs",
        "charging_limits",
        "report_parts",
        "device_events",
        "security_events",
    ):
        op.drop_table(table)

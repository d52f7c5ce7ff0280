"""Server-initiated commands and what they leave behind.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    # The audit trail: every command and its outcome.
    op.create_table(
        "commands",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("charge_point_id", sa.Text, sa.ForeignKey("charge_points.id"), nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("request", JSONB, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("ocpp_unique_id", sa.Text),
        sa.Column("response", JSONB),
        sa.Column("error_code", sa.Text),
        sa.Column("reason", sa.Text),
        sa.Column("requested_by", sa.Text),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS),
        sa.Column("deadline", TS),
        sa.Column("finished_at", TS),
        sa.Column("late_response", JSONB),
        sa.Column("late_response_at", TS),
        sa.CheckConstraint(
            "status IN ('queued', 'sent', 'accepted', 'rejected', 'failed', 'timed_out')",
            name="ck_commands_status",
        ),
    )
    op.create_index(
        "ix_commands_charger_time", "commands", ["tenant_id", "charge_point_id", sa.text("created_at DESC")]
    )
    op.create_index("ix_commands_unique_id", "commands", ["charge_point_id", "ocpp_unique_id"])
    op.create_index(
        "ix_commands_queued",
        "commands",
        ["charge_point_id", "created_at"],
        postgresql_where=sa.text("status = 'queued'"),
    )

    op.create_table(
        "charge_point_configuration",
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column(
            "charge_point_id", sa.Text, sa.ForeignKey("charge_points.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("value", sa.Text),
        sa.Column("readonly", sa.Boolean),
        sa.Column("known", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("charge_point_id", "key"),
    )

    op.create_table(
        "charge_point_events",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column(
            "charge_point_id", sa.Text, sa.ForeignKey("charge_points.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.Text, nullable=False),  # firmware | diagnostics
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("received_at", TS, nullable=False),
    )
    op.create_index(
        "ix_charge_point_events_timeline",
        "charge_point_events",
        ["tenant_id", "charge_point_id", "kind", sa.text("received_at DESC")],
    )

    op.create_table(
        "local_auth_lists",
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column(
            "charge_point_id",
            sa.Text,
            sa.ForeignKey("charge_points.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("sent_version", sa.Integer),
        sa.Column("sent_at", TS),
        sa.Column("reported_version", sa.Integer),
        sa.Column("reported_at", TS),
    )

    op.create_table(
        "reservations",
        # The OCPP reservationId: an integer allocated here.
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("charge_point_id", sa.Text, sa.ForeignKey("charge_points.id"), nullable=False),
        sa.Column("connector_id", sa.Integer, nullable=False),
        sa.Column("id_tag", sa.Text, nullable=False),
        sa.Column("parent_id_tag", sa.Text),
        sa.Column("expiry_date", TS, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("transaction_id", sa.Integer),
        sa.Column("command_id", sa.Text),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint(
            "status IN ('requested', 'active', 'rejected', 'cancelled', 'used', 'expired', 'failed')",
            name="ck_reservations_status",
        ),
    )
    op.create_index(
        "ix_reservations_charger",
        "reservations",
        ["tenant_id", "charge_point_id", sa.text("created_at DESC")],
    )
    op.create_index(
        "ix_reservations_expiring",
        "reservations",
        ["expiry_date"],
        postgresql_where=sa.text("status IN ('requested', 'active')"),
    )

    op.create_table(
        "charging_profiles",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("charge_point_id", sa.Text, sa.ForeignKey("charge_points.id"), nullable=False),
        sa.Column("connector_id", sa.Integer, nullable=False),
        sa.Column("charging_profile_id", sa.Integer, nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("stack_level", sa.Integer, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("recurrency_kind", sa.Text),
        sa.Column("valid_from", TS),
        sa.Column("valid_to", TS),
        sa.Column("transaction_id", sa.Integer),
        sa.Column("schedule", JSONB, nullable=False),
        sa.Column("status", sa.Text, nullable=False),  # requested | installed | rejected | cleared | failed
        sa.Column("command_id", sa.Text),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index(
        "ix_charging_profiles_charger",
        "charging_profiles",
        ["tenant_id", "charge_point_id", "connector_id", "status"],
    )


def downgrade() -> None:
    for table in (
        "charging_profiles",
        "reservations",
        "local_auth_lists",
        "charge_point_events",
        "charge_point_configuration",
        "commands",
    ):
        op.drop_table(table)

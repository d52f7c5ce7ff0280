"""Domain events (outbox and live feed) and transaction flags for operators.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "domain_events",
        # The feed's cursor names an event by its sequence. Identity values are allocated at
        # insert, in no useful order across transactions: see txid.
        sa.Column("sequence", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("id", UUID(as_uuid=False), nullable=False, unique=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("charge_point_id", sa.Text),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("correlation_id", sa.Text, nullable=False),
        sa.Column("data", JSONB, nullable=False),
        # The writing transaction: the feed serves only rows of transactions older than every
        # running one, so a slow writer's lower sequence is never skipped.
        sa.Column(
            "txid",
            sa.BigInteger,
            nullable=False,
            server_default=sa.text("pg_current_xact_id()::text::bigint"),
        ),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("publish_attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("dead_lettered_at", sa.DateTime(timezone=True)),
    )
    # The feed reads a tenant's settled events in (txid, sequence) order (csms.data.events).
    op.create_index("ix_domain_events_feed", "domain_events", ["tenant_id", "txid", "sequence"])
    op.create_index(
        "ix_domain_events_unpublished",
        "domain_events",
        ["sequence"],
        postgresql_where=sa.text("published_at IS NULL AND dead_lettered_at IS NULL"),
    )
    op.create_index("ix_domain_events_occurred", "domain_events", ["occurred_at"])

    # Stuck transactions are flagged for an operator, never deleted; a transaction the CSMS
    # closed itself (closed_by = 'csms') says so.
    op.add_column("transactions", sa.Column("flagged_at", sa.DateTime(timezone=True)))
    op.add_column("transactions", sa.Column("flag_reason", sa.Text))
    op.add_column("transactions", sa.Column("closed_by", sa.Text))
    op.create_index(
        "ix_transactions_open_started",
        "transactions",
        ["start_timestamp"],
        postgresql_where=sa.text("stop_timestamp IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_transactions_open_started", "transactions")
    op.drop_column("transactions", "closed_by")
    op.drop_column("transactions", "flag_reason")
    op.drop_column("transactions", "flagged_at")
    op.drop_table("domain_events")

"""Indexes for the stuck-transactions job and the operators' flagged-transactions list.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # "When did the charger last send a meter value for this transaction?" (received time,
    # not the charger's timestamp: a queued sample delivered late is activity too). The
    # stuck-transactions job asks it for every open transaction older than the idle limit,
    # every 15 minutes: with this index it is a backward index-only probe per partition
    # instead of reading every sample of the transaction. One more index entry per sample
    # that belongs to a transaction (samples without one are not indexed).
    op.execute(
        "CREATE INDEX ix_meter_samples_transaction_received ON meter_samples "
        "(transaction_id, received_at) INCLUDE (charge_point_id) WHERE transaction_id IS NOT NULL"
    )
    # GET /transactions?flagged=true: the few flagged transactions of a tenant, newest first.
    op.create_index(
        "ix_transactions_flagged",
        "transactions",
        ["tenant_id", sa.text("start_timestamp DESC")],
        postgresql_where=sa.text("flagged_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_transactions_flagged", "transactions")
    op.execute("DROP INDEX IF EXISTS ix_meter_samples_transaction_received")

"""Daily energy rollup for the energy report, and the indexes the meter-housekeeping job reads.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    # One row per charger and UTC day with energy or sessions, exactly as the energy report
    # computes them (csms.data.reports), written by the meter-housekeeping job.
    op.create_table(
        "energy_rollup",
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("charge_point_id", sa.Text, nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("energy_wh", sa.Float, nullable=False),
        sa.Column("session_count", sa.Integer, nullable=False),
        sa.Column("computed_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "day", "charge_point_id"),
    )
    # Which days of a tenant are rolled up (a day without energy or sessions has no
    # energy_rollup row but is rolled up all the same), and when.
    op.create_table(
        "energy_rollup_days",
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("computed_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "day"),
    )
    # The job's watermark: the latest computed_at.
    op.create_index("ix_energy_rollup_days_computed", "energy_rollup_days", ["computed_at"])
    # Transactions started or stopped since the watermark (GREATEST ignores NULLs).
    op.create_index(
        "ix_transactions_received",
        "transactions",
        [sa.text("greatest(started_received_at, stopped_received_at)")],
    )
    # Samples received since the watermark, late ones included. BRIN: received_at follows the
    # physical order of the rows, and the index costs next to nothing on the hottest table.
    op.execute("CREATE INDEX ix_meter_samples_received ON meter_samples USING brin (received_at)")
    # Retention deletes the rows older than a cutoff from the month partition that straddles it.
    op.execute('CREATE INDEX ix_meter_samples_time ON meter_samples USING brin ("timestamp")')


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_meter_samples_time")
    op.execute("DROP INDEX IF EXISTS ix_meter_samples_received")
    op.drop_index("ix_transactions_received", "transactions")
    op.drop_table("energy_rollup_days")
    op.drop_table("energy_rollup")

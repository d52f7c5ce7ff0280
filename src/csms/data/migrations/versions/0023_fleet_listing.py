"""The fleet listing's summary: the running transactions of a page of stations.

``GET /api/v1/stations`` shows each station's running transactions and their latest power
(``csms.data.fleet``). The only index of transactions by station
(``ix_transactions_charger_time``) holds every transaction the station ever had, so finding
the open ones read its whole history; this partial index holds the open ones only (a few per
station, whatever the history), by station and EVSE, newest first.

Revision ID: 0023
Revises: 0021
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_transactions_open_station",
        "transactions",
        ["charge_point_id", "evse_id", sa.text("start_timestamp DESC")],
        postgresql_where=sa.text("stop_timestamp IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_transactions_open_station", "transactions")

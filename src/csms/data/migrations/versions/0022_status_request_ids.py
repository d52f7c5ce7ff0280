"""Firmware and log progress keep the requestId they report on.

A 2.0.1 FirmwareStatusNotification or LogStatusNotification names the ``requestId`` of the
UpdateFirmware or GetLog it reports on (the command's ``request_id``); the timelines at
``/stations/{id}/firmware-status`` and ``/diagnostics-status`` show it, so an operator can tell
two updates apart. 1.6 notifications carry none: existing rows and 1.6 rows stay NULL.

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("charge_point_events", sa.Column("request_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("charge_point_events", "request_id")

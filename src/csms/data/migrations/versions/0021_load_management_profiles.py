"""Load management sends its limits as charging profiles (issue 15, ADR 0024 §9).

The load manager reads its own ``set-charging-profile`` commands back (requested by
``load-management``): per EVSE the latest one and the latest accepted (what the station
holds, or refused), and per site the decreases still open (increases wait for them). Two
partial indexes keep those reads off the rest of the commands table. Allocations older than
the retention (``CSMS_LOAD_ALLOCATION_RETENTION_DAYS``) are pruned by time: an index on
``computed_at``.

Revision ID: 0021
Revises: 0022
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_commands_load_management",
        "commands",
        ["charge_point_id", "created_at"],
        postgresql_where=sa.text("requested_by = 'load-management'"),
    )
    op.create_index(
        "ix_commands_load_management_open",
        "commands",
        ["tenant_id"],
        postgresql_where=sa.text("requested_by = 'load-management' AND status IN ('queued', 'sent')"),
    )
    op.create_index("ix_load_allocations_computed_at", "load_allocations", ["computed_at"])


def downgrade() -> None:
    op.drop_index("ix_load_allocations_computed_at", "load_allocations")
    op.drop_index("ix_commands_load_management_open", "commands")
    op.drop_index("ix_commands_load_management", "commands")

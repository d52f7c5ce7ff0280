"""Locations, charger decommissioning, and indexes for the operator API.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "locations",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("address", sa.Text),
        sa.Column("city", sa.Text),
        sa.Column("postal_code", sa.Text),
        sa.Column("country", sa.Text),
        sa.Column("latitude", sa.Float),
        sa.Column("longitude", sa.Float),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_locations_tenant", "locations", ["tenant_id", "name"])
    op.add_column(
        "charge_points", sa.Column("location_id", sa.Text, sa.ForeignKey("locations.id", ondelete="SET NULL"))
    )
    op.add_column("charge_points", sa.Column("decommissioned_at", TS))
    op.create_index("ix_charge_points_location", "charge_points", ["location_id"])
    op.create_index("ix_id_tags_parent", "id_tags", ["tenant_id", "parent_id_tag"])
    op.create_index(
        "ix_transactions_charger_connector_time",
        "transactions",
        ["tenant_id", "charge_point_id", "connector_id", sa.text("start_timestamp DESC")],
    )


def downgrade() -> None:
    op.drop_index("ix_transactions_charger_connector_time", "transactions")
    op.drop_index("ix_id_tags_parent", "id_tags")
    op.drop_index("ix_charge_points_location", "charge_points")
    op.drop_column("charge_points", "decommissioned_at")
    op.drop_column("charge_points", "location_id")
    op.drop_table("locations")

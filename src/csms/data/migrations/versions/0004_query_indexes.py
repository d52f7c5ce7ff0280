"""Indexes for the operator API's queries and the command pipeline.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # GET /transactions?idTag=… over closed transactions too (0001 only indexed open ones).
    op.create_index(
        "ix_transactions_tag_time", "transactions", ["tenant_id", "id_tag", sa.text("start_timestamp DESC")]
    )
    # A month of one measurand for one connector (bucketed series) without reading the rest.
    op.execute(
        "CREATE INDEX ix_meter_samples_series ON meter_samples "
        '(tenant_id, charge_point_id, connector_id, measurand, "timestamp")'
    )

    # The command pipeline: "does the charger have a CALL in flight?" and local-list versions.
    op.create_index(
        "ix_commands_in_flight", "commands", ["charge_point_id"], postgresql_where=sa.text("status = 'sent'")
    )
    op.create_index(
        "ix_commands_local_lists",
        "commands",
        ["charge_point_id", "created_at"],
        postgresql_where=sa.text("action = 'SendLocalList'"),
    )
    op.create_index("ix_charging_profiles_command", "charging_profiles", ["command_id"])
    # Differential local lists: the tags changed since the last accepted Full list.
    op.create_index("ix_id_tags_updated", "id_tags", ["tenant_id", "updated_at"])
    # Energy report: sessions that ended inside a range.
    op.create_index(
        "ix_transactions_stopped",
        "transactions",
        ["tenant_id", "stop_timestamp"],
        postgresql_where=sa.text("stop_timestamp IS NOT NULL"),
    )
    # Location ids are per tenant: an id one tenant chose must not be taken (or revealed) for
    # another, and a charger can only be placed at a location of its own tenant.
    op.drop_constraint("charge_points_location_id_fkey", "charge_points", type_="foreignkey")
    op.drop_constraint("locations_pkey", "locations", type_="primary")
    op.create_primary_key("locations_pkey", "locations", ["tenant_id", "id"])
    op.execute(
        "ALTER TABLE charge_points ADD CONSTRAINT fk_charge_points_location "
        "FOREIGN KEY (tenant_id, location_id) REFERENCES locations (tenant_id, id) "
        "ON DELETE SET NULL (location_id)"
    )


def downgrade() -> None:
    op.drop_constraint("fk_charge_points_location", "charge_points", type_="foreignkey")
    op.drop_constraint("locations_pkey", "locations", type_="primary")
    op.create_primary_key("locations_pkey", "locations", ["id"])
    op.create_foreign_key(
        "charge_points_location_id_fkey",
        "charge_points",
        "locations",
        ["location_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.drop_index("ix_transactions_stopped", "transactions")
    op.drop_index("ix_id_tags_updated", "id_tags")
    op.drop_index("ix_charging_profiles_command", "charging_profiles")
    op.drop_index("ix_commands_local_lists", "commands")
    op.drop_index("ix_commands_in_flight", "commands")
    op.execute("DROP INDEX IF EXISTS ix_meter_samples_series")
    op.drop_index("ix_transactions_tag_time", "transactions")

"""Load management (issue 15, ADR 0024): sites with an electrical tree (grid connection,
circuits, stations, EVSEs), the live non-EV load an energy manager posts per node, a node's
limit schedule, and every allocation computed (inputs, result, plan, outcomes).

A site belongs to a tenant and stands at most at one location (a location has at most one
site). An EVSE is a node of at most one site: unique on (station, EVSE) across tenants, as
station ids are (ADR 0005).

Revision ID: 0018
Revises: 0015
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def _node_key() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("site_id", sa.Text, nullable=False),
        sa.Column("node_id", sa.Text, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "load_sites",
        sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("location_id", sa.Text),
        sa.Column("nominal_voltage_v", sa.Float, nullable=False),
        sa.Column("headroom_a", sa.Float, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
    )
    # A location's site goes with the location's deletion only as far as the link.
    op.execute(
        "ALTER TABLE load_sites ADD CONSTRAINT fk_load_sites_location FOREIGN KEY (tenant_id, location_id) "
        "REFERENCES locations (tenant_id, id) ON DELETE SET NULL (location_id)"
    )
    op.execute(
        "CREATE UNIQUE INDEX ux_load_sites_location ON load_sites (tenant_id, location_id) "
        "WHERE location_id IS NOT NULL"
    )
    op.create_table(
        "load_nodes",
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("site_id", sa.Text, nullable=False),
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("parent_id", sa.Text),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("phases", JSONB, nullable=False),
        sa.Column("limit_a", JSONB, nullable=False),
        sa.Column("max_power_kw", sa.Float),
        sa.Column("non_ev_allowance_a", JSONB, nullable=False),
        sa.Column("station_id", sa.Text, sa.ForeignKey("charge_points.id", ondelete="CASCADE")),
        sa.Column("evse_id", sa.Integer),
        sa.Column("wiring", JSONB),
        sa.Column("min_current_a", sa.Float),
        sa.Column("max_current_a", sa.Float),
        sa.Column("priority", sa.Float),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "site_id", "id"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "site_id"], ["load_sites.tenant_id", "load_sites.id"], ondelete="CASCADE"
        ),
    )
    op.execute(
        "CREATE UNIQUE INDEX ux_load_nodes_evse ON load_nodes (station_id, evse_id) WHERE kind = 'evse'"
    )
    op.create_table(
        "load_live_loads",
        *_node_key(),
        sa.Column("values_a", JSONB, nullable=False),
        sa.Column("measured_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "site_id", "node_id"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "site_id", "node_id"],
            ["load_nodes.tenant_id", "load_nodes.site_id", "load_nodes.id"],
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "load_limit_schedules",
        *_node_key(),
        sa.Column("periods", JSONB, nullable=False),
        sa.Column("set_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "site_id", "node_id"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "site_id", "node_id"],
            ["load_nodes.tenant_id", "load_nodes.site_id", "load_nodes.id"],
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "load_allocations",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("site_id", sa.Text, nullable=False),
        sa.Column("computed_at", TS, nullable=False),
        sa.Column("cause", sa.Text, nullable=False),
        sa.Column("inputs", JSONB, nullable=False),
        sa.Column("result", JSONB, nullable=False),
        sa.Column("plan", JSONB, nullable=False),
        sa.Column("outcomes", JSONB),
        sa.ForeignKeyConstraint(
            ["tenant_id", "site_id"], ["load_sites.tenant_id", "load_sites.id"], ondelete="CASCADE"
        ),
    )
    op.execute("CREATE INDEX ix_load_allocations_latest ON load_allocations (tenant_id, site_id, id DESC)")


def downgrade() -> None:
    for table in ("load_allocations", "load_limit_schedules", "load_live_loads", "load_nodes", "load_sites"):
        op.drop_table(table)

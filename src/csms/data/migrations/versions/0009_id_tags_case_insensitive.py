"""Id tags match case-insensitively: OCPP 1.6 IdToken is a CiString20Type.

Tags are stored as provisioned (and transactions keep the tag as the charger sent it), but
every lookup compares ``lower(id_tag) = lower(:id_tag)``. Hence:

- ``ux_id_tags_tenant_lower_id_tag``: a tenant's tags are unique case-insensitively (the
  primary key (tenant_id, id_tag) stays), and it serves the lookups by tag;
- ``ix_transactions_open_by_tag`` is rebuilt on ``(tenant_id, lower(id_tag))``, the
  ConcurrentTx check's comparison.

Tags that already differ only in case cannot be merged silently (they may have different
statuses, expiry dates or parents): the upgrade fails and names them, an operator deletes or
renames one of each group, and the upgrade is run again.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _refuse_collisions() -> None:
    collisions = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT tenant_id, array_agg(id_tag ORDER BY id_tag) AS tags FROM id_tags "
                "GROUP BY tenant_id, lower(id_tag) HAVING count(*) > 1 ORDER BY tenant_id, lower(id_tag)"
            )
        )
        .all()
    )
    if collisions:
        groups = "; ".join(
            f"tenant {r.tenant_id!r}: {', '.join(repr(t) for t in r.tags)}" for r in collisions
        )
        raise RuntimeError(
            "migration 0009 makes id tags unique per tenant case-insensitively (OCPP CiString), "
            f"but these tags collide case-insensitively: {groups}. Delete or rename all but one "
            "tag of each group, then run the migration again."
        )


def upgrade() -> None:
    _refuse_collisions()
    op.execute("CREATE UNIQUE INDEX ux_id_tags_tenant_lower_id_tag ON id_tags (tenant_id, lower(id_tag))")
    op.execute("DROP INDEX ix_transactions_open_by_tag")
    op.execute(
        "CREATE INDEX ix_transactions_open_by_tag ON transactions (tenant_id, lower(id_tag)) "
        "WHERE stop_timestamp IS NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_transactions_open_by_tag")
    op.execute(
        "CREATE INDEX ix_transactions_open_by_tag ON transactions (tenant_id, id_tag) "
        "WHERE stop_timestamp IS NULL"
    )
    op.execute("DROP INDEX ux_id_tags_tenant_lower_id_tag")

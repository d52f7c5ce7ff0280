"""Commands wait for an offline station until they expire; a tenant's default security profile
(issue 13, the rest of it; ADRs 0027 and 0026).

- ``commands.expires_at``: until when a command may wait to be sent. A station offline, or whose
  connection a send found gone (API Gateway cuts every connection at 2 hours), keeps its
  commands queued until then; the command-timeouts sweep times out those past it. Existing
  queued rows get their creation time plus 15 minutes (the default expiry).
- ``commands.attempts``: how many times it was sent (a send that found the connection gone
  counts). Existing sent or finished rows count 1.
- ``ix_commands_queued_expiry``: the sweep's lookup of queued commands past their expiry.
- ``tenants.default_security_profile`` (0, 1 or 2; default 2: a password is required): the
  profile a station of the tenant gets when it is provisioned without one.
- ``charge_points.security_profile_source``: where the station's profile came from, ``station``
  (asked for, or implied by the password given) or ``tenant`` (the tenant's default when it was
  provisioned). Existing stations: ``station``.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("commands", sa.Column("expires_at", sa.DateTime(timezone=True)))
    op.add_column("commands", sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
    op.execute("UPDATE commands SET expires_at = created_at + interval '15 minutes' WHERE status = 'queued'")
    op.execute("UPDATE commands SET attempts = 1 WHERE sent_at IS NOT NULL")
    op.create_index(
        "ix_commands_queued_expiry",
        "commands",
        ["expires_at"],
        postgresql_where=sa.text("status = 'queued'"),
    )

    op.add_column(
        "tenants",
        sa.Column("default_security_profile", sa.SmallInteger, nullable=False, server_default="2"),
    )
    op.create_check_constraint(
        "ck_tenants_default_security_profile", "tenants", "default_security_profile IN (0, 1, 2)"
    )
    op.add_column(
        "charge_points",
        sa.Column("security_profile_source", sa.Text, nullable=False, server_default="station"),
    )
    op.create_check_constraint(
        "ck_charge_points_security_profile_source",
        "charge_points",
        "security_profile_source IN ('station', 'tenant')",
    )


def downgrade() -> None:
    op.drop_constraint("ck_charge_points_security_profile_source", "charge_points", type_="check")
    op.drop_column("charge_points", "security_profile_source")
    op.drop_constraint("ck_tenants_default_security_profile", "tenants", type_="check")
    op.drop_column("tenants", "default_security_profile")
    op.drop_index("ix_commands_queued_expiry", "commands")
    op.drop_column("commands", "attempts")
    op.drop_column("commands", "expires_at")

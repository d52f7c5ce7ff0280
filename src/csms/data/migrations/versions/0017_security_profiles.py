"""Security profiles and per-tenant file URL rules (issue 13, part 2; ADR 0023).

- ``charge_points.security_profile`` (0, 1 or 2): how the station authenticates. 1 and 2 (HTTP
  Basic auth; 2 says the station connects over TLS, as every connection through CloudFront
  does) need a password; 0 connects without one and is only ever an explicit choice. Stations
  provisioned before this revision keep what they had: with a password they become 2, without
  one 0, so nothing deployed stops connecting (their ``securityProfile: 0`` now shows the gap).
  A check keeps 1 and 2 from having no password.
- ``tenants.file_url_schemes`` / ``file_url_hosts``: the URL schemes (and, when set, host
  names) a tenant's firmware and diagnostics/log URLs may use; NULL takes the deployment's
  default (``CSMS_FILE_URL_SCHEMES``).

Revision ID: 0017
Revises: 0013 (the lead re-chains it after 0014-0016 of the parallel branches)
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision: str = "0017"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "charge_points", sa.Column("security_profile", sa.SmallInteger, nullable=False, server_default="2")
    )
    op.execute("UPDATE charge_points SET security_profile = 0 WHERE password_hash IS NULL")
    op.create_check_constraint(
        "ck_charge_points_security_profile",
        "charge_points",
        "security_profile IN (0, 1, 2) AND (security_profile = 0 OR password_hash IS NOT NULL)",
    )
    op.add_column("tenants", sa.Column("file_url_schemes", ARRAY(sa.Text)))
    op.add_column("tenants", sa.Column("file_url_hosts", ARRAY(sa.Text)))


def downgrade() -> None:
    op.drop_column("tenants", "file_url_hosts")
    op.drop_column("tenants", "file_url_schemes")
    op.drop_constraint("ck_charge_points_security_profile", "charge_points", type_="check")
    op.drop_column("charge_points", "security_profile")

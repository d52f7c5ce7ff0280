"""The meter samples' natural key includes the format: a signed reading next to its raw one.

Eichrecht meters send each reading twice in one sampledValue list, as a Raw number and as
SignedData (e.g. OCMF), with the same timestamp, measurand, phase, location and context. With
the format outside the key, ``ON CONFLICT DO NOTHING`` kept whichever came first and dropped
the other: the signed proof, or the number the energy figures read. A retried frame still
repeats the format, so retries are still dropped.

The index is rebuilt on every partition in the migration's transaction; writes to
``meter_samples`` wait for it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY = 'charge_point_id, connector_id, "timestamp", measurand, phase, location, context'


def upgrade() -> None:
    op.execute("DROP INDEX ux_meter_samples_natural")
    op.execute(f"CREATE UNIQUE INDEX ux_meter_samples_natural ON meter_samples ({_KEY}, format)")


def downgrade() -> None:
    # The old key holds one row per reading: keep the Raw one ('Raw' < 'SignedData').
    op.execute(
        "DELETE FROM meter_samples s USING meter_samples k "
        "WHERE (s.charge_point_id, s.connector_id, s.timestamp, s.measurand, s.phase, s.location, s.context)"
        " = (k.charge_point_id, k.connector_id, k.timestamp, k.measurand, k.phase, k.location, k.context)"
        " AND s.format > k.format"
    )
    op.execute("DROP INDEX ux_meter_samples_natural")
    op.execute(f"CREATE UNIQUE INDEX ux_meter_samples_natural ON meter_samples ({_KEY})")

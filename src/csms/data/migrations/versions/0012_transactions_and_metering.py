"""Transactions and meter samples in the version-neutral model (issue 12, step B3; ADR 0017).

A 2.0.1 station chooses its transaction ids (strings, unique per station), reports a
transaction as a series of TransactionEvents (Started, Updated, Ended) numbered by seqNo, may
start one before anyone is authorised and may send the events out of order. So:

- ``transactions``: ``transaction_id`` TEXT (the protocol's id: for 1.6 ``id::text``, which the
  internal ``id`` stays equal to, so a 1.6 charger stops a transaction by its integer id as
  before), unique per station; ``connector_id`` → ``evse_id`` (+ ``connector_id``, 1 for the
  migrated rows), both NULL until an event names them; ``id_tag`` → ``id_token`` (+
  ``id_token_type``: NULL, a 1.6 tag has none) and ``stop_id_tag`` → ``stop_id_token`` (+
  type); ``id_token``, ``start_auth_status`` and ``meter_start`` may be NULL (a 2.0.1
  transaction may start before authorisation or without a register reading; meter_start is
  never guessed as 0); ``protocol``; ``seq_no`` (the highest applied); ``charging_state``;
  ``remote_start_id``; ``offline``; ``deauthorized_at`` (the CSMS answered the start or an
  update with a status other than Accepted: migrated refused starts get their receipt time);
  where meter_start and meter_stop come from (2.0.1: ``meter_*_at``, ``meter_*_context``);
- ``transaction_events`` (new): every event as received, deduplicated on (transaction, seqNo,
  type, timestamp, trigger reason), with the answer given to its idToken;
- ``meter_samples.connector_id`` → ``evse_id``: a rename, metadata-only on the partitioned
  table (the values are equal by the 1.6 mapping);
- ``unknown_transaction_stops.transaction_id`` becomes TEXT.

The energy rollup's session counts drop the migrated refused starts, which are no longer
charging sessions (the energy stays: it was delivered).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    t = "transactions"
    op.alter_column(t, "connector_id", new_column_name="evse_id", nullable=True)
    op.add_column(t, sa.Column("connector_id", sa.Integer))
    op.add_column(t, sa.Column("transaction_id", sa.Text))
    op.alter_column(t, "id_tag", new_column_name="id_token", nullable=True)
    op.add_column(t, sa.Column("id_token_type", sa.Text))
    op.alter_column(t, "stop_id_tag", new_column_name="stop_id_token")
    op.add_column(t, sa.Column("stop_id_token_type", sa.Text))
    op.alter_column(t, "start_auth_status", nullable=True)
    op.alter_column(t, "meter_start", nullable=True)
    op.add_column(t, sa.Column("protocol", sa.Text, nullable=False, server_default="ocpp1.6"))
    op.add_column(t, sa.Column("seq_no", sa.Integer))
    op.add_column(t, sa.Column("charging_state", sa.Text))
    op.add_column(t, sa.Column("remote_start_id", sa.Integer))
    op.add_column(t, sa.Column("deauthorized_at", TS))
    op.add_column(t, sa.Column("offline", sa.Boolean, nullable=False, server_default=sa.false()))
    op.add_column(t, sa.Column("meter_start_at", TS))
    op.add_column(t, sa.Column("meter_start_context", sa.Text))
    op.add_column(t, sa.Column("meter_stop_at", TS))
    op.add_column(t, sa.Column("meter_stop_context", sa.Text))
    op.execute(
        "UPDATE transactions SET transaction_id = id::text, connector_id = 1, deauthorized_at = "
        "CASE WHEN start_auth_status <> 'Accepted' THEN started_received_at END"
    )
    op.alter_column(t, "transaction_id", nullable=False)
    op.create_index("ux_transactions_protocol_id", t, ["charge_point_id", "transaction_id"], unique=True)
    # A retried 1.6 StartTransaction finds its transaction by this identity (2.0.1 has the id).
    op.execute("DROP INDEX ux_transactions_start")
    op.execute(
        "CREATE UNIQUE INDEX ux_transactions_start ON transactions "
        "(charge_point_id, evse_id, id_token, meter_start, start_timestamp) WHERE protocol = 'ocpp1.6'"
    )
    op.create_check_constraint("ck_transactions_protocol", t, "protocol IN ('ocpp1.6', 'ocpp2.0.1')")
    # Deauthorized transactions not stopped yet (the stuck-transactions job flags them).
    op.create_index(
        "ix_transactions_deauthorized_open",
        t,
        ["deauthorized_at"],
        postgresql_where=sa.text("stop_timestamp IS NULL AND deauthorized_at IS NOT NULL"),
    )

    op.create_table(
        "transaction_events",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("charge_point_id", sa.Text, nullable=False),
        sa.Column(
            "transaction_pk", sa.Integer, sa.ForeignKey("transactions.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("seq_no", sa.Integer),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("trigger_reason", sa.Text),
        sa.Column("timestamp", TS, nullable=False),
        sa.Column("offline", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("evse_id", sa.Integer),
        sa.Column("connector_id", sa.Integer),
        sa.Column("charging_state", sa.Text),
        sa.Column("stopped_reason", sa.Text),
        sa.Column("id_token", sa.Text),
        sa.Column("id_token_type", sa.Text),
        sa.Column("id_token_status", sa.Text),
        sa.Column("remote_start_id", sa.Integer),
        sa.Column("reservation_id", sa.Integer),
        sa.Column("meter_values", sa.Integer, nullable=False, server_default="0"),
        sa.Column("after_end", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("received_at", TS, nullable=False),
        sa.CheckConstraint(
            "event_type IN ('Started', 'Updated', 'Ended')", name="ck_transaction_events_type"
        ),
    )
    # A retried event (a new messageId, the same content) is the same row: its seqNo, type, time
    # and trigger. A station that reuses a seqNo for another event gets both kept.
    op.execute(
        "CREATE UNIQUE INDEX ux_transaction_events_seq ON transaction_events "
        "(transaction_pk, seq_no, event_type, \"timestamp\", coalesce(trigger_reason, '')) "
        "WHERE seq_no IS NOT NULL"
    )
    op.create_index("ix_transaction_events_transaction", "transaction_events", ["transaction_pk", "id"])
    # The 1.6 events the migrated transactions stand for: Started, and Ended once stopped by the
    # charger (one the CSMS closed has no event of its station).
    op.execute(
        "INSERT INTO transaction_events (tenant_id, charge_point_id, transaction_pk, seq_no, event_type, "
        '"timestamp", evse_id, connector_id, id_token, id_token_status, reservation_id, received_at) '
        "SELECT tenant_id, charge_point_id, id, 0, 'Started', start_timestamp, evse_id, connector_id, "
        "id_token, start_auth_status, reservation_id, started_received_at FROM transactions ORDER BY id"
    )
    op.execute(
        "INSERT INTO transaction_events (tenant_id, charge_point_id, transaction_pk, event_type, "
        '"timestamp", evse_id, connector_id, stopped_reason, id_token, received_at) '
        "SELECT tenant_id, charge_point_id, id, 'Ended', stop_timestamp, evse_id, connector_id, stop_reason, "
        "stop_id_token, stopped_received_at FROM transactions WHERE stop_timestamp IS NOT NULL "
        "AND closed_by IS NULL ORDER BY id"
    )

    op.alter_column("meter_samples", "connector_id", new_column_name="evse_id")
    op.alter_column(
        "unknown_transaction_stops", "transaction_id", type_=sa.Text, postgresql_using="transaction_id::text"
    )
    # Refused starts are not charging sessions: the rolled-up days count them no more.
    op.execute(
        "UPDATE energy_rollup r SET session_count = r.session_count - refused.n FROM ("
        "SELECT tenant_id, charge_point_id, (start_timestamp AT TIME ZONE 'UTC')::date AS day, count(*) AS n "
        "FROM transactions WHERE deauthorized_at IS NOT NULL GROUP BY 1, 2, 3) refused "
        "WHERE r.tenant_id = refused.tenant_id AND r.charge_point_id = refused.charge_point_id "
        "AND r.day = refused.day"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE energy_rollup r SET session_count = r.session_count + refused.n FROM ("
        "SELECT tenant_id, charge_point_id, (start_timestamp AT TIME ZONE 'UTC')::date AS day, count(*) AS n "
        "FROM transactions WHERE deauthorized_at IS NOT NULL GROUP BY 1, 2, 3) refused "
        "WHERE r.tenant_id = refused.tenant_id AND r.charge_point_id = refused.charge_point_id "
        "AND r.day = refused.day"
    )
    # 2.0.1 transactions and stops of station-chosen ids have no 1.6 form.
    op.execute("DELETE FROM unknown_transaction_stops WHERE transaction_id !~ '^-?[0-9]{1,9}$'")
    op.alter_column(
        "unknown_transaction_stops",
        "transaction_id",
        type_=sa.Integer,
        postgresql_using="transaction_id::integer",
    )
    op.alter_column("meter_samples", "evse_id", new_column_name="connector_id")
    op.drop_table("transaction_events")
    op.execute("DELETE FROM transactions WHERE protocol <> 'ocpp1.6'")
    t = "transactions"
    op.drop_index("ix_transactions_deauthorized_open", t)
    op.drop_constraint("ck_transactions_protocol", t, type_="check")
    op.execute("DROP INDEX ux_transactions_start")
    op.drop_index("ux_transactions_protocol_id", t)
    for column in (
        "meter_stop_context",
        "meter_stop_at",
        "meter_start_context",
        "meter_start_at",
        "offline",
        "deauthorized_at",
        "remote_start_id",
        "charging_state",
        "seq_no",
        "protocol",
        "stop_id_token_type",
        "id_token_type",
        "transaction_id",
        "connector_id",
    ):
        op.drop_column(t, column)
    op.alter_column(t, "meter_start", nullable=False)
    op.alter_column(t, "start_auth_status", nullable=False)
    op.alter_column(t, "stop_id_token", new_column_name="stop_id_tag")
    op.alter_column(t, "id_token", new_column_name="id_tag", nullable=False)
    op.alter_column(t, "evse_id", new_column_name="connector_id", nullable=False)
    op.execute(
        "CREATE UNIQUE INDEX ux_transactions_start ON transactions "
        "(charge_point_id, connector_id, id_tag, meter_start, start_timestamp)"
    )

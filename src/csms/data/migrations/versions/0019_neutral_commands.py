"""Commands speak the neutral model (issue 12; ADR 0019).

A command is submitted by its neutral name (``reset``, ``start-transaction``, ...) or, for an
action one protocol alone has, by its OCPP action; it is translated for the protocol of the
station and keeps both sides:

- ``commands``: + ``name`` (the neutral name or the OCPP action), + ``protocol`` (the
  subprotocol it was translated for; NULL until the station's protocol is known),
  ``action`` (the OCPP action sent) becomes nullable for the same reason, ``request`` is the
  body as the operator gave it (after the CSMS filled in the ids it allocates), +
  ``ocpp_request`` (the OCPP payload sent or to be sent), + ``request_id`` (the id the station
  echoes in its follow-ups: 2.0.1 requestId or remoteStartId) and + ``result`` (the neutral
  reading of the answer, e.g. a composite schedule). Existing rows were 1.6 commands: their
  name is their action, their protocol ``ocpp1.6``, their request what was sent.
- ``command_request_ids``: the sequence of those ids (2.0.1 integers are 32-bit; it cycles).
- ``reservations``: ``evse_id`` may be NULL (a 2.0.1 reservation of no particular EVSE),
  + ``connector_type``, + ``group_id_token_type``.
- ``charging_profiles``: ``transaction_id`` becomes text (the protocol's transaction id, as
  ``transactions.transaction_id``), ``schedule`` becomes ``schedules`` (a list: 2.0.1 allows
  one to three; a 1.6 profile's one schedule is the list of one), and 1.6's
  ``ChargePointMaxProfile`` is called by the neutral name ``ChargingStationMaxProfile``.
- ``charge_points``: a password rotation in flight (``rotate-password``, ADR 0019): the hash of
  the new password (``pending_password_hash``), the one the station accepted it over
  (``previous_password_hash``, admitted until the station first connects with the new one),
  the command and its state (``password_command_id``, ``password_rotation``).
- ``command_secrets``: the new password, encrypted with the command-secrets key, from submit
  until the command ends (never in the command row).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("commands", sa.Column("name", sa.Text))
    op.add_column("commands", sa.Column("protocol", sa.Text))
    op.add_column("commands", sa.Column("ocpp_request", JSONB))
    op.add_column("commands", sa.Column("request_id", sa.Integer))
    op.add_column("commands", sa.Column("result", JSONB))
    op.execute("UPDATE commands SET name = action, protocol = 'ocpp1.6', ocpp_request = request")
    op.alter_column("commands", "name", nullable=False)
    op.alter_column("commands", "action", nullable=True)
    op.drop_index("ix_commands_local_lists", "commands")
    op.create_index(
        "ix_commands_local_lists",
        "commands",
        ["charge_point_id", "created_at"],
        postgresql_where=sa.text("name IN ('send-local-list', 'SendLocalList')"),
    )
    op.create_index(
        "ix_commands_request_id",
        "commands",
        ["charge_point_id", "request_id"],
        postgresql_where=sa.text("request_id IS NOT NULL"),
    )
    op.execute("CREATE SEQUENCE command_request_ids AS integer MINVALUE 1 MAXVALUE 2147483647 CYCLE")

    for column in (
        "pending_password_hash",
        "previous_password_hash",
        "password_command_id",
        "password_rotation",
    ):
        op.add_column("charge_points", sa.Column(column, sa.Text))
    op.create_table(
        "command_secrets",
        sa.Column("command_id", sa.Text, primary_key=True),
        sa.Column("ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )

    op.alter_column("reservations", "evse_id", nullable=True)
    op.add_column("reservations", sa.Column("connector_type", sa.Text))
    op.add_column("reservations", sa.Column("group_id_token_type", sa.Text))

    op.alter_column(
        "charging_profiles",
        "transaction_id",
        type_=sa.Text,
        postgresql_using="transaction_id::text",
    )
    op.alter_column("charging_profiles", "schedule", new_column_name="schedules")
    op.execute(
        "UPDATE charging_profiles SET schedules = jsonb_build_array(schedules) "
        "WHERE jsonb_typeof(schedules) = 'object'"
    )
    op.execute(
        "UPDATE charging_profiles SET purpose = 'ChargingStationMaxProfile' "
        "WHERE purpose = 'ChargePointMaxProfile'"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE charging_profiles SET purpose = 'ChargePointMaxProfile' "
        "WHERE purpose = 'ChargingStationMaxProfile'"
    )
    op.execute(
        "UPDATE charging_profiles SET schedules = schedules -> 0 WHERE jsonb_typeof(schedules) = 'array'"
    )
    op.alter_column("charging_profiles", "schedules", new_column_name="schedule")
    # A 2.0.1 station's text ids have no integer: they are dropped.
    op.alter_column(
        "charging_profiles",
        "transaction_id",
        type_=sa.Integer,
        postgresql_using="CASE WHEN transaction_id ~ '^[0-9]{1,9}$' THEN transaction_id::integer END",
    )
    op.drop_table("command_secrets")
    for column in (
        "password_rotation",
        "password_command_id",
        "previous_password_hash",
        "pending_password_hash",
    ):
        op.drop_column("charge_points", column)
    op.drop_column("reservations", "group_id_token_type")
    op.drop_column("reservations", "connector_type")
    op.execute("DELETE FROM reservations WHERE evse_id IS NULL")
    op.alter_column("reservations", "evse_id", nullable=False)

    op.execute("DROP SEQUENCE command_request_ids")
    op.drop_index("ix_commands_request_id", "commands")
    op.drop_index("ix_commands_local_lists", "commands")
    op.create_index(
        "ix_commands_local_lists",
        "commands",
        ["charge_point_id", "created_at"],
        postgresql_where=sa.text("action = 'SendLocalList'"),
    )
    # Commands never translated have no action; those of 2.0.1 stations have no 1.6 meaning.
    op.execute("DELETE FROM commands WHERE action IS NULL OR protocol IS DISTINCT FROM 'ocpp1.6'")
    op.execute("UPDATE commands SET request = ocpp_request WHERE ocpp_request IS NOT NULL")
    op.alter_column("commands", "action", nullable=False)
    for column in ("result", "request_id", "ocpp_request", "protocol", "name"):
        op.drop_column("commands", column)

"""Id tokens in the version-neutral model (issue 12, step B2; ADR 0017).

A 2.0.1 id token has a type (IdTokenEnumType: ISO14443 for an RFID card, eMAID, KeyCode,
...), a 1.6 id tag has none. ``id_tags`` becomes ``id_tokens``:

- ``id_tag`` → ``id_token``; ``type`` is added (every migrated tag: ``ISO14443``, what a 1.6
  tag usually is: the UID of an RFID card);
- ``parent_id_tag`` → ``group_id_token`` with ``group_id_token_type`` (migrated: ``Central``,
  a group identifier the CSMS hands out);
- a token is unique per tenant by (type, lower(value)): the same value may exist under two
  types (a card UID and a key code). The unique index leads with the value, so it also serves
  the 1.6 lookup by value over every type;
- the statuses an operator may store gain ``NoCredit``; values may be 36 characters (2.0.1).

Reservations name the token the same way: ``id_tag`` → ``id_token`` (+ ``id_token_type``, NULL
for a reservation made with a 1.6 ReserveNow), ``parent_id_tag`` → ``group_id_token``.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TYPES = "('Central', 'eMAID', 'ISO14443', 'ISO15693', 'KeyCode', 'Local', 'MacAddress')"


def upgrade() -> None:
    op.rename_table("id_tags", "id_tokens")
    op.alter_column("id_tokens", "id_tag", new_column_name="id_token")
    op.alter_column("id_tokens", "parent_id_tag", new_column_name="group_id_token")
    op.add_column("id_tokens", sa.Column("type", sa.Text, nullable=False, server_default="ISO14443"))
    op.alter_column("id_tokens", "type", server_default=None)
    op.add_column("id_tokens", sa.Column("group_id_token_type", sa.Text))
    op.execute("UPDATE id_tokens SET group_id_token_type = 'Central' WHERE group_id_token IS NOT NULL")

    op.drop_constraint("ck_id_tags_status", "id_tokens", type_="check")
    op.drop_constraint("ck_id_tags_length", "id_tokens", type_="check")
    op.create_check_constraint(
        "ck_id_tokens_status",
        "id_tokens",
        "status IN ('Accepted', 'Blocked', 'Expired', 'Invalid', 'NoCredit')",
    )
    op.create_check_constraint("ck_id_tokens_type", "id_tokens", f"type IN {_TYPES}")
    op.create_check_constraint(
        "ck_id_tokens_length",
        "id_tokens",
        "char_length(id_token) BETWEEN 1 AND 36 "
        "AND coalesce(char_length(group_id_token), 1) BETWEEN 1 AND 36",
    )
    op.create_check_constraint(
        "ck_id_tokens_group_type", "id_tokens", "(group_id_token IS NULL) = (group_id_token_type IS NULL)"
    )

    op.drop_constraint("id_tags_pkey", "id_tokens", type_="primary")
    op.create_primary_key("id_tokens_pkey", "id_tokens", ["tenant_id", "type", "id_token"])
    op.execute("DROP INDEX ux_id_tags_tenant_lower_id_tag")
    op.execute("CREATE UNIQUE INDEX ux_id_tokens_value ON id_tokens (tenant_id, lower(id_token), type)")
    op.execute("ALTER INDEX ix_id_tags_parent RENAME TO ix_id_tokens_group")
    op.execute("ALTER INDEX ix_id_tags_updated RENAME TO ix_id_tokens_updated")

    op.alter_column("reservations", "id_tag", new_column_name="id_token")
    op.add_column("reservations", sa.Column("id_token_type", sa.Text))
    op.alter_column("reservations", "parent_id_tag", new_column_name="group_id_token")


def downgrade() -> None:
    op.alter_column("reservations", "group_id_token", new_column_name="parent_id_tag")
    op.drop_column("reservations", "id_token_type")
    op.alter_column("reservations", "id_token", new_column_name="id_tag")

    # One tag per value: the preferred type's token (the 1.6 lookup order) stays.
    op.execute(
        "DELETE FROM id_tokens t USING id_tokens o WHERE o.tenant_id = t.tenant_id "
        "AND lower(o.id_token) = lower(t.id_token) AND array_position(ARRAY['ISO14443', 'ISO15693', "
        "'KeyCode', 'Local', 'Central', 'eMAID', 'MacAddress'], o.type) < array_position(ARRAY['ISO14443', "
        "'ISO15693', 'KeyCode', 'Local', 'Central', 'eMAID', 'MacAddress'], t.type)"
    )
    op.execute("DELETE FROM id_tokens WHERE char_length(id_token) > 20")
    op.execute("UPDATE id_tokens SET group_id_token = NULL WHERE char_length(group_id_token) > 20")
    op.execute("UPDATE id_tokens SET status = 'Blocked' WHERE status = 'NoCredit'")
    op.execute("ALTER INDEX ix_id_tokens_updated RENAME TO ix_id_tags_updated")
    op.execute("ALTER INDEX ix_id_tokens_group RENAME TO ix_id_tags_parent")
    op.execute("DROP INDEX ux_id_tokens_value")
    op.drop_constraint("id_tokens_pkey", "id_tokens", type_="primary")
    for name in (
        "ck_id_tokens_group_type",
        "ck_id_tokens_length",
        "ck_id_tokens_type",
        "ck_id_tokens_status",
    ):
        op.drop_constraint(name, "id_tokens", type_="check")
    op.drop_column("id_tokens", "group_id_token_type")
    op.drop_column("id_tokens", "type")
    op.alter_column("id_tokens", "group_id_token", new_column_name="parent_id_tag")
    op.alter_column("id_tokens", "id_token", new_column_name="id_tag")
    op.rename_table("id_tokens", "id_tags")
    op.create_primary_key("id_tags_pkey", "id_tags", ["tenant_id", "id_tag"])
    op.execute("CREATE UNIQUE INDEX ux_id_tags_tenant_lower_id_tag ON id_tags (tenant_id, lower(id_tag))")
    op.create_check_constraint(
        "ck_id_tags_status", "id_tags", "status IN ('Accepted', 'Blocked', 'Expired', 'Invalid')"
    )
    op.create_check_constraint("ck_id_tags_length", "id_tags", "char_length(id_tag) <= 20")

"""Stations, EVSEs and connectors in the version-neutral model (issue 12, step B1; ADR 0017).

- ``charge_points``: ``ocpp_version`` (the protocol a station is pinned to: ``ocpp1.6``,
  ``ocpp2.0.1``, or NULL to negotiate), ``last_protocol`` (of its latest connection) and
  ``boot_reason`` (2.0.1 BootNotification ``reason``; 1.6 sends none).
- ``connectors`` and ``connector_status_history`` are keyed by EVSE and connector: the 1.6
  ``connector_id`` N becomes ``evse_id`` N with ``connector_id`` 1 (the 1.6 connector 0, the
  charge point itself, is EVSE 0 connector 0). Each report keeps ``status`` as the station
  reported it (a 1.6 ChargePointStatus or a 2.0.1 ConnectorStatus) and gains the normalized
  ``state`` (2.0.1's five values) and ``charging_state`` (2.0.1 ChargingStateEnumType), so
  reports read one vocabulary; the 1.6 statuses map as the design note says (Preparing and
  Finishing are Occupied with the EV connected). ``error_code`` is nullable: 2.0.1 has none.
- ``reservations`` and ``charging_profiles`` address an EVSE: ``connector_id`` → ``evse_id``
  (the values are equal by the mapping above).

Only renames and added columns on every table but the history's unique index, which is
rebuilt: two connectors of one EVSE may report the same status at the same instant.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The OCPP 1.6 ChargePointStatus as (state, charging state): a frozen copy of the mapping in
#: csms.ocpp16.mapping as it stood when this migration was written.
_STATE = (
    "CASE status WHEN 'Available' THEN 'Available' WHEN 'Reserved' THEN 'Reserved' "
    "WHEN 'Faulted' THEN 'Faulted' WHEN 'Unavailable' THEN 'Unavailable' "
    "WHEN 'Preparing' THEN 'Occupied' WHEN 'Charging' THEN 'Occupied' WHEN 'SuspendedEV' THEN 'Occupied' "
    "WHEN 'SuspendedEVSE' THEN 'Occupied' WHEN 'Finishing' THEN 'Occupied' ELSE 'Unavailable' END"
)
_CHARGING_STATE = (
    "CASE status WHEN 'Available' THEN 'Idle' WHEN 'Preparing' THEN 'EVConnected' "
    "WHEN 'Charging' THEN 'Charging' WHEN 'SuspendedEV' THEN 'SuspendedEV' "
    "WHEN 'SuspendedEVSE' THEN 'SuspendedEVSE' WHEN 'Finishing' THEN 'EVConnected' END"
)
_STATES = "('Available', 'Occupied', 'Reserved', 'Unavailable', 'Faulted')"
_CHARGING_STATES = "('Charging', 'EVConnected', 'SuspendedEV', 'SuspendedEVSE', 'Idle')"
_HISTORY_KEY = (
    "charge_point_id, evse_id, connector_id, status_timestamp, status, "
    "coalesce(error_code, ''), coalesce(charging_state, '')"
)


def _evse_and_connector(table: str) -> None:
    op.alter_column(table, "connector_id", new_column_name="evse_id")
    op.add_column(table, sa.Column("connector_id", sa.Integer))
    op.add_column(table, sa.Column("state", sa.Text))
    op.add_column(table, sa.Column("charging_state", sa.Text))
    # (Table names and expressions are this module's constants, never input.)
    op.execute(
        f"UPDATE {table} SET connector_id = CASE WHEN evse_id > 0 THEN 1 ELSE 0 END, "  # noqa: S608
        f"state = {_STATE}, charging_state = {_CHARGING_STATE}"
    )
    op.alter_column(table, "connector_id", nullable=False)
    op.alter_column(table, "state", nullable=False)
    op.alter_column(table, "error_code", nullable=True)
    op.create_check_constraint(f"ck_{table}_state", table, f"state IN {_STATES}")
    op.create_check_constraint(
        f"ck_{table}_charging_state", table, f"charging_state IS NULL OR charging_state IN {_CHARGING_STATES}"
    )


def upgrade() -> None:
    op.add_column("charge_points", sa.Column("ocpp_version", sa.Text))
    op.add_column("charge_points", sa.Column("last_protocol", sa.Text))
    op.add_column("charge_points", sa.Column("boot_reason", sa.Text))
    op.create_check_constraint(
        "ck_charge_points_ocpp_version", "charge_points", "ocpp_version IN ('ocpp1.6', 'ocpp2.0.1')"
    )

    op.drop_constraint("connectors_pkey", "connectors", type_="primary")
    _evse_and_connector("connectors")
    op.create_primary_key("connectors_pkey", "connectors", ["charge_point_id", "evse_id", "connector_id"])

    op.execute("DROP INDEX ux_connector_status_history_report")
    _evse_and_connector("connector_status_history")
    op.execute(
        f"CREATE UNIQUE INDEX ux_connector_status_history_report ON connector_status_history ({_HISTORY_KEY})"
    )

    op.alter_column("reservations", "connector_id", new_column_name="evse_id")
    op.alter_column("charging_profiles", "connector_id", new_column_name="evse_id")


def downgrade() -> None:
    op.alter_column("charging_profiles", "evse_id", new_column_name="connector_id")
    op.alter_column("reservations", "evse_id", new_column_name="connector_id")
    for table in ("connector_status_history", "connectors"):
        # A 2.0.1 EVSE with several connectors has no 1.6 form: keep its first connector.
        op.execute(
            f"DELETE FROM {table} t WHERE EXISTS (SELECT 1 FROM {table} o WHERE o.charge_point_id = "  # noqa: S608
            "t.charge_point_id AND o.evse_id = t.evse_id AND o.connector_id < t.connector_id)"
        )
        op.execute(f"UPDATE {table} SET error_code = 'NoError' WHERE error_code IS NULL")  # noqa: S608
        op.drop_constraint(f"ck_{table}_charging_state", table, type_="check")
        op.drop_constraint(f"ck_{table}_state", table, type_="check")
        op.alter_column(table, "error_code", nullable=False)
    op.execute("DROP INDEX ux_connector_status_history_report")
    op.drop_constraint("connectors_pkey", "connectors", type_="primary")
    for table in ("connector_status_history", "connectors"):
        op.drop_column(table, "charging_state")
        op.drop_column(table, "state")
        op.drop_column(table, "connector_id")
        op.alter_column(table, "evse_id", new_column_name="connector_id")
    op.create_primary_key("connectors_pkey", "connectors", ["charge_point_id", "connector_id"])
    op.execute(
        "CREATE UNIQUE INDEX ux_connector_status_history_report ON connector_status_history "
        "(charge_point_id, connector_id, status_timestamp, status, error_code)"
    )
    op.drop_constraint("ck_charge_points_ocpp_version", "charge_points", type_="check")
    for column in ("boot_reason", "last_protocol", "ocpp_version"):
        op.drop_column("charge_points", column)

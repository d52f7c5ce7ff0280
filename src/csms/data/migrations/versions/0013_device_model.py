"""The device model (issue 12, step B4; ADR 0017).

OCPP 2.0.1 describes a station as components (on the station, an EVSE or a connector) with
variables, each with up to four attributes (Actual, Target, MinSet, MaxSet) and their metadata
(mutability, persistent, constant, characteristics). ``charge_point_configuration`` (1.6 keys)
becomes ``device_model_variables``:

- one row per attribute; absent instances are '' and absent EVSE/connector ids -1, so a unique
  index can name every attribute; names compare case-insensitively (the index is on lower());
- each 1.6 key goes through the key mapping (a frozen copy of csms.ocpp16.configuration as it
  stood when this migration was written): a key with a 2.0.1 equivalent becomes that variable,
  ``LocalAuthListMaxLength`` and ``MaxChargingProfilesInstalled`` (whole numbers) the
  ``maxLimit`` characteristic of the variable that counts; any other key is variable ``<key>``
  of component ``OCPP16``. ``ocpp16_key`` keeps the key; ``readonly`` becomes the mutability;
  ``source`` is ``Migrated``;
- a stored AuthorizationKey (SecurityCtrlr.BasicAuthPassword) loses its value: the device model
  records that a credential was set, not the credential;
- two keys differing only in case (the old primary key was case-sensitive) keep the newer.

Downgrade: the rows that came from a 1.6 key go back under that key (a maxLimit back into the
value); rows a 2.0.1 station reported are dropped.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-09
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)

#: (1.6 key, component, variable, variable instance, the value is the maxLimit characteristic).
_KEYS: tuple[tuple[str, str, str, str, bool], ...] = (
    ("HeartbeatInterval", "OCPPCommCtrlr", "HeartbeatInterval", "", False),
    ("MeterValueSampleInterval", "SampledDataCtrlr", "TxUpdatedInterval", "", False),
    ("ClockAlignedDataInterval", "AlignedDataCtrlr", "Interval", "", False),
    ("MeterValuesSampledData", "SampledDataCtrlr", "TxUpdatedMeasurands", "", False),
    ("MeterValuesAlignedData", "AlignedDataCtrlr", "Measurands", "", False),
    ("StopTxnSampledData", "SampledDataCtrlr", "TxEndedMeasurands", "", False),
    ("StopTxnAlignedData", "AlignedDataCtrlr", "TxEndedMeasurands", "", False),
    ("ConnectionTimeOut", "TxCtrlr", "EVConnectionTimeOut", "", False),
    ("LocalAuthorizeOffline", "AuthCtrlr", "LocalAuthorizeOffline", "", False),
    ("LocalPreAuthorize", "AuthCtrlr", "LocalPreAuthorize", "", False),
    ("AllowOfflineTxForUnknownId", "AuthCtrlr", "OfflineTxForUnknownIdEnabled", "", False),
    ("AuthorizationCacheEnabled", "AuthCacheCtrlr", "Enabled", "", False),
    ("AuthorizeRemoteTxRequests", "AuthCtrlr", "AuthorizeRemoteStart", "", False),
    ("LocalAuthListEnabled", "LocalAuthListCtrlr", "Enabled", "", False),
    ("LocalAuthListMaxLength", "LocalAuthListCtrlr", "Entries", "", True),
    ("SendLocalListMaxLength", "LocalAuthListCtrlr", "ItemsPerMessage", "", False),
    ("ResetRetries", "OCPPCommCtrlr", "ResetRetries", "", False),
    ("StopTransactionOnEVSideDisconnect", "TxCtrlr", "StopTxOnEVSideDisconnect", "", False),
    ("StopTransactionOnInvalidId", "TxCtrlr", "StopTxOnInvalidId", "", False),
    ("MaxEnergyOnInvalidId", "TxCtrlr", "MaxEnergyOnInvalidId", "", False),
    ("TransactionMessageAttempts", "OCPPCommCtrlr", "MessageAttempts", "TransactionEvent", False),
    ("TransactionMessageRetryInterval", "OCPPCommCtrlr", "MessageAttemptInterval", "TransactionEvent", False),
    ("UnlockConnectorOnEVSideDisconnect", "OCPPCommCtrlr", "UnlockOnEVSideDisconnect", "", False),
    ("WebSocketPingInterval", "OCPPCommCtrlr", "WebSocketPingInterval", "", False),
    ("MinimumStatusDuration", "OCPPCommCtrlr", "MinimumStatusDuration", "", False),
    ("SupportedFileTransferProtocols", "OCPPCommCtrlr", "FileTransferProtocols", "", False),
    ("ChargeProfileMaxStackLevel", "SmartChargingCtrlr", "ProfileStackLevel", "", False),
    ("ChargingScheduleMaxPeriods", "SmartChargingCtrlr", "PeriodsPerSchedule", "", False),
    ("MaxChargingProfilesInstalled", "SmartChargingCtrlr", "Entries", "ChargingProfiles", True),
    ("ConnectorSwitch3to1PhaseSupported", "SmartChargingCtrlr", "Phases3to1", "", False),
    ("GetConfigurationMaxKeys", "DeviceDataCtrlr", "ItemsPerMessage", "GetVariables", False),
    ("ReserveConnectorZeroSupported", "ReservationCtrlr", "NonEvseSpecific", "", False),
    ("AuthorizationKey", "SecurityCtrlr", "BasicAuthPassword", "", False),
    ("SecurityProfile", "SecurityCtrlr", "SecurityProfile", "", False),
    ("CpoName", "SecurityCtrlr", "OrganizationName", "", False),
    ("CertificateSignedMaxChainSize", "SecurityCtrlr", "MaxCertificateChainSize", "", False),
    ("CertificateStoreMaxLength", "SecurityCtrlr", "CertificateEntries", "", False),
    ("AdditionalRootCertificateCheck", "SecurityCtrlr", "AdditionalRootCertificateCheck", "", False),
)
#: A whole number as csms.ocpp16.configuration reads one.
_WHOLE = r"'^\s*[-+]?[0-9]{1,18}\s*$'"


def _literal(value: str | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    assert "'" not in value
    return f"'{value}'"


def upgrade() -> None:
    op.create_table(
        "device_model_variables",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column(
            "charge_point_id", sa.Text, sa.ForeignKey("charge_points.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("component", sa.Text, nullable=False),
        sa.Column("component_instance", sa.Text, nullable=False, server_default=""),
        sa.Column("evse_id", sa.Integer, nullable=False, server_default="-1"),
        sa.Column("connector_id", sa.Integer, nullable=False, server_default="-1"),
        sa.Column("variable", sa.Text, nullable=False),
        sa.Column("variable_instance", sa.Text, nullable=False, server_default=""),
        sa.Column("attribute_type", sa.Text, nullable=False, server_default="Actual"),
        sa.Column("value", sa.Text),
        sa.Column("mutability", sa.Text),
        sa.Column("persistent", sa.Boolean),
        sa.Column("constant", sa.Boolean),
        sa.Column("characteristics", JSONB),
        sa.Column("known", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("ocpp16_key", sa.Text),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint(
            "attribute_type IN ('Actual', 'Target', 'MinSet', 'MaxSet')",
            name="ck_device_model_attribute_type",
        ),
        sa.CheckConstraint(
            "mutability IN ('ReadOnly', 'WriteOnly', 'ReadWrite')", name="ck_device_model_mutability"
        ),
        sa.CheckConstraint("evse_id >= -1 AND connector_id >= -1", name="ck_device_model_evse"),
    )
    op.execute(
        "CREATE UNIQUE INDEX ux_device_model_variables ON device_model_variables (charge_point_id, "
        "lower(component), lower(component_instance), evse_id, connector_id, lower(variable), "
        "lower(variable_instance), attribute_type)"
    )
    keys = ", ".join("(" + ", ".join(_literal(v) for v in row) + ")" for row in _KEYS)
    # (The VALUES list is this module's constants, never input.)
    op.execute(
        f"""
        INSERT INTO device_model_variables (tenant_id, charge_point_id, component, variable,
            variable_instance, value, mutability, characteristics, known, source, ocpp16_key, updated_at)
        SELECT DISTINCT ON (c.charge_point_id, lower(c.key))
            c.tenant_id, c.charge_point_id, coalesce(m.component, 'OCPP16'), coalesce(m.variable, c.key),
            coalesce(m.instance, ''),
            CASE WHEN m.max_limit OR m.variable = 'BasicAuthPassword' THEN NULL ELSE c.value END,
            CASE c.readonly WHEN true THEN 'ReadOnly' WHEN false THEN 'ReadWrite' END,
            CASE WHEN m.max_limit AND c.value IS NOT NULL
                THEN jsonb_build_object('maxLimit', trim(c.value)::bigint) END,
            c.known, 'Migrated', c.key, c.updated_at
        FROM charge_point_configuration c
        LEFT JOIN (VALUES {keys}) AS m (key, component, variable, instance, max_limit)
            ON lower(m.key) = lower(c.key) AND (NOT m.max_limit OR c.value IS NULL OR c.value ~ {_WHOLE})
        ORDER BY c.charge_point_id, lower(c.key), c.updated_at DESC
        """  # noqa: S608
    )
    op.drop_table("charge_point_configuration")


def downgrade() -> None:
    op.create_table(
        "charge_point_configuration",
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column(
            "charge_point_id", sa.Text, sa.ForeignKey("charge_points.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("value", sa.Text),
        sa.Column("readonly", sa.Boolean),
        sa.Column("known", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("charge_point_id", "key"),
    )
    op.execute(
        """
        INSERT INTO charge_point_configuration (tenant_id, charge_point_id, key, value, readonly, known,
            updated_at)
        SELECT DISTINCT ON (charge_point_id, ocpp16_key)
            tenant_id, charge_point_id, ocpp16_key,
            coalesce(value, characteristics ->> 'maxLimit'),
            CASE mutability WHEN 'ReadOnly' THEN true WHEN 'ReadWrite' THEN false END,
            known, updated_at
        FROM device_model_variables
        WHERE ocpp16_key IS NOT NULL
        ORDER BY charge_point_id, ocpp16_key, updated_at DESC
        """
    )
    op.drop_table("device_model_variables")

"""Every name the CDK app hands out, in one place.

Environment variable names are derived from :class:`csms.settings.Settings` so a renamed
setting breaks ``cdk synth`` instead of silently deploying a function that reads a
variable nobody sets. Names shared with the functions (headers, route keys, table
layout) come from :mod:`csms.constants` and :mod:`csms.aws.schema`.
"""

from __future__ import annotations

from typing import Final

from pydantic import AliasChoices

from csms.constants import CHARGE_POINT_ID_HEADER, OCPP_PATH_PREFIX, ORIGIN_VERIFY_HEADER, ROUTE_FUNCTIONS
from csms.settings import Settings

PROJECT: Final = "csms"
STAGES: Final = ("dev", "prod")


def stack_name(stage: str) -> str:
    """CloudFormation stack name of one stage, e.g. ``Csms-dev``."""
    return f"Csms-{stage}"


def setting_env_var(field: str) -> str:
    """The environment variable :class:`~csms.settings.Settings` reads ``field`` from.

    The first alias wins when the field lists several (``POWERTOOLS_SERVICE_NAME`` before
    ``CSMS_SERVICE_NAME``), otherwise it is the ``CSMS_`` prefix plus the field name.
    """
    try:
        info = Settings.model_fields[field]
    except KeyError:
        raise KeyError(
            f"csms.settings.Settings has no field {field!r}; infra and settings disagree"
        ) from None
    alias = info.validation_alias
    if isinstance(alias, AliasChoices):
        first = alias.choices[0]
        if isinstance(first, str):
            return first
    if isinstance(alias, str):
        return alias
    return f"{Settings.model_config.get('env_prefix', '')}{field}".upper()


class Env:
    """Environment variables the functions read (all through ``csms.settings``)."""

    CONNECTIONS_TABLE: Final = setting_env_var("connections_table")
    DATABASE_SECRET_ARN: Final = setting_env_var("database_secret_arn")
    WS_MANAGEMENT_ENDPOINT: Final = setting_env_var("ws_management_endpoint")
    ORIGIN_VERIFY_SECRET: Final = setting_env_var("origin_verify_secret")
    ALLOW_UNKNOWN_CHARGERS: Final = setting_env_var("allow_unknown_chargers")
    HEARTBEAT_INTERVAL: Final = setting_env_var("heartbeat_interval")
    DATA_TRANSFER_VENDORS: Final = setting_env_var("data_transfer_vendors")
    SERVICE_NAME: Final = setting_env_var("service_name")
    LOG_LEVEL: Final = setting_env_var("log_level")
    TRACING: Final = setting_env_var("tracing")
    #: Read by Powertools Metrics itself, not by Settings.
    METRICS_NAMESPACE: Final = "POWERTOOLS_METRICS_NAMESPACE"
    #: Set only with the RDS Proxy: the host to connect to instead of the secret's
    #: ``host``. NOT yet a field of csms.settings (reported as needed).
    DATABASE_HOST: Final = "CSMS_DATABASE_HOST"


# --- Functions ----------------------------------------------------------------------------
#: Directory names under ``functions/`` of the WebSocket route handlers.
CONNECT: Final = ROUTE_FUNCTIONS["$connect"]
MESSAGE: Final = ROUTE_FUNCTIONS["$default"]
DISCONNECT: Final = ROUTE_FUNCTIONS["$disconnect"]
FUNCTIONS_DIR: Final = "functions"
#: The migration runs from the shared package, not from a ``functions/`` entry point.
MIGRATE_HANDLER: Final = "csms.app.migrate.lambda_handler"
SERVICE_NAME: Final = PROJECT


def function_handler(name: str) -> str:
    """Lambda handler string of ``functions/<name>/handler.py``.

    The code asset holds ``functions/`` as a namespace package next to ``csms/``, so the
    runtime imports ``functions.<name>.handler``.
    """
    return f"{FUNCTIONS_DIR}/{name}/handler.lambda_handler"


def metrics_namespace(stage: str) -> str:
    """CloudWatch namespace of the product's metrics; one per stage keeps dev out of prod graphs."""
    return f"Csms/{stage}"


# --- Front door ---------------------------------------------------------------------------
#: CloudFront Functions see header names in lower case only.
CF_CHARGE_POINT_ID_HEADER: Final = CHARGE_POINT_ID_HEADER.lower()
CF_ORIGIN_VERIFY_HEADER: Final = ORIGIN_VERIFY_HEADER.lower()
ORIGIN_VERIFY_HEADER_NAME: Final = ORIGIN_VERIFY_HEADER
OCPP_PATH: Final = OCPP_PATH_PREFIX


def charger_url(host: str) -> str:
    """The URL a charger is configured with (``{chargePointId}`` stays a placeholder)."""
    return f"wss://{host}{OCPP_PATH_PREFIX}{{chargePointId}}"


def websocket_api_name(stage: str) -> str:
    return f"{PROJECT}-{stage}-chargers"


# --- Database -----------------------------------------------------------------------------
DATABASE_NAME: Final = PROJECT
DATABASE_ADMIN_USER: Final = "csms_admin"

# --- Custom resources ---------------------------------------------------------------------
MIGRATION_RESOURCE_TYPE: Final = "Custom::CsmsMigration"

"""Runtime settings: one pydantic model, validated once per process.

Nothing else in the code base reads ``os.environ``; functions, the CLI and the local
stack all receive a :class:`Settings`. Variables are prefixed ``CSMS_`` except
``DATABASE_URL`` and the standard ``AWS_*`` ones, which keep their usual names.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from csms.constants import DEFAULT_TENANT, MAX_HEARTBEAT_INTERVAL_SECONDS


class Settings(BaseSettings):
    """Every knob the product reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="CSMS_", extra="ignore", frozen=True)

    # --- PostgreSQL -------------------------------------------------------------------
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "CSMS_DATABASE_URL"),
        description="SQLAlchemy URL, e.g. postgresql+psycopg://user:pw@host:5432/db. "
        "Unset locally means: use the embedded PostgreSQL in the state folder.",
    )
    database_secret_arn: str | None = Field(
        default=None,
        description="On AWS: Secrets Manager secret with the Aurora credentials "
        "(host, port, username, password, dbname). Used when database_url is unset.",
    )
    database_host: str | None = Field(
        default=None,
        description="Overrides the secret's host, e.g. an RDS Proxy endpoint in front of Aurora.",
    )
    database_pool_size: int = Field(
        default=1, ge=1, le=100, description="1 on Lambda (one request per container)."
    )
    database_max_overflow: int = Field(default=0, ge=0, le=100)

    # --- DynamoDB / AWS -----------------------------------------------------------------
    connections_table: str = "csms-connections"
    idempotency_table: str = "csms-idempotency"
    pending_calls_table: str = "csms-pending-calls"
    commands_queue_url: str | None = Field(
        default=None, description="SQS FIFO queue that triggers command delivery (group = charger)."
    )
    user_pool_id: str | None = Field(
        default=None, description="Cognito user pool of the operators (the /users API manages it)."
    )
    event_bus_name: str | None = Field(
        default=None, description="EventBridge bus for domain events (issue 5 publishes to it)."
    )
    command_timeout_seconds: int = Field(
        default=60, ge=5, le=3600, description="How long a charger has to answer one of our CALLs."
    )
    aws_region: str = Field(
        default="us-east-1",
        validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION", "CSMS_AWS_REGION"),
    )
    ws_management_endpoint: str | None = Field(
        default=None,
        description="Base URL of the @connections API, e.g. "
        "https://abc123.execute-api.eu-west-1.amazonaws.com/prod. Derived from the "
        "event (domainName/stage) when unset.",
    )

    # --- Charger admission --------------------------------------------------------------
    allow_unknown_chargers: bool = Field(
        default=False,
        description="Admit chargers that were never provisioned; they are registered as "
        "Pending in the default tenant until an operator accepts them.",
    )
    origin_verify_secret: str | None = Field(
        default=None,
        description="Shared secret the front door adds to every $connect. When set, a "
        "$connect without it is refused (the charger id header cannot be trusted).",
    )
    default_tenant: str = DEFAULT_TENANT

    # --- OCPP behaviour -----------------------------------------------------------------
    heartbeat_interval: int = Field(default=300, ge=10, le=MAX_HEARTBEAT_INTERVAL_SECONDS)
    data_transfer_vendors: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="Vendor ids accepted by DataTransfer in addition to those with a "
        "registered handler (comma separated in the environment).",
    )

    # --- Observability ------------------------------------------------------------------
    metrics_namespace: str = Field(
        default="Csms",
        validation_alias=AliasChoices("POWERTOOLS_METRICS_NAMESPACE", "CSMS_METRICS_NAMESPACE"),
    )
    service_name: str = Field(
        default="csms", validation_alias=AliasChoices("POWERTOOLS_SERVICE_NAME", "CSMS_SERVICE_NAME")
    )
    log_level: str = Field(default="INFO", validation_alias=AliasChoices("CSMS_LOG_LEVEL", "LOG_LEVEL"))
    log_format: Literal["json", "console"] = "json"
    tracing: bool = Field(default=False, description="Create the X-Ray tracer (costs ~300 ms of cold start).")

    # --- Local stack --------------------------------------------------------------------
    state_dir: Path | None = Field(
        default=None,
        description="Where `csms dev` and the CLI keep the embedded PostgreSQL. Default: `.csms/` in "
        "the source checkout, else ~/.local/state/csms.",
    )

    @field_validator("data_transfer_vendors", mode="before")
    @classmethod
    def _split_vendors(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(v.strip() for v in value.split(",") if v.strip())
        return value


def default_state_dir() -> Path:
    """`.csms/` at the root of the source checkout (so every command finds the same
    database wherever it is run from), or the user's state directory for an installed
    package."""
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file() and (checkout / "functions").is_dir():
        return checkout / ".csms"
    return Path.home() / ".local" / "state" / "csms"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()

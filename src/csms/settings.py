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
        default=None,
        description="EventBridge bus the domain events are published to. Unset: events are still "
        "recorded (the live feed serves them) but published nowhere.",
    )
    events_dead_letter_queue_url: str | None = Field(
        default=None,
        description="SQS queue for domain events that could not be published after "
        "event_publish_max_attempts (an alarm watches it on AWS).",
    )
    event_publish_max_attempts: int = Field(
        default=10,
        ge=1,
        le=1000,
        description="Publishing attempts (about one a minute) before dead-lettering.",
    )
    event_retention_days: int = Field(
        default=30, ge=1, le=3650, description="How long the live feed (domain_events) keeps events."
    )
    events_echo: str | None = Field(
        default=None,
        description="Also write every published event as a JSON line: '-' for stdout, else a file "
        "path (`csms dev --events`).",
    )
    feed_max_wait_seconds: int = Field(
        default=20,
        ge=0,
        le=25,
        description="Longest long-poll of GET /api/v1/events (API Gateway cuts requests at 29 s).",
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

    # --- Scheduled jobs: liveness and stuck transactions ---------------------------------
    liveness_slack_seconds: int = Field(
        default=60,
        ge=0,
        le=3600,
        description="A charger is offline when its last frame is older than twice its heartbeat "
        "interval plus this (network delays, a retried frame).",
    )
    stuck_transaction_idle_hours: float = Field(
        default=24,
        gt=0,
        le=24 * 365,
        description="An open transaction with no meter value or status report for this long is "
        "flagged for an operator.",
    )
    reboot_grace_minutes: float = Field(
        default=15,
        ge=0,
        le=24 * 60,
        description="After a BootNotification a charger delivers its queued StopTransactions; only "
        "after this grace is a transaction that started before the boot considered left open.",
    )

    # --- Meter data housekeeping (the meter-housekeeping job, hourly) ---------------------
    meter_partitions_ahead: int = Field(
        default=3,
        ge=0,
        le=36,
        description="Monthly meter_samples partitions kept ready beyond the current month (rows "
        "for a month without one land in the default partition, which is slower to prune).",
    )
    meter_retention_days: int | None = Field(
        default=None,
        ge=1,
        description="Delete meter samples older than this many days (whole UTC days; whole "
        "monthly partitions are dropped). Unset: keep them forever. The energy report keeps "
        "reading the daily rollup for the days whose samples are gone.",
    )
    meter_rollup_settle_seconds: int = Field(
        default=900,
        ge=0,
        le=86400,
        description="How long a frame may take from being received to being committed (at least "
        "the message function's timeout): inputs received this long before a day was rolled up "
        "make it be computed once more.",
    )
    meter_rollup_recheck_days: int = Field(
        default=1,
        ge=0,
        le=31,
        description="The last N complete UTC days are rolled up again on every run, whatever "
        "changed (a safety net; late inputs are detected by their received time anyway).",
    )
    meter_rollup_max_days_per_run: int = Field(
        default=366,
        ge=1,
        le=100_000,
        description="Days never rolled up yet computed per tenant and run, newest first (the "
        "first run over a long history catches up over several runs; retention waits for it).",
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

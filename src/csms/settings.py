"""Runtime settings: one frozen dataclass, validated once per process.

The product's own configuration is read here and nowhere else: functions, the CLI and the
local stack all receive a :class:`Settings`. Variables are prefixed ``CSMS_`` except
``DATABASE_URL`` and the standard ``AWS_*`` / ``POWERTOOLS_*`` ones, which keep their usual
names. Names are matched case-insensitively and an empty value counts as unset.

Two kinds of environment reads stay elsewhere, on purpose. The AWS SDK's own variables
(credentials, ``AWS_ENDPOINT_URL`` and ``AWS_ENDPOINT_URL_<SERVICE>``) are read by boto3 and,
for the per-frame calls, by the lean clients in :mod:`csms.aws.signed`, which must resolve
them exactly as boto3 does (and credentials are no setting to keep, validate or print). The
local stack (:mod:`csms.local`) plays the Lambda runtime: it writes the environment the
functions will read, reads back what it wrote, and hands it on to the processes it starts.

Why not pydantic-settings (ADR 0015): every Lambda function reads its settings while it
starts, and pydantic-settings with pydantic cost ~150 ms of CPU of a cold start here, a third
of the budget. The model below keeps what the style guide asks of settings (one typed,
frozen object, validated once, every problem reported together) with the standard library;
each field declares its variables, bounds and meaning in one place.
"""

from __future__ import annotations

import os
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal, NamedTuple

from csms.constants import DEFAULT_TENANT, MAX_HEARTBEAT_INTERVAL_SECONDS

_PREFIX = "CSMS_"
_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})


class SettingsError(ValueError):
    """One or more settings are invalid; the message names every variable at fault."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid settings: " + "; ".join(problems))


class Spec(NamedTuple):
    """What a field declares besides its type and default."""

    env: tuple[str, ...]
    ge: float | None
    gt: float | None
    le: float | None
    doc: str


def setting(
    default: Any,
    *,
    env: tuple[str, ...] = (),
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    doc: str = "",
    secret: bool = False,
) -> Any:
    """A field of :class:`Settings`: its default, the variables it is read from (first found
    wins; default ``CSMS_<NAME>``), its bounds and what it means. A ``secret`` is left out of
    the repr, so a logged or printed Settings never shows it."""
    return field(default=default, repr=not secret, metadata={"spec": Spec(env, ge, gt, le, doc)})


@dataclass(frozen=True)
class Settings:
    """Every knob the product reads from its environment."""

    # --- PostgreSQL -------------------------------------------------------------------
    database_url: str | None = setting(
        None,
        env=("DATABASE_URL", "CSMS_DATABASE_URL"),
        secret=True,  # may carry the password
        doc="SQLAlchemy URL, e.g. postgresql+psycopg://user:pw@host:5432/db. "
        "Unset locally means: use the embedded PostgreSQL in the state folder.",
    )
    database_secret_arn: str | None = setting(
        None,
        doc="On AWS: Secrets Manager secret with the Aurora credentials "
        "(host, port, username, password, dbname). Used when database_url is unset.",
    )
    database_host: str | None = setting(
        None, doc="Overrides the secret's host, e.g. an RDS Proxy endpoint in front of Aurora."
    )
    database_ca_file: str | None = setting(
        None,
        doc="CA bundle that signs the database's certificate (the RDS bundle in the code asset on AWS): "
        "connections from a secret then verify the server (sslmode=verify-full); unset: sslmode=require.",
    )
    database_role_secret_arns: tuple[str, ...] = setting(
        (),
        doc="The migration: secrets of the runtime database roles it creates and grants (comma separated).",
    )
    database_pool_size: int = setting(1, ge=1, le=100, doc="1 on Lambda (one request per container).")
    database_max_overflow: int = setting(
        1,
        ge=0,
        le=100,
        doc="Connections a container may open beyond the pool while every pooled one is in use: "
        "load management submits a site's charging profiles through the command pipeline while it "
        "holds the site's row lock (ADR 0024), which takes a second connection.",
    )
    database_statement_timeout_ms: int = setting(
        5000,
        ge=100,
        le=900_000,
        doc="PostgreSQL statement_timeout of the functions' sessions: no statement of a frame "
        "outlives it (the scheduled jobs get a longer one on AWS).",
    )
    database_lock_timeout_ms: int = setting(
        2000, ge=10, le=900_000, doc="PostgreSQL lock_timeout: the longest wait for a row or table lock."
    )
    database_connect_timeout_seconds: int = setting(
        3, ge=1, le=60, doc="libpq connect_timeout: the whole handshake, a stalled server included."
    )
    database_stall_timeout_seconds: float = setting(
        6.0,
        gt=0,
        le=900,
        doc="Client-side bound of a unit of work: past it the connection is cut and the caller gets "
        "StorageUnavailable (a stalled server enforces no statement_timeout). Keep it under the "
        "chargers' call timeout and API Gateway's 29 s.",
    )

    # --- DynamoDB / AWS -----------------------------------------------------------------
    connections_table: str = "csms-connections"
    idempotency_table: str = "csms-idempotency"
    pending_calls_table: str = "csms-pending-calls"
    limits_table: str = setting(
        "csms-limits", doc="DynamoDB table of the per-client counters and operators' revocation stamps."
    )
    commands_queue_url: str | None = setting(
        None, doc="SQS FIFO queue that triggers command delivery (group = charger)."
    )
    command_secrets_key_id: str | None = setting(
        None,
        doc="KMS key (id, ARN or alias) that encrypts a command's secret (a new station password) "
        "between submit and delivery. Unset: rotate-password is unavailable.",
    )
    user_pool_id: str | None = setting(
        None, doc="Cognito user pool of the operators (the /users API manages it)."
    )
    event_bus_name: str | None = setting(
        None,
        doc="EventBridge bus the domain events are published to. Unset: events are still "
        "recorded (the live feed serves them) but published nowhere.",
    )
    events_dead_letter_queue_url: str | None = setting(
        None,
        doc="SQS queue for domain events that could not be published after "
        "event_publish_max_attempts (an alarm watches it on AWS).",
    )
    events_parking_queue_url: str | None = setting(
        None,
        doc="SQS queue where events about DynamoDB state (connected, disconnected, went offline) wait "
        "when PostgreSQL cannot record them; the event-delivery job records them later.",
    )
    event_publish_max_attempts: int = setting(
        10, ge=1, le=1000, doc="Publishing attempts (about one a minute) before dead-lettering."
    )
    event_retention_days: int = setting(
        30, ge=1, le=3650, doc="How long the live feed (domain_events) keeps events."
    )
    events_echo: str | None = setting(
        None,
        doc="Also write every published event as a JSON line: '-' for stdout, else a file "
        "path (`csms dev --events`).",
    )
    feed_max_wait_seconds: int = setting(
        20,
        ge=0,
        le=25,
        doc="Longest long-poll of GET /api/v1/events (API Gateway cuts requests at 29 s).",
    )
    api_rate_window_seconds: int = setting(60, ge=1, le=3600, doc="Window of the REST rate limits.")
    api_rate_per_principal: int = setting(
        300,
        ge=0,
        le=10_000_000,
        doc="REST requests one principal (token subject) may make per window (0: off).",
    )
    api_rate_per_tenant: int = setting(
        1200,
        ge=0,
        le=10_000_000,
        doc="REST requests all of a tenant's principals may make per window (0: off).",
    )
    revocation_cache_seconds: int = setting(
        30,
        ge=0,
        le=60,
        doc="How long an API container trusts what it read of an operator's revocation stamp.",
    )
    file_url_schemes: tuple[str, ...] = setting(
        ("https", "ftps", "sftp"),
        doc="URL schemes firmware and diagnostics/log URLs may use unless the tenant sets its own "
        "(comma separated): encrypted transports only by default.",
    )
    command_timeout_seconds: int = setting(
        60, ge=5, le=3600, doc="How long a charger has to answer one of our CALLs."
    )
    command_expiry_seconds: int = setting(
        900,
        ge=10,
        le=604_800,
        doc="How long a command may wait to be sent (station offline, or its connection gone when "
        "it was sent) unless the request says otherwise (expiresIn); then it is timed out.",
    )
    load_retry_minutes: int = setting(
        15,
        ge=1,
        le=10080,
        doc="Load management: how long an EVSE whose charging profile was refused counts at its "
        "maximum before a profile is tried again (at once when its station reconnected since).",
    )
    load_allocation_retention_days: int = setting(
        7,
        ge=1,
        le=3650,
        doc="Load management: how long recorded allocations are kept (a site's latest always is).",
    )
    aws_region: str = setting("us-east-1", env=("AWS_REGION", "AWS_DEFAULT_REGION", "CSMS_AWS_REGION"))
    ws_management_endpoint: str | None = setting(
        None,
        doc="Base URL of the @connections API, e.g. "
        "https://abc123.execute-api.eu-west-1.amazonaws.com/prod. Derived from the "
        "event (domainName/stage) when unset.",
    )
    live_management_endpoint: str | None = setting(
        None,
        doc="Base URL of the @connections API of the operators' live WebSocket API (ADR 0025), "
        "e.g. https://def456.execute-api.eu-west-1.amazonaws.com/live: where the fan-out posts "
        "domain events to the consoles.",
    )
    live_token_issuer: str | None = setting(
        None,
        doc="Issuer of the tokens the live $connect authorizer accepts (the Cognito user pool's "
        "https://cognito-idp.<region>.amazonaws.com/<pool id>); their keys are read from its "
        "/.well-known/jwks.json. Unset: the authorizer refuses every token.",
    )

    # --- Charger admission --------------------------------------------------------------
    allow_unknown_chargers: bool = setting(
        False,
        doc="Admit chargers that were never provisioned; they are registered as "
        "Pending in the default tenant until an operator accepts them.",
    )
    origin_verify_secret: str | None = setting(
        None,
        secret=True,
        doc="Shared secret the front door adds to every $connect. When set, a "
        "$connect without it is refused (the charger id header cannot be trusted).",
    )
    default_tenant: str = DEFAULT_TENANT
    auth_failure_window_seconds: int = setting(
        300,
        ge=10,
        le=86_400,
        doc="Window of the failed-login counters: past a limit, every handshake of that station id or "
        "source address is refused (401, the password not even checked) until the window ends.",
    )
    auth_failures_per_station: int = setting(
        10, ge=1, le=100_000, doc="Failed handshakes per station id (known or not) and window."
    )
    auth_failures_per_address: int = setting(
        30, ge=1, le=100_000, doc="Failed handshakes per source address and window."
    )
    frame_rate_window_seconds: int = setting(
        60, ge=1, le=3600, doc="Window of the per-station frame counter."
    )
    frame_rate_limit: int = setting(
        120,
        ge=1,
        le=1_000_000,
        doc="Frames a station may send per window; beyond it its CALLs get InternalError (retry later), "
        "beyond twice it its connection is closed.",
    )
    frame_count_batch: int = setting(
        10,
        ge=1,
        le=1000,
        doc="A container counts a station's frames in memory and adds them to the shared counter "
        "this many at a time (1: a DynamoDB write per frame).",
    )

    # --- OCPP behaviour -----------------------------------------------------------------
    heartbeat_interval: int = setting(300, ge=10, le=MAX_HEARTBEAT_INTERVAL_SECONDS)
    data_transfer_vendors: tuple[str, ...] = setting(
        (),
        doc="Vendor ids accepted by DataTransfer in addition to those with a "
        "registered handler (comma separated in the environment).",
    )

    # --- Scheduled jobs: liveness and stuck transactions ---------------------------------
    liveness_slack_seconds: int = setting(
        60,
        ge=0,
        le=3600,
        doc="A charger is offline when its last frame is older than twice its heartbeat "
        "interval plus this (network delays, a retried frame).",
    )
    stuck_transaction_idle_hours: float = setting(
        24,
        gt=0,
        le=24 * 365,
        doc="An open transaction with no meter value or status report for this long is "
        "flagged for an operator.",
    )
    reboot_grace_minutes: float = setting(
        15,
        ge=0,
        le=24 * 60,
        doc="After a BootNotification a charger delivers its queued StopTransactions; only "
        "after this grace is a transaction that started before the boot considered left open.",
    )
    deauthorized_grace_minutes: float = setting(
        15,
        ge=0,
        le=24 * 60,
        doc="A transaction the CSMS refused (its start or an update answered other than "
        "Accepted) that its station has not stopped this long after is flagged for an operator.",
    )

    # --- Meter data housekeeping (the meter-housekeeping job, hourly) ---------------------
    meter_partitions_ahead: int = setting(
        3,
        ge=0,
        le=36,
        doc="Monthly meter_samples partitions kept ready beyond the current month (rows "
        "for a month without one land in the default partition, which is slower to prune).",
    )
    meter_retention_days: int = setting(
        90,
        ge=0,
        doc="Delete raw meter samples older than this many days (whole UTC days; whole "
        "monthly partitions are dropped), once the daily rollup covers them. 0 keeps them forever. "
        "The energy report keeps reading the daily rollup for the days whose samples are gone.",
    )
    meter_rollup_settle_seconds: int = setting(
        900,
        ge=0,
        le=86400,
        doc="How long a frame may take from being received to being committed (at least "
        "the message function's timeout): inputs received this long before a day was rolled up "
        "make it be computed once more.",
    )
    meter_rollup_recheck_days: int = setting(
        1,
        ge=0,
        le=31,
        doc="The last N complete UTC days are rolled up again on every run, whatever "
        "changed (a safety net; late inputs are detected by their received time anyway).",
    )
    meter_rollup_max_days_per_run: int = setting(
        366,
        ge=1,
        le=100_000,
        doc="Days never rolled up yet computed per tenant and run, newest first (the "
        "first run over a long history catches up over several runs; retention waits for it).",
    )

    # --- Observability ------------------------------------------------------------------
    frame_log_sample_rate: float = setting(
        1.0,
        ge=0,
        le=1,
        doc="Share of routine frames (answered normally, delivered) the message function logs "
        "as its one 'frame' line; every frame that is not routine (a CALLERROR, an unknown "
        "connection, a failed delivery) is always logged. 1 logs every frame.",
    )
    metrics_namespace: str = setting("Csms", env=("POWERTOOLS_METRICS_NAMESPACE", "CSMS_METRICS_NAMESPACE"))
    service_name: str = setting("csms", env=("POWERTOOLS_SERVICE_NAME", "CSMS_SERVICE_NAME"))
    log_level: str = setting("INFO", env=("CSMS_LOG_LEVEL", "LOG_LEVEL"))
    log_format: Literal["json", "console"] = "json"
    tracing: bool = setting(False, doc="Create the X-Ray tracer (costs ~300 ms of cold start).")

    # --- Local stack --------------------------------------------------------------------
    state_dir: Path | None = setting(
        None,
        doc="Where `csms dev` and the CLI keep the embedded PostgreSQL. Default: `.csms/` in "
        "the source checkout, else ~/.local/state/csms.",
    )

    def __post_init__(self) -> None:
        problems = [
            f"{name}: {problem}"
            for name, value in ((f.name, getattr(self, f.name)) for f in fields(self))
            if (problem := _check(name, value)) is not None
        ]
        if problems:
            raise SettingsError(problems)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every field from ``environ`` (default: the process environment).

        Every invalid variable is reported in one :class:`SettingsError`.
        """
        source = {key.upper(): value for key, value in (os.environ if environ is None else environ).items()}
        values: dict[str, Any] = {}
        origin: dict[str, str] = {}
        problems: list[str] = []
        for name in _hints():
            for variable in env_vars(name):
                raw = source.get(variable.upper(), "").strip()
                if raw:
                    origin[name] = f"{variable}={raw!r}"
                    try:
                        values[name] = _parse(name, raw)
                    except ValueError as exc:
                        problems.append(f"{origin[name]}: {exc}")
                    break
        try:
            settings = cls(**values)
        except SettingsError as exc:  # name the variables, not the fields
            for problem in exc.problems:
                name, _, why = problem.partition(": ")
                problems.append(f"{origin.get(name, name)}: {why}")
        if problems:
            raise SettingsError(problems) from None
        return settings


def spec(name: str) -> Spec:
    """The declaration of field ``name`` (``KeyError`` for a field that does not exist)."""
    return _specs()[name]


@cache
def _specs() -> dict[str, Spec]:
    """Every field's declaration, by name (a plain default declares nothing but its type)."""
    undeclared = Spec((), None, None, None, "")
    return {
        f.name: declared if isinstance(declared := f.metadata.get("spec"), Spec) else undeclared
        for f in fields(Settings)
    }


def env_vars(name: str) -> tuple[str, ...]:
    """The variables field ``name`` is read from, in order of precedence."""
    return spec(name).env or (f"{_PREFIX}{name.upper()}",)


@cache
def _hints() -> dict[str, Any]:
    """The fields' evaluated annotations (the module postpones them)."""
    return typing.get_type_hints(Settings)


def _parse(name: str, raw: str) -> Any:
    """One environment string as the type field ``name`` declares."""
    kind = _hints()[name]
    if _optional(kind) is not None:
        kind = _optional(kind)
    if kind is bool:
        lowered = raw.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError("expected a boolean (true/false, 1/0, yes/no, on/off)")
    if kind is int:
        # "60.0" too, as pydantic read it: a zero fraction still makes a whole number
        whole, dot, fraction = raw.partition(".")
        try:
            if dot and (not fraction or fraction.strip("0")):
                raise ValueError(raw)
            return int(whole)
        except ValueError:
            raise ValueError("expected a whole number") from None
    if kind is float:
        try:
            return float(raw)
        except ValueError:
            raise ValueError("expected a number") from None
    if kind is Path:
        return Path(raw)
    if typing.get_origin(kind) is tuple:
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw  # str and Literal (checked with the bounds)


def _optional(kind: Any) -> Any | None:
    """``X`` for ``X | None``, else None."""
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        members = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        if len(members) == 1:
            return members[0]
    return None


def _check(name: str, value: Any) -> str | None:
    """Why ``value`` is not acceptable for field ``name``, or None."""
    kind = _hints()[name]
    if value is None:
        return None if _optional(kind) is not None else "must be set"
    kind = _optional(kind) or kind
    if typing.get_origin(kind) is Literal:
        choices = typing.get_args(kind)
        return None if value in choices else f"must be one of {', '.join(map(str, choices))}"
    if typing.get_origin(kind) is tuple:
        return (
            None if isinstance(value, tuple) and all(isinstance(v, str) for v in value) else "must be strings"
        )
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        return f"must be {getattr(kind, '__name__', kind)}, not {type(value).__name__}"
    declared = spec(name)
    # Negated, so that NaN (which compares False with everything) fails every bound.
    if declared.ge is not None and not value >= declared.ge:
        return f"must be at least {declared.ge:g}"
    if declared.gt is not None and not value > declared.gt:
        return f"must be more than {declared.gt:g}"
    if declared.le is not None and not value <= declared.le:
        return f"must be at most {declared.le:g}"
    return None


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
    return Settings.from_env()

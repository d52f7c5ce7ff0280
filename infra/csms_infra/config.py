"""Stage settings read from CDK context (``cdk deploy -c stage=prod -c tracing=true``).

Each knob has a per-stage default here, so ``cdk.json`` stays free of duplicated
defaults and a knob's meaning is documented once. Context values given on the command
line arrive as strings; values from ``cdk.json`` arrive as JSON; both are accepted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal, TypeVar, cast

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Node

from csms.constants import MAX_HEARTBEAT_INTERVAL_SECONDS

from . import names

Stage = Literal["dev", "prod"]
#: ``user_pool_mfa``: TOTP (authenticator app) only; SMS would need an SNS role and costs.
MFA_MODES = ("off", "optional", "required")
#: ``command_timeout_seconds``: the bounds ``csms.settings.Settings`` accepts.
COMMAND_TIMEOUT_RANGE = (5, 3600)
#: ``command_expiry_seconds`` (how long a command may wait for a station that is away, ADR
#: 0027): the bounds ``csms.settings.Settings`` accepts.
COMMAND_EXPIRY_RANGE = (10, 604_800)
#: ``egress``: how the functions in the VPC reach the AWS APIs that have no free gateway endpoint
#: (ADR 0020): ``ipv6`` = dual-stack subnets and an egress-only internet gateway (no fixed
#: cost), ``nat`` = NAT gateway(s) over IPv4 (``nat_gateways``), the fallback.
EGRESS_MODES = ("ipv6", "nat")
#: ``system_log_level``: Lambda's own records (START, END, REPORT are INFO).
SYSTEM_LOG_LEVELS = ("DEBUG", "INFO", "WARN")
#: ``external_database_secret_arn``: the *complete* ARN (with the six-character suffix Secrets
#: Manager appends), so the grants name exactly that secret.
SECRET_COMPLETE_ARN = re.compile(
    r"^arn:aws[a-z-]*:secretsmanager:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):secret:.+-[A-Za-z0-9]{6}$"
)
T = TypeVar("T")

#: CloudWatch accepts only these retention periods.
_RETENTION: Mapping[int, logs.RetentionDays] = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    731: logs.RetentionDays.TWO_YEARS,
}

#: Per-stage defaults of every knob; any of them can be overridden with ``-c key=value``.
DEFAULTS: Mapping[Stage, Mapping[str, Any]] = {
    "dev": {
        "log_retention_days": 14,
        "log_level": "INFO",
        "tracing": False,
        # Egress for @connections, SQS, EventBridge, Secrets Manager (ADR 0020): IPv6 through an
        # egress-only internet gateway; "nat" falls back to nat_gateways NAT gateways.
        "egress": "ipv6",
        "nat_gateways": 1,
        "vpc_endpoints": False,
        "db_engine_version": "16.8",
        "db_min_acu": 0,  # scale to zero when idle (resumes in ~15 s, inside the 29 s budget)
        "db_max_acu": 4,
        "db_readers": 0,
        "db_backup_days": 1,
        "rds_proxy": False,
        "ws_rate_limit": 100,
        "ws_burst_limit": 200,
        "heartbeat_interval": MAX_HEARTBEAT_INTERVAL_SECONDS,
        "allow_unknown_chargers": False,
        "data_transfer_vendors": "",
        "domain_name": "",
        "certificate_arn": "",
        "web_acl_arn": "",
        "apigw_account_role": True,
        "migration_timeout_seconds": 300,
        "api_rate_limit": 50,
        "api_burst_limit": 100,
        "web_acl_arn_api": "",
        # A WAF web ACL with a rate-based rule per source address on the REST stage (0 = none).
        "waf_api_rate_limit": 0,
        # Reserved concurrency per function (ADR 0021); off in dev, where new accounts often
        # have a concurrency quota of 10 and nothing can be reserved.
        "reserved_concurrency": False,
        "user_pool_mfa": "optional",
        "user_pool_threat_protection": False,
        "alarm_email": "",
        "db_connections_alarm": 0,
        "command_timeout_seconds": 60,
        "command_expiry_seconds": 900,
        "events_archive_days": 30,  # replay buffer of the domain-event bus (0 = forever)
        "events_archive_meter_values": False,  # MeterValuesReceived in the archive too
        "ws_access_logs": True,  # one access-log line per WebSocket frame
        "system_log_level": "INFO",
        "frame_log_sample_rate": 1.0,  # every routine frame logged (errors always are)
        # An existing PostgreSQL (e.g. TimescaleDB) instead of Aurora: its secret's complete ARN,
        # and optionally a host that replaces the secret's (CSMS_DATABASE_HOST).
        "external_database_secret_arn": "",
        "external_database_host": "",
    },
    "prod": {
        "log_retention_days": 90,
        "log_level": "INFO",
        "tracing": False,
        # ADR 0020: no NAT gateway and no paid interface endpoint by default; with egress=nat,
        # 2 NAT gateways keep egress through an AZ outage.
        "egress": "ipv6",
        "nat_gateways": 2,
        "vpc_endpoints": False,
        "db_engine_version": "16.8",
        "db_min_acu": 0.5,
        "db_max_acu": 16,
        # One writer (ADR 0020): a failed writer is recreated (minutes, data safe on the 3-AZ
        # volume); db_readers=1 makes it a failover to a warm reader in another AZ.
        "db_readers": 0,
        "db_backup_days": 14,
        "rds_proxy": False,
        "ws_rate_limit": 1000,
        "ws_burst_limit": 2000,
        "heartbeat_interval": MAX_HEARTBEAT_INTERVAL_SECONDS,
        "allow_unknown_chargers": False,
        "data_transfer_vendors": "",
        "domain_name": "",
        "certificate_arn": "",
        "web_acl_arn": "",
        "apigw_account_role": True,
        "migration_timeout_seconds": 300,
        "api_rate_limit": 500,
        "api_burst_limit": 1000,
        "web_acl_arn_api": "",
        # Requests per source address in 5 minutes before WAF blocks it (ADR 0021).
        "waf_api_rate_limit": 1500,
        "reserved_concurrency": True,
        "user_pool_mfa": "optional",
        # Cognito Plus: adaptive authentication and compromised-credential checks, enforced.
        "user_pool_threat_protection": True,
        "alarm_email": "",
        "db_connections_alarm": 0,
        "command_timeout_seconds": 60,
        "command_expiry_seconds": 900,
        "events_archive_days": 90,  # a quarter of events (not meter values) to replay into a subscriber
        "events_archive_meter_values": False,
        # Issue 16: per-frame logs sampled, errors always kept (ADR 0020).
        "ws_access_logs": False,
        "system_log_level": "WARN",
        "frame_log_sample_rate": 0.01,
        "external_database_secret_arn": "",
        "external_database_host": "",
    },
}


class ConfigError(ValueError):
    """A context value is missing, malformed or inconsistent."""


def _as_bool(key: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "1", "yes", "on"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"false", "0", "no", "off", ""}:
        return False
    raise ConfigError(f"context {key}={value!r}: expected true or false")


def _as_int(key: str, value: object) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"context {key}={value!r}: expected an integer")
    try:
        return int(cast(Any, value))
    except (TypeError, ValueError):
        raise ConfigError(f"context {key}={value!r}: expected an integer") from None


def _as_float(key: str, value: object) -> float:
    try:
        return float(cast(Any, value))
    except (TypeError, ValueError):
        raise ConfigError(f"context {key}={value!r}: expected a number") from None


def _as_str(key: str, value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str | int | float):
        raise ConfigError(f"context {key}={value!r}: expected a string")
    return str(value).strip()


@dataclass(frozen=True)
class StageConfig:
    """Everything that differs between deployments. Built by :meth:`from_context`."""

    stage: Stage
    #: Unit tests: replace the dependency layer by an empty placeholder (no PyPI).
    skip_bundling: bool
    log_retention_days: int
    log_level: str
    tracing: bool
    egress: str
    nat_gateways: int
    vpc_endpoints: bool
    db_engine_version: str
    db_min_acu: float
    db_max_acu: float
    db_readers: int
    db_backup_days: int
    rds_proxy: bool
    ws_rate_limit: int
    ws_burst_limit: int
    heartbeat_interval: int
    allow_unknown_chargers: bool
    data_transfer_vendors: str
    domain_name: str
    certificate_arn: str
    web_acl_arn: str
    apigw_account_role: bool
    migration_timeout_seconds: int
    api_rate_limit: int
    api_burst_limit: int
    web_acl_arn_api: str
    waf_api_rate_limit: int
    reserved_concurrency: bool
    user_pool_mfa: str
    user_pool_threat_protection: bool
    alarm_email: str
    db_connections_alarm: int
    command_timeout_seconds: int
    command_expiry_seconds: int
    events_archive_days: int
    events_archive_meter_values: bool
    ws_access_logs: bool
    system_log_level: str
    frame_log_sample_rate: float
    external_database_secret_arn: str
    external_database_host: str

    @classmethod
    def from_context(cls, node: Node) -> StageConfig:
        """Read the stage and its knobs from the construct tree's context."""
        return cls.from_mapping(lambda key: node.try_get_context(key))

    @classmethod
    def from_mapping(cls, get: Callable[[str], object]) -> StageConfig:
        """Build from any ``key -> value | None`` lookup (used by tests and :meth:`from_context`)."""
        stage = _as_str("stage", get("stage") or "dev")
        if stage not in names.STAGES:
            raise ConfigError(f"context stage={stage!r}: expected one of {', '.join(names.STAGES)}")
        defaults = DEFAULTS[cast(Stage, stage)]

        def value(key: str, convert: Callable[[str, object], T]) -> T:
            raw = get(key)
            return convert(key, defaults[key] if raw is None else raw)

        # Annotations are strings here (``from __future__ import annotations``).
        converters: dict[str, Callable[[str, object], Any]] = {
            "bool": _as_bool,
            "int": _as_int,
            "float": _as_float,
            "str": _as_str,
        }
        kwargs: dict[str, Any] = {
            "stage": stage,
            "skip_bundling": _as_bool("skip_bundling", get("skip_bundling") or False),
        }
        for f in fields(cls):
            if f.name in kwargs:
                continue
            kwargs[f.name] = value(f.name, converters[str(f.type)])
        config = cls(**kwargs)
        config._validate()
        return config

    def _validate(self) -> None:
        if self.log_retention_days not in _RETENTION:
            allowed = ", ".join(str(d) for d in _RETENTION)
            raise ConfigError(f"log_retention_days={self.log_retention_days}: expected one of {allowed}")
        if self.is_prod and not self.certificate_arn:
            raise ConfigError(
                "prod needs domain_name and certificate_arn (an ACM certificate in us-east-1): the default "
                "*.cloudfront.net certificate accepts TLS 1.0, a custom one lets CloudFront require TLS 1.2"
            )
        if self.waf_api_rate_limit and not 10 <= self.waf_api_rate_limit <= 2_000_000_000:
            raise ConfigError("waf_api_rate_limit: 0 (no web ACL) or 10.. requests per address in 5 minutes")
        if bool(self.domain_name) != bool(self.certificate_arn):
            raise ConfigError("domain_name and certificate_arn go together (an ACM certificate in us-east-1)")
        if self.certificate_arn and ":us-east-1:" not in self.certificate_arn:
            raise ConfigError("certificate_arn: CloudFront only uses ACM certificates from us-east-1")
        if not 0 <= self.db_min_acu <= self.db_max_acu <= 256:
            raise ConfigError(
                f"db ACUs: need 0 <= db_min_acu ({self.db_min_acu}) <= db_max_acu ({self.db_max_acu}) <= 256"
            )
        if self.db_max_acu < 1:
            raise ConfigError("db_max_acu must be at least 1")
        if self.rds_proxy and self.db_min_acu == 0:
            raise ConfigError(
                "rds_proxy keeps connections open, so the cluster never pauses: set db_min_acu > 0"
            )
        if not 10 <= self.heartbeat_interval <= MAX_HEARTBEAT_INTERVAL_SECONDS:
            raise ConfigError(
                f"heartbeat_interval={self.heartbeat_interval}: API Gateway drops idle sockets after 10 min, "
                f"use 10..{MAX_HEARTBEAT_INTERVAL_SECONDS}"
            )
        if self.egress not in EGRESS_MODES:
            raise ConfigError(f"egress={self.egress!r}: expected one of {', '.join(EGRESS_MODES)}")
        if not 0 <= self.nat_gateways <= 2:
            raise ConfigError("nat_gateways: 0, 1 or 2 (the VPC spans two AZs)")
        if self.system_log_level not in SYSTEM_LOG_LEVELS:
            raise ConfigError(
                f"system_log_level={self.system_log_level!r}: expected one of {', '.join(SYSTEM_LOG_LEVELS)}"
            )
        if not 0 <= self.frame_log_sample_rate <= 1:
            raise ConfigError("frame_log_sample_rate: 0..1 (the share of routine frames logged)")
        if not 0 <= self.db_readers <= 15:
            raise ConfigError("db_readers: 0..15")
        if self.ws_rate_limit < 1 or self.ws_burst_limit < 1:
            raise ConfigError("ws_rate_limit and ws_burst_limit must be positive")
        if not 30 <= self.migration_timeout_seconds <= 900:
            raise ConfigError("migration_timeout_seconds: 30..900 (the Lambda maximum)")
        if self.db_backup_days < 1:
            raise ConfigError("db_backup_days must be at least 1")
        if self.api_rate_limit < 1 or self.api_burst_limit < 1:
            raise ConfigError("api_rate_limit and api_burst_limit must be positive")
        if self.web_acl_arn_api and ":regional/webacl/" not in self.web_acl_arn_api:
            raise ConfigError(
                "web_acl_arn_api: a WAFv2 web ACL of scope REGIONAL (arn:...:regional/webacl/...)"
            )
        if self.user_pool_mfa not in MFA_MODES:
            raise ConfigError(f"user_pool_mfa={self.user_pool_mfa!r}: expected one of {', '.join(MFA_MODES)}")
        if self.alarm_email and "@" not in self.alarm_email:
            raise ConfigError(f"alarm_email={self.alarm_email!r}: expected an e-mail address")
        if self.db_connections_alarm < 0:
            raise ConfigError("db_connections_alarm: 0 (derived from db_max_acu) or a positive count")
        if not COMMAND_TIMEOUT_RANGE[0] <= self.command_timeout_seconds <= COMMAND_TIMEOUT_RANGE[1]:
            low, high = COMMAND_TIMEOUT_RANGE
            raise ConfigError(f"command_timeout_seconds={self.command_timeout_seconds}: use {low}..{high}")
        if not COMMAND_EXPIRY_RANGE[0] <= self.command_expiry_seconds <= COMMAND_EXPIRY_RANGE[1]:
            low, high = COMMAND_EXPIRY_RANGE
            raise ConfigError(f"command_expiry_seconds={self.command_expiry_seconds}: use {low}..{high}")
        if self.events_archive_days < 0:
            raise ConfigError("events_archive_days: 0 (keep forever) or a number of days")
        if self.external_database_secret_arn:
            if not SECRET_COMPLETE_ARN.match(self.external_database_secret_arn):
                raise ConfigError(
                    f"external_database_secret_arn={self.external_database_secret_arn!r}: expected the "
                    "complete secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>-XXXXXX), "
                    "as create-secret and describe-secret print it"
                )
            if self.rds_proxy:
                raise ConfigError(
                    "rds_proxy fronts the Aurora cluster; with external_database_secret_arn there is none"
                )
        elif self.external_database_host:
            raise ConfigError(
                "external_database_host overrides the host of external_database_secret_arn; set both"
            )

    # --- derived values -------------------------------------------------------------------
    @property
    def ipv6_egress(self) -> bool:
        """ADR 0020: dual-stack VPC, egress-only internet gateway, no NAT."""
        return self.egress == "ipv6"

    @property
    def nat_gateway_count(self) -> int:
        """The NAT gateways the VPC gets: ``nat_gateways`` with ``egress=nat``, else none."""
        return 0 if self.ipv6_egress else self.nat_gateways

    @property
    def is_prod(self) -> bool:
        return self.stage == "prod"

    @property
    def uses_aurora(self) -> bool:
        """False when ``external_database_secret_arn`` points the functions at another PostgreSQL."""
        return not self.external_database_secret_arn

    @property
    def external_database_region(self) -> str | None:
        """The region in ``external_database_secret_arn`` (Secrets Manager is regional)."""
        match = SECRET_COMPLETE_ARN.match(self.external_database_secret_arn)
        return match["region"] if match else None

    @property
    def log_retention(self) -> logs.RetentionDays:
        return _RETENTION[self.log_retention_days]

    @property
    def removal_policy(self) -> RemovalPolicy:
        """Stateful resources survive ``cdk destroy`` in prod; dev cleans up after itself."""
        return RemovalPolicy.RETAIN if self.is_prod else RemovalPolicy.DESTROY

    @property
    def log_removal_policy(self) -> RemovalPolicy:
        return RemovalPolicy.RETAIN if self.is_prod else RemovalPolicy.DESTROY

    @property
    def db_max_connections(self) -> int:
        """Aurora PostgreSQL's default ``max_connections`` at ``db_max_acu``, approximately.

        The default is ``LEAST(DBInstanceClassMemory / 9531392, 5000)``; Serverless v2 sizes
        the memory from the maximum capacity (about 2 GiB per ACU) and caps the result at
        2000 when the minimum is 0 or 0.5 ACU. The real value is a little lower (the OS keeps
        some memory), which is fine for an alarm threshold.
        """
        estimate = min(int(self.db_max_acu * 2 * 1024**3 / 9531392), 5000)
        return min(estimate, 2000) if self.db_min_acu <= 0.5 else estimate

    @property
    def db_connections_alarm_threshold(self) -> int:
        """``db_connections_alarm``, or 80 % of :attr:`db_max_connections` when it is 0."""
        return self.db_connections_alarm or int(self.db_max_connections * 0.8)

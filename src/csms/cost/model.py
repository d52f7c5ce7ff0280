"""The cost model behind ``csms cost``: a monthly AWS bill for a fleet, line by line.

Three inputs, none typed in here:

- **prices** (``prices.toml``): us-east-1 list prices, each with its unit, source and the date
  it was checked;
- **traffic** measured on the real code path: what a charger sends per connection and per
  charging session (``message_mix.json``, written by ``benchmarks/bench_load.py
  --write-mix``), and what each inbound frame costs in DynamoDB requests, PostgreSQL
  statements and transactions, domain events and log bytes (``measured.json``, written by
  ``benchmarks/measure_frames.py``, which a test reruns to catch drift);
- **assumptions**: what cannot be measured offline (Lambda billed durations on AWS, Aurora
  sizing, operator activity) and the deployment's knobs, as :class:`Assumptions` fields with
  documented defaults, each a ``csms cost`` option. The defaults are the CDK app's ``prod``
  stage (``infra/csms_infra/config.py``); ``--preset`` switches to another deployment.

Every :class:`Line` names the price it was billed at, so the output shows quantity, unit
price, the price's date and source. :data:`RESOURCE_LINES` maps every billable CloudFormation
resource type to the lines that bill it, and :data:`FREE_RESOURCES` says why the others
cost nothing; ``tests/infra/test_cost_coverage.py`` synthesises the stack and fails on a
type in neither, and on fixed quantities (NAT gateways, Aurora instances, alarm metrics,
endpoints, secrets, dashboards) that differ from the template.
"""

from __future__ import annotations

import argparse
import json
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
PRICES_PATH = HERE / "prices.toml"
MIX_PATH = HERE / "message_mix.json"
MEASURED_PATH = HERE / "measured.json"
#: The fleets docs/benchmarks.md publishes.
PUBLISHED_FLEETS = (100, 500, 10_000, 100_000)
#: Issue 16's targets: under half of AWS's OCPP gateway sample at 500 chargers, under
#: $0.08 per charger-month at 10,000.
REFERENCE_FLEET = 500
PER_CHARGER_TARGET_FLEET = 10_000
PER_CHARGER_TARGET_USD = 0.08
SECONDS_PER_HOUR = 3600


# --- inputs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Price:
    value: float
    unit: str
    source: str
    checked: str
    verified: bool


class PriceTable:
    """``prices.toml``: ``table["lambda.requests"]`` is the price's value."""

    def __init__(
        self,
        prices: Mapping[str, Price],
        hours_per_month: float = 730.0,
        checked: str = "",
        region: str = "us-east-1",
    ) -> None:
        self.prices = dict(prices)
        self.hours_per_month = hours_per_month
        self.checked = checked
        self.region = region

    @classmethod
    def load(cls, path: Path = PRICES_PATH) -> PriceTable:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        meta = data.pop("meta", {})
        prices = {
            f"{section}.{name}": Price(
                value=float(entry["value"]),
                unit=str(entry["unit"]),
                source=str(entry["source"]),
                checked=str(entry["checked"]),
                verified=bool(entry.get("verified", False)),
            )
            for section, entries in data.items()
            for name, entry in entries.items()
        }
        return cls(
            prices,
            float(meta.get("hours_per_month", 730)),
            str(meta.get("checked", "")),
            str(meta.get("region", "us-east-1")),
        )

    def __getitem__(self, key: str) -> float:
        return self.prices[key].value


@dataclass(frozen=True)
class MessageMix:
    """What one charger sends, as measured by the load benchmark."""

    #: CALLs a charger sends on every (re)connection, by action.
    per_connection: Mapping[str, float]
    #: CALLs around one charging session (start and stop), by action.
    per_session: Mapping[str, float]
    #: Mean frame sizes in bytes: (request, response) by action.
    frame_bytes: Mapping[str, tuple[float, float]]
    samples_per_meter_values: float
    #: PostgreSQL CPU per frame (all frames, Heartbeats included) on the benchmark machine.
    postgres_cpu_ms_per_frame: float
    measured_at: str = ""
    command: str = ""

    @classmethod
    def load(cls, path: Path = MIX_PATH) -> MessageMix:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            per_connection=dict(data["per_connection"]),
            per_session=dict(data["per_session"]),
            frame_bytes={a: (float(b["request"]), float(b["response"])) for a, b in data["bytes"].items()},
            samples_per_meter_values=float(data["samples_per_meter_values"]),
            postgres_cpu_ms_per_frame=float(data["postgres_cpu_ms_per_frame"]),
            measured_at=str(data.get("measured_at", "")),
            command=str(data.get("command", "")),
        )

    def request_bytes(self, action: str) -> float:
        return self.frame_bytes.get(action, (200.0, 100.0))[0]

    def response_bytes(self, action: str) -> float:
        return self.frame_bytes.get(action, (200.0, 100.0))[1]


@dataclass(frozen=True)
class FrameCost:
    """What one inbound frame of an action costs, counted by ``measure_frames.py``."""

    #: DynamoDB requests when the connection's last_seen is recent / older than the refresh.
    dynamodb_fresh: Mapping[str, float]
    dynamodb_stale: Mapping[str, float]
    db_statements: float
    db_transactions: float
    events: float
    put_events_calls: float
    log_lines: float
    log_bytes: float


@dataclass(frozen=True)
class FrameCosts:
    actions: Mapping[str, FrameCost]
    measured_at: str = ""
    command: str = ""

    @classmethod
    def load(cls, path: Path = MEASURED_PATH) -> FrameCosts:
        data = json.loads(path.read_text(encoding="utf-8"))
        actions = {
            action: FrameCost(
                dynamodb_fresh=dict(row["fresh"]["dynamodb"]),
                dynamodb_stale=dict(row["stale"]["dynamodb"]),
                db_statements=float(row["fresh"]["db_statements"]),
                db_transactions=float(row["fresh"]["db_transactions"]),
                events=float(row["fresh"]["events"]),
                put_events_calls=float(row["fresh"]["put_events_calls"]),
                log_lines=float(row["fresh"]["log_lines"]),
                log_bytes=float(row["fresh"]["log_bytes"]),
            )
            for action, row in data["actions"].items()
        }
        return cls(actions, str(data.get("measured_at", "")), str(data.get("command", "")))

    def of(self, action: str) -> FrameCost:
        """An action's costs; one never measured is billed like a StatusNotification."""
        return self.actions.get(action) or self.actions["StatusNotification"]


@dataclass(frozen=True)
class Assumptions:
    """Everything the bill depends on besides prices and measured traffic.

    Defaults describe the ``prod`` stage of the CDK app and a public AC fleet; each field is
    a ``csms cost`` option (``--heartbeat``, ``--egress`` ...); :data:`PRESETS` hold other
    deployments.
    """

    chargers: int
    # --- charger behaviour
    heartbeat_s: float = 300.0  # the maximum we hand out (API Gateway's 10-minute idle timeout)
    #: 1: the charger sends Heartbeats while charging too (what many firmwares do, and what the
    #: load benchmark simulates); 0: only after HeartbeatInterval of inactivity (OCPP 1.6).
    heartbeats_while_charging: float = 1.0
    meter_interval_s: float = 60.0
    charging_share: float = 0.25
    session_minutes: float = 60.0
    #: None: the measured mix's samples per MeterValues.
    samples_per_meter_values: float | None = None
    connection_hours: float = 2.0  # API Gateway's hard maximum
    commands_per_charger_day: float = 1.0
    password_share: float = 1.0  # Security Profile 1/2: scrypt on every $connect
    # --- the per-frame path (what the code does; the "before" preset is the code before issue 16)
    #: ``last_seen`` is written when older than this (``liveness_slack_seconds``); 0 = every frame.
    liveness_refresh_s: float = 60.0
    #: 1: who-is-this is a consistent GetItem and liveness a separate write (now); 0: one
    #: UpdateItem ... ReturnValues=ALL_NEW per frame did both (before).
    read_before_write: float = 1.0
    #: Index writes per liveness write: 0 when the by-tenant index does not project last_seen.
    index_writes_per_liveness_write: float = 0.0
    #: Share of routine frames logged (``frame_log_sample_rate``), and of frames that are not
    #: routine (a CALLERROR, a failed delivery: always logged; assumed).
    frame_log_sample_rate: float = 0.01
    non_routine_frame_share: float = 0.002
    #: Log lines per logged frame (1 now: "frame"; 2 before: "frame in" + "frame out").
    frame_log_lines: float = 1.0
    #: Lambda's JSON START/END/REPORT records per invocation (0 with system_log_level=WARN).
    platform_log_bytes: float = 0.0
    #: API Gateway access-log bytes per WebSocket message (0 with ws_access_logs=false).
    access_log_bytes: float = 0.0
    function_log_bytes_per_connect: float = 500.0
    scheduled_log_bytes_per_run: float = 300.0
    log_retention_days: float = 90.0
    log_compression: float = 0.15
    # --- Lambda (arm64)
    lambda_memory_mb: float = 512.0
    #: Billed ms per invocation on AWS (an assumption, not a measurement): the 1-3 ms of CPU a
    #: frame costs on the benchmark machine scaled to 512 MB (~0.29 vCPU), plus AWS round trips
    #: (DynamoDB ~4 ms, @connections ~8 ms, Aurora ~1 ms a statement).
    message_ms: float = 20.0
    connect_ms: float = 40.0
    scrypt_ms: float = 190.0  # 55 ms measured on one core here, at ~0.29 vCPU
    disconnect_ms: float = 10.0
    commands_ms: float = 30.0
    scheduled_ms: float = 200.0
    api_ms: float = 100.0
    #: Billed ms a state-changing frame adds by publishing its event after the answer.
    event_publish_ms: float = 15.0
    #: Billed ms a frame with a stale last_seen adds: its liveness write is a second DynamoDB
    #: round trip, before the dispatch (the read-then-write design; 0 before issue 16).
    liveness_write_ms: float = 5.0
    #: Every schedule of csms.schedules: ~187,000 invocations a month, whatever the fleet size.
    scheduled_per_month: float = field(default_factory=lambda: _scheduled_per_month())
    #: Cold starts a month (each reads the database secret once).
    cold_starts: float = 20_000.0
    # --- DynamoDB
    #: $connect: two PutItem, the first frame an UpdateItem (clearing awaiting_first_frame, ADR
    #: 0027), $disconnect: an UpdateItem and a DeleteItem, each also written to the by-tenant
    #: index (the items carry tenant_id).
    dynamodb_wru_per_connection: float = 10.0
    #: Claim the pending-call slot, record the answer on it, free it (ADR 0027).
    dynamodb_wru_per_command: float = 3.0
    dynamodb_bytes_per_charger: float = 600.0  # cp# and conn# items (each ~300 bytes)
    # --- events (ADR 0014)
    #: "frame": one MeterValuesReceived per MeterValues frame (now); "quarter-hour": one per
    #: open transaction and 15 minutes (the proposal for the lead's event catalogue).
    meter_events: str = "frame"
    event_bytes: float = 700.0
    archive_meter_values: float = 0.0  # 1: MeterValuesReceived archived too (before)
    archive_days: float = 90.0
    # --- network
    egress: str = "ipv6"  # or "nat" (ADR 0020)
    nat_gateways: int = 0
    availability_zones: int = 2
    interface_endpoints: int = 0
    #: Bytes per @connections POST and per PutEvents through the egress (HTTPS, SigV4 headers).
    egress_bytes_per_call: float = 1500.0
    frame_overhead_bytes: float = 40.0
    # --- Aurora Serverless v2
    db_instances: int = 1  # the writer; db_readers adds readers (scale_with_writer)
    db_min_acu: float = 0.5
    acu_vcpu: float = 0.25  # an ACU is ~2 GiB; r6g instances have 8 GiB per vCPU
    db_target_utilisation: float = 0.5
    #: Writer capacity for memory and connections, per 10,000 chargers (the CPU measured is
    #: far below it): an assumption from the independent recomputation (1 ACU at 10,000).
    db_acu_per_10k_chargers: float = 1.0
    bytes_per_sample: float = 360.0  # measured by bench_ingest.py: heap + indexes per row
    bytes_per_status: float = 300.0
    bytes_per_event_row: float = 800.0
    meter_retention_days: float = 90.0  # CSMS_METER_RETENTION_DAYS; 0 = forever (12 months shown)
    status_history_months: float = 12.0  # kept forever: the bill a year in
    event_row_retention_days: float = 30.0  # CSMS_EVENT_RETENTION_DAYS
    # --- CloudWatch (from the template; tests/infra/test_cost_coverage.py keeps them equal)
    alarm_metrics: int = 45  # 41, and the errors and throttles of live and fanout (ADR 0025)
    dashboards: int = 1
    #: Custom metrics sent every hour: the gauges (ChargersOnline, OpenTransactions,
    #: EventBacklog, EnergyDaysPending); counts are sent only when not 0.
    custom_metrics: int = 4
    # --- consoles' live updates (ADR 0025)
    #: 1: the live API and its fan-out are deployed (now); 0: before issue 14.
    console_live: float = 1.0
    #: Hours a month consoles are open on the live WebSocket, all operators together: 10
    #: operators, 8 hours a day, 22 days.
    console_hours: float = 10 * 8 * 22
    #: The console's keep-alive (API Gateway closes a connection idle for 10 minutes).
    console_keepalive_s: float = 300.0
    #: SQS requests a month of the fan-out's idle polling (Lambda's five pollers long-poll 20 s).
    fanout_idle_polls: float = 5 * 3 * 60 * 730
    #: Billed ms per fan-out invocation (one per batch of up to a second's events: a Query per
    #: tenant, a POST per open console) and per live invocation (the authorizer with a cached key
    #: set, $connect, $disconnect, a keep-alive).
    fanout_ms: float = 15.0
    fanout_memory_mb: float = 256.0
    live_ms: float = 10.0
    # --- operators
    operators: float = 10.0  # Cognito monthly active users (Plus tier in prod)
    operator_requests: float = 100_000.0  # REST API requests a month
    #: The console (issue 14): page loads a month, each fetching about this many files through
    #: CloudFront (the rest is in the browser's cache) and this many bytes; index.html and
    #: config.json are revalidated at S3 on every load. The bucket keeps every build's chunks.
    console_page_loads: float = 3_000.0
    console_files_per_load: float = 4.0
    console_bytes_per_load: float = 400_000.0
    console_storage_gb: float = 0.1
    #: The owner's database credentials, the two runtime roles' (ADR 0021), the origin secret.
    secrets: int = 4
    #: Rotations a month of the three database secrets (every 30 days), four invocations each.
    secret_rotation_invocations: float = 3 * 4 * 730 / (30 * 24)
    #: The REST stage's web ACL (waf_api_rate_limit, on in prod) and its one rate-based rule.
    waf_web_acls: int = 1
    waf_rules: int = 1
    #: Client limits (ADR 0023) in DynamoDB: 1 now, 0 before issue 13's second half.
    client_limits: float = 1.0
    #: Customer managed KMS keys: the command-secrets key (rotate-password, ADR 0019). Its
    #: requests (two per password rotation) are too few to price.
    kms_keys: int = 1


#: Other deployments, as overrides of the defaults (``csms cost --preset NAME``).
PRESETS: Mapping[str, Mapping[str, Any]] = {
    "prod": {},
    # prod with ADR 0020's fallback switch (-c egress=nat): two NAT gateways.
    "nat": {"egress": "nat", "nat_gateways": 2},
    # prod with db_readers=1: failover to a warm reader in another AZ.
    "ha": {"db_instances": 2},
    # The prod stage before issue 16 (checkout bbdf94c), with every line counted.
    "before": {
        "client_limits": 0.0,
        "egress": "nat",
        "nat_gateways": 2,
        "interface_endpoints": 3,
        "db_instances": 2,
        "liveness_refresh_s": 0.0,
        "read_before_write": 0.0,
        "index_writes_per_liveness_write": 1.0,
        "frame_log_sample_rate": 1.0,
        "frame_log_lines": 2.0,
        "platform_log_bytes": 700.0,
        "access_log_bytes": 252.0,
        "archive_meter_values": 1.0,
        "archive_days": 365.0,
        "meter_retention_days": 0.0,
        "custom_metrics": 16,
        "alarm_metrics": 39,
        # Before issue 13: the master user's secret and the origin secret, no rotation, no WAF.
        "secrets": 2,
        "secret_rotation_invocations": 0.0,
        "waf_web_acls": 0,
        "waf_rules": 0,
        "kms_keys": 0,
        "console_live": 0.0,
    },
}


@dataclass(frozen=True)
class Traffic:
    """Per charger and month."""

    connections: float
    sessions: float
    commands: float
    frames: Mapping[str, float]  # CALLs from the charger, by action
    samples: float
    liveness_writes: float

    @property
    def frames_in(self) -> float:
        return sum(self.frames.values())


@dataclass(frozen=True)
class Line:
    service: str
    item: str
    quantity: float
    unit: str
    usd: float
    #: The ``prices.toml`` key the line is billed at ("" for an explained zero).
    price: str = ""
    fixed: bool = False
    note: str = ""


@dataclass(frozen=True)
class Bill:
    assumptions: Assumptions
    traffic: Traffic
    lines: tuple[Line, ...] = field(default_factory=tuple)

    @property
    def total(self) -> float:
        return sum(line.usd for line in self.lines)

    @property
    def per_charger(self) -> float:
        return self.total / self.assumptions.chargers

    @property
    def fixed(self) -> float:
        return sum(line.usd for line in self.lines if line.fixed)

    def by_service(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for line in self.lines:
            out[line.service] = out.get(line.service, 0.0) + line.usd
        return out


#: Billable CloudFormation resource types and the bill's lines (service, item prefix) for them.
RESOURCE_LINES: Mapping[str, tuple[tuple[str, str], ...]] = {
    "AWS::ApiGatewayV2::Api": (("API Gateway", "WebSocket messages"), ("API Gateway", "connection minutes")),
    "AWS::ApiGateway::RestApi": (("API Gateway", "REST API requests"),),
    "AWS::Lambda::Function": (("Lambda", "requests"), ("Lambda", "duration")),
    "AWS::DynamoDB::Table": (
        ("DynamoDB", "read request units"),
        ("DynamoDB", "write request units"),
        ("DynamoDB", "storage"),
    ),
    "AWS::Events::EventBus": (("EventBridge", "custom events"),),
    "AWS::Events::Archive": (("EventBridge", "archive"),),
    "AWS::Scheduler::Schedule": (("EventBridge", "Scheduler invocations"),),
    "AWS::SQS::Queue": (("SQS", "requests"),),
    "AWS::RDS::DBCluster": (("Aurora", "storage"), ("Aurora", "I/O"), ("Aurora", "backup")),
    "AWS::RDS::DBInstance": (("Aurora", "ACU-hours"),),
    "AWS::EC2::NatGateway": (("VPC", "NAT gateway hours"), ("VPC", "NAT data")),
    "AWS::EC2::EIP": (("VPC", "public IPv4 addresses"),),
    "AWS::EC2::VPCEndpoint": (("VPC", "interface endpoint hours"),),
    "AWS::EC2::EgressOnlyInternetGateway": (("VPC", "IPv6 egress"),),
    "AWS::CloudFront::Distribution": (("CloudFront", "data transfer"), ("CloudFront", "requests")),
    "AWS::CloudFront::Function": (("CloudFront", "requests"),),
    "AWS::Logs::LogGroup": (("CloudWatch Logs", "ingestion"), ("CloudWatch Logs", "storage")),
    "AWS::CloudWatch::Alarm": (("CloudWatch", "alarm metrics"),),
    "AWS::CloudWatch::Dashboard": (("CloudWatch", "dashboards"),),
    "AWS::SecretsManager::Secret": (("Secrets Manager", "secrets"), ("Secrets Manager", "API calls")),
    "AWS::KMS::Key": (("KMS", "customer managed keys"),),
    "AWS::SecretsManager::RotationSchedule": (("Lambda", "secret rotations"),),
    "AWS::WAFv2::WebACL": (("WAF", "web ACLs"), ("WAF", "rules"), ("WAF", "requests")),
    "AWS::Cognito::UserPool": (("Cognito", "monthly active users"),),
    "AWS::SNS::Topic": (("SNS", "alarm notifications"),),
    "AWS::EC2::FlowLog": (("CloudWatch Logs", "ingestion"),),
    "AWS::S3::Bucket": (("S3", "storage"), ("S3", "GET requests")),
}

#: Resource types in the template that cost nothing themselves, and why.
FREE_RESOURCES: Mapping[str, str] = {
    "AWS::ApiGateway::Account": "account setting (the logging role)",
    "AWS::ApiGateway::Authorizer": "Cognito authorizer: no charge beyond the API's requests",
    "AWS::ApiGateway::Deployment": "configuration",
    "AWS::ApiGateway::GatewayResponse": "configuration",
    "AWS::ApiGateway::Method": "configuration",
    "AWS::ApiGateway::Resource": "configuration",
    "AWS::ApiGateway::Stage": "configuration (requests are billed on the API)",
    "AWS::ApiGatewayV2::Authorizer": "Lambda authorizer: its invocations are the live function's Lambda line",
    "AWS::ApiGatewayV2::Integration": "configuration",
    "AWS::ApiGatewayV2::Route": "configuration",
    "AWS::ApiGatewayV2::Stage": "configuration (messages and minutes are billed on the API)",
    "AWS::Cognito::UserPoolClient": "configuration",
    "AWS::EC2::InternetGateway": "no charge (CDK attaches one to a dual-stack VPC; no IPv4 route uses it)",
    "AWS::EC2::Route": "configuration",
    "AWS::EC2::RouteTable": "configuration",
    "AWS::EC2::SecurityGroup": "configuration",
    "AWS::EC2::SecurityGroupIngress": "configuration",
    "AWS::EC2::Subnet": "configuration",
    "AWS::EC2::SubnetRouteTableAssociation": "configuration",
    "AWS::EC2::VPC": "no charge",
    "AWS::EC2::VPCCidrBlock": "Amazon-provided IPv6 block: no charge",
    "AWS::EC2::VPCGatewayAttachment": "configuration",
    "AWS::Events::EventBusPolicy": "configuration",
    "AWS::Events::Rule": "configuration: matching and delivering to an SQS queue of the account is "
    "in the custom events' price (load management's triggers, the consoles' live events; the queues' "
    "requests are SQS's)",
    "AWS::IAM::Policy": "IAM is free",
    "AWS::IAM::Role": "IAM is free",
    "AWS::Lambda::EventInvokeConfig": "configuration",
    "AWS::Lambda::EventSourceMapping": "SQS polling by Lambda is billed as the SQS requests line",
    "AWS::Lambda::LayerVersion": "within Lambda's free 75 GB of code storage",
    "AWS::Lambda::Permission": "configuration",
    "AWS::RDS::DBSubnetGroup": "configuration",
    "AWS::SNS::TopicPolicy": "configuration",
    "AWS::SQS::QueuePolicy": "configuration",
    "AWS::Scheduler::ScheduleGroup": "configuration",
    "AWS::SecretsManager::SecretTargetAttachment": "configuration",
    "AWS::SecretsManager::ResourcePolicy": "configuration (CDK's guard on rotated secrets)",
    "AWS::WAFv2::WebACLAssociation": "configuration (requests are billed on the web ACL)",
    "Custom::CsmsMigration": "a Lambda invocation per deploy (the migration function's few seconds)",
    "Custom::LogRetention": "a Lambda invocation per deploy",
    "Custom::VpcRestrictDefaultSG": "a Lambda invocation per deploy",
    "Custom::CDKBucketDeployment": "a Lambda invocation per deploy, and a few dozen S3 PUTs (under a cent)",
    "AWS::S3::BucketPolicy": "configuration",
    "AWS::CloudFront::OriginAccessControl": "configuration",
    "AWS::CloudFront::ResponseHeadersPolicy": "configuration",
    "AWS::Cognito::UserPoolDomain": "the managed login is billed in the user pool's monthly active users",
    "AWS::Cognito::ManagedLoginBranding": "configuration",
}


# --- the model ------------------------------------------------------------------------------------


def _scheduled_per_month(hours: float = 730.0) -> float:
    from csms.schedules import SCHEDULES

    return sum(hours * SECONDS_PER_HOUR / schedule.every_seconds for schedule in SCHEDULES)


def _write_interval(gap: float, refresh: float) -> float:
    """Seconds between liveness writes for frames ``gap`` seconds apart: the first frame
    after ``last_seen`` got older than ``refresh``."""
    if refresh <= 0 or gap <= 0:
        return max(gap, 1e-9)
    return (math.floor(refresh / gap) + 1) * gap


def traffic(a: Assumptions, mix: MessageMix, hours: float = 730.0) -> Traffic:
    """What one charger sends in a month."""
    seconds = hours * SECONDS_PER_HOUR
    connections = hours / a.connection_hours
    sessions = a.charging_share * hours * 60 / a.session_minutes
    busy = a.charging_share * (1.0 - a.heartbeats_while_charging)
    frames: dict[str, float] = {"Heartbeat": (1.0 - busy) * seconds / a.heartbeat_s}
    frames["MeterValues"] = a.charging_share * seconds / a.meter_interval_s
    for action, count in mix.per_connection.items():
        frames[action] = frames.get(action, 0.0) + connections * count
    for action, count in mix.per_session.items():
        frames[action] = frames.get(action, 0.0) + sessions * count
    samples_per = a.samples_per_meter_values or mix.samples_per_meter_values
    # Liveness writes: idle, one per heartbeat gap; charging, frames come every ``gap``.
    charging_gap = 1.0 / (1.0 / a.meter_interval_s + a.heartbeats_while_charging / a.heartbeat_s)
    writes = (1.0 - a.charging_share) * seconds / _write_interval(a.heartbeat_s, a.liveness_refresh_s)
    writes += a.charging_share * seconds / _write_interval(charging_gap, a.liveness_refresh_s)
    frames_in = sum(frames.values())
    return Traffic(
        connections=connections,
        sessions=sessions,
        commands=a.commands_per_charger_day * hours / 24,
        frames=frames,
        samples=frames["MeterValues"] * samples_per,
        liveness_writes=min(writes, frames_in) if a.liveness_refresh_s > 0 else frames_in,
    )


def estimate(a: Assumptions, prices: PriceTable, mix: MessageMix, costs: FrameCosts | None = None) -> Bill:
    """The monthly bill for ``a.chargers`` chargers."""
    costs = costs or FrameCosts.load()
    hours = prices.hours_per_month
    t = traffic(a, mix, hours)
    n = a.chargers
    lines: list[Line] = []

    def add(
        service: str,
        item: str,
        quantity: float,
        unit: str,
        price: str,
        per: float = 1.0,
        *,
        fixed: bool = False,
        free: float = 0.0,
        note: str = "",
    ) -> None:
        """A line billed at ``prices[price]`` per ``per`` units, after ``free`` units."""
        usd = max(0.0, quantity - free) / per * prices[price] if price else 0.0
        lines.append(Line(service, item, quantity, unit, usd, price, fixed, note))

    def per_frame(attribute: str) -> float:
        """Sum over a charger-month's frames of a measured per-frame figure."""
        return float(sum(count * getattr(costs.of(action), attribute) for action, count in t.frames.items()))

    frames_in = n * (t.frames_in + t.commands)  # the charger's CALLs and its answers to ours
    frames_out = frames_in
    bytes_in = n * (sum(c * mix.request_bytes(x) for x, c in t.frames.items()) + t.commands * 120)
    bytes_out = n * (sum(c * mix.response_bytes(x) for x, c in t.frames.items()) + t.commands * 200)

    # --- API Gateway: every message under 32 KB is one billed message, in either direction.
    messages = frames_in + frames_out
    first = min(messages, 1e9)
    lines.append(
        Line(
            "API Gateway",
            "WebSocket messages",
            messages,
            "messages",
            first / 1e6 * prices["api_gateway.websocket_messages"]
            + (messages - first) / 1e6 * prices["api_gateway.websocket_messages_over_1b"],
            "api_gateway.websocket_messages",
        )
    )
    add("API Gateway", "connection minutes", n * hours * 60, "minutes", "api_gateway.connection_minutes", 1e6)
    add(
        "API Gateway",
        "REST API requests (operators)",
        a.operator_requests,
        "requests",
        "api_gateway.rest_requests",
        1e6,
    )

    # --- domain events (ADR 0014): measured per frame, one per $connect/$disconnect and command.
    meter_frames = t.frames.get("MeterValues", 0.0)
    meter_event_share = costs.of("MeterValues").events
    meter_events = meter_frames * meter_event_share
    if a.meter_events == "quarter-hour":
        meter_events = t.sessions * a.session_minutes / 15
    frame_events = per_frame("events") - meter_frames * meter_event_share + meter_events
    events = n * (frame_events + 2 * t.connections + t.commands)
    publishing_frames = n * sum(c for x, c in t.frames.items() if costs.of(x).put_events_calls > 0)
    if a.meter_events == "quarter-hour":
        publishing_frames -= n * meter_frames

    # --- consoles' live updates (ADR 0025): the bus puts every event on the fan-out's queue,
    # whether a console is open or not; the fan-out takes up to a second's events at once (a
    # Query of the tenant's consoles) and sends each open console one message per 32 KB of
    # them. A console reconnects every 2 hours (API Gateway's maximum) and sends a keep-alive
    # every console_keepalive_s. (One tenant: with several, a batch is a message per tenant.)
    console_hours = a.console_live * a.console_hours
    open_consoles = console_hours / hours  # on average, at any moment
    console_connections = console_hours / a.connection_hours
    keepalives = console_hours * SECONDS_PER_HOUR / a.console_keepalive_s
    fanouts = a.console_live * min(events, hours * SECONDS_PER_HOUR)  # batches: at most one a second
    per_batch_bytes = events / max(fanouts, 1.0) * a.event_bytes
    console_messages = fanouts * open_consoles * max(1.0, per_batch_bytes / 32768) + keepalives
    first_console = min(console_messages, max(0.0, 1e9 - first))
    lines.append(
        Line(
            "API Gateway",
            "consoles' live updates: WebSocket messages (events delivered, keep-alives)",
            console_messages,
            "messages",
            first_console / 1e6 * prices["api_gateway.websocket_messages"]
            + (console_messages - first_console) / 1e6 * prices["api_gateway.websocket_messages_over_1b"],
            "api_gateway.websocket_messages",
        )
    )
    add(
        "API Gateway",
        "consoles' live updates: connection minutes",
        console_hours * 60,
        "minutes",
        "api_gateway.connection_minutes",
        1e6,
    )

    # --- Lambda
    gb = a.lambda_memory_mb / 1024
    liveness_ms = a.read_before_write * t.liveness_writes / max(t.frames_in, 1.0) * a.liveness_write_ms
    invocations = {
        "message": (
            frames_in,
            a.message_ms + publishing_frames / max(frames_in, 1.0) * a.event_publish_ms + liveness_ms,
        ),
        "connect": (n * t.connections, a.connect_ms + a.password_share * a.scrypt_ms),
        "disconnect": (n * t.connections, a.disconnect_ms),
        "commands": (n * t.commands, a.commands_ms),
        "scheduled": (a.scheduled_per_month, a.scheduled_ms),
        "api": (a.operator_requests, a.api_ms),
        # (billed at the fan-out's own memory: its ms scaled to this line's GB)
        "fanout": (fanouts, a.fanout_ms * a.fanout_memory_mb / a.lambda_memory_mb),
        # authorizer + $connect + $disconnect per connection, and the keep-alives
        "live": (3 * console_connections + keepalives, a.live_ms),
    }
    requests = sum(count for count, _ in invocations.values())
    gb_seconds = sum(count * ms / 1000 * gb for count, ms in invocations.values())
    add("Lambda", "requests", requests, "requests", "lambda.requests", 1e6)
    add(
        "Lambda", f"duration (arm64, {a.lambda_memory_mb:g} MB)", gb_seconds, "GB-s", "lambda.arm64_gb_second"
    )

    # --- DynamoDB (on demand)
    reads_per_frame = a.read_before_write * per_frame_op(costs, t, "GetItem", "fresh")
    liveness_writes = t.liveness_writes if a.read_before_write else t.frames_in
    liveness_wru = liveness_writes * (1.0 + a.index_writes_per_liveness_write)
    table_bytes = n * a.dynamodb_bytes_per_charger
    scans = 60 * hours + hours * 60 / 5  # fleet-gauges every minute, liveness every 5 minutes
    scan_rru = scans * math.ceil(table_bytes / 4096) * 0.5  # eventually consistent, billed per 4 KB
    # Client limits (ADR 0023): a handshake reads its id's and address's failure counters
    # (two strongly consistent items); an operator request adds to its principal's and its
    # tenant's window (two updates) and reads the principal's revocation stamp (at most once
    # a request, cached). A station's frame counter is written once per 10 frames a minute
    # per container, which a charger at these intervals never reaches: none.
    limit_rru = a.client_limits * (n * t.connections * 2 + a.operator_requests)
    limit_wru = a.client_limits * a.operator_requests * 2
    fanout_rru = fanouts * 0.5  # one eventually consistent Query of the by-tenant index (< 4 KB)
    rru = n * (reads_per_frame + t.commands) + scan_rru + limit_rru + fanout_rru
    add(
        "DynamoDB",
        "read request units (frames, command lookups, gauge and liveness scans, login limits, "
        "console fan-out)",
        rru,
        "RRU",
        "dynamodb.read_request_unit",
        1e6,
    )
    wru = (
        n
        * (
            liveness_wru
            + t.connections * a.dynamodb_wru_per_connection
            + t.commands * a.dynamodb_wru_per_command
        )
        + limit_wru
        + console_connections * 4  # a console's live# item: put and delete, each also in the index
    )
    add(
        "DynamoDB",
        "write request units (liveness when stale, connections, command slots, REST rate limits)",
        wru,
        "WRU",
        "dynamodb.write_request_unit",
        1e6,
    )
    dynamo_gb = 2 * table_bytes / 1e9  # the table and its index
    add(
        "DynamoDB",
        "storage and point-in-time recovery",
        dynamo_gb,
        "GB-month",
        "dynamodb.storage_and_pitr_gb_month",
    )

    # --- SQS and EventBridge
    add(
        "SQS",
        "requests (consoles' live events: the bus's sends, Lambda's receives, deletes and idle polls)",
        a.console_live * (events + fanouts + events / 10 + a.fanout_idle_polls),
        "requests",
        "sqs.standard_requests",
        1e6,
    )
    add(
        "SQS",
        "requests (command triggers: send, receive, delete)",
        n * t.commands * 3,
        "requests",
        "sqs.fifo_requests",
        1e6,
    )
    add(
        "EventBridge",
        "Scheduler invocations",
        a.scheduled_per_month,
        "invocations",
        "eventbridge.scheduler_invocations",
        1e6,
        fixed=True,
        free=prices["eventbridge.scheduler_free_invocations"],
    )
    add("EventBridge", "custom events (domain events)", events, "events", "eventbridge.custom_events", 1e6)
    archived = events - (0.0 if a.archive_meter_values else n * meter_events)
    archived_gb = archived * a.event_bytes / 1e9
    add("EventBridge", "archive: events archived", archived_gb, "GB", "eventbridge.archive_gb")
    add(
        "EventBridge",
        f"archive: storage ({a.archive_days:g} days)",
        archived_gb * a.archive_days / 30,
        "GB-month",
        "eventbridge.archive_storage_gb_month",
    )

    # --- Aurora Serverless v2
    db_frames = n * (per_frame("db_transactions") + t.connections * 2 + t.commands * 2)
    if a.meter_events == "quarter-hour":
        # A MeterValues frame would commit its samples only: no event row to mark published.
        db_frames -= n * meter_frames * meter_event_share
    db_vcpu = frames_in / (hours * SECONDS_PER_HOUR) * mix.postgres_cpu_ms_per_frame / 1000
    cpu_acu = db_vcpu / (a.acu_vcpu * a.db_target_utilisation)
    writer_acu = max(a.db_min_acu, math.ceil(2 * max(cpu_acu, a.db_acu_per_10k_chargers * n / 10_000)) / 2)
    floor_acu_h = a.db_instances * a.db_min_acu * hours
    add(
        "Aurora",
        f"ACU-hours, minimum capacity ({a.db_instances} instance(s) x {a.db_min_acu:g} ACU)",
        floor_acu_h,
        "ACU-h",
        "aurora.acu_hour",
        fixed=True,
    )
    # Readers follow the writer (scale_with_writer=True).
    above = a.db_instances * (writer_acu - a.db_min_acu) * hours
    add(
        "Aurora",
        f"ACU-hours above the minimum (writer at {writer_acu:g} ACU)",
        above,
        "ACU-h",
        "aurora.acu_hour",
    )
    retention_months = (a.meter_retention_days or 365) / (365 / 12)
    stored_gb = (
        n
        * (
            t.samples * a.bytes_per_sample * retention_months
            + t.frames.get("StatusNotification", 0.0) * a.bytes_per_status * a.status_history_months
            + (frame_events + 2 * t.connections) * a.bytes_per_event_row * a.event_row_retention_days / 30
        )
        / 1e9
    )
    retention = f"{a.meter_retention_days:g} days" if a.meter_retention_days else "kept forever: a year in"
    add(
        "Aurora",
        f"storage (raw samples {retention}, a year of status history, "
        f"{a.event_row_retention_days:g} days of events)",
        stored_gb,
        "GB-month",
        "aurora.storage_gb_month",
    )
    add(
        "Aurora",
        "I/O (one per committed transaction, measured per frame)",
        db_frames,
        "I/Os",
        "aurora.io_requests",
        1e6,
    )
    add(
        "Aurora",
        "backup storage",
        0.0,
        "GB-month",
        "",
        note="free up to the cluster's volume size; 14 days of changes to an append-mostly "
        "database stay under it",
    )

    # --- network: egress for @connections, EventBridge, SQS, Secrets Manager (ADR 0020)
    egress_gb = (frames_out + n * t.commands + events / 10) * a.egress_bytes_per_call / 1e9
    nat = a.egress == "nat"
    nat_hours = a.nat_gateways * hours if nat else 0.0
    add("VPC", "NAT gateway hours", nat_hours, "hours", "vpc.nat_gateway_hour", fixed=True)
    add(
        "VPC",
        "public IPv4 addresses (one per NAT gateway)",
        nat_hours,
        "hours",
        "vpc.public_ipv4_hour",
        fixed=True,
    )
    add("VPC", "NAT data processed", egress_gb if nat else 0.0, "GB", "vpc.nat_gateway_gb")
    add(
        "VPC",
        "IPv6 egress (egress-only internet gateway: no charge of its own; data to regional AWS endpoints)",
        0.0 if nat else egress_gb,
        "GB",
        "vpc.intra_region_gb",
    )
    endpoint_hours = a.interface_endpoints * a.availability_zones * hours
    add("VPC", "interface endpoint hours", endpoint_hours, "hours", "vpc.interface_endpoint_hour", fixed=True)

    # --- CloudFront (the chargers' front door)
    out_gb = (bytes_out + frames_out * a.frame_overhead_bytes) / 1e9
    origin_gb = (bytes_in + frames_in * a.frame_overhead_bytes) / 1e9
    handshakes = n * t.connections
    add("CloudFront", "data transfer to chargers", out_gb, "GB", "cloudfront.data_transfer_out_gb")
    add("CloudFront", "data transfer to the origin", origin_gb, "GB", "cloudfront.data_transfer_to_origin_gb")
    add(
        "CloudFront",
        "requests (one per WebSocket handshake)",
        handshakes,
        "requests",
        "cloudfront.https_requests",
        1e4,
    )
    add(
        "CloudFront",
        "requests: Function runs (one per handshake)",
        handshakes,
        "invocations",
        "cloudfront.function_invocations",
        1e6,
    )

    # --- the operator console: its files and the operator API through the distribution
    console_requests = a.console_page_loads * a.console_files_per_load + a.operator_requests
    add(
        "CloudFront",
        "requests: the console's files and the operator API",
        console_requests,
        "requests",
        "cloudfront.https_requests",
        1e4,
    )
    add(
        "CloudFront",
        "data transfer to operators' browsers",
        a.console_page_loads * a.console_bytes_per_load / 1e9,
        "GB",
        "cloudfront.data_transfer_out_gb",
    )
    add(
        "CloudFront",
        "requests: Function runs (the console's routes)",
        a.console_page_loads * a.console_files_per_load,
        "invocations",
        "cloudfront.function_invocations",
        1e6,
    )
    add("S3", "storage (the console's builds)", a.console_storage_gb, "GB-months", "s3.storage_gb_month")
    add(
        "S3",
        "GET requests (CloudFront revalidating index.html and config.json)",
        a.console_page_loads * 2,
        "requests",
        "s3.get_requests",
        1e3,
    )

    # --- CloudWatch Logs
    logged_share = a.frame_log_sample_rate * (1 - a.non_routine_frame_share) + a.non_routine_frame_share
    frame_log_bytes = n * per_frame("log_bytes") * a.frame_log_lines * logged_share
    log_gb = (
        frame_log_bytes
        + requests * a.platform_log_bytes
        + messages * a.access_log_bytes
        + 2 * n * t.connections * a.function_log_bytes_per_connect
        + a.scheduled_per_month * a.scheduled_log_bytes_per_run
    ) / 1e9
    add(
        "CloudWatch Logs",
        "ingestion (frame lines, connects, jobs, platform and access logs)",
        log_gb,
        "GB",
        "cloudwatch.logs_ingestion_gb",
    )
    stored_logs = log_gb * a.log_compression * a.log_retention_days / (hours / 24)
    add(
        "CloudWatch Logs",
        f"storage ({a.log_retention_days:g} days)",
        stored_logs,
        "GB-month",
        "cloudwatch.logs_storage_gb_month",
    )

    # --- CloudWatch: alarms, custom metrics, dashboard
    add(
        "CloudWatch", "alarm metrics", a.alarm_metrics, "metrics", "cloudwatch.alarm_metric_month", fixed=True
    )
    add(
        "CloudWatch",
        "custom metrics sent every hour (gauges)",
        a.custom_metrics,
        "metrics",
        "cloudwatch.custom_metric_month",
        fixed=True,
    )
    add("CloudWatch", "dashboards", a.dashboards, "dashboards", "cloudwatch.dashboard_month", fixed=True)

    # --- the rest
    add("Secrets Manager", "secrets", a.secrets, "secrets", "secrets_manager.secret_month", fixed=True)
    add("KMS", "customer managed keys", a.kms_keys, "keys", "kms.key_month", fixed=True)
    add(
        "Secrets Manager",
        "API calls (one per cold start)",
        a.cold_starts,
        "calls",
        "secrets_manager.api_calls",
        1e4,
    )
    add(
        "Lambda",
        "secret rotations (the rotation function's invocations)",
        a.secret_rotation_invocations,
        "requests",
        "lambda.requests",
        1e6,
        fixed=True,
        note="a second or so each: inside any free tier",
    )
    add(
        "WAF",
        "web ACLs (the REST stage's rate limit per address)",
        a.waf_web_acls,
        "web ACLs",
        "waf.web_acl_month",
        fixed=True,
    )
    add("WAF", "rules", a.waf_rules, "rules", "waf.rule_month", fixed=True)
    add(
        "WAF",
        "requests inspected (the operator API's)",
        a.operator_requests if a.waf_web_acls else 0.0,
        "requests",
        "waf.requests",
        1e6,
    )
    add("Cognito", "monthly active users (Plus tier)", a.operators, "MAU", "cognito.plus_mau")
    add(
        "SNS",
        "alarm notifications",
        0.0,
        "notifications",
        "",
        note="a handful a month, inside SNS's free allowance",
    )
    return Bill(assumptions=a, traffic=t, lines=tuple(lines))


def per_frame_op(costs: FrameCosts, t: Traffic, operation: str, regime: str) -> float:
    """DynamoDB ``operation`` requests per charger-month on the message path."""
    return sum(
        count
        * (costs.of(action).dynamodb_fresh if regime == "fresh" else costs.of(action).dynamodb_stale).get(
            operation, 0.0
        )
        for action, count in t.frames.items()
    )


# --- the command ----------------------------------------------------------------------------------

_FLAGS: dict[str, str] = {
    "heartbeat_s": "heartbeat",
    "meter_interval_s": "meter-interval",
    "charging_share": "charging-share",
    "session_minutes": "session-minutes",
}


def _flag(name: str) -> str:
    return "--" + _FLAGS.get(name, name.replace("_", "-"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the ``csms cost`` options (one per :class:`Assumptions` field)."""
    parser.add_argument("--chargers", type=int, required=True, help="fleet size")
    parser.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default="prod",
        help="deployment: prod (the CDK app's prod stage), nat (its egress fallback), ha (with a "
        "reader), before (prod before issue 16); options below override it",
    )
    defaults = Assumptions(chargers=1)
    for spec in fields(Assumptions):
        if spec.name == "chargers":
            continue
        default = getattr(defaults, spec.name)
        kind: Any = (
            str
            if isinstance(default, str)
            else int
            if isinstance(default, int) and not isinstance(default, bool)
            else float
        )
        parser.add_argument(
            _flag(spec.name),
            dest=spec.name,
            type=kind,
            default=None,
            help=f"default: {'the measured mix' if default is None else default}",
        )
    parser.add_argument(
        "--fleets",
        help="comma separated fleet sizes: print one summary column per fleet "
        f"(e.g. {','.join(str(f) for f in PUBLISHED_FLEETS)})",
    )
    parser.add_argument("--prices", type=Path, default=PRICES_PATH, help="price table (TOML)")
    parser.add_argument("--mix", type=Path, default=MIX_PATH, help="message mix (JSON)")
    parser.add_argument("--measured", type=Path, default=MEASURED_PATH, help="per-frame costs (JSON)")
    parser.add_argument("--json", action="store_true", help="print the bill as JSON")


def assumptions_from(args: argparse.Namespace, chargers: int | None = None) -> Assumptions:
    values = dict(PRESETS[getattr(args, "preset", "prod") or "prod"])
    for spec in fields(Assumptions):
        given = getattr(args, spec.name, None)
        if spec.name != "chargers" and given is not None:
            values[spec.name] = given
    return replace(Assumptions(chargers=chargers or args.chargers), **values)


def preset(name: str, chargers: int, **overrides: Any) -> Assumptions:
    """The assumptions of a :data:`PRESETS` deployment."""
    return replace(Assumptions(chargers=chargers), **{**PRESETS[name], **overrides})


def run(args: argparse.Namespace) -> int:
    """Print the estimate; returns the exit code."""
    if args.chargers < 1:
        raise SystemExit("csms cost: --chargers must be at least 1")
    prices = PriceTable.load(args.prices)
    mix = MessageMix.load(args.mix)
    costs = FrameCosts.load(args.measured)
    bill = estimate(assumptions_from(args), prices, mix, costs)
    if args.json:
        print(json.dumps(bill_as_dict(bill, prices), indent=2))
        return 0
    print(render(bill, prices, mix, costs))
    if args.fleets:
        sizes = [int(size) for size in args.fleets.split(",") if size.strip()]
        print()
        print(render_fleets([estimate(assumptions_from(args, size), prices, mix, costs) for size in sizes]))
    return 0


def bill_as_dict(bill: Bill, prices: PriceTable | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "assumptions": asdict(bill.assumptions),
        "per_charger_month": {
            "connections": bill.traffic.connections,
            "sessions": bill.traffic.sessions,
            "commands": bill.traffic.commands,
            "frames": dict(bill.traffic.frames),
            "samples": bill.traffic.samples,
            "liveness_writes": bill.traffic.liveness_writes,
        },
        "lines": [asdict(line) for line in bill.lines],
        "by_service": bill.by_service(),
        "total_usd": bill.total,
        "per_charger_usd": bill.per_charger,
    }
    if prices is not None:
        out["prices"] = {key: asdict(prices.prices[key]) for key in _used_prices(bill)}
    return out


def _used_prices(bill: Bill) -> list[str]:
    return list(dict.fromkeys(line.price for line in bill.lines if line.price))


def _money(value: float) -> str:
    return f"${value:,.2f}" if value >= 0.995 or value == 0 else f"${value:,.4f}"


def _quantity(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".") if value else "0"


def _unit_price(price: Price) -> str:
    return f"${price.value:g}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> str:
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def fmt(row: Sequence[str]) -> str:
        cells = [
            str(c).rjust(w) if i in right else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "| " + " | ".join(cells) + " |"

    rule = (
        "|"
        + "|".join(("-" * (w + 1) + ":") if i in right else "-" * (w + 2) for i, w in enumerate(widths))
        + "|"
    )
    return "\n".join([fmt(headers), rule, *(fmt(r) for r in rows)])


def render(bill: Bill, prices: PriceTable, mix: MessageMix, costs: FrameCosts | None = None) -> str:
    a, t = bill.assumptions, bill.traffic
    top = sorted(t.frames.items(), key=lambda item: -item[1])
    used = _used_prices(bill)
    refs = {key: i + 1 for i, key in enumerate(used)}
    out = [
        f"Monthly AWS bill for {a.chargers:,} chargers ({prices.region}, list prices: "
        "src/csms/cost/prices.toml)",
        f"Deployment: egress {a.egress}"
        + (f" ({a.nat_gateways} NAT gateways)" if a.egress == "nat" else " (no NAT gateway)")
        + f", {a.interface_endpoints} interface endpoints, {a.db_instances} Aurora instance(s) from "
        f"{a.db_min_acu:g} ACU, routine frames logged at {a.frame_log_sample_rate:g}, raw meter samples kept "
        + (f"{a.meter_retention_days:g} days" if a.meter_retention_days else "forever")
        + f", event archive {a.archive_days:g} days.",
        f"Per charger and month: {t.frames_in:,.0f} frames from the charger ("
        + ", ".join(f"{action} {count:,.0f}" for action, count in top)
        + f"), as many answers, {t.connections:,.0f} connections, {t.sessions:,.1f} sessions, "
        f"{t.samples:,.0f} meter samples, {t.commands:,.1f} commands, "
        f"{t.liveness_writes:,.0f} liveness writes.",
        f"Message mix measured {mix.measured_at} ({mix.command})"
        + (f"; per-frame costs measured {costs.measured_at} ({costs.command})." if costs else "."),
        "",
    ]
    rows = []
    for line in bill.lines:
        price = prices.prices.get(line.price)
        rows.append(
            [
                line.service,
                line.item,
                _quantity(line.quantity),
                line.unit,
                _unit_price(price) if price else "-",
                f"[{refs[line.price]}]" if line.price else line.note,
                _money(line.usd),
            ]
        )
    rows.append(["total", "", "", "", "", "", _money(bill.total)])
    rows.append(["per charger", "", "", "", "", "", _money(bill.per_charger)])
    rows.append(["of which fixed", "", "", "", "", "", _money(bill.fixed)])
    out.append(
        _table(
            ["service", "item", "quantity", "unit", "unit price", "price", "USD / month"],
            rows,
            right=(2, 4, 6),
        )
    )
    out.append("")
    out.append(
        "Prices (per the unit below; checked on the date shown; "
        "* = not verified against AWS's live price list):"
    )
    for key in used:
        price = prices.prices[key]
        out.append(
            f"[{refs[key]}] {key}: ${price.value:g} {price.unit}; {price.checked}; {price.source}"
            + ("" if price.verified else " *")
        )
    reference = prices["reference.aws_ocpp_gateway_500"]
    out.append("")
    out.append(
        f"AWS's reference OCPP gateway (ECS + IoT Core): about ${reference:,.0f}/month for "
        f"{REFERENCE_FLEET} chargers (${reference / REFERENCE_FLEET:.2f} per charger); "
        f"this fleet at that rate: ${reference / REFERENCE_FLEET * a.chargers:,.0f}."
    )
    return "\n".join(out)


def render_fleets(bills: Sequence[Bill]) -> str:
    services: list[str] = []
    for bill in bills:
        for service in bill.by_service():
            if service not in services:
                services.append(service)
    headers = ["service", *(f"{b.assumptions.chargers:,} chargers" for b in bills)]
    rows = [[service, *(_money(b.by_service().get(service, 0.0)) for b in bills)] for service in services]
    rows.append(["total / month", *(_money(b.total) for b in bills)])
    rows.append(["per charger / month", *(_money(b.per_charger) for b in bills)])
    rows.append(["of which fixed", *(_money(b.fixed) for b in bills)])
    return _table(headers, rows, right=tuple(range(1, len(headers))))


def targets(
    prices: PriceTable, mix: MessageMix, a: Assumptions | None = None, costs: FrameCosts | None = None
) -> dict[str, Any]:
    """Issue 16's targets: < half the reference at 500 chargers, < $0.08/charger at 10,000."""
    base = a or Assumptions(chargers=REFERENCE_FLEET)
    at_500 = estimate(replace(base, chargers=REFERENCE_FLEET), prices, mix, costs)
    at_10k = estimate(replace(base, chargers=PER_CHARGER_TARGET_FLEET), prices, mix, costs)
    half = prices["reference.aws_ocpp_gateway_500"] / 2
    return {
        "500_total": at_500.total,
        "500_limit": half,
        "500_met": at_500.total < half,
        "10000_per_charger": at_10k.per_charger,
        "10000_limit": PER_CHARGER_TARGET_USD,
        "10000_met": at_10k.per_charger < PER_CHARGER_TARGET_USD,
    }

"""The cost model behind ``csms cost``: a monthly AWS bill for a fleet, by service.

Traffic comes from the per-charger message mix that ``benchmarks/bench_load.py`` measured
(``message_mix.json``: what a charger sends on each connection and each charging session,
frame sizes, log bytes and PostgreSQL CPU per frame), scaled by the fleet's intervals;
prices come from the dated table in ``prices.toml``. Everything else the bill depends on is
an :class:`Assumptions` field with a documented default and a ``csms cost`` option.

Per charger and month (730 h): one connection per ``connection_hours`` (API Gateway closes
every connection after 2 h), a Heartbeat per ``heartbeat_s``, a MeterValues per
``meter_interval_s`` while charging, ``charging_share * 730 h / session length`` sessions,
and ``commands_per_charger_day`` operator commands. Every CALL gets one answer, so API
Gateway bills two messages per frame; every frame is one ``message`` invocation with one
DynamoDB ``UpdateItem``.
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

PRICES_PATH = Path(__file__).with_name("prices.toml")
MIX_PATH = Path(__file__).with_name("message_mix.json")
#: The fleets docs/benchmarks.md publishes.
PUBLISHED_FLEETS = (100, 500, 10_000, 100_000)
#: Issue 7's targets.
REFERENCE_FLEET = 500
PER_CHARGER_TARGET_FLEET = 10_000
PER_CHARGER_TARGET_USD = 0.10


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
    #: JSON log bytes the functions write per frame (two lines: frame in, frame out).
    log_bytes_per_frame: float
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
            log_bytes_per_frame=float(data["log_bytes_per_frame"]),
            postgres_cpu_ms_per_frame=float(data["postgres_cpu_ms_per_frame"]),
            measured_at=str(data.get("measured_at", "")),
            command=str(data.get("command", "")),
        )

    def request_bytes(self, action: str) -> float:
        return self.frame_bytes.get(action, (200.0, 100.0))[0]

    def response_bytes(self, action: str) -> float:
        return self.frame_bytes.get(action, (200.0, 100.0))[1]


@dataclass(frozen=True)
class Assumptions:
    """Everything the bill depends on besides prices and the message mix.

    Defaults describe the ``prod`` stage of the CDK app (infra/csms_infra/config.py) and
    a public AC fleet; each field is a ``csms cost`` option (``--heartbeat-s`` ...).
    """

    chargers: int
    # --- charger behaviour
    heartbeat_s: float = 300.0  # the maximum we hand out (API Gateway's 10-minute idle timeout)
    #: 1: the charger sends Heartbeats while charging too (what many firmwares do, and what the
    #: load benchmark simulates); 0: only after HeartbeatInterval of inactivity (OCPP 1.6
    #: §9.1.18), so MeterValues replace them while charging.
    heartbeats_while_charging: float = 1.0
    meter_interval_s: float = 60.0
    charging_share: float = 0.25
    session_minutes: float = 60.0
    #: None: the measured mix's samples per MeterValues.
    samples_per_meter_values: float | None = None
    connection_hours: float = 2.0  # API Gateway's hard maximum
    commands_per_charger_day: float = 1.0
    password_share: float = 1.0  # Security Profile 1/2: scrypt on every $connect
    # --- Lambda (arm64)
    lambda_memory_mb: float = 512.0
    #: Billed ms per invocation on AWS (an assumption, not a measurement): the 1-2 ms of CPU a
    #: frame costs on the benchmark machine scaled to 512 MB (~0.29 vCPU), plus AWS round
    #: trips (DynamoDB ~4 ms, @connections through the NAT ~8 ms, Aurora ~1 ms a statement).
    message_ms: float = 20.0
    connect_ms: float = 40.0
    scrypt_ms: float = 190.0  # 55 ms measured on one core here, at ~0.29 vCPU
    disconnect_ms: float = 10.0
    commands_ms: float = 30.0
    scheduled_ms: float = 200.0
    #: Every schedule of csms.schedules (four a minute, liveness every 5, the rest hourly or
    #: quarter-hourly): ~187,000 invocations a month, whatever the fleet size.
    scheduled_per_month: float = field(default_factory=lambda: _scheduled_per_month())
    #: Billed ms a state-changing frame adds by publishing its event after the answer
    #: (PutEvents through the VPC endpoint, then the UPDATE marking it published). Assumed.
    event_publish_ms: float = 15.0
    # --- DynamoDB (on-demand)
    #: UpdateItem per frame, plus the by-tenant GSI (projection ALL: last_seen changes it).
    dynamodb_wru_per_frame: float = 2.0
    #: $connect: two PutItem, $disconnect: two DeleteItem, each mirrored in the GSI.
    dynamodb_wru_per_connection: float = 8.0
    dynamodb_wru_per_command: float = 4.0  # claim and free the pending-call slot (+ GSI-less)
    # --- network
    nat_gateways: int = 2
    availability_zones: int = 2
    #: What the CDK app creates with vpc_endpoints on: Secrets Manager, SQS, EventBridge
    #: (DynamoDB has a free gateway endpoint). 0 sends that traffic through the NAT.
    interface_endpoints: int = 3
    #: NAT bytes per @connections POST: HTTPS request with SigV4 headers and its answer.
    nat_bytes_per_post: float = 1500.0
    #: WebSocket framing and TLS record overhead per frame through CloudFront.
    frame_overhead_bytes: float = 40.0
    # --- Aurora Serverless v2
    db_instances: int = 2  # writer + one reader (prod); the reader idles at the minimum
    db_min_acu: float = 0.5
    #: An ACU is ~2 GiB; r6g instances have 8 GiB per vCPU, so ~0.25 vCPU per ACU.
    acu_vcpu: float = 0.25
    db_target_utilisation: float = 0.5
    bytes_per_sample: float = 360.0  # measured by bench_ingest.py: heap + indexes per row
    bytes_per_status: float = 300.0  # status history rows (assumed, similar width)
    retention_months: float = 12.0
    io_per_db_frame: float = 1.0  # one log write per committed unit of work (assumption)
    # --- logs
    #: Lines per frame: "frame in" and "frame out" today; the mix measured 2 lines' bytes.
    log_lines_per_frame: float = 2.0
    #: Lambda's JSON platform records (start, report) per invocation.
    platform_log_bytes: float = 700.0
    function_log_bytes_per_connect: float = 500.0
    log_retention_days: float = 90.0
    log_compression: float = 0.15
    # --- other
    secrets: int = 2  # database credentials, origin-verify secret


@dataclass(frozen=True)
class Traffic:
    """Per charger and month."""

    connections: float
    sessions: float
    commands: float
    frames: Mapping[str, float]  # CALLs from the charger, by action
    samples: float

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
    fixed: bool = False


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


# --- the model ------------------------------------------------------------------------------------


def _scheduled_per_month(hours: float = 730.0) -> float:
    from csms.schedules import SCHEDULES

    return sum(hours * 3600 / schedule.every_seconds for schedule in SCHEDULES)


def traffic(a: Assumptions, mix: MessageMix, hours: float = 730.0) -> Traffic:
    """What one charger sends in a month."""
    seconds = hours * 3600
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
    return Traffic(
        connections=connections,
        sessions=sessions,
        commands=a.commands_per_charger_day * hours / 24,
        frames=frames,
        samples=frames["MeterValues"] * samples_per,
    )


def estimate(a: Assumptions, prices: PriceTable, mix: MessageMix) -> Bill:
    """The monthly bill for ``a.chargers`` chargers."""
    hours = prices.hours_per_month
    t = traffic(a, mix, hours)
    n = a.chargers
    lines: list[Line] = []

    def add(service: str, item: str, quantity: float, unit: str, usd: float, fixed: bool = False) -> None:
        lines.append(Line(service, item, quantity, unit, usd, fixed))

    # Frames: the charger's CALLs (plus its answers to our commands) in, one answer each out.
    frames_in = n * (t.frames_in + t.commands)
    frames_out = n * (t.frames_in + t.commands)
    bytes_in = n * (sum(count * mix.request_bytes(act) for act, count in t.frames.items()) + t.commands * 120)
    bytes_out = n * (
        sum(count * mix.response_bytes(act) for act, count in t.frames.items()) + t.commands * 200
    )

    # --- API Gateway (WebSocket): every frame < 32 KB is one message, in either direction.
    messages = frames_in + frames_out
    first = min(messages, 1e9)
    add(
        "API Gateway",
        "WebSocket messages",
        messages,
        "messages",
        first / 1e6 * prices["api_gateway.websocket_messages"]
        + (messages - first) / 1e6 * prices["api_gateway.websocket_messages_over_1b"],
    )
    minutes = n * hours * 60
    add(
        "API Gateway",
        "connection minutes",
        minutes,
        "minutes",
        minutes / 1e6 * prices["api_gateway.connection_minutes"],
    )

    # --- domain events (ADR 0014): one per frame that changes state (all but Heartbeat and
    # Authorize), one per $connect and $disconnect, one per finished command.
    quiet = t.frames.get("Heartbeat", 0.0) + t.frames.get("Authorize", 0.0)
    events_frames = n * (t.frames_in - quiet)
    events = events_frames + n * (2 * t.connections + t.commands)

    # --- Lambda
    gb = a.lambda_memory_mb / 1024
    invocations = {
        "message": (frames_in, a.message_ms + events_frames / max(frames_in, 1.0) * a.event_publish_ms),
        "connect": (n * t.connections, a.connect_ms + a.password_share * a.scrypt_ms),
        "disconnect": (n * t.connections, a.disconnect_ms),
        "commands": (n * t.commands, a.commands_ms),
        "scheduled": (a.scheduled_per_month, a.scheduled_ms),
    }
    requests = sum(count for count, _ in invocations.values())
    gb_seconds = sum(count * ms / 1000 * gb for count, ms in invocations.values())
    add("Lambda", "requests", requests, "requests", requests / 1e6 * prices["lambda.requests"])
    add("Lambda", "duration (arm64)", gb_seconds, "GB-s", gb_seconds * prices["lambda.arm64_gb_second"])

    # --- DynamoDB
    wru = n * (
        (t.frames_in + t.commands) * a.dynamodb_wru_per_frame
        + t.connections * a.dynamodb_wru_per_connection
        + t.commands * a.dynamodb_wru_per_command
    )
    add("DynamoDB", "write request units", wru, "WRU", wru / 1e6 * prices["dynamodb.write_request_unit"])
    rru = n * t.commands * 2  # current connection lookups for commands
    add("DynamoDB", "read request units", rru, "RRU", rru / 1e6 * prices["dynamodb.read_request_unit"])

    # --- SQS and EventBridge
    sqs = n * t.commands * 3  # send, receive, delete
    add("SQS", "FIFO requests (commands)", sqs, "requests", sqs / 1e6 * prices["sqs.fifo_requests"])
    scheduled = max(0.0, a.scheduled_per_month - prices["eventbridge.scheduler_free_invocations"])
    add(
        "EventBridge",
        "Scheduler invocations",
        a.scheduled_per_month,
        "invocations",
        scheduled / 1e6 * prices["eventbridge.scheduler_invocations"],
        fixed=True,
    )
    add("EventBridge", "domain events", events, "events", events / 1e6 * prices["eventbridge.custom_events"])

    # --- Aurora Serverless v2
    db_frames = n * (t.frames_in - t.frames.get("Heartbeat", 0.0) + t.connections + t.commands)
    db_vcpu = frames_in / (hours * 3600) * mix.postgres_cpu_ms_per_frame / 1000
    writer_acu = max(a.db_min_acu, math.ceil(2 * db_vcpu / (a.acu_vcpu * a.db_target_utilisation)) / 2)
    acu_hours = (writer_acu + (a.db_instances - 1) * a.db_min_acu) * hours
    floor = a.db_instances * a.db_min_acu * hours
    add(
        "Aurora", "ACU-hours, minimum capacity", floor, "ACU-h", floor * prices["aurora.acu_hour"], fixed=True
    )
    add(
        "Aurora",
        f"ACU-hours above the minimum (writer at {writer_acu:g} ACU)",
        acu_hours - floor,
        "ACU-h",
        (acu_hours - floor) * prices["aurora.acu_hour"],
    )
    statuses = t.frames.get("StatusNotification", 0.0)
    stored_gb = (
        n * a.retention_months * (t.samples * a.bytes_per_sample + statuses * a.bytes_per_status) / 1e9
    )
    add(
        "Aurora",
        f"storage ({a.retention_months:g} months of samples and status history)",
        stored_gb,
        "GB-month",
        stored_gb * prices["aurora.storage_gb_month"],
    )
    ios = db_frames * a.io_per_db_frame
    add("Aurora", "I/O requests", ios, "I/Os", ios / 1e6 * prices["aurora.io_requests"])

    # --- VPC: NAT for @connections (ADR 0009), interface endpoints
    nat_hours = a.nat_gateways * hours
    add(
        "VPC", "NAT gateway hours", nat_hours, "hours", nat_hours * prices["vpc.nat_gateway_hour"], fixed=True
    )
    nat_gb = frames_out * a.nat_bytes_per_post / 1e9
    if a.interface_endpoints < 3:  # without the EventBridge endpoint, PutEvents go through NAT
        nat_gb += events * a.nat_bytes_per_post / 1e9
    add(
        "VPC",
        "NAT data (@connections POSTs, events without endpoint)",
        nat_gb,
        "GB",
        nat_gb * prices["vpc.nat_gateway_gb"],
    )
    endpoint_hours = a.interface_endpoints * a.availability_zones * hours
    add(
        "VPC",
        "interface endpoint hours",
        endpoint_hours,
        "hours",
        endpoint_hours * prices["vpc.interface_endpoint_hour"],
        fixed=True,
    )

    # --- CloudFront (the chargers' front door)
    out_gb = (bytes_out + frames_out * a.frame_overhead_bytes) / 1e9
    origin_gb = (bytes_in + frames_in * a.frame_overhead_bytes) / 1e9
    handshakes = n * t.connections
    add(
        "CloudFront",
        "data transfer to chargers",
        out_gb,
        "GB",
        out_gb * prices["cloudfront.data_transfer_out_gb"],
    )
    add(
        "CloudFront",
        "data transfer to the origin",
        origin_gb,
        "GB",
        origin_gb * prices["cloudfront.data_transfer_to_origin_gb"],
    )
    add(
        "CloudFront",
        "handshake requests and Function runs",
        handshakes,
        "requests",
        handshakes / 1e4 * prices["cloudfront.https_requests"]
        + handshakes / 1e6 * prices["cloudfront.function_invocations"],
    )

    # --- CloudWatch Logs
    log_gb = (
        frames_in * mix.log_bytes_per_frame * a.log_lines_per_frame / 2
        + requests * a.platform_log_bytes
        + 2 * n * t.connections * a.function_log_bytes_per_connect
    ) / 1e9
    add("CloudWatch Logs", "ingestion", log_gb, "GB", log_gb * prices["cloudwatch.logs_ingestion_gb"])
    stored_logs = log_gb * a.log_compression * a.log_retention_days / (hours / 24)
    add(
        "CloudWatch Logs",
        f"storage ({a.log_retention_days:g} days)",
        stored_logs,
        "GB-month",
        stored_logs * prices["cloudwatch.logs_storage_gb_month"],
    )

    add(
        "Secrets Manager",
        "secrets",
        a.secrets,
        "secrets",
        a.secrets * prices["secrets_manager.secret_month"],
        fixed=True,
    )
    return Bill(assumptions=a, traffic=t, lines=tuple(lines))


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
    defaults = Assumptions(chargers=1)
    for spec in fields(Assumptions):
        if spec.name == "chargers":
            continue
        default = getattr(defaults, spec.name)
        kind: Any = int if isinstance(default, int) and not isinstance(default, bool) else float
        parser.add_argument(
            _flag(spec.name),
            dest=spec.name,
            type=kind,
            default=default,
            help=f"default: {'the measured mix' if default is None else default}",
        )
    parser.add_argument(
        "--fleets",
        help="comma separated fleet sizes: print one summary column per fleet "
        f"(e.g. {','.join(str(f) for f in PUBLISHED_FLEETS)})",
    )
    parser.add_argument("--prices", type=Path, default=PRICES_PATH, help="price table (TOML)")
    parser.add_argument("--mix", type=Path, default=MIX_PATH, help="message mix (JSON)")
    parser.add_argument("--json", action="store_true", help="print the bill as JSON")


def assumptions_from(args: argparse.Namespace, chargers: int | None = None) -> Assumptions:
    values = {spec.name: getattr(args, spec.name) for spec in fields(Assumptions) if spec.name != "chargers"}
    return Assumptions(chargers=chargers or args.chargers, **values)


def run(args: argparse.Namespace) -> int:
    """Print the estimate; returns the exit code."""
    if args.chargers < 1:
        raise SystemExit("csms cost: --chargers must be at least 1")
    prices = PriceTable.load(args.prices)
    mix = MessageMix.load(args.mix)
    bill = estimate(assumptions_from(args), prices, mix)
    if args.json:
        print(json.dumps(bill_as_dict(bill), indent=2))
        return 0
    print(render(bill, prices, mix))
    if args.fleets:
        sizes = [int(size) for size in args.fleets.split(",") if size.strip()]
        print()
        print(render_fleets([estimate(assumptions_from(args, size), prices, mix) for size in sizes], prices))
    return 0


def bill_as_dict(bill: Bill) -> dict[str, Any]:
    return {
        "assumptions": asdict(bill.assumptions),
        "per_charger_month": {
            "connections": bill.traffic.connections,
            "sessions": bill.traffic.sessions,
            "commands": bill.traffic.commands,
            "frames": dict(bill.traffic.frames),
            "samples": bill.traffic.samples,
        },
        "lines": [asdict(line) for line in bill.lines],
        "by_service": bill.by_service(),
        "total_usd": bill.total,
        "per_charger_usd": bill.per_charger,
    }


def _money(value: float) -> str:
    return f"${value:,.2f}" if value >= 0.995 or value == 0 else f"${value:,.4f}"


def _quantity(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".") if value else "0"


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


def render(bill: Bill, prices: PriceTable, mix: MessageMix) -> str:
    a, t = bill.assumptions, bill.traffic
    top = sorted(t.frames.items(), key=lambda item: -item[1])
    out = [
        f"Monthly AWS bill for {a.chargers:,} chargers ({prices.region}, list prices checked "
        f"{prices.checked}; see src/csms/cost/prices.toml)",
        f"Per charger and month: {t.frames_in:,.0f} frames from the charger ("
        + ", ".join(f"{action} {count:,.0f}" for action, count in top)
        + f"), as many answers, {t.connections:,.0f} connections, {t.sessions:,.1f} sessions, "
        f"{t.samples:,.0f} meter samples, {t.commands:,.1f} commands.",
        f"Message mix measured {mix.measured_at} ({mix.command}).",
        "",
    ]
    rows = [
        [line.service, line.item, _quantity(line.quantity), line.unit, _money(line.usd)]
        for line in bill.lines
    ]
    rows.append(["total", "", "", "", _money(bill.total)])
    rows.append(["per charger", "", "", "", _money(bill.per_charger)])
    rows.append(["of which fixed", "(NAT, Aurora minimum, endpoints, secrets)", "", "", _money(bill.fixed)])
    out.append(_table(["service", "item", "quantity", "unit", "USD / month"], rows, right=(2, 4)))
    reference = prices["reference.aws_ocpp_gateway_500"]
    out.append("")
    out.append(
        f"AWS's reference OCPP gateway (ECS + IoT Core): about ${reference:,.0f}/month for "
        f"{REFERENCE_FLEET} chargers (${reference / REFERENCE_FLEET:.2f} per charger); "
        f"this fleet at that rate: ${reference / REFERENCE_FLEET * a.chargers:,.0f}."
    )
    unverified = sum(1 for p in prices.prices.values() if not p.verified)
    if unverified:
        out.append(
            f"{unverified} of {len(prices.prices)} prices are not verified against AWS's live price list."
        )
    return "\n".join(out)


def render_fleets(bills: Sequence[Bill], prices: PriceTable) -> str:
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


def targets(prices: PriceTable, mix: MessageMix, a: Assumptions | None = None) -> dict[str, Any]:
    """Issue 7's targets: < half the reference at 500 chargers, < $0.10/charger at 10,000."""
    base = a or Assumptions(chargers=REFERENCE_FLEET)
    at_500 = estimate(replace(base, chargers=REFERENCE_FLEET), prices, mix)
    at_10k = estimate(replace(base, chargers=PER_CHARGER_TARGET_FLEET), prices, mix)
    half = prices["reference.aws_ocpp_gateway_500"] / 2
    return {
        "500_total": at_500.total,
        "500_limit": half,
        "500_met": at_500.total < half,
        "10000_per_charger": at_10k.per_charger,
        "10000_limit": PER_CHARGER_TARGET_USD,
        "10000_met": at_10k.per_charger < PER_CHARGER_TARGET_USD,
    }

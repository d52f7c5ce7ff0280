"""Load through the local API Gateway: N simulated chargers (boot, status, transactions,
meter values at compressed real-life intervals) against the product's local stack, and in
the same run against a minimal stateful server built on the ``ocpp`` library and
``websockets`` (the architecture this product replaces), both writing to PostgreSQL.

Reports throughput, round-trip latency percentiles, errors, and counts every meter sample
the chargers had acknowledged against the rows in PostgreSQL. ``--write-mix`` stores the
measured per-charger message mix in ``src/csms/cost/message_mix.json`` for ``csms cost``.

Caveats printed with the figures: the local stack runs every "Lambda" invocation in one
process (a thread pool, one GIL) together with the gateway emulator and moto, whose
DynamoDB is a Python HTTP server (~4 ms a call here); on AWS invocations run in parallel
containers and DynamoDB answers in single-digit ms without using our CPU.

``--ocpp201-share S`` makes a mixed fleet: that share of the chargers (spread through it,
ids ``LOAD201-…``) speak OCPP 2.0.1 on the same schedule (BootNotification,
StatusNotification, Heartbeat, and sessions as TransactionEvent Started / Updated with the
meter values / Ended instead of Start/Stop/MeterValues); the stateful server answers them
with the library's v201 ChargePoint, persisting the same. The figures are then also given
per protocol. The default, 0, is the all-1.6 fleet of the earlier figures.

``--stress N`` runs an independent-style stress instead: every charger connects, then all
of them make N CALLs back to back (boot, status, a session with MeterValues, its stop), and
the figures are calls per second and latency, as ratios to the stateful server.
``--functions processes|threads|both`` chooses how the product's local stack runs its
functions: in containers of their own as on Lambda (``csms dev``'s default since issue 13),
in threads of one process (before), or both in one run.

Usage: ``.venv/bin/python benchmarks/bench_load.py [--chargers 200] [--duration 30]``
``[--ocpp201-share 0.5]`` ``[--stress 24 --chargers 300 --functions both]``
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime
from typing import Any

import _common as bench
import _servers as servers

MIX_PATH = bench.ROOT / "src" / "csms" / "cost" / "message_mix.json"
ACTIONS = (
    "BootNotification",
    "StatusNotification",
    "Heartbeat",
    "Authorize",
    "StartTransaction",
    "StopTransaction",
    "MeterValues",
)
#: What 2.0.1 stations send instead of Start/Stop/MeterValues (counted per event type).
ACTIONS_201 = (
    "BootNotification",
    "StatusNotification",
    "Heartbeat",
    "Authorize",
    "TransactionEvent Started",
    "TransactionEvent Updated",
    "TransactionEvent Ended",
)
PROTOCOLS = {"ocpp1.6": "1.6", "ocpp2.0.1": "2.0.1"}
#: Frames per charger per simulated second at compress=1 (defaults), used to pick --compress.
SESSION_FRAMES = 7


def auto_compress(args: argparse.Namespace) -> float:
    """The time compression that offers about --rate frames/s in total (1..600)."""
    per_charger = (
        1 / args.heartbeat
        + args.charging_share / args.meter_interval
        + SESSION_FRAMES * args.charging_share / (args.session_minutes * 60)
    )
    return max(1.0, min(600.0, args.rate / (args.chargers * per_charger)))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chargers", type=int, default=200, help="simulated chargers (up to 2,000)")
    parser.add_argument("--duration", type=float, default=30, help="measured seconds, after the ramp")
    parser.add_argument("--ramp", type=float, default=None, help="seconds over which chargers connect")
    parser.add_argument("--rate", type=float, default=150, help="offered frames/s (sets --compress)")
    parser.add_argument("--compress", type=float, default=None, help="simulated seconds per real second")
    parser.add_argument("--heartbeat", type=float, default=300, help="HeartbeatInterval, s")
    parser.add_argument("--meter-interval", type=float, default=60, help="MeterValueSampleInterval, s")
    parser.add_argument("--session-minutes", type=float, default=60, help="length of a charging session")
    parser.add_argument("--charging-share", type=float, default=0.25, help="share of time spent charging")
    parser.add_argument("--samples", type=int, default=3, help="sampled values per MeterValues (1-10)")
    parser.add_argument("--password-share", type=float, default=0.0, help="share of chargers with Basic auth")
    parser.add_argument(
        "--ocpp201-share", type=float, default=0.0, help="share of chargers that speak OCPP 2.0.1 (0-1)"
    )
    parser.add_argument("--target", choices=("both", "product", "stateful"), default="both")
    parser.add_argument("--write-mix", action="store_true", help=f"store the message mix in {MIX_PATH.name}")
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    parser.add_argument("--stress", type=int, default=0, metavar="CALLS", help="stress: CALLs per charger")
    parser.add_argument("--functions", choices=("processes", "threads", "both"), default="processes")
    args = parser.parse_args()
    args.chargers = max(1, min(args.chargers, 2000))
    if not 0.0 <= args.ocpp201_share <= 1.0:
        parser.error("--ocpp201-share is a share, 0 to 1")
    if args.ocpp201_share and (args.stress or args.write_mix):
        # The stress client and the cost model's message mix are 1.6 figures.
        parser.error("--ocpp201-share goes with the load run only (not --stress or --write-mix)")
    if args.ramp is None:
        # Fleets connect over time (a storm is bench_storm.py's job): ~30 connections/s.
        args.ramp = min(60.0, max(1.0, args.chargers / 30))
    if args.compress is None:
        args.compress = auto_compress(args)
    bench.raise_open_files(8192 + 4 * args.chargers)

    products = {
        "processes": ["product"],
        "threads": ["product:threads"],
        "both": ["product:threads", "product"],
    }[args.functions]
    targets = (
        [*products, "stateful"]
        if args.target == "both"
        else products
        if args.target == "product"
        else ["stateful"]
    )
    results: dict[str, dict[str, Any]] = {}
    with bench.postgres() as pg:
        for target in targets:
            url = pg.database(f"csms_bench_load_{target.replace(':', '_')}")
            results[target] = run(target, url, args, pg)
            results[target]["postgresql"] = pg.describe(url)
    if args.stress:
        report_stress(results, args)
    else:
        report(results, args)
    if args.write_mix and "product" in results:
        write_mix(results["product"], args)
    bench.write_json(args.json, {"benchmark": "load", "parameters": vars(args), "results": strip(results)})
    return 0


def run(target: str, url: str, args: argparse.Namespace, pg: bench.Postgres) -> dict[str, Any]:
    fleet = servers.provision(url, args.chargers, args.password_share, args.ocpp201_share)
    server = servers.server(target, url)
    base_url = server.start()
    generator: servers.Generator | None = None
    try:
        options = {
            name: getattr(args, name)
            for name in (
                "duration",
                "ramp",
                "compress",
                "heartbeat",
                "meter_interval",
                "session_minutes",
                "charging_share",
                "samples",
            )
        }
        cpu, pg_cpu, started = servers.cpu_seconds(), pg.cpu_seconds(), time.perf_counter()
        aws_cpu, log_bytes = server.aws_cpu_seconds(), server.log_bytes()
        if args.stress:
            options = {"ramp": options["ramp"], "samples": options["samples"], "calls": args.stress}
        generator = servers.Generator("stress" if args.stress else "load", base_url, fleet, options)
        result = generator.result(timeout=args.ramp + args.duration + 180)
        result["server_cpu_s"] = servers.cpu_seconds() - cpu
        result["postgres_cpu_s"] = pg.cpu_seconds() - pg_cpu
        result["moto_cpu_s"] = server.aws_cpu_seconds() - aws_cpu
        result["log_bytes"] = server.log_bytes() - log_bytes
        result["wall_s"] = time.perf_counter() - started
    finally:
        if generator is not None:
            generator.close()
        server.stop()
    result["rows"] = {
        "meter_samples": bench.count_rows(url, "SELECT count(*) FROM meter_samples"),
        # 2.0.1 stations are named LOAD201-… (servers.PREFIX_201)
        "meter_samples_201": bench.count_rows(
            url, "SELECT count(*) FROM meter_samples WHERE charge_point_id LIKE 'LOAD201-%'"
        ),
        "transactions": bench.count_rows(url, "SELECT count(*) FROM transactions"),
        "connector_status_history": bench.count_rows(url, "SELECT count(*) FROM connector_status_history"),
    }
    return result


def traffic(stats: dict[str, Any], elapsed: float) -> dict[str, Any]:
    """Throughput, latency percentiles (ms), errors and samples of one set of counts (a
    protocol's, or the fleet's)."""
    latencies = [x for values in stats["latency"].values() for x in values]
    steady = [
        x
        for purpose in ("heartbeat", "meter", "session_start", "session_stop")
        for x in stats.get("latency_by_purpose", {}).get(purpose, [])
    ]
    answered = sum(stats["ok"].values())
    return {
        "answered": answered,
        "sent": sum(stats["sent"].values()),
        "throughput": answered / elapsed if elapsed else 0.0,
        "p50": bench.percentile(latencies, 50) * 1000,
        "p95": bench.percentile(latencies, 95) * 1000,
        "p99": bench.percentile(latencies, 99) * 1000,
        "steady_p50": bench.percentile(steady, 50) * 1000,
        "steady_p95": bench.percentile(steady, 95) * 1000,
        "steady_p99": bench.percentile(steady, 99) * 1000,
        "errors": sum(stats["errors"].values()),
        "timeouts": sum(stats["timeouts"].values()),
        "connect_failures": stats["connect_failures"],
        "samples_acked": stats["samples_acked"],
        "samples_sent": stats["samples_sent"],
    }


def by_protocol(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """:func:`traffic` per protocol, with its chargers and its rows in PostgreSQL."""
    rows_201 = result["rows"]["meter_samples_201"]
    rows = {"ocpp1.6": result["rows"]["meter_samples"] - rows_201, "ocpp2.0.1": rows_201}
    out = {}
    for protocol, stats in result.get("stats_by_protocol", {}).items():
        out[protocol] = traffic(stats, result["elapsed_s"])
        out[protocol]["chargers"] = result["chargers_by_protocol"][protocol]
        out[protocol]["rows"] = rows[protocol]
    return out


def summary(result: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    answered = sum(result["stats"]["ok"].values())
    return {
        **traffic(result["stats"], result["elapsed_s"]),
        "rows": result["rows"]["meter_samples"],
        "server_cpu_ms_per_frame": result["server_cpu_s"] * 1000 / answered if answered else 0.0,
        "pg_cpu_ms_per_frame": result["postgres_cpu_s"] * 1000 / answered if answered else 0.0,
        "moto_cpu_ms_per_frame": result["moto_cpu_s"] * 1000 / answered if answered else 0.0,
    }


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    first = next(iter(results.values()))
    bench.header(
        f"Load: {args.chargers} chargers through the local gateway vs a stateful ocpp server",
        schedule=(
            f"heartbeat {args.heartbeat:g} s, MeterValues every {args.meter_interval:g} s with "
            f"{args.samples} samples while charging, {args.session_minutes:g}-min sessions, "
            f"{args.charging_share:.0%} of the time charging; {args.password_share:.0%} with passwords"
        ),
        fleet=(
            f"{args.ocpp201_share:.0%} of the chargers speak OCPP 2.0.1 (TransactionEvent "
            "Started/Updated/Ended), the others 1.6"
            if args.ocpp201_share
            else "every charger speaks OCPP 1.6"
        ),
        time=(
            f"compressed {args.compress:.1f}x (one real second = {args.compress:.1f} simulated seconds); "
            f"{args.ramp:g} s ramp + {args.duration:g} s"
        ),
        postgresql=first["postgresql"],
        caveat=(
            "product = local stack: all invocations share one process (64 threads, one GIL) with the "
            "gateway emulator; DynamoDB is moto in a separate process (~3-5 ms a call, and its CPU "
            "competes for the same 2 cores); not representative of AWS"
        ),
    )
    rows = []
    sums = {name: summary(result, args) for name, result in results.items()}
    for name, s in sums.items():
        lost = s["samples_acked"] - s["rows"]
        rows.append(
            [
                name,
                s["answered"],
                s["throughput"],
                s["p50"],
                s["p95"],
                s["p99"],
                f"{s['steady_p50']:.1f} / {s['steady_p95']:.1f} / {s['steady_p99']:.1f}",
                s["errors"],
                s["timeouts"],
                s["connect_failures"],
                s["samples_acked"],
                s["rows"],
                lost,
                s["server_cpu_ms_per_frame"],
                s["pg_cpu_ms_per_frame"],
                s["moto_cpu_ms_per_frame"],
            ]
        )
    print(
        bench.table(
            [
                "server",
                "frames answered",
                "frames/s",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "steady p50/p95/p99",
                "CALLERRORs",
                "timeouts",
                "connect failures",
                "samples acked",
                "rows in PG",
                "lost",
                "server CPU ms/frame",
                "PG CPU ms/frame",
                "moto CPU ms/frame",
            ],
            rows,
        )
    )
    if "product" in sums and "stateful" in sums:
        p, b = sums["product"], sums["stateful"]
        print(
            f"\nproduct vs stateful: throughput {p['throughput'] / b['throughput']:.2f}x, "
            f"p95 {p['p95'] / b['p95']:.2f}x, "
            f"steady-state p95 {p['steady_p95'] / max(b['steady_p95'], 1e-9):.2f}x (lower is better), "
            "server CPU per frame "
            f"{p['server_cpu_ms_per_frame'] / max(b['server_cpu_ms_per_frame'], 1e-9):.2f}x"
        )
    print(
        "\nsteady: the round trips after the connection phase (Heartbeat, MeterValues, sessions), "
        "p50 / p95 / p99 ms; the all-frames percentiles include each charger's BootNotification "
        "and StatusNotifications while the fleet connects."
    )
    if args.ocpp201_share:
        report_protocols(results)
    print("\nPer action, p50 / p95 ms (answered):\n")
    action_rows = []
    # An all-1.6 fleet: one row per action, as before; a mixed one: per protocol and action.
    per_protocol = bool(args.ocpp201_share)
    for protocol, actions in (("ocpp1.6", ACTIONS), ("ocpp2.0.1", ACTIONS_201)):
        for action in actions:
            row: list[Any] = [f"{PROTOCOLS[protocol]} {action}" if per_protocol else action]
            for result in results.values():
                stats = result["stats_by_protocol"].get(protocol) if per_protocol else result["stats"]
                values = (stats or {}).get("latency", {}).get(action, [])
                row += [
                    len(values),
                    f"{bench.percentile(values, 50) * 1000:.1f} / {bench.percentile(values, 95) * 1000:.1f}",
                ]
            action_rows.append(row)
        if not per_protocol:
            break
    headers = ["action"]
    for name in results:
        headers += [f"{name} n", f"{name} p50 / p95"]
    print(bench.table(headers, action_rows))
    for name, result in results.items():
        codes = result["stats"]["error_codes"]
        if codes:
            print(f"\n{name} errors by kind: {codes}")
        if result.get("unfinished_chargers"):
            print(f"{name}: {result['unfinished_chargers']} chargers still busy at the hard deadline")


def report_protocols(results: dict[str, dict[str, Any]]) -> None:
    """The mixed fleet's figures per protocol, and product / stateful per protocol."""
    print("\nPer protocol (the same run; frames/s over the same window):\n")
    rows = []
    figures = {name: by_protocol(result) for name, result in results.items()}
    for name, protocols in figures.items():
        for protocol, t in protocols.items():
            rows.append(
                [
                    name,
                    PROTOCOLS[protocol],
                    t["chargers"],
                    t["answered"],
                    t["throughput"],
                    t["p50"],
                    t["p95"],
                    f"{t['steady_p50']:.1f} / {t['steady_p95']:.1f}",
                    t["errors"],
                    t["timeouts"],
                    t["samples_acked"],
                    t["rows"],
                    t["samples_acked"] - t["rows"],
                ]
            )
    print(
        bench.table(
            [
                "server",
                "protocol",
                "chargers",
                "frames answered",
                "frames/s",
                "p50 ms",
                "p95 ms",
                "steady p50 / p95",
                "CALLERRORs",
                "timeouts",
                "samples acked",
                "rows in PG",
                "lost",
            ],
            rows,
        )
    )
    if "product" in figures and "stateful" in figures:
        for protocol, p in figures["product"].items():
            b = figures["stateful"].get(protocol)
            if b and b["throughput"] and b["p95"]:
                print(
                    f"\n{PROTOCOLS[protocol]}: product vs stateful: throughput "
                    f"{p['throughput'] / b['throughput']:.2f}x, p95 {p['p95'] / b['p95']:.2f}x, "
                    f"steady-state p95 {p['steady_p95'] / max(b['steady_p95'], 1e-9):.2f}x"
                )


def report_stress(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    first = next(iter(results.values()))
    bench.header(
        f"Stress: {args.chargers} chargers x {args.stress} CALLs back to back through the local gateway",
        postgresql=first["postgresql"],
        caveat=(
            "product = the local stack on the same 2 cores as PostgreSQL, moto and the client; "
            "product:threads runs every invocation in one process (before issue 13), product in "
            "function containers as on Lambda; not representative of AWS"
        ),
    )
    figures = {}
    for name, result in results.items():
        stats = result["stats"]
        latencies = [x for values in stats["latency"].values() for x in values]
        answered = sum(stats["ok"].values())
        figures[name] = {
            "answered": answered,
            "errors": sum(stats["errors"].values()) + sum(stats["timeouts"].values()),
            "seconds": result["elapsed_s"],
            "calls_per_s": answered / result["elapsed_s"] if result["elapsed_s"] else 0.0,
            "p50": bench.percentile(latencies, 50) * 1000,
            "p95": bench.percentile(latencies, 95) * 1000,
        }
    base = figures.get("stateful")
    rows = []
    for name, f in figures.items():
        ratio_rate = f"{f['calls_per_s'] / base['calls_per_s']:.2f}x" if base else "-"
        ratio_p95 = f"{f['p95'] / base['p95']:.1f}x" if base else "-"
        rows.append(
            [
                name,
                f["answered"],
                f["errors"],
                f["seconds"],
                f["calls_per_s"],
                f["p50"],
                f["p95"],
                ratio_rate,
                ratio_p95,
            ]
        )
    print(
        bench.table(
            [
                "server",
                "calls answered",
                "errors",
                "seconds",
                "calls/s",
                "p50 ms",
                "p95 ms",
                "calls/s vs stateful",
                "p95 vs stateful",
            ],
            rows,
        )
    )
    for name, result in results.items():
        if result.get("unfinished_chargers"):
            print(f"{name}: {result['unfinished_chargers']} chargers did not finish")


def write_mix(result: dict[str, Any], args: argparse.Namespace) -> None:
    """The per-charger message mix the cost model reads (see csms.cost.model)."""
    stats = result["stats"]
    purpose = stats["purpose"]
    started, stopped = stats["sessions_started"], stats["sessions_stopped"]
    connections = stats["connections"]

    def per(part: str, count: int) -> dict[str, float]:
        return {a: round(n / count, 3) for a, n in purpose.get(part, {}).items()} if count else {}

    per_session: dict[str, float] = {}
    for part, count in (("session_start", started), ("session_stop", stopped)):
        for action, value in per(part, count).items():
            per_session[action] = round(per_session.get(action, 0.0) + value, 3)
    meter_values = purpose.get("meter", {}).get("MeterValues", 0)
    mix = {
        "description": "Per-charger OCPP message mix from benchmarks/bench_load.py (read by csms cost)",
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d"),
        "command": (
            f"benchmarks/bench_load.py --chargers {args.chargers} --duration {args.duration:g} "
            f"--compress {args.compress:.1f} --write-mix"
        ),
        "parameters": {
            "heartbeat_s": args.heartbeat,
            "meter_interval_s": args.meter_interval,
            "session_minutes": args.session_minutes,
            "charging_share": args.charging_share,
            "samples_per_meter_values": args.samples,
        },
        "exposure": {
            "chargers": args.chargers,
            "charger_hours": round(stats["charger_hours"], 2),
            "charging_hours": round(stats["charging_hours"], 2),
            "connections": connections,
            "sessions_started": started,
            "sessions_stopped": stopped,
            "sessions_resumed": stats["sessions_resumed"],
        },
        "counts": purpose,
        "per_connection": per("connection", connections),
        "per_session": per_session,
        "heartbeats_per_charger_hour": round(
            purpose.get("heartbeat", {}).get("Heartbeat", 0) / max(stats["charger_hours"], 1e-9), 3
        ),
        "meter_values_per_charging_hour": round(meter_values / max(stats["charging_hours"], 1e-9), 3),
        "samples_per_meter_values": round(
            stats["samples_sent"] / max(stats["sent"].get("MeterValues", 0), 1), 3
        ),
        "log_bytes_per_frame": round(result["log_bytes"] / max(sum(stats["ok"].values()), 1), 1),
        "postgres_cpu_ms_per_frame": round(
            result["postgres_cpu_s"] * 1000 / max(sum(stats["ok"].values()), 1), 4
        ),
        "bytes": {
            action: {
                "request": round(stats["bytes_out"][action] / stats["sent"][action], 1),
                "response": round(stats["bytes_in"].get(action, 0) / max(stats["ok"].get(action, 0), 1), 1),
            }
            for action in stats["sent"]
        },
    }
    MIX_PATH.write_text(json.dumps(mix, indent=2) + "\n")
    print(f"\nmessage mix written to {MIX_PATH.relative_to(bench.ROOT)}")


def strip(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The results without raw latency lists (percentiles instead)."""
    out: dict[str, Any] = {}
    for name, result in results.items():
        copy = json.loads(json.dumps(result))
        copy["stats"]["latency"] = {
            action: {
                "n": len(v),
                "p50_ms": bench.percentile(v, 50) * 1000,
                "p95_ms": bench.percentile(v, 95) * 1000,
            }
            for action, v in result["stats"]["latency"].items()
        }
        copy["stats"]["latency_by_purpose"] = {
            purpose: {
                "n": len(v),
                "p50_ms": bench.percentile(v, 50) * 1000,
                "p95_ms": bench.percentile(v, 95) * 1000,
            }
            for purpose, v in result["stats"].get("latency_by_purpose", {}).items()
        }
        out[name] = copy
    return out


if __name__ == "__main__":
    raise SystemExit(main())

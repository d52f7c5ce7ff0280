"""Reconnect storm: every charger drops its connection at once (no close frame, as in a
network cut or API Gateway's 2-hour limit hitting a fleet connected together) and they all
reconnect at once. Measures the time until every charger is online again (BootNotification
answered, and for the product its DynamoDB ``cp#`` item naming the new connection), and
checks that no transaction is lost: the transactions open before the drop get MeterValues
and a StopTransaction after it, and must all be closed in PostgreSQL with every sample.

The same storm runs against the stateful ocpp-library server in the same run.
Usage: ``.venv/bin/python benchmarks/bench_storm.py [--chargers 200] [--password-share 0]``
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import _common as bench
import _servers as servers


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chargers", type=int, default=200, help="simulated chargers (up to 2,000)")
    parser.add_argument("--charging-share", type=float, default=0.5, help="share with an open transaction")
    parser.add_argument("--password-share", type=float, default=0.0, help="share with Basic auth (scrypt)")
    parser.add_argument("--ramp", type=float, default=None, help="seconds to connect the fleet first")
    parser.add_argument("--duration", type=float, default=120, help="give up reconnecting after this")
    parser.add_argument("--target", choices=("both", "product", "stateful"), default="both")
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    args = parser.parse_args()
    args.chargers = max(1, min(args.chargers, 2000))
    if args.ramp is None:
        args.ramp = min(20.0, max(1.0, args.chargers / 100))
    bench.raise_open_files(8192 + 4 * args.chargers)
    targets = ("product", "stateful") if args.target == "both" else (args.target,)
    results: dict[str, dict[str, Any]] = {}
    with bench.postgres() as pg:
        for target in targets:
            url = pg.database(f"csms_bench_storm_{target}")
            results[target] = storm(target, url, args)
            results[target]["postgresql"] = pg.describe(url)
    report(results, args)
    bench.write_json(args.json, {"benchmark": "storm", "parameters": vars(args), "results": results})
    return 0


def storm(target: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    fleet = servers.provision(url, args.chargers, args.password_share)
    server = servers.server(target, url)
    base_url = server.start()
    generator: servers.Generator | None = None
    try:
        generator = servers.Generator(
            "storm",
            base_url,
            fleet,
            {
                "duration": args.duration,
                "ramp": args.ramp,
                "charging_share": args.charging_share,
                "samples": 3,
            },
        )
        ready = generator.read_event(timeout=args.ramp + args.duration + 300)
        rebooted = generator.read_event(timeout=args.duration + 300)
        # Server side: every charger's current connection is the new one.
        seen = time.perf_counter()
        online = server.online_all(fleet.ids)
        online_at_boot = online
        while online < len(fleet.ids) and time.perf_counter() - seen < 30:
            time.sleep(0.5)
            online = server.online_all(fleet.ids)
        extra = time.perf_counter() - seen if online_at_boot < len(fleet.ids) else 0.0
        generator.proceed()
        result = generator.result(timeout=args.duration + 300)
    finally:
        if generator is not None:
            generator.close()
        server.stop()
    result.update(
        open_before=ready["open"],
        online_when_booted=online_at_boot,
        online_server_side=online,
        server_side_extra_s=extra,
        generator_all_s=rebooted["all_s"],
        open_after=bench.count_rows(url, "SELECT count(*) FROM transactions WHERE stop_timestamp IS NULL"),
        transactions=bench.count_rows(url, "SELECT count(*) FROM transactions"),
        unknown_stops=bench.count_rows(url, "SELECT count(*) FROM unknown_transaction_stops"),
        sample_rows=bench.count_rows(url, "SELECT count(*) FROM meter_samples"),
    )
    return result


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    first = next(iter(results.values()))
    bench.header(
        f"Reconnect storm: {args.chargers} chargers drop and reconnect at once",
        fleet=(
            f"{args.charging_share:.0%} with an open transaction, {args.password_share:.0%} with Basic auth "
            f"(scrypt on every $connect); fleet connected over {args.ramp:g} s first"
        ),
        postgresql=first["postgresql"],
        caveat=(
            "product = local stack in one process (on AWS each $connect runs in its own Lambda container); "
            "DynamoDB = moto in a separate process"
        ),
    )
    rows = []
    for name, r in results.items():
        times = r["reconnect_s"]
        stats = r["stats"]
        rows.append(
            [
                name,
                len(times),
                r["not_reconnected"],
                bench.percentile(times, 50),
                bench.percentile(times, 95),
                max(times) if times else 0.0,
                f"{r['online_when_booted']} / {r['online_server_side']}",
                sum(stats["errors"].values()) + sum(stats["timeouts"].values()),
                r["open_before"],
                r["open_after"],
                r["transactions_not_stopped"],
                r["unknown_stops"],
                f"{stats['samples_acked']} / {r['sample_rows']}",
            ]
        )
    print(
        bench.table(
            [
                "server",
                "reconnected",
                "failed",
                "p50 s",
                "p95 s",
                "all online s",
                "online (at last boot / after)",
                "errors",
                "tx open before",
                "tx open after",
                "stops failed",
                "unknown stops",
                "samples acked / rows",
            ],
            rows,
        )
    )
    print(
        "\nall online s: from the drop until the last charger's BootNotification was answered "
        "(connect retries with backoff included). A transaction is lost if it is still open after "
        "its StopTransaction, or its stop landed in unknown_transaction_stops."
    )
    for name, r in results.items():
        codes = r["stats"]["error_codes"]
        if codes:
            print(f"{name} errors by kind: {codes}")


if __name__ == "__main__":
    raise SystemExit(main())

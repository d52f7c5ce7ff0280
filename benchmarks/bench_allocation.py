"""Load allocation: the allocator's time for one site of N EVSEs and for a tenant of many sites,
against a same-run baseline: a naive proportional split of the same inputs (each EVSE's maximum
scaled by the tightest capacity/sum ratio above it; no minimums, priorities or demand, and it
leaves capacity idle). The ratio is the figure to trust; the milliseconds move with the machine.

The sites are made by a seeded generator: a three-phase grid connection, feeders, circuits
under them (three levels), EVSEs spread over the circuits, a third single-phase on a rotating
phase, priorities 1-3, four in five active, one in twenty offline (counted at its maximum),
some drawing less than their maximum, non-EV load on the grid, a kW limit on the grid.

No database: the allocator is a pure function; the service around it adds one transaction of
reads and one insert per site (docs/benchmarks.md).

Usage: ``.venv/bin/python benchmarks/bench_allocation.py [--evses 500] [--sites 100]
[--site-evses 100] [--repeat 5]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from csms.domain.load import (
    AllocationProblem,
    EvseDemand,
    EvseWiring,
    LoadNode,
    NodeKind,
)
from csms.services.load_allocation import allocate, proportional_split

THREE = ("L1", "L2", "L3")
T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def a_site(evses: int, seed: int) -> AllocationProblem:
    """A grid connection sized for about a third of the EVSEs at full power, with feeders and
    circuits that are each tighter than what stands behind them."""
    rnd = random.Random(seed)  # noqa: S311  (seeded test data, not secrets)
    feeders = max(1, evses // 50)
    circuits_per_feeder = 5
    grid_a = max(63.0, evses * 32 / 3 / 3 * 1.5)
    nodes = [
        LoadNode(
            "grid",
            NodeKind.GRID,
            None,
            THREE,
            limit_a=dict.fromkeys(THREE, grid_a),
            max_power_kw=grid_a * 3 * 230 / 1000 * 0.9,
        )
    ]
    circuits = []
    for f in range(feeders):
        nodes.append(LoadNode(f"f{f}", NodeKind.CIRCUIT, "grid", THREE, limit_a=dict.fromkeys(THREE, 250.0)))
        for c in range(circuits_per_feeder):
            node_id = f"f{f}c{c}"
            nodes.append(
                LoadNode(node_id, NodeKind.CIRCUIT, f"f{f}", THREE, limit_a=dict.fromkeys(THREE, 80.0))
            )
            circuits.append(node_id)
    demands = []
    for e in range(evses):
        station = f"S{e:05d}"
        wiring = (THREE[e % 3],) if e % 3 == 0 else THREE[e % 3 :] + THREE[: e % 3]
        nodes.append(
            LoadNode(
                f"e{e}",
                NodeKind.EVSE,
                circuits[e % len(circuits)],
                tuple(sorted(wiring)),
                evse=EvseWiring(
                    station, 1, wiring, 6.0, rnd.choice([16.0, 32.0]), rnd.choice([1.0, 1.0, 2.0, 3.0])
                ),
            )
        )
        if rnd.random() < 0.8:
            demands.append(
                EvseDemand(
                    station,
                    1,
                    rnd.choice([None, None, None, rnd.uniform(6, 20)]),
                    controlled=rnd.random() > 0.05,
                    since=T0 + timedelta(seconds=rnd.randrange(7200)),
                )
            )
    non_ev = {"grid": {p: rnd.uniform(5, 30) for p in THREE}}
    return AllocationProblem(tuple(nodes), tuple(demands), non_ev_a=non_ev)


def best_of(work: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(best, median) wall-clock seconds of ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times)


def measure(label: str, problems: list[AllocationProblem], repeat: int) -> dict[str, object]:
    ours = best_of(lambda: [allocate(p) for p in problems], repeat)
    naive = best_of(lambda: [proportional_split(p) for p in problems], repeat)
    evses = sum(sum(1 for n in p.nodes if n.kind is NodeKind.EVSE) for p in problems)
    active = sum(len(p.demands) for p in problems)
    return {
        "case": label,
        "sites": len(problems),
        "evses": evses,
        "active": active,
        "allocate_ms": ours[0] * 1000,
        "allocate_median_ms": ours[1] * 1000,
        "baseline_ms": naive[0] * 1000,
        "ratio": ours[0] / naive[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--evses", type=int, default=500, help="EVSEs of the one large site")
    parser.add_argument("--sites", type=int, default=100, help="sites of the tenant")
    parser.add_argument("--site-evses", type=int, default=100, help="EVSEs per site of the tenant")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    rows = [
        measure(f"one site of {args.evses}", [a_site(args.evses, 1)], args.repeat),
        measure(
            f"tenant: {args.sites} x {args.site_evses}",
            [a_site(args.site_evses, seed) for seed in range(args.sites)],
            max(1, args.repeat // 2),
        ),
    ]
    print()
    print("| case | sites | EVSEs | active | allocate ms (best) | median | proportional ms | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['case']} | {r['sites']} | {r['evses']} | {r['active']} | {r['allocate_ms']:.1f} "
            f"| {r['allocate_median_ms']:.1f} | {r['baseline_ms']:.1f} | {r['ratio']:.1f}x |"
        )
    if args.json:
        with open(args.json, "w") as out:
            json.dump(rows, out, indent=2)


if __name__ == "__main__":
    main()

"""The console's fleet page at 10,000 stations (issue 14): the REST calls it makes, through the
local stack as ``csms dev`` runs it (the api function in a container of its own, the local API
Gateway, real PostgreSQL, moto's DynamoDB for the connection state).

A tenant of ``--stations`` stations is written straight into PostgreSQL (``_fleet.py``: two
EVSEs each, a fifth of the connectors charging with a running transaction and ``--minutes``
one-minute samples of six measurands, ``--history`` closed transactions per station), next
to a second tenant of a fifth of that size; ``--online`` of them get a live connection record
(ADR 0004). Each call is timed ``--repeat`` times; the figures are medians and 95th
percentiles, and each is divided by the baseline measured in the same run: GET
/stations/{id}, one station with its EVSEs and live state (the cheapest page of the console).

The per-row approach the page had before (its list, then /evses for each row and
/meter-values for each charging EVSE, one after the other here; a browser runs six at a time)
is timed against the one request it makes now. The connection state of a page is timed on its
own too: the whole tenant's connected set with last_seen (what every listing read before)
against the page's stations by key.

Nothing is asserted: the figures move with the machine (2 cores here, shared).

Usage: ``.venv/bin/python benchmarks/bench_fleet.py [--stations 10000] [--online 3000] [--repeat 15]``
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import _common as bench
import urllib3
from _fleet import seed_fleet

KEY = b"bench-fleet-signing-key-0123456789abcdef"
TENANT = "bench-fleet"
PAGE = 25


class Api:
    def __init__(self, base: str, token: str) -> None:
        self._http = urllib3.PoolManager(maxsize=4)
        self._base = base
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def get(self, path: str, **params: Any) -> Any:
        query = ("?" + urlencode(params, doseq=True)) if params else ""
        reply = self._http.request("GET", self._base + path + query, headers=self._headers, timeout=60)
        if reply.status != 200:
            raise RuntimeError(f"GET {path}{query}: {reply.status} {reply.data[:300]!r}")
        return json.loads(reply.data)


def timed(work: Callable[[], Any], repeat: int) -> list[float]:
    work()  # warm: the function's connection, the plan cache
    spent = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        spent.append((time.perf_counter() - started) * 1000)
    return spent


def per_row(api: Api, listing: dict[str, Any], since: str) -> int:
    """What the page did before for one page: /evses of each row, /meter-values of each
    charging EVSE (its last 15 minutes of Power.Active.Import). Returns the requests made."""
    requests = 0
    for station in listing["items"]:
        evses = api.get(f"/api/v1/stations/{station['id']}/evses")
        requests += 1
        for evse in evses:
            if evse["evseId"] > 0 and any(c["chargingState"] == "Charging" for c in evse["connectors"]):
                api.get(
                    f"/api/v1/stations/{station['id']}/evses/{evse['evseId']}/meter-values",
                    measurand="Power.Active.Import",
                    **{"from": since},
                )
                requests += 1
    return requests


def connect(stations: list[str]) -> None:
    """A live connection record for each (what $connect writes), in moto's DynamoDB."""
    from csms.app import wiring
    from csms.domain.connections import ConnectionRecord

    store = wiring.connections()
    now = datetime.now(UTC)

    def one(station: str) -> None:
        store.register(
            ConnectionRecord(
                connection_id=f"bench-{station}",
                charge_point_id=station,
                tenant_id=TENANT,
                protocol="ocpp1.6",
                connected_at=now,
            )
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, stations))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stations", type=int, default=10_000)
    parser.add_argument(
        "--online", type=int, default=1_000, help="stations with a live connection (moto slows with more)"
    )
    parser.add_argument("--minutes", type=int, default=30, help="minutes of samples per running transaction")
    parser.add_argument("--history", type=int, default=5, help="closed transactions per station")
    parser.add_argument("--repeat", type=int, default=15, help="timed calls per case")
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    args = parser.parse_args()
    from csms.data.database import make_engine
    from csms.local.tokens import create_token

    figures: dict[str, Any] = {}
    with bench.postgres() as pg:
        url = pg.database("csms_bench_fleet")
        engine = make_engine(url, pool_size=2)
        started = time.perf_counter()
        now = datetime.now(UTC)
        seed_fleet(engine, "bench-neighbour", max(1, args.stations // 5), now=now, prefix="NBR-")
        fleet = seed_fleet(engine, TENANT, args.stations, now=now, minutes=args.minutes, history=args.history)
        seeded_s = time.perf_counter() - started
        engine.dispose()
        background = bench.api_stack(
            url, KEY, {"CSMS_API_RATE_PER_PRINCIPAL": "0", "CSMS_API_RATE_PER_TENANT": "0"}
        )
        stack = background.start()
        bench.quiet_logs()
        try:
            online = [fleet.station_id(n) for n in range(1, args.stations + 1, 3)][: args.online]
            started = time.perf_counter()
            connect(online)
            connected_s = time.perf_counter() - started
            bench.header(
                f"Fleet listing: a tenant of {args.stations:,} stations",
                seeded=f"{fleet.stations:,} stations, {fleet.charging_connectors:,} charging connectors, "
                f"{fleet.open_transactions:,} running and {fleet.closed_transactions:,} closed transactions, "
                f"{fleet.meter_samples:,} meter samples in {seeded_s:.1f} s; {len(online):,} connected "
                f"in {connected_s:.1f} s",
                postgres=pg.describe(url),
                repeat=args.repeat,
            )
            api = Api(f"http://127.0.0.1:{stack.config.port}", create_token(KEY, TENANT, "viewer", 3600))
            figures = measure(api, args, fleet.station_id)
            figures["connection_state"] = connection_state(online, args.repeat)
        finally:
            background.stop()
    report(figures, args)
    if args.json:
        bench.write_json(args.json, {"args": vars(args), **figures})
    return 0


def measure(api: Api, args: argparse.Namespace, station_id: Callable[[int], str]) -> dict[str, Any]:
    last = max(0, (args.stations - 1) // PAGE) * PAGE
    middle = station_id(args.stations // 2)
    prefix = middle[:-2]  # 100 stations
    cases: list[tuple[str, dict[str, Any]]] = [
        ("first page (sort id)", {}),
        ("page 200 (offset 4,975)", {"offset": 199 * PAGE}),
        (f"last page (offset {last:,})", {"offset": last}),
        (f"search q={prefix} (prefix of 100)", {"q": prefix}),
        (f"search q={middle} (one station)", {"q": middle}),
        ("online=true", {"online": "true"}),
        ("online=false", {"online": "false"}),
        ("online=true, last page", {"online": "true", "offset": max(0, args.online - 1) // PAGE * PAGE}),
        ("registrationStatus=Pending", {"registrationStatus": "Pending"}),
        ("ocppVersion=ocpp2.0.1", {"ocppVersion": "ocpp2.0.1"}),
        ("locationId (one of 20)", {"locationId": f"{TENANT}-loc-07"}),
        ("sort createdAt desc", {"sort": "createdAt", "order": "desc"}),
        ("sort lastBootAt desc", {"sort": "lastBootAt", "order": "desc"}),
        ("sort lastBootAt desc, last page", {"sort": "lastBootAt", "order": "desc", "offset": last}),
    ]
    baseline = timed(lambda: api.get(f"/api/v1/stations/{middle}"), args.repeat)
    rows: list[dict[str, Any]] = []
    for label, params in cases:
        answer = api.get("/api/v1/stations", limit=PAGE, **params)
        spent = timed(lambda params=params: api.get("/api/v1/stations", limit=PAGE, **params), args.repeat)
        rows.append({"case": label, "total": answer["total"], "items": len(answer["items"]), "ms": spent})
    # Before: the first page, then a request per row and per charging EVSE.
    listing = api.get("/api/v1/stations", limit=PAGE)
    since = (datetime.now(UTC) - timedelta(minutes=15)).isoformat()
    requests = 1 + per_row(api, listing, since)
    old = timed(
        lambda: per_row(api, api.get("/api/v1/stations", limit=PAGE), since), max(3, args.repeat // 3)
    )
    return {"baseline_ms": baseline, "cases": rows, "per_row": {"requests": requests, "ms": old}}


def connection_state(online: list[str], repeat: int) -> dict[str, Any]:
    """The connection state of a page of 25, straight from the store (moto): the tenant's whole
    connected set with last_seen, as every listing read it, vs the page's stations by key."""
    from csms.app import wiring

    store = wiring.connections()
    page = online[:PAGE]
    return {
        "tenant_with_last_seen": timed(lambda: store.tenant_connections(TENANT), max(3, repeat // 3)),
        "tenant_without_last_seen": timed(
            lambda: store.tenant_connections(TENANT, last_seen=False), max(3, repeat // 3)
        ),
        "page_by_key": timed(lambda: store.connections_of(page), repeat),
    }


def report(figures: dict[str, Any], args: argparse.Namespace) -> None:
    base = bench.median(figures["baseline_ms"])
    rows: list[list[Any]] = [
        ["GET /stations/{id} (baseline)", "", "", base, bench.percentile(figures["baseline_ms"], 95), 1.0]
    ]
    for case in figures["cases"]:
        p50 = bench.median(case["ms"])
        rows.append(
            [
                f"GET /stations {case['case']}",
                case["total"],
                case["items"],
                p50,
                bench.percentile(case["ms"], 95),
                p50 / base if base else 0.0,
            ]
        )
    print(bench.table(["call", "total", "items", "p50 ms", "p95 ms", "x baseline"], rows))
    old = figures["per_row"]
    new_ms = bench.median(figures["cases"][0]["ms"])
    old_ms = bench.median(old["ms"])
    print()
    print(
        bench.table(
            ["the fleet page's first page", "requests", "p50 ms", "x baseline", "x now"],
            [
                [
                    "before: list + /evses per row + /meter-values per charging EVSE",
                    old["requests"],
                    old_ms,
                    old_ms / base if base else 0.0,
                    old_ms / new_ms if new_ms else 0.0,
                ],
                ["now: the list with its summary", 1, new_ms, new_ms / base if base else 0.0, 1.0],
            ],
        )
    )
    state = figures["connection_state"]
    page_ms = bench.median(state["page_by_key"])
    print()
    print(
        bench.table(
            [f"connection state of a page ({args.online:,} connected, moto)", "p50 ms", "x by key"],
            [
                [
                    "the tenant's connected set + last_seen of each (before)",
                    bench.median(state["tenant_with_last_seen"]),
                    bench.median(state["tenant_with_last_seen"]) / page_ms if page_ms else 0.0,
                ],
                [
                    "the tenant's connected set, no last_seen (the online filter now)",
                    bench.median(state["tenant_without_last_seen"]),
                    bench.median(state["tenant_without_last_seen"]) / page_ms if page_ms else 0.0,
                ],
                ["the page's 25 stations by key (now, unfiltered)", page_ms, 1.0],
            ],
        )
    )


if __name__ == "__main__":
    raise SystemExit(main())

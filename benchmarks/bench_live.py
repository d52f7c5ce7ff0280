"""Console live updates (ADR 0025): how long from a charger's frame to the event on an operator's
console, through the local stack as ``csms dev`` runs it (each function in containers of its
own): the message function commits and publishes to the bus (moto), the live rule puts the
event on the fan-out's queue, the stack's event-source emulation polls it (every 0.2 s when
idle) and invokes the fan-out, which posts to the console through the live API's @connections.

A charger changes its connector's status ``--changes`` times (a StatusNotification every
``--gap`` seconds, alternating Preparing and Available); each change is one
ConnectorStatusChanged event. The console is a real WebSocket client with the live token. Two
figures per change: frame sent → the charger's answer, and frame sent → the event on the console.
Nothing is asserted: the figures move with the machine (2 cores here, shared).

On AWS the fan-out's queue adds its batching window (up to 1 s) instead of the 0.2 s poll.

Usage: ``.venv/bin/python benchmarks/bench_live.py [--changes 50] [--gap 0.3]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import _common as bench
import websockets

from csms.constants import LIVE_SUBPROTOCOL, OCPP16
from csms.local.tokens import create_token

KEY = b"bench-live-signing-key-0123456789abcdef"


async def measure(stack: Any, changes: int, gap: float) -> dict[str, list[float]]:
    charger_id = f"LIVE-{uuid.uuid4().hex[:6]}"
    tenant = "bench-live"
    _provision(stack.database_url, charger_id, tenant)
    token = create_token(KEY, tenant, "viewer", 3600)
    console = await websockets.connect(stack.live_url, subprotocols=[LIVE_SUBPROTOCOL, f"bearer.{token}"])  # type: ignore[list-item]
    charger = await websockets.connect(stack.charger_url(charger_id), subprotocols=[OCPP16])  # type: ignore[list-item]
    arrived: dict[str, float] = {}

    async def read_console() -> None:
        async for message in console:
            now = time.perf_counter()
            for event in json.loads(message)["events"]:
                if event["type"] == "ConnectorStatusChanged":
                    arrived.setdefault(event["correlationId"] or "", now)

    reader = asyncio.create_task(read_console())
    await charger.send(
        json.dumps([2, "boot", "BootNotification", {"chargePointVendor": "B", "chargePointModel": "L"}])
    )
    await charger.recv()
    answer_ms: list[float] = []
    console_ms: list[float] = []
    t0 = datetime.now(UTC)
    for n in range(changes):
        unique_id = f"s{n}"
        status = "Available" if n % 2 else "Preparing"
        stamp = (t0 + timedelta(seconds=n)).isoformat().replace("+00:00", "Z")
        frame = [
            2,
            unique_id,
            "StatusNotification",
            {"connectorId": 1, "errorCode": "NoError", "status": status, "timestamp": stamp},
        ]
        sent = time.perf_counter()
        await charger.send(json.dumps(frame))
        await charger.recv()
        answer_ms.append((time.perf_counter() - sent) * 1000)
        correlation = f"ocpp:{charger_id}:{unique_id}"
        deadline = sent + 30
        while correlation not in arrived and time.perf_counter() < deadline:
            await asyncio.sleep(0.005)
        if correlation in arrived:
            console_ms.append((arrived[correlation] - sent) * 1000)
        await asyncio.sleep(gap)
    reader.cancel()
    await charger.close()
    await console.close()
    return {"answer": answer_ms, "console": console_ms}


def _provision(url: str, charger_id: str, tenant: str) -> None:
    from csms.data.database import PgDatabase, make_engine
    from csms.services.provisioning import ProvisioningService

    engine = make_engine(url)
    try:
        ProvisioningService(PgDatabase(engine)).add_charger(
            charger_id, tenant, datetime.now(UTC), security_profile=0
        )
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--changes", type=int, default=50, help="status changes to time")
    parser.add_argument("--gap", type=float, default=0.3, help="seconds between changes")
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    args = parser.parse_args()

    with bench.postgres() as pg:
        url = pg.database("csms_bench_live")
        background = bench.api_stack(url, KEY)
        stack = background.start()
        bench.quiet_logs()
        try:
            figures = asyncio.run(measure(stack, args.changes, args.gap))
        finally:
            background.stop()
    rows = [
        [
            label,
            len(values),
            bench.median(values),
            bench.percentile(values, 95),
            max(values, default=0.0),
        ]
        for label, values in (
            ("frame → charger's answer", figures["answer"]),
            ("frame → event on the console", figures["console"]),
        )
    ]
    cpu = bench.machine()["cpu"]
    print(f"Console live updates: {args.changes} status changes, {args.gap:g} s apart ({cpu})")
    print(bench.table(["", "n", "p50 ms", "p95 ms", "max ms"], rows))
    missing = args.changes - len(figures["console"])
    print(f"events not on the console within 30 s: {missing}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"changes": args.changes, "gap": args.gap, **figures}, handle)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

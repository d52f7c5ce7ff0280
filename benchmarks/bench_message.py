"""Message path: the warm cost of one frame through the product, per OCPP action, against
the bare ``ocpp`` library's ``ChargePoint.route_message`` for the same frame, in one run.

Ours: the Lambda entry point as ``functions/message/handler.py`` builds it
(``logger.inject_lambda_context`` around ``csms.app.message.handle``) with the production
collaborators from ``csms.app.wiring``: the DynamoDB connection store (moto in a child
process, over HTTP on 127.0.0.1), the dispatcher with the real PostgreSQL repositories,
the domain-event relay (a frame that changes state records its event in the same
transaction, then publishes it to an EventBridge bus on the same moto after the answer and
marks it published: ADR 0014), JSON logs at INFO (built, then discarded). The answer goes
to a recording sender, like the library's fake connection: neither side pays for its
transport there. Another column sends through the real ``ApiGatewaySender``
(``post_to_connection``) to the local API Gateway emulator, which delivers it over a real
WebSocket, so the serverless transport is visible too. And
``dispatch+PG`` is our dispatcher alone (parse, validate, handler, PostgreSQL, answer text;
no DynamoDB, logging or transport): route_message's work plus persistence.

The library: a ``ChargePoint`` subclass whose ``@on`` handlers return canned results, over a
connection whose ``send()`` records. Three ways of running it:

- ``one loop``: one event loop for every frame, library defaults (schema validation in the
  loop's thread pool). This is how the stateful servers this product replaces run it; it
  is the baseline of the ratio.
- ``run/msg``: ``asyncio.run`` per frame, as a naive Lambda port of the library would.
- ``sync val``: one loop with ``ocpp.messages.ASYNC_VALIDATION = False``: the library's
  fastest configuration.

Usage: ``.venv/bin/python benchmarks/bench_message.py [--iterations 300] [--profile ACTION]``
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import _common as bench
import _frames as f

CHARGER = "BENCH-CP-1"
TENANT = "bench"
EXTERNAL_DB = False
ACTIONS = (
    "Heartbeat",
    "StatusNotification",
    "Authorize",
    "StartTransaction",
    "StopTransaction",
    "MeterValues (1)",
    "MeterValues (10)",
)


# --- the library baseline ---------------------------------------------------------------------


def library_central_system() -> tuple[Any, list[str]]:
    """A ChargePoint with canned @on handlers and a connection that records what is sent."""
    from ocpp.routing import on
    from ocpp.v16 import ChargePoint, call_result
    from ocpp.v16.enums import Action

    sent: list[str] = []
    accepted = {"status": "Accepted"}

    class RecordingConnection:
        async def send(self, message: str) -> None:
            sent.append(message)

        async def recv(self) -> str:  # pragma: no cover (start() is never called)
            raise NotImplementedError

    class CannedCentralSystem(ChargePoint):  # type: ignore[misc]
        @on(Action.heartbeat)
        def on_heartbeat(self, **_: Any) -> Any:
            return call_result.Heartbeat(current_time="2026-11-21T08:00:00.000Z")

        @on(Action.status_notification)
        def on_status(self, **_: Any) -> Any:
            return call_result.StatusNotification()

        @on(Action.authorize)
        def on_authorize(self, **_: Any) -> Any:
            return call_result.Authorize(id_tag_info=accepted)

        @on(Action.start_transaction)
        def on_start(self, **_: Any) -> Any:
            return call_result.StartTransaction(transaction_id=1, id_tag_info=accepted)

        @on(Action.stop_transaction)
        def on_stop(self, **_: Any) -> Any:
            return call_result.StopTransaction(id_tag_info=accepted)

        @on(Action.meter_values)
        def on_meter_values(self, **_: Any) -> Any:
            return call_result.MeterValues()

    return CannedCentralSystem(CHARGER, RecordingConnection()), sent


def time_library(frames: list[str], mode: str) -> list[float]:
    """Seconds per frame through route_message, in the given mode."""
    import ocpp.messages

    central, sent = library_central_system()
    durations: list[float] = []
    previous = ocpp.messages.ASYNC_VALIDATION
    ocpp.messages.ASYNC_VALIDATION = mode != "sync val"
    try:
        if mode == "run/msg":
            for text in frames:
                started = time.perf_counter()
                asyncio.run(central.route_message(text))
                durations.append(time.perf_counter() - started)
        else:

            async def all_frames() -> None:
                for text in frames:
                    started = time.perf_counter()
                    await central.route_message(text)
                    durations.append(time.perf_counter() - started)

            asyncio.run(all_frames())
    finally:
        ocpp.messages.ASYNC_VALIDATION = previous
    if len(sent) != len(frames) or any(not s.startswith("[3,") for s in sent):
        raise RuntimeError(f"the library did not answer every frame with a CALLRESULT: {sent[:3]}")
    return durations


# --- ours ---------------------------------------------------------------------------------------


@dataclass
class RecordingSender:
    sent: list[str] = field(default_factory=list)

    def send(self, connection_id: str, frame: str) -> None:
        self.sent.append(frame)

    def close(self, connection_id: str) -> None:
        pass


LambdaContext = bench.LambdaContext


def event(connection_id: str, body: str, domain: str) -> dict[str, Any]:
    """A $default event shaped like API Gateway's (and the local emulator's)."""
    now = time.time()
    return {
        "requestContext": {
            "routeKey": "$default",
            "eventType": "MESSAGE",
            "messageDirection": "IN",
            "stage": "local",
            "connectedAt": int(now * 1000) - 60_000,
            "requestTimeEpoch": int(now * 1000),
            "requestId": "bench-request",
            "messageId": "bench-message",
            "domainName": domain,
            "connectionId": connection_id,
            "apiId": "local",
            "identity": {"sourceIp": "127.0.0.1", "userAgent": None},
        },
        "body": body,
        "isBase64Encoded": False,
    }


@dataclass
class Sample:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def time_ours(entry: Callable[[dict[str, Any], Any], Any], events: list[dict[str, Any]]) -> Sample:
    """Wall and calling-thread CPU seconds per invocation (moto and the PostgreSQL server
    are not in the CPU figure; they are in the wall figure)."""
    sample = Sample()
    context = LambdaContext()
    for ev in events:
        cpu, started = time.thread_time(), time.perf_counter()
        entry(ev, context)
        sample.wall.append(time.perf_counter() - started)
        sample.cpu.append(time.thread_time() - cpu)
    return sample


# --- frames -------------------------------------------------------------------------------------


class FrameFactory:
    """Fresh, valid frames: new timestamps so every status/sample is stored, not deduplicated."""

    def __init__(self) -> None:
        self.clock = 0.0
        self.serial = 0
        self.tags = 0

    def _next(self) -> tuple[str, float]:
        self.serial += 1
        self.clock += 1.0
        return f"b-{self.serial}", self.clock

    def next_tag(self) -> str:
        self.tags += 1
        return f"TAG-{self.tags:05d}"

    def frames(self, action: str, count: int, open_transactions: list[int], meter_tx: int) -> list[str]:
        out = []
        for _ in range(count):
            uid, at = self._next()
            if action == "Heartbeat":
                out.append(f.frame(uid, "Heartbeat", {}))
            elif action == "StatusNotification":
                state = ("Available", "Preparing", "Charging", "Finishing")[self.serial % 4]
                out.append(f.frame(uid, "StatusNotification", f.status(1, state, at)))
            elif action == "Authorize":
                out.append(f.frame(uid, "Authorize", f.authorize("TAG-00001")))
            elif action == "StartTransaction":
                out.append(f.frame(uid, "StartTransaction", f.start(self.next_tag(), self.serial, at)))
            elif action == "StopTransaction":
                tx = open_transactions.pop(0) if open_transactions else 1
                out.append(f.frame(uid, "StopTransaction", f.stop(tx, 10_000 + self.serial, at, "TAG-00001")))
            elif action.startswith("MeterValues"):
                samples = 10 if "(10)" in action else 1
                out.append(f.frame(uid, "MeterValues", f.meter_values(meter_tx, samples, at, self.serial)))
        return out


# --- the run ------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--iterations", type=int, default=300, help="measured frames per action and variant")
    parser.add_argument("--warmup", type=int, default=30, help="unmeasured frames before each measurement")
    parser.add_argument("--profile", metavar="ACTION", help="also print a cProfile of our handler for ACTION")
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    args = parser.parse_args()
    n, warm = max(1, args.iterations), max(1, args.warmup)
    global EXTERNAL_DB
    EXTERNAL_DB = bool(os.environ.get("DATABASE_URL"))

    with bench.database("csms_bench_message") as url:
        # moto in its own process: DynamoDB's work is not on our CPU or under our GIL on AWS.
        aws = bench.MotoProcess()
        endpoint = aws.start()
        gateway = bench.GatewayThread(CHARGER)
        try:
            management, connected = gateway.start()
            assert connected is not None
            connection_id = connected
            # The functions' environment, as the CDK app (or the local stack) sets it.
            os.environ.update(
                {
                    "DATABASE_URL": url,
                    "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
                    "AWS_ENDPOINT_URL_EVENTBRIDGE": endpoint,
                    "CSMS_EVENT_BUS_NAME": "csms-bench-events",
                    "AWS_ACCESS_KEY_ID": "local",
                    "AWS_SECRET_ACCESS_KEY": "local",
                    "AWS_REGION": "us-east-1",
                    "CSMS_WS_MANAGEMENT_ENDPOINT": management,
                    "CSMS_LOG_LEVEL": "INFO",
                    "CSMS_LOG_FORMAT": "json",
                    "POWERTOOLS_METRICS_DISABLED": "true",
                }
            )
            os.environ.pop("AWS_PROFILE", None)
            return run(args, n, warm, url, endpoint, connection_id, management, gateway)
        finally:
            gateway.stop()
            from csms.app import wiring

            if wiring.database.cache_info().currsize:
                wiring.database().engine.dispose()
            aws.stop()


def run(
    args: argparse.Namespace,
    n: int,
    warm: int,
    url: str,
    endpoint: str,
    connection_id: str,
    management: str,
    gateway: bench.GatewayThread,
) -> int:
    from csms.app import message, wiring
    from csms.aws.provisioning import ensure_connections_table, ensure_event_bus
    from csms.clock import SystemClock
    from csms.data.database import PgDatabase, make_engine
    from csms.domain.connections import ConnectionRecord
    from csms.domain.stations import ChargerContext
    from csms.observability import logger
    from csms.services.provisioning import ProvisioningService

    bench.quiet_logs()
    ensure_connections_table(endpoint, "csms-connections", "us-east-1")
    # Frames that change state record a domain event and publish it after the answer (ADR 0014).
    ensure_event_bus(endpoint, "csms-bench-events", "us-east-1")
    now = datetime.now(UTC)
    engine = make_engine(url)
    provisioning = ProvisioningService(PgDatabase(engine))
    provisioning.add_charger(CHARGER, TENANT, now, security_profile=0)
    # One tag per StartTransaction (all three variants, warm-up included), plus TAG-00001.
    for i in range(1, 3 * (n + warm) + 3):
        provisioning.add_id_token(f"TAG-{i:05d}", TENANT, now)
    wiring.connections().register(ConnectionRecord(connection_id, CHARGER, TENANT, "ocpp1.6", now))

    recorder = RecordingSender()
    recording = message.MessageDeps(
        wiring.connections(), wiring.dispatcher, lambda _: recorder, SystemClock(), wiring.flush_events
    )
    real = message.MessageDeps(
        wiring.connections(), wiring.dispatcher, wiring.sender, SystemClock(), wiring.flush_events
    )
    # Exactly what functions/message/handler.py does, with the collaborators passed in.
    ours_recording = logger.inject_lambda_context(lambda e, c: message.handle(e, c, recording))
    ours_real = logger.inject_lambda_context(lambda e, c: message.handle(e, c, real))
    domain = management.split("/")[2]
    # The dispatcher alone: parse, validate, handler, PostgreSQL, answer text. No DynamoDB,
    # no logging, no transport: the part comparable with route_message plus persistence.
    dispatcher = wiring.dispatcher("ocpp1.6")
    charger = ChargerContext(CHARGER, TENANT, connection_id)

    def dispatch_only(ev: dict[str, Any], _: Any) -> Any:
        outcome = dispatcher.dispatch(ev["body"], charger, datetime.now(UTC))
        if outcome.result != "CallResult":
            raise RuntimeError(f"dispatch answered {outcome.reply}")
        return outcome

    factory = FrameFactory()
    meter_tx_frame = factory.frames("StartTransaction", 1, [], 0)
    ours_recording(event(connection_id, meter_tx_frame[0], domain), LambdaContext())
    meter_tx = int(recorder.sent[-1].split('"transactionId":')[1].split(",")[0].split("}")[0])
    started_transactions: list[int] = []

    results: dict[str, dict[str, Any]] = {}
    for action in ACTIONS:
        row: dict[str, Any] = {}
        for mode in ("one loop", "run/msg", "sync val"):
            frames = factory.frames(action, warm + n, [], meter_tx)
            row[f"lib {mode}"] = time_library(frames, mode)[warm:]
        for name, entry in (("ours", ours_recording), ("ours+send", ours_real), ("dispatch", dispatch_only)):
            if action == "StopTransaction":
                frames = factory.frames(action, warm + n, started_transactions, meter_tx)
            else:
                frames = factory.frames(action, warm + n, [], meter_tx)
            before = len(recorder.sent)
            sample = time_ours(entry, [event(connection_id, text, domain) for text in frames])
            row[name] = sample.wall[warm:]
            row[f"{name} cpu"] = sample.cpu[warm:]
            if name == "ours":
                answers = recorder.sent[before:]
                errors = [a for a in answers if not a.startswith("[3,")]
                if errors:
                    raise RuntimeError(f"{action}: the handler answered with errors: {errors[:2]}")
        if action == "StartTransaction":
            # every variant's starts are open: the StopTransaction runs stop them
            started_transactions = _open_transactions(url, exclude={meter_tx})
        results[action] = row

    components = measure_components(n, warm, connection_id, domain, recorder)
    report(results, components, n, url, gateway)
    if args.profile:
        profile(args.profile, ours_recording, factory, connection_id, domain, n, meter_tx, url)
    bench.write_json(
        args.json,
        {
            "benchmark": "message",
            "iterations": n,
            "median_us": {
                action: {k: bench.median(v) * 1e6 for k, v in row.items()} for action, row in results.items()
            },
            "components_median_us": components,
        },
    )
    engine.dispose()
    return 0


def _open_transactions(url: str, exclude: set[int]) -> list[int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            ids = [
                int(r[0])
                for r in conn.execute(text("SELECT id FROM transactions WHERE stop_timestamp IS NULL"))
            ]
    finally:
        engine.dispose()
    return sorted(i for i in ids if i not in exclude)


def measure_components(
    n: int, warm: int, connection_id: str, domain: str, recorder: RecordingSender
) -> dict[str, dict[str, float]]:
    """Median wall and CPU µs of the pieces of one Heartbeat: where the time goes."""
    from csms.app import wiring
    from csms.domain.stations import ChargerContext

    store = wiring.connections()
    sender = wiring.sender(event(connection_id, "", domain))
    dispatcher = wiring.dispatcher("ocpp1.6")
    ctx = ChargerContext(CHARGER, TENANT, connection_id)
    now = datetime.now(UTC)
    heartbeat = '[2,"c-1","Heartbeat",{}]'
    status = f.frame("c-2", "StatusNotification", f.status(2, "Available", 0))
    pieces: dict[str, Callable[[], Any]] = {
        "DynamoDB UpdateItem (touch, moto over HTTP)": lambda: store.touch(connection_id, now),
        "@connections POST (-> local gateway)": lambda: sender.send(connection_id, '[3,"c-1",{}]'),
        "dispatch Heartbeat (no I/O)": lambda: dispatcher.dispatch(heartbeat, ctx, now),
        "dispatch StatusNotification (1 PostgreSQL unit of work)": lambda: dispatcher.dispatch(
            status, ctx, now
        ),
    }
    out: dict[str, dict[str, float]] = {}
    for name, call in pieces.items():
        wall, cpu = [], []
        for i in range(warm + n):
            c0, t0 = time.thread_time(), time.perf_counter()
            call()
            if i >= warm:
                wall.append(time.perf_counter() - t0)
                cpu.append(time.thread_time() - c0)
        out[name] = {"wall": bench.median(wall) * 1e6, "cpu": bench.median(cpu) * 1e6}
    return out


def report(
    results: dict[str, dict[str, Any]],
    components: dict[str, dict[str, float]],
    n: int,
    url: str,
    gateway: bench.GatewayThread,
) -> None:
    bench.header(
        "Message path: full handler vs the ocpp library's route_message (median µs per frame)",
        iterations=f"{n} per action and variant",
        postgresql=bench.postgres_version(url)
        + (" (DATABASE_URL)" if EXTERNAL_DB else " (embedded, fsync off)"),
        dynamodb="moto in a child process over HTTP on 127.0.0.1, a new TCP connection a call "
        "(not representative of AWS)",
    )
    rows = []
    for action, row in results.items():
        base = bench.median(row["lib one loop"])
        ours = bench.median(row["ours"])
        cpu = bench.median(row["ours cpu"])
        rows.append(
            [
                action,
                base * 1e6,
                bench.median(row["lib run/msg"]) * 1e6,
                bench.median(row["lib sync val"]) * 1e6,
                ours * 1e6,
                cpu * 1e6,
                f"{ours / base:.2f}x",
                f"{cpu / base:.2f}x",
                bench.median(row["ours+send"]) * 1e6,
                bench.median(row["dispatch cpu"]) * 1e6,
                f"{bench.median(row['dispatch cpu']) / base:.2f}x",
            ]
        )
    print(
        bench.table(
            [
                "action",
                "lib one loop",
                "lib run/msg",
                "lib sync val",
                "ours wall",
                "ours CPU",
                "wall / lib",
                "CPU / lib",
                "ours + @connections",
                "dispatch+PG CPU",
                "dispatch / lib",
            ],
            rows,
        )
    )
    print(
        "\np95 µs: "
        + "; ".join(
            f"{a}: lib {bench.percentile(r['lib one loop'], 95) * 1e6:.0f}, "
            f"ours {bench.percentile(r['ours'], 95) * 1e6:.0f}"
            for a, r in results.items()
        )
    )
    print("\nWhere the time of one frame goes (median µs; CPU = the calling thread only):\n")
    print(bench.table(["piece", "wall", "CPU"], [[k, v["wall"], v["cpu"]] for k, v in components.items()]))
    print(f"\n(frames delivered over the real WebSocket by the emulator: {gateway.received})")


def profile(
    action: str,
    entry: Callable[[dict[str, Any], Any], Any],
    factory: FrameFactory,
    connection_id: str,
    domain: str,
    n: int,
    meter_tx: int,
    url: str,
) -> None:
    open_tx = _open_transactions(url, exclude={meter_tx})
    events = [event(connection_id, t, domain) for t in factory.frames(action, n, open_tx, meter_tx)]
    profiler = cProfile.Profile()
    context = LambdaContext()
    profiler.enable()
    for ev in events:
        entry(ev, context)
    profiler.disable()
    print(f"\ncProfile of our handler, {n} x {action} (top 30 by own time):\n")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    raise SystemExit(main())

"""Message path: the warm cost of one frame through the product, per OCPP action, against
the bare ``ocpp`` library's ``ChargePoint.route_message`` for the same frame, in one run.
OCPP 1.6 actions first, then 2.0.1's (rows named "2.0.1 ..."; the 1.6 rows keep their names):
Heartbeat, StatusNotification, Authorize, TransactionEvent Started / Updated with a
three-phase set of 10 samples / Ended, and MeterValues with 10 samples.

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

2.0.1 runs the same way against a second station, ``BENCH-CS-201``, whose connection is
recorded with protocol ``ocpp2.0.1`` (as ``$connect`` records a station that negotiated
it), so ``message.handle`` picks the 2.0.1 dispatcher as in production; ``dispatch+PG`` is
``wiring.dispatcher("ocpp2.0.1")``. Its frames are valid against the official 2.0.1 schemas
(the library validates them; a CALLERROR from either side fails the run). A Started opens a
transaction with a fresh token, Updated events report into one open transaction with
increasing seqNo, and each Ended closes one of the transactions the Started runs opened.

The library: a ``ChargePoint`` subclass (``ocpp.v16`` or ``ocpp.v201``) whose ``@on`` handlers
return canned results, over a connection whose ``send()`` records. Three ways of running it:

- ``one loop``: one event loop for every frame, library defaults (schema validation in the
  loop's thread pool). This is how the stateful servers this product replaces run it; it
  is the baseline of the ratio.
- ``run/msg``: ``asyncio.run`` per frame, as a naive Lambda port of the library would.
- ``sync val``: one loop with ``ocpp.messages.ASYNC_VALIDATION = False``: the library's
  fastest configuration.

Usage: ``.venv/bin/python benchmarks/bench_message.py [--iterations 300] [--profile ACTION]``
(ACTION as a row is named, e.g. ``--profile "2.0.1 TransactionEvent Updated (10)"``)
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
#: The same charger speaking 2.0.1: a second station, connected with subprotocol ocpp2.0.1.
CHARGER_201 = "BENCH-CS-201"
TENANT = "bench"
EXTERNAL_DB = False
OCPP16, OCPP201 = "ocpp1.6", "ocpp2.0.1"
#: Rows of 2.0.1 actions start with this (the 1.6 rows keep their names, as in earlier JSON).
PREFIX_201 = "2.0.1 "
ACTIONS = (
    "Heartbeat",
    "StatusNotification",
    "Authorize",
    "StartTransaction",
    "StopTransaction",
    "MeterValues (1)",
    "MeterValues (10)",
    "2.0.1 Heartbeat",
    "2.0.1 StatusNotification",
    "2.0.1 Authorize",
    "2.0.1 TransactionEvent Started",
    "2.0.1 TransactionEvent Updated (10)",
    "2.0.1 TransactionEvent Ended",
    "2.0.1 MeterValues (10)",
)


def protocol_of(action: str) -> str:
    return OCPP201 if action.startswith(PREFIX_201) else OCPP16


# --- the library baseline ---------------------------------------------------------------------


class RecordingConnection:
    """The library's connection, recording what is sent (neither side pays for transport)."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, message: str) -> None:
        self.sent.append(message)

    async def recv(self) -> str:  # pragma: no cover (start() is never called)
        raise NotImplementedError


def library_central_system() -> tuple[Any, list[str]]:
    """A 1.6 ChargePoint with canned @on handlers and a connection that records what is sent."""
    from ocpp.routing import on
    from ocpp.v16 import ChargePoint, call_result
    from ocpp.v16.enums import Action

    accepted = {"status": "Accepted"}

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

    connection = RecordingConnection()
    return CannedCentralSystem(CHARGER, connection), connection.sent


def library_csms_201() -> tuple[Any, list[str]]:
    """The same for 2.0.1: ``ocpp.v201.ChargePoint`` with canned handlers. Answers carry what
    ours carries (idTokenInfo exactly when the event has a token), so both sides build and
    validate the same answer."""
    from ocpp.routing import on
    from ocpp.v201 import ChargePoint, call_result
    from ocpp.v201.enums import Action

    accepted = {"status": "Accepted"}

    class CannedCsms(ChargePoint):  # type: ignore[misc]
        @on(Action.heartbeat)
        def on_heartbeat(self, **_: Any) -> Any:
            return call_result.Heartbeat(current_time="2026-11-21T08:00:00.000Z")

        @on(Action.status_notification)
        def on_status(self, **_: Any) -> Any:
            return call_result.StatusNotification()

        @on(Action.authorize)
        def on_authorize(self, **_: Any) -> Any:
            return call_result.Authorize(id_token_info=accepted)

        @on(Action.transaction_event)
        def on_transaction_event(self, **payload: Any) -> Any:
            if "id_token" in payload:
                return call_result.TransactionEvent(id_token_info=accepted)
            return call_result.TransactionEvent()

        @on(Action.meter_values)
        def on_meter_values(self, **_: Any) -> Any:
            return call_result.MeterValues()

    connection = RecordingConnection()
    return CannedCsms(CHARGER_201, connection), connection.sent


def time_library(frames: list[str], mode: str, protocol: str = OCPP16) -> list[float]:
    """Seconds per frame through route_message, in the given mode."""
    import ocpp.messages

    central, sent = library_csms_201() if protocol == OCPP201 else library_central_system()
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
        #: 2.0.1: the next seqNo of each transaction the station has started.
        self.seq_nos: dict[str, int] = {}

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

    def _seq_no(self, transaction_id: str) -> int:
        seq_no = self.seq_nos.get(transaction_id, 0)
        self.seq_nos[transaction_id] = seq_no + 1
        return seq_no

    def frames_201(
        self, action: str, count: int, open_transactions: list[str], meter_tx: str, started: list[str]
    ) -> list[str]:
        """2.0.1 frames: Started opens a new transaction (its id appended to ``started``) with a
        fresh token and the register's Transaction.Begin reading; Updated carries a
        three-phase set into ``meter_tx``; Ended closes the first of ``open_transactions``
        with its token and Transaction.End reading, as 1.6's StopTransaction does."""
        out = []
        name = action.removeprefix(PREFIX_201)
        for _ in range(count):
            uid, at = self._next()
            if name == "Heartbeat":
                out.append(f.frame(uid, "Heartbeat", {}))
            elif name == "StatusNotification":
                state = ("Available", "Occupied")[self.serial % 2]
                out.append(f.frame(uid, "StatusNotification", f.status_201(1, 1, state, at)))
            elif name == "Authorize":
                out.append(f.frame(uid, "Authorize", f.authorize_201("TAG-00001")))
            elif name == "TransactionEvent Started":
                tx = f"tx-{self.serial}"
                started.append(tx)
                payload = f.transaction_event(
                    "Started",
                    tx,
                    self._seq_no(tx),
                    at,
                    "Authorized",
                    id_tag=self.next_tag(),
                    charging_state="Charging",
                    meter=f.meter_value_201(1, at, self.serial, "Transaction.Begin"),
                )
                out.append(f.frame(uid, "TransactionEvent", payload))
            elif name.startswith("TransactionEvent Updated"):
                samples = 10 if "(10)" in name else 1
                payload = f.transaction_event(
                    "Updated",
                    meter_tx,
                    self._seq_no(meter_tx),
                    at,
                    "MeterValuePeriodic",
                    meter=f.meter_value_201(samples, at, self.serial),
                )
                out.append(f.frame(uid, "TransactionEvent", payload))
            elif name == "TransactionEvent Ended":
                tx = open_transactions.pop(0) if open_transactions else f"tx-unstarted-{self.serial}"
                payload = f.transaction_event(
                    "Ended",
                    tx,
                    self._seq_no(tx),
                    at,
                    "StopAuthorized",
                    id_tag="TAG-00001",
                    charging_state="Idle",
                    stopped_reason="Local",
                    meter=f.meter_value_201(1, at, 10_000 + self.serial, "Transaction.End"),
                )
                out.append(f.frame(uid, "TransactionEvent", payload))
            elif name.startswith("MeterValues"):
                samples = 10 if "(10)" in name else 1
                out.append(f.frame(uid, "MeterValues", f.meter_values_201(1, samples, at, self.serial)))
            else:
                raise ValueError(f"no 2.0.1 frames for {action!r}")
        return out


# --- the run ------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--iterations", type=int, default=300, help="measured frames per action and variant")
    parser.add_argument("--warmup", type=int, default=30, help="unmeasured frames before each measurement")
    parser.add_argument(
        "--profile", metavar="ACTION", choices=ACTIONS, help="also print a cProfile of our handler for ACTION"
    )
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    args = parser.parse_args()
    n, warm = max(1, args.iterations), max(1, args.warmup)
    global EXTERNAL_DB
    EXTERNAL_DB = bool(os.environ.get("DATABASE_URL"))

    with bench.database("csms_bench_message") as url:
        # moto in its own process: DynamoDB's work is not on our CPU or under our GIL on AWS.
        aws = bench.MotoProcess()
        endpoint = aws.start()
        gateway = bench.GatewayThread(CHARGER, CHARGER_201)
        try:
            management, _ = gateway.start()
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
            return run(args, n, warm, url, endpoint, management, gateway)
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
    provisioning.add_charger(CHARGER_201, TENANT, now, security_profile=0)
    # One tag per start (1.6 StartTransaction, 2.0.1 TransactionEvent Started), for the
    # library's frames too (they come from the same factory), warm-up included; TAG-00001.
    for i in range(1, 12 * (n + warm) + 4):
        provisioning.add_id_token(f"TAG-{i:05d}", TENANT, now)
    connection_id = gateway.connection_ids[CHARGER]
    connection_201 = gateway.connection_ids[CHARGER_201]
    # As $connect records them: the protocol chooses the dispatcher of every frame.
    wiring.connections().register(ConnectionRecord(connection_id, CHARGER, TENANT, OCPP16, now))
    wiring.connections().register(ConnectionRecord(connection_201, CHARGER_201, TENANT, OCPP201, now))

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
    stations = {
        OCPP16: (wiring.dispatcher(OCPP16), ChargerContext(CHARGER, TENANT, connection_id)),
        OCPP201: (wiring.dispatcher(OCPP201), ChargerContext(CHARGER_201, TENANT, connection_201)),
    }
    connections = {OCPP16: connection_id, OCPP201: connection_201}

    def dispatch_only(ev: dict[str, Any], _: Any) -> Any:
        protocol = OCPP201 if ev["requestContext"]["connectionId"] == connection_201 else OCPP16
        dispatcher, charger = stations[protocol]
        outcome = dispatcher.dispatch(ev["body"], charger, datetime.now(UTC))
        if outcome.result != "CallResult":
            raise RuntimeError(f"dispatch answered {outcome.reply}")
        return outcome

    factory = FrameFactory()
    meter_tx_frame = factory.frames("StartTransaction", 1, [], 0)
    ours_recording(event(connection_id, meter_tx_frame[0], domain), LambdaContext())
    meter_tx = int(recorder.sent[-1].split('"transactionId":')[1].split(",")[0].split("}")[0])
    started_transactions: list[int] = []
    # 2.0.1: the transaction the Updated events report into, started as the station would.
    first: list[str] = []
    started_frame = factory.frames_201(PREFIX_201 + "TransactionEvent Started", 1, [], "", first)[0]
    ours_recording(event(connection_201, started_frame, domain), LambdaContext())
    if not recorder.sent[-1].startswith("[3,"):
        raise RuntimeError(f"the 2.0.1 station's first transaction was refused: {recorder.sent[-1]}")
    meter_tx_201 = first[0]
    started_201: list[str] = []

    def frames_for(action: str, ours: bool) -> list[str]:
        if protocol_of(action) == OCPP201:
            if ours:
                return factory.frames_201(action, warm + n, started_201, meter_tx_201, started_201)
            return factory.frames_201(action, warm + n, [], meter_tx_201, [])
        if ours and action == "StopTransaction":
            return factory.frames(action, warm + n, started_transactions, meter_tx)
        return factory.frames(action, warm + n, [], meter_tx)

    results: dict[str, dict[str, Any]] = {}
    for action in ACTIONS:
        protocol = protocol_of(action)
        row: dict[str, Any] = {}
        for mode in ("one loop", "run/msg", "sync val"):
            row[f"lib {mode}"] = time_library(frames_for(action, ours=False), mode, protocol)[warm:]
        for name, entry in (("ours", ours_recording), ("ours+send", ours_real), ("dispatch", dispatch_only)):
            frames = frames_for(action, ours=True)
            before = len(recorder.sent)
            sample = time_ours(entry, [event(connections[protocol], text, domain) for text in frames])
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

    # Every 2.0.1 start was ended by an Ended of the run (none created an unknown transaction):
    # only the one the Updated events report into is open.
    still_open = len(_open_transactions(url, exclude=set(), charge_point=CHARGER_201))
    if still_open != 1:
        raise RuntimeError(f"{still_open} open 2.0.1 transactions after the run, expected 1 ({meter_tx_201})")

    components = measure_components(n, warm, connection_id, domain, recorder)
    report(results, components, n, url, gateway)
    if args.profile:
        # Stops need open transactions again: every start of the run has been stopped.
        started_transactions = _open_transactions(url, exclude={meter_tx})
        frames = frames_for(args.profile, ours=True)
        profile(
            args.profile,
            ours_recording,
            [event(connections[protocol_of(args.profile)], t, domain) for t in frames],
        )
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


def _open_transactions(url: str, exclude: set[int], charge_point: str = CHARGER) -> list[int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            ids = [
                int(r[0])
                for r in conn.execute(
                    text(
                        "SELECT id FROM transactions WHERE stop_timestamp IS NULL AND charge_point_id = :cp"
                    ),
                    {"cp": charge_point},
                )
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


def profile(action: str, entry: Callable[[dict[str, Any], Any], Any], events: list[dict[str, Any]]) -> None:
    profiler = cProfile.Profile()
    context = LambdaContext()
    profiler.enable()
    for ev in events:
        entry(ev, context)
    profiler.disable()
    print(f"\ncProfile of our handler, {len(events)} x {action} (top 30 by own time):\n")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    raise SystemExit(main())

"""Fault injection: a fleet of simulated chargers through the local stack while things break.

The stack runs as ``csms dev`` does (function containers, moto in its own process, an
embedded PostgreSQL it supervises), with an HTTP fault proxy between the functions and moto.
Each scenario gets chargers of its own; every charger runs OCPP 1.6 sessions (StartTransaction,
MeterValues, StopTransaction), retrying each transaction message until it is answered (as
OCPP asks), and answers the commands the operator sends it. Then the suite counts, from the
chargers' side and from PostgreSQL:

- frames acknowledged, samples acknowledged / stored, transactions open / closed;
- **lost**: a sample, start or stop the charger got a CallResult for that PostgreSQL does not
  hold (a false acknowledgement), or an event recorded but never published;
- **duplicated**: a transaction, sample or domain event stored twice, a command's CALL
  delivered twice;
- **commands lost**: commands not in a final state once the dust settled;
- **time to recover**: the longest a charger waited for an answer because of the fault
  (from its first try of a message to the answer of a retry); with no failed try,
  from the end of the fault to the first acknowledged frame (wall time: printed, never
  asserted).

The bar is zero lost, zero duplicated, zero false acknowledgements and recovery without a
person: the script exits 1 if a count misses it (never on a time).

Scenarios: ``postgres-killed`` (SIGKILL of the postmaster mid-load; csms dev restarts it),
``dynamodb-errors`` (30 % of DynamoDB calls answer 500 or throttling for a few seconds),
``eventbridge-errors`` (every PutEvents fails for a few seconds), ``sqs-twice`` (every command
trigger delivered twice), ``killed-before-reply`` (the message function's container killed
after its commit, before its StartTransaction answer leaves), ``two-hour-cut`` (every
connection closed at once, as at API Gateway's 2-hour limit).

Usage: ``make faults`` or ``.venv/bin/python benchmarks/bench_faults.py [--chargers 12]
[--sessions 2] [--scenario NAME]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import _common as bench
import websockets

CALL_TIMEOUT = 6.0  # a charger's patience for one answer, then it retries (same message)
TENANT = "faults"
SCENARIOS = (
    "postgres-killed",
    "dynamodb-errors",
    "eventbridge-errors",
    "sqs-twice",
    "killed-before-reply",
    "two-hour-cut",
)


# --- a simulated charger -----------------------------------------------------------------------


class Unanswered(Exception):
    """No CallResult in time, a CallError, or the connection went away."""


@dataclass
class Charger:
    cp_id: str
    tag: str
    url: str
    sessions: int
    meter_values: int
    acks: list[tuple[float, str]] = field(default_factory=list)  # (when, action)
    samples: set[str] = field(default_factory=set)  # timestamps acknowledged
    started: dict[str, int] = field(default_factory=dict)  # start timestamp -> transactionId
    stopped: set[int] = field(default_factory=set)
    commands_seen: Counter[str] = field(default_factory=Counter)  # our CALL ids from the CSMS
    retries: int = 0
    #: For each message that needed retries: seconds from its first try to its answer.
    waits: list[float] = field(default_factory=list)
    _ws: Any = None
    _reader: Any = None
    _pending: dict[str, asyncio.Future[Any]] = field(default_factory=dict)
    _serial: int = 0

    async def run(self, fault_over: asyncio.Event) -> None:
        """``sessions`` transactions at least, and more until one has started after the fault
        is over (so frames are in flight before, during and after it)."""
        energy = 1000
        base = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
        session = -1
        # The last session starts after the fault is over, so a frame of every kind is
        # answered after it (recovery is measured on those) however the timing falls.
        began_after_fault = False
        while session + 1 < self.sessions or not began_after_fault:
            began_after_fault = fault_over.is_set()
            session += 1
            start = base + timedelta(hours=session)
            start_ts = start.isoformat().replace("+00:00", "Z")
            answer = await self.deliver(
                "StartTransaction",
                {"connectorId": 1, "idTag": self.tag, "meterStart": energy, "timestamp": start_ts},
            )
            transaction = int(answer["transactionId"])
            self.started[start_ts] = transaction
            for sample in range(self.meter_values):
                energy += 100
                at = (start + timedelta(minutes=sample + 1)).isoformat().replace("+00:00", "Z")
                await self.deliver(
                    "MeterValues",
                    {
                        "connectorId": 1,
                        "transactionId": transaction,
                        "meterValue": [
                            {
                                "timestamp": at,
                                "sampledValue": [
                                    {"value": str(energy), "measurand": "Energy.Active.Import.Register"}
                                ],
                            }
                        ],
                    },
                )
                self.samples.add(at)
            stop_ts = (start + timedelta(minutes=self.meter_values + 1)).isoformat().replace("+00:00", "Z")
            await self.deliver(
                "StopTransaction", {"transactionId": transaction, "meterStop": energy, "timestamp": stop_ts}
            )
            self.stopped.add(transaction)
        # Stays connected (answering commands) until the suite has counted.

    async def deliver(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send until answered (OCPP's transaction-message retry); reconnect when needed."""
        delay = 0.2
        first_try, failed = time.monotonic(), False
        while True:
            try:
                if self._ws is None:
                    await self.connect()
                answer: dict[str, Any] = await self.call(action, payload)
                self.acks.append((time.monotonic(), action))
                if failed:
                    self.waits.append(time.monotonic() - first_try)
                return answer
            except (Unanswered, OSError, websockets.exceptions.WebSocketException, TimeoutError):
                failed = True
                self.retries += 1
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def connect(self) -> None:
        await self.close()
        self._ws = await websockets.connect(
            self.url, subprotocols=["ocpp1.6"], open_timeout=10, ping_interval=None, close_timeout=1
        )
        self._pending = {}
        self._reader = asyncio.create_task(self._read(self._ws, self._pending))
        await self.call("BootNotification", {"chargePointVendor": "Faults", "chargePointModel": "Rehearsal"})

    async def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        self._serial += 1
        unique_id = f"{self._serial}"
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[unique_id] = future
        ws = self._ws
        if ws is None:
            raise Unanswered("not connected")
        await ws.send(json.dumps([2, unique_id, action, payload]))
        try:
            return dict(await asyncio.wait_for(future, CALL_TIMEOUT))
        finally:
            self._pending.pop(unique_id, None)

    async def _read(self, ws: Any, pending: dict[str, asyncio.Future[Any]]) -> None:
        try:
            async for raw in ws:
                frame = json.loads(raw)
                if not isinstance(frame, list):
                    continue  # an API Gateway error message: the call times out and is retried
                if frame[0] == 2:  # a command from the CSMS: answer it
                    self.commands_seen[frame[1]] += 1
                    await ws.send(json.dumps([3, frame[1], {"status": "Accepted"}]))
                    continue
                future = pending.get(frame[1])
                if future is None or future.done():
                    continue
                if frame[0] == 3:
                    future.set_result(frame[2])
                else:
                    future.set_exception(Unanswered(str(frame[2])))
        except websockets.exceptions.ConnectionClosed:
            pass
        finally:
            for future in pending.values():
                if not future.done():
                    future.set_exception(Unanswered("connection closed"))
            if self._ws is ws:
                self._ws = None

    async def close(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            await ws.close()


# --- the stack and its faults ---------------------------------------------------------------


class Rehearsal:
    def __init__(self, state_dir: Path) -> None:
        from csms.local.aws import LocalAwsProcess
        from csms.local.faults import AwsFaultProxy

        self.moto = LocalAwsProcess()
        moto = self.moto.start()
        self.proxy = AwsFaultProxy(moto)
        endpoint = self.proxy.start()
        os.environ.update(
            {
                "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
                "AWS_ENDPOINT_URL_EVENTBRIDGE": endpoint,
                "AWS_ENDPOINT_URL_SQS": moto,
                "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": moto,
                "AWS_ENDPOINT_URL_KMS": moto,
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_REGION": "us-east-1",
            }
        )
        from csms.local.stack import BackgroundStack, StackConfig

        self.key = b"fault-rehearsal-signing-key-0123456789"
        self.background = BackgroundStack(
            StackConfig(
                port=0,
                state_dir=state_dir,
                aws="env",
                # Durable, as csms dev runs it: a killed server loses no committed transaction.
                durable_database=True,
                log_level="ERROR",
                api_signing_key=self.key,
                run_schedules=False,  # the suite runs the jobs itself, at the moments it chooses
                # Commands time out fast, so one stuck by a fault is swept within the run.
                environment={"CSMS_COMMAND_TIMEOUT_SECONDS": "10"},
            )
        )
        self.stack = self.background.start()
        self.loop: asyncio.AbstractEventLoop = self.background._loop

    @property
    def gateway(self) -> Any:
        return self.stack.gateway

    def close(self) -> None:
        self.background.stop()
        self.proxy.close()
        self.moto.stop()

    def charger_url(self, cp_id: str) -> str:
        return str(self.stack.charger_url(cp_id))

    def provision(self, ids: list[str]) -> None:
        from sqlalchemy import create_engine, text

        now = datetime.now(UTC)
        engine = create_engine(self.stack.database_url)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO tenants (id, name, created_at) VALUES (:t, :t, :now) ON CONFLICT DO NOTHING"
                ),
                {"t": TENANT, "now": now},
            )
            for cp in ids:
                conn.execute(
                    text(
                        "INSERT INTO charge_points (id, tenant_id, security_profile, registration_status,"
                        " created_at, updated_at) VALUES (:id, :t, 0, 'Accepted', :now, :now)"
                    ),
                    {"id": cp, "t": TENANT, "now": now},
                )
                conn.execute(
                    text(
                        "INSERT INTO id_tokens (tenant_id, id_token, type, status, created_at, updated_at)"
                        " VALUES (:t, :tag, 'ISO14443', 'Accepted', :now, :now)"
                    ),
                    {"t": TENANT, "tag": f"TAG-{cp}", "now": now},
                )
        engine.dispose()

    def send_command(self, cp_id: str) -> str | None:
        """``TriggerMessage(Heartbeat)`` through the REST API, retried on 5xx as an operator's
        client would (the API says "retry later"); the command id (None if never taken)."""
        for attempt in range(4):
            if attempt:
                time.sleep(attempt)
            command = self._send_command(cp_id)
            if command is not None:
                return command
        return None

    def _send_command(self, cp_id: str) -> str | None:
        import urllib.error
        import urllib.request

        from csms.local.tokens import create_token

        request = urllib.request.Request(
            f"http://127.0.0.1:{self.stack.config.port}/api/v1/stations/{cp_id}/commands/trigger-message",
            data=json.dumps({"requestedMessage": "Heartbeat"}).encode(),
            headers={
                "Authorization": f"Bearer {create_token(self.key, TENANT, 'operator', 600)}",
                "Content-Type": "application/json",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - our http URL
                return str(json.loads(answer.read())["id"])
        except urllib.error.HTTPError as refused:
            print(f"  command to {cp_id} refused: {refused.code} {refused.read()[:200]!r}", flush=True)
            return None
        except (urllib.error.URLError, OSError, KeyError, ValueError) as failed:
            print(f"  command to {cp_id} not sent: {failed!r}", flush=True)
            return None

    def kill_postgres(self) -> None:
        pid = int((self.stack._postgres.data_dir / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, signal.SIGKILL)

    def run_job(self, name: str, now: datetime | None = None) -> None:
        from csms.app.scheduled import run

        try:
            run(name, now=now)
        except Exception as exc:  # the next run retries; what matters is the final state
            print(f"  ({name} failed once: {exc.__class__.__name__})", flush=True)


# --- scenarios ------------------------------------------------------------------------------------


async def inject(name: str, rehearsal: Rehearsal, chargers: list[Charger]) -> tuple[float, float, str]:
    """Apply the fault of ``name`` while the chargers run; (start, end) monotonic, and what
    recovery waits for (the action whose first ack after ``end`` counts)."""
    await asyncio.sleep(0.5)
    start = time.monotonic()
    if name == "postgres-killed":
        rehearsal.kill_postgres()
        await asyncio.sleep(0.1)
        return start, time.monotonic(), "MeterValues"
    if name in AWS_FAULTS:
        service, share, kinds = AWS_FAULTS[name]
        for kind in kinds:  # 1.5 s of errors, then 1.5 s of throttling
            rehearsal.proxy.fail(service, share, kind)
            await asyncio.sleep(1.5)
        rehearsal.proxy.heal()
        return start, time.monotonic(), "MeterValues"
    if name == "two-hour-cut":
        cut = asyncio.run_coroutine_threadsafe(rehearsal.gateway.cut_all(), rehearsal.loop)
        await asyncio.wrap_future(cut)
        return start, time.monotonic(), "MeterValues"
    return start, time.monotonic(), "MeterValues"  # sqs-twice, killed-before-reply: set up before


#: The AWS outages: service, share of its calls that fail, and the kinds of failure in turn.
AWS_FAULTS = {
    "dynamodb-errors": ("dynamodb", 0.15, ("error", "throttle")),
    "eventbridge-errors": ("eventbridge", 1.0, ("error", "throttle-events")),
}


def arm(name: str, rehearsal: Rehearsal) -> dict[str, Any]:
    """Faults that are in place from the start of a scenario; returns their counters."""
    counters: dict[str, Any] = {"killed": 0, "kill_times": []}
    if name == "sqs-twice":
        rehearsal.stack.command_trigger.deliver_twice = True
    if name == "killed-before-reply":
        pool = rehearsal.stack.pools["message"]

        def kill_before_start_answer(connection_id: str, data: bytes) -> bool:
            if counters["killed"] >= 3 or b'"transactionId"' not in data or b'"idTagInfo"' not in data:
                return False
            killed = pool.kill_running(
                lambda event: event.get("requestContext", {}).get("connectionId") == connection_id
            )
            counters["killed"] += killed
            if killed:
                counters["kill_times"].append(time.monotonic())
            return killed > 0

        rehearsal.gateway.intercept_post = kill_before_start_answer
    return counters


def disarm(rehearsal: Rehearsal) -> None:
    rehearsal.stack.command_trigger.deliver_twice = False
    rehearsal.gateway.intercept_post = None
    rehearsal.proxy.heal()


async def scenario(name: str, rehearsal: Rehearsal, args: argparse.Namespace) -> dict[str, Any]:
    prefix = f"F{SCENARIOS.index(name)}-{uuid.uuid4().hex[:4]}"
    ids = [f"{prefix}-{n:03d}" for n in range(args.chargers)]
    rehearsal.provision(ids)
    chargers = [
        Charger(cp, f"TAG-{cp}", rehearsal.charger_url(cp), args.sessions, args.meter_values) for cp in ids
    ]
    counters = arm(name, rehearsal)
    fault_over = asyncio.Event()
    runs = [asyncio.create_task(c.run(fault_over)) for c in chargers]
    while not all(c.acks for c in chargers):  # every charger connected and past its first frame
        await asyncio.sleep(0.1)
    loop = asyncio.get_running_loop()
    commands = await asyncio.gather(*(loop.run_in_executor(None, rehearsal.send_command, cp) for cp in ids))
    started, ended, needs = await inject(name, rehearsal, chargers)
    if name == "killed-before-reply":  # wait for the kills; recovery is the retried start's answer
        while counters["killed"] < min(3, len(chargers)) and time.monotonic() - started < 30:
            await asyncio.sleep(0.1)
        if counters["kill_times"]:
            started, ended, needs = counters["kill_times"][0], counters["kill_times"][-1], "StartTransaction"
    fault_over.set()
    _, pending = await asyncio.wait(runs, timeout=args.deadline)
    for task in pending:
        task.cancel()
    disarm(rehearsal)
    # Nobody steps in: the scheduled jobs do what they do every minute on AWS (run here every
    # 2 s; event-delivery as if a minute had passed, the age it waits before taking over from
    # the requests' own publishing) until nothing is pending, or the settle time is up.
    settle_until = time.monotonic() + args.settle
    while True:
        later = datetime.now(UTC) + timedelta(minutes=1, seconds=1)
        await loop.run_in_executor(None, rehearsal.run_job, "event-delivery", later)
        await loop.run_in_executor(None, rehearsal.run_job, "command-timeouts", None)
        if not pending_work(rehearsal, ids) or time.monotonic() > settle_until:
            break
        await asyncio.sleep(2)
    settled = time.monotonic()
    await asyncio.gather(*(c.close() for c in chargers), return_exceptions=True)
    acks_after = [at for c in chargers for at, action in c.acks if at >= ended and action == needs]
    result = count(name, rehearsal, chargers, [c for c in commands if c], ids)
    result.update(
        {
            "unfinished_chargers": len(pending),
            "retries": sum(c.retries for c in chargers),
            # The longest a charger waited for an answer because of the fault (its first try to
            # the answer of a retry); without any failed try, the first answer after the fault.
            "recovery_s": max(waits)
            if (waits := [w for c in chargers for w in c.waits])
            else (min(acks_after) - ended)
            if acks_after
            else None,
            "settled_s": settled - ended,
            "fault_s": ended - started,
            "killed_containers": counters["killed"],
            "injected_aws_errors": dict(rehearsal.proxy.injected),
            "commands_refused": len(ids) - len([c for c in commands if c]),
        }
    )
    rehearsal.proxy.injected.clear()
    return result


def pending_work(rehearsal: Rehearsal, ids: list[str]) -> bool:
    """Commands not final yet, or events not published yet, for these chargers."""
    from sqlalchemy import create_engine, text

    not_final = "commands WHERE status NOT IN ('accepted', 'rejected', 'failed', 'timed_out') AND"
    unpublished = "domain_events WHERE published_at IS NULL AND"
    engine = create_engine(rehearsal.stack.database_url)
    try:
        with engine.connect() as conn:
            return any(
                conn.execute(
                    text(f"SELECT count(*) FROM {what} charge_point_id = ANY(:ids)"),  # noqa: S608 - constants
                    {"ids": ids},
                ).scalar()
                for what in (not_final, unpublished)
            )
    except Exception:
        return True  # PostgreSQL still coming back
    finally:
        engine.dispose()


def count(
    name: str, rehearsal: Rehearsal, chargers: list[Charger], commands: list[str], ids: list[str]
) -> dict[str, Any]:
    from sqlalchemy import create_engine, text

    engine = create_engine(rehearsal.stack.database_url)
    with engine.connect() as conn:

        def rows(sql: str) -> list[Any]:
            return list(conn.execute(text(sql), {"ids": ids}))

        transactions = rows(
            "SELECT charge_point_id, id, start_timestamp, stop_timestamp FROM transactions"
            " WHERE charge_point_id = ANY(:ids)"
        )
        samples = rows(
            "SELECT charge_point_id, timestamp FROM meter_samples WHERE charge_point_id = ANY(:ids)"
        )
        events = rows(
            "SELECT type, correlation_id, data::text, published_at FROM domain_events"
            " WHERE charge_point_id = ANY(:ids)"
        )
        states = rows("SELECT status FROM commands WHERE charge_point_id = ANY(:ids)")
    engine.dispose()
    stored_samples = Counter((cp, ts.isoformat().replace("+00:00", "Z")) for cp, ts in samples)
    stored_tx = {(cp, tx): stop for cp, tx, _, stop in transactions}
    starts = Counter((cp, start) for cp, _, start, _ in transactions)
    acked_samples = {(c.cp_id, ts) for c in chargers for ts in c.samples}
    false_acks = sum(1 for key in acked_samples if key not in stored_samples)
    false_acks += sum(1 for c in chargers for tx in c.started.values() if (c.cp_id, tx) not in stored_tx)
    false_acks += sum(1 for c in chargers for tx in c.stopped if stored_tx.get((c.cp_id, tx)) is None)
    # An event per change: TransactionStarted/Stopped once per transaction, a meter event once
    # per acknowledged frame; the same change twice is a duplicate.
    per_change = Counter(
        (kind, data) for kind, _, data, _ in events if kind in ("TransactionStarted", "TransactionStopped")
    )
    duplicates = {
        "transactions": sum(n - 1 for n in starts.values() if n > 1),
        "samples": sum(n - 1 for n in stored_samples.values() if n > 1),
        "events": sum(n - 1 for n in per_change.values() if n > 1),
        "command CALLs": sum(n - 1 for c in chargers for n in c.commands_seen.values() if n > 1),
    }
    unpublished = sum(1 for *_, published in events if published is None)
    final = {"accepted", "rejected", "failed", "timed_out"}
    state_counts = Counter(status for (status,) in states)
    return {
        "scenario": name,
        "frames_acked": sum(len(c.acks) for c in chargers),
        "samples_acked": len(acked_samples),
        "samples_stored": sum(stored_samples.values()),
        "transactions_open": sum(1 for stop in stored_tx.values() if stop is None),
        "transactions_closed": sum(1 for stop in stored_tx.values() if stop is not None),
        "false_acks": false_acks,
        "lost": false_acks + unpublished,
        "events_unpublished": unpublished,
        "duplicates": sum(duplicates.values()),
        "duplicates_by_kind": duplicates,
        "commands": len(commands),
        "commands_lost": sum(n for status, n in state_counts.items() if status not in final),
        "commands_by_status": dict(state_counts),
    }


# --- main -----------------------------------------------------------------------------------------


def report(results: list[dict[str, Any]]) -> None:
    rows = []
    for r in results:
        recovery = f"{r['recovery_s']:.2f}" if r["recovery_s"] is not None else "never"
        settled = f"{r['settled_s']:.1f}"
        rows.append(
            [
                r["scenario"],
                r["frames_acked"],
                f"{r['samples_stored']} / {r['samples_acked']}",
                f"{r['transactions_open']} / {r['transactions_closed']}",
                r["lost"],
                r["duplicates"],
                r["false_acks"],
                f"{r['commands_lost']} of {r['commands']}",
                recovery,
                settled,
                r["retries"],
            ]
        )
    print(
        bench.table(
            [
                "scenario",
                "frames acked",
                "samples stored / acked",
                "tx open / closed",
                "lost",
                "duplicated",
                "false acks",
                "commands lost",
                "recovery s",
                "all settled s",
                "charger retries",
            ],
            rows,
        )
    )
    for r in results:
        extras = {
            k: r[k]
            for k in ("commands_by_status", "duplicates_by_kind", "killed_containers", "injected_aws_errors")
            if r.get(k)
        }
        print(f"{r['scenario']}: {json.dumps(extras)}")


def failures(results: list[dict[str, Any]]) -> list[str]:
    missed = []
    for r in results:
        for key in (
            "lost",
            "duplicates",
            "false_acks",
            "commands_lost",
            "transactions_open",
            "unfinished_chargers",
        ):
            if r[key]:
                missed.append(f"{r['scenario']}: {key} = {r[key]}")
        if r["recovery_s"] is None:
            missed.append(f"{r['scenario']}: never recovered")
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chargers", type=int, default=12, help="chargers per scenario")
    parser.add_argument("--sessions", type=int, default=2, help="transactions per charger")
    parser.add_argument("--meter-values", type=int, default=4, help="MeterValues per transaction")
    parser.add_argument("--scenario", action="append", choices=SCENARIOS, help="run only these")
    parser.add_argument("--deadline", type=float, default=180, help="seconds the chargers' sessions may take")
    parser.add_argument("--settle", type=float, default=120, help="seconds the jobs get to finish the rest")
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    args = parser.parse_args()
    bench.raise_open_files(4096)
    state_dir = Path(tempfile.mkdtemp(prefix="csms-faults-"))
    state_dir.chmod(0o755)
    rehearsal = Rehearsal(state_dir)
    results = []
    try:
        for name in args.scenario or SCENARIOS:
            print(f"scenario {name} ...", flush=True)
            results.append(asyncio.run(scenario(name, rehearsal, args)))
    finally:
        rehearsal.close()
    bench.header(
        f"Faults: {args.chargers} chargers x {args.sessions} sessions x {args.meter_values} MeterValues"
        " per scenario",
        caveat="counts are the result; times are wall time on this machine, printed, never judged",
    )
    report(results)
    parameters = {**vars(args), "scenarios": list(args.scenario or SCENARIOS)}
    bench.write_json(args.json, {"benchmark": "faults", "parameters": parameters, "results": results})
    missed = failures(results)
    if missed:
        print("\nMISSED THE BAR:\n" + "\n".join(missed))
        return 1
    print("\nzero lost, zero duplicated, zero false acknowledgements, recovered without a person")
    return 0


if __name__ == "__main__":
    sys.exit(main())

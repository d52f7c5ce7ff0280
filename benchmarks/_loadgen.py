"""The load generator of bench_load.py and bench_storm.py, run as its own process so it does
not share a GIL with the server under test.

Simulated chargers speak OCPP 1.6J over ``websockets`` with a deliberately thin client (JSON
frames, a future per uniqueId): the generator must cost far less than the servers it loads.
Chargers the chargers file marks ``ocpp2.0.1`` speak 2.0.1 on the same schedule: a
BootNotification and a StatusNotification on connecting, Heartbeats, and sessions as
TransactionEvents (Started with the register's reading, Updated with the meter values every
``--meter-interval``, Ended with the final reading) instead of Start/Stop/MeterValues. Counts
are kept per protocol, and in total.
Every charger follows the same day in compressed time (``--compress`` simulated seconds per
real second): Heartbeat every ``--heartbeat`` s; charging sessions of ``--session-minutes``
that take ``--charging-share`` of the time (Preparing, Authorize, StartTransaction, Charging,
MeterValues every ``--meter-interval`` s with ``--samples`` sampled values, StopTransaction,
Finishing, Available); a BootNotification and StatusNotifications on every connection.
Each charger's day starts at a random phase, so the window measured is a steady state.

``load`` mode runs for ``--duration`` real seconds. ``storm`` mode connects every charger,
starts transactions on ``--charging-share`` of them, drops every connection at once (no
close frame, as a network cut would), reconnects them all at once, and after the
orchestrator has checked the server side (a line on stdin) stops the open transactions.

Writes its counts and latencies as JSON to ``--out``; progress lines go to stdout.
"""

# ruff: noqa: S311  (random drives the simulation, not security)
from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import random
import resource
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import websockets

CALL_TIMEOUT = 30.0


@dataclass
class Stats:
    sent: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    ok: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    timeouts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    #: Round trips by why they were sent (steady state = heartbeat, meter, session_*).
    latency_by_purpose: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    bytes_out: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    bytes_in: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    error_codes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    connect_failures: int = 0
    connections: int = 0
    disconnects: int = 0
    samples_sent: int = 0
    samples_acked: int = 0
    sessions_started: int = 0
    sessions_stopped: int = 0
    #: Sessions already running when the charger connected (Authorize + Start, no Preparing).
    sessions_resumed: int = 0
    #: Why each CALL was sent (connection, session_start, session_stop, heartbeat, meter, resume).
    purpose: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    charger_sim_s: float = 0.0
    charging_sim_s: float = 0.0


def readings_16(energy: int, samples: int) -> list[dict[str, Any]]:
    """``samples`` (1-10) 1.6 SampledValues: the register, power, a three-phase set, SoC."""
    return [
        {"value": str(energy), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
        {"value": f"{random.uniform(3000, 11000):.0f}", "measurand": "Power.Active.Import", "unit": "W"},
        {
            "value": f"{random.uniform(5, 16):.1f}",
            "measurand": "Current.Import",
            "unit": "A",
            "phase": "L1",
        },
        {
            "value": f"{random.uniform(5, 16):.1f}",
            "measurand": "Current.Import",
            "unit": "A",
            "phase": "L2",
        },
        {
            "value": f"{random.uniform(5, 16):.1f}",
            "measurand": "Current.Import",
            "unit": "A",
            "phase": "L3",
        },
        {
            "value": f"{random.uniform(225, 235):.1f}",
            "measurand": "Voltage",
            "unit": "V",
            "phase": "L1-N",
        },
        {
            "value": f"{random.uniform(225, 235):.1f}",
            "measurand": "Voltage",
            "unit": "V",
            "phase": "L2-N",
        },
        {
            "value": f"{random.uniform(225, 235):.1f}",
            "measurand": "Voltage",
            "unit": "V",
            "phase": "L3-N",
        },
        {"value": f"{random.randint(20, 90)}", "measurand": "SoC", "unit": "Percent", "location": "EV"},
        {"value": f"{random.uniform(20, 40):.1f}", "measurand": "Temperature", "unit": "Celsius"},
    ][: max(1, min(samples, 10))]


def readings_201(energy: int, samples: int, context: str | None = None) -> list[dict[str, Any]]:
    """The same readings as 2.0.1 SampledValueTypes: numbers, ``unitOfMeasure``; Frequency in
    place of Temperature (not a 2.0.1 measurand)."""
    out = []
    for reading in readings_16(energy, samples):
        if reading["measurand"] == "Temperature":
            reading = {"value": f"{random.uniform(49.9, 50.1):.2f}", "measurand": "Frequency", "unit": "Hz"}
        text = reading["value"]
        value: dict[str, Any] = {
            "value": int(text) if text.isdigit() else float(text),
            "measurand": reading["measurand"],
            "unitOfMeasure": {"unit": reading["unit"]},
        }
        for name in ("phase", "location"):
            if name in reading:
                value[name] = reading[name]
        if context is not None:
            value["context"] = context
        out.append(value)
    return out


class CallFailed(Exception):
    pass


def now_iso() -> str:
    moment = datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


OCPP16, OCPP201 = "ocpp1.6", "ocpp2.0.1"


class Charger:
    """An OCPP 1.6 charger."""

    protocol = OCPP16

    def __init__(self, cp_id: str, tag: str, password: str | None, base_url: str, stats: Stats) -> None:
        self.cp_id = cp_id
        self.tag = tag
        self.password = password
        self.url = f"{base_url}{cp_id}"
        self.stats = stats
        self.ws: Any = None
        self.pending: dict[str, asyncio.Future[Any]] = {}
        self.serial = 0
        self.reader: asyncio.Task[None] | None = None
        self.transaction_id: int | None = None
        self.energy = random.randint(0, 10_000_000)
        self.purpose = "connection"

    async def connect(self) -> None:
        headers = {}
        if self.password is not None:
            token = base64.b64encode(f"{self.cp_id}:{self.password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        try:
            self.ws = await websockets.connect(
                self.url,
                subprotocols=[self.protocol],  # type: ignore[list-item]
                additional_headers=headers,
                open_timeout=60,
                ping_interval=None,
                max_queue=None,
                close_timeout=2,
            )
        except Exception:
            self.stats.connect_failures += 1
            raise
        self.stats.connections += 1
        # Answers are matched per connection: the reader of a dropped connection fails only
        # its own calls.
        self.pending = {}
        self.reader = asyncio.create_task(self._read(self.ws, self.pending))

    async def _read(self, ws: Any, pending: dict[str, asyncio.Future[Any]]) -> None:
        try:
            async for raw in ws:
                message = json.loads(raw)
                future = pending.pop(message[1], None)
                if future is None or future.done():
                    continue
                if message[0] == 3:
                    future.set_result((message[2], len(raw)))
                else:
                    future.set_exception(CallFailed(str(message[2])))
        except websockets.ConnectionClosed:
            pass
        finally:
            self.stats.disconnects += 1
            for future in pending.values():
                if not future.done():
                    future.set_exception(CallFailed("ConnectionClosed"))
            pending.clear()

    async def call(self, action: str, payload: dict[str, Any], label: str | None = None) -> dict[str, Any]:
        """One CALL and its answer; counted under ``label`` (default: the action)."""
        self.serial += 1
        unique_id = f"{self.serial}"
        text = json.dumps([2, unique_id, action, payload], separators=(",", ":"))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[unique_id] = future
        action = label or action
        self.stats.sent[action] += 1
        self.stats.purpose[self.purpose][action] += 1
        self.stats.bytes_out[action] += len(text)
        started = time.perf_counter()
        try:
            await self.ws.send(text)
            answer, size = await asyncio.wait_for(future, CALL_TIMEOUT)
        except TimeoutError:
            self.pending.pop(unique_id, None)
            self.stats.timeouts[action] += 1
            raise CallFailed("timeout") from None
        except CallFailed as exc:
            self.stats.errors[action] += 1
            self.stats.error_codes[str(exc)] += 1
            raise
        except websockets.ConnectionClosed:
            self.pending.pop(unique_id, None)
            self.stats.errors[action] += 1
            self.stats.error_codes["ConnectionClosed"] += 1
            raise CallFailed("ConnectionClosed") from None
        elapsed = time.perf_counter() - started
        self.stats.latency[action].append(elapsed)
        self.stats.latency_by_purpose[self.purpose].append(elapsed)
        self.stats.ok[action] += 1
        self.stats.bytes_in[action] += size
        return answer  # type: ignore[no-any-return]

    async def status(self, connector: int, state: str) -> None:
        await self.call(
            "StatusNotification",
            {"connectorId": connector, "errorCode": "NoError", "status": state, "timestamp": now_iso()},
        )

    async def boot(self, charging: bool) -> None:
        self.purpose = "connection"
        await self.call(
            "BootNotification",
            {
                "chargePointVendor": "Acme",
                "chargePointModel": "Wallbox-22",
                "chargePointSerialNumber": self.cp_id,
                "firmwareVersion": "4.2.1",
            },
        )
        await self.status(0, "Available")
        await self.status(1, "Charging" if charging else "Available")

    async def start_session(self) -> None:
        self.purpose = "session_start"
        await self.status(1, "Preparing")
        await self.call("Authorize", {"idTag": self.tag})
        answer = await self.call(
            "StartTransaction",
            {"connectorId": 1, "idTag": self.tag, "meterStart": self.energy, "timestamp": now_iso()},
        )
        self.transaction_id = int(answer["transactionId"])
        self.stats.sessions_started += 1
        await self.status(1, "Charging")

    async def resume_session(self) -> None:
        """Connected mid-session (a session in progress when the window opens)."""
        self.purpose = "resume"
        await self.call("Authorize", {"idTag": self.tag})
        answer = await self.call(
            "StartTransaction",
            {"connectorId": 1, "idTag": self.tag, "meterStart": self.energy, "timestamp": now_iso()},
        )
        self.transaction_id = int(answer["transactionId"])
        self.stats.sessions_resumed += 1

    async def meter_values(self, samples: int) -> None:
        self.purpose = "meter"
        self.energy += random.randint(50, 400)
        values = readings_16(self.energy, samples)
        payload: dict[str, Any] = {
            "connectorId": 1,
            "meterValue": [{"timestamp": now_iso(), "sampledValue": values}],
        }
        if self.transaction_id is not None:
            payload["transactionId"] = self.transaction_id
        self.stats.samples_sent += len(values)
        await self.call("MeterValues", payload)
        self.stats.samples_acked += len(values)

    async def stop_session(self) -> None:
        if self.transaction_id is None:
            return
        self.purpose = "session_stop"
        await self.status(1, "Finishing")
        await self.call(
            "StopTransaction",
            {
                "transactionId": self.transaction_id,
                "meterStop": self.energy,
                "timestamp": now_iso(),
                "idTag": self.tag,
                "reason": "Local",
            },
        )
        self.transaction_id = None
        self.stats.sessions_stopped += 1
        await self.status(1, "Available")

    def drop(self) -> None:
        """Cut the connection without a close frame (a network failure)."""
        if self.ws is not None and self.ws.transport is not None:
            self.ws.transport.abort()

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):  # best effort at the end of a run
                await asyncio.wait_for(self.ws.close(), 3)
        if self.reader is not None:
            self.reader.cancel()


class Charger201(Charger):
    """An OCPP 2.0.1 station with one EVSE and one connector, on the same schedule as
    :class:`Charger`: sessions are TransactionEvents; the connector reports Occupied while
    a cable is in (2.0.1 has no Preparing, Charging or Finishing: the transaction's
    chargingState says it)."""

    protocol = OCPP201

    def __init__(self, cp_id: str, tag: str, password: str | None, base_url: str, stats: Stats) -> None:
        super().__init__(cp_id, tag, password, base_url, stats)
        self.station_transaction: str | None = None
        self.seq_no = 0
        self.sessions = 0

    async def status(self, connector: int, state: str) -> None:
        await self.call(
            "StatusNotification",
            {"timestamp": now_iso(), "connectorStatus": state, "evseId": 1, "connectorId": connector},
        )

    async def boot(self, charging: bool) -> None:
        self.purpose = "connection"
        await self.call(
            "BootNotification",
            {
                "chargingStation": {
                    "vendorName": "Acme",
                    "model": "Wallbox-22",
                    "serialNumber": self.cp_id,
                    "firmwareVersion": "4.2.1",
                },
                "reason": "PowerUp",
            },
        )
        await self.status(1, "Occupied" if charging else "Available")

    async def transaction_event(
        self, event_type: str, trigger: str, *, samples: int = 1, token: bool = False, **info: Any
    ) -> dict[str, Any]:
        """Started and Ended carry the register's reading (Transaction.Begin/End), Updated the
        periodic ``samples``; the token goes with Started and Ended, as a station sends it."""
        assert self.station_transaction is not None
        context = {"Started": "Transaction.Begin", "Ended": "Transaction.End"}.get(event_type)
        payload: dict[str, Any] = {
            "eventType": event_type,
            "timestamp": now_iso(),
            "triggerReason": trigger,
            "seqNo": self.seq_no,
            "transactionInfo": {"transactionId": self.station_transaction, **info},
            "evse": {"id": 1, "connectorId": 1},
            "meterValue": [
                {"timestamp": now_iso(), "sampledValue": readings_201(self.energy, samples, context)}
            ],
        }
        if token:
            payload["idToken"] = {"idToken": self.tag, "type": "ISO14443"}
        self.seq_no += 1
        self.stats.samples_sent += samples
        answer = await self.call("TransactionEvent", payload, label=f"TransactionEvent {event_type}")
        self.stats.samples_acked += samples
        return answer

    async def _start(self) -> None:
        await self.call("Authorize", {"idToken": {"idToken": self.tag, "type": "ISO14443"}})
        self.sessions += 1
        self.station_transaction = f"{self.cp_id}-{self.sessions}"
        self.seq_no = 0
        await self.transaction_event("Started", "Authorized", token=True, chargingState="Charging")
        self.transaction_id = self.sessions  # "a transaction is open", as for 1.6

    async def start_session(self) -> None:
        self.purpose = "session_start"
        await self.status(1, "Occupied")
        await self._start()
        self.stats.sessions_started += 1

    async def resume_session(self) -> None:
        self.purpose = "resume"
        await self._start()
        self.stats.sessions_resumed += 1

    async def meter_values(self, samples: int) -> None:
        self.purpose = "meter"
        self.energy += random.randint(50, 400)
        await self.transaction_event("Updated", "MeterValuePeriodic", samples=samples)

    async def stop_session(self) -> None:
        if self.transaction_id is None:
            return
        self.purpose = "session_stop"
        await self.transaction_event(
            "Ended", "StopAuthorized", token=True, chargingState="EVConnected", stoppedReason="Local"
        )
        self.transaction_id = None
        self.station_transaction = None
        self.stats.sessions_stopped += 1
        await self.status(1, "Available")


# --- load mode ----------------------------------------------------------------------------------


async def simulate(charger: Charger, args: argparse.Namespace, start: float, end: float) -> None:
    """One charger's compressed day between ``start`` and ``end`` (loop time)."""
    loop = asyncio.get_running_loop()
    c = args.compress
    session = args.session_minutes * 60
    cycle = session / args.charging_share if args.charging_share > 0 else float("inf")
    phase = random.uniform(0, cycle) if cycle != float("inf") else 0.0

    def sim_now() -> float:
        return (loop.time() - start) * c + phase

    def charging_at(t: float) -> bool:
        return cycle != float("inf") and (t % cycle) >= cycle - session

    await asyncio.sleep(random.uniform(0, args.ramp))
    connected_at: float | None = None
    try:
        await charger.connect()
        connected_at = sim_now()
        await charger.boot(charging_at(sim_now()))
        if charging_at(sim_now()):
            await charger.resume_session()
        next_heartbeat = sim_now() + random.uniform(0, args.heartbeat)
        next_meter = sim_now() + random.uniform(0, args.meter_interval)
        while loop.time() < end:
            t = sim_now()
            try:
                if charging_at(t) and charger.transaction_id is None:
                    await charger.start_session()
                    next_meter = sim_now() + args.meter_interval
                elif not charging_at(t) and charger.transaction_id is not None:
                    await charger.stop_session()
                if sim_now() >= next_heartbeat:
                    next_heartbeat += args.heartbeat
                    charger.purpose = "heartbeat"
                    await charger.call("Heartbeat", {})
                if charger.transaction_id is not None and sim_now() >= next_meter:
                    next_meter += args.meter_interval
                    await charger.meter_values(args.samples)
            except CallFailed as exc:
                if str(exc) in ("ConnectionClosed", "timeout"):
                    return  # counted; a real charger would reconnect, the window is short
                # a CALLERROR: counted, and the charger goes on as a real one would
            # Sleep until the next event (boundary of session, heartbeat, meter), capped.
            upcoming = [next_heartbeat]
            if charger.transaction_id is not None:
                upcoming.append(next_meter)
            to_boundary = (cycle - session - (t % cycle)) % cycle if cycle != float("inf") else float("inf")
            if charger.transaction_id is not None:
                to_boundary = cycle - (t % cycle)
            wait = (min(min(upcoming) - sim_now(), to_boundary) + 0.001) / c
            await asyncio.sleep(max(0.0, min(wait, end - loop.time())))
    except CallFailed:
        pass
    except (OSError, websockets.InvalidHandshake, websockets.ConnectionClosed, TimeoutError):
        pass
    finally:
        if connected_at is not None:
            # Exposure: simulated charger time, and the part of it spent charging.
            finished = min(sim_now(), (end - start) * c + phase)
            charger.stats.charger_sim_s += max(0.0, finished - connected_at)
            charger.stats.charging_sim_s += _charging_overlap(connected_at, finished, cycle, session)


def _charging_overlap(a: float, b: float, cycle: float, session: float) -> float:
    """Simulated seconds within [a, b] that fall in the charging part of the cycle."""
    if cycle == float("inf") or b <= a:
        return 0.0
    total, t = 0.0, a
    while t < b:
        cycle_start = t - (t % cycle)
        charge_from, cycle_end = cycle_start + cycle - session, cycle_start + cycle
        total += max(0.0, min(b, cycle_end) - max(t, charge_from))
        t = cycle_end
    return total


async def run_load(args: argparse.Namespace, chargers: list[Charger], stats: Stats) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    start = loop.time()
    end = start + args.ramp + args.duration
    tasks = [asyncio.create_task(simulate(c, args, start, end)) for c in chargers]
    _, pending = await asyncio.wait(tasks, timeout=args.ramp + args.duration + CALL_TIMEOUT + 10)
    for task in pending:
        task.cancel()
    elapsed = loop.time() - start
    await asyncio.gather(*(c.close() for c in chargers), return_exceptions=True)
    return {"elapsed_s": elapsed, "unfinished_chargers": len(pending)}


# --- storm mode ---------------------------------------------------------------------------------


async def connect_and_boot(charger: Charger, retry_until: float, ramp: float = 0.0) -> float | None:
    """Connect (retrying like a charger would) and boot; the loop time the boot was answered."""
    loop = asyncio.get_running_loop()
    await asyncio.sleep(random.uniform(0, ramp))
    delay = 0.5
    while loop.time() < retry_until:
        try:
            await charger.connect()
            await charger.boot(charger.transaction_id is not None)
            return loop.time()
        except (CallFailed, OSError, websockets.InvalidHandshake, websockets.ConnectionClosed, TimeoutError):
            await charger.close()  # a failed boot: start over on a fresh connection
            await asyncio.sleep(random.uniform(0, delay))
            delay = min(delay * 2, 8.0)
    return None


async def run_storm(args: argparse.Namespace, chargers: list[Charger], stats: Stats) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + args.duration + 120
    first = await asyncio.gather(*(connect_and_boot(c, deadline, args.ramp) for c in chargers))
    if any(t is None for t in first):
        raise RuntimeError("not every charger could connect before the storm")
    charging = random.sample(chargers, round(len(chargers) * args.charging_share))
    for group in range(0, len(charging), 200):
        await asyncio.gather(*(c.start_session() for c in charging[group : group + 200]))
    await asyncio.gather(*(c.meter_values(args.samples) for c in charging))
    open_before = sorted(c.transaction_id for c in charging if c.transaction_id is not None)
    print(json.dumps({"event": "ready", "chargers": len(chargers), "open": len(open_before)}), flush=True)
    await asyncio.sleep(1.0)

    before = dict(stats.latency)
    stats.latency = defaultdict(list)
    drop_at = loop.time()
    for charger in chargers:
        charger.drop()
    await asyncio.sleep(0)  # let the readers notice
    answered = await asyncio.gather(*(connect_and_boot(c, drop_at + args.duration + 60) for c in chargers))
    times = [t - drop_at for t in answered if t is not None]
    storm_latency = dict(stats.latency)
    stats.latency = defaultdict(list, before)
    print(
        json.dumps({"event": "rebooted", "online": len(times), "all_s": max(times) if times else None}),
        flush=True,
    )
    # The orchestrator checks the server side, then tells us to go on.
    await loop.run_in_executor(None, sys.stdin.readline)
    await asyncio.gather(*(c.meter_values(args.samples) for c in charging), return_exceptions=True)
    await asyncio.gather(*(c.stop_session() for c in charging), return_exceptions=True)
    still_open = [c.cp_id for c in charging if c.transaction_id is not None]
    await asyncio.gather(*(c.close() for c in chargers), return_exceptions=True)
    return {
        "reconnect_s": times,
        "not_reconnected": len(answered) - len(times),
        "transactions_open_before_drop": len(open_before),
        "transactions_not_stopped": len(still_open),
        "storm_latency": {k: v for k, v in storm_latency.items()},
    }


# --- stress mode --------------------------------------------------------------------------------


async def stress(charger: Charger, calls: int, samples: int) -> None:
    """``calls`` CALLs back to back, each after the answer to the one before (OCPP's rule), no
    think time: a boot and two status reports, a session, MeterValues, its stop."""
    charger.serial = 0
    await charger.boot(False)
    await charger.start_session()
    charger.purpose = "meter"
    while charger.serial < calls - 3:  # a stop takes three CALLs
        await charger.meter_values(samples)
    await charger.stop_session()


async def run_stress(args: argparse.Namespace, chargers: list[Charger], stats: Stats) -> dict[str, Any]:
    """Every charger connected first (over the ramp), then all of them at once: the calls per
    second the server sustains and their latency, like an independent stress client."""
    loop = asyncio.get_running_loop()

    async def connect(charger: Charger) -> None:
        await asyncio.sleep(random.uniform(0, args.ramp))
        await charger.connect()

    await asyncio.gather(*(connect(c) for c in chargers))
    stats.latency = defaultdict(list)
    started = loop.time()
    outcomes = await asyncio.gather(
        *(stress(c, args.calls, args.samples) for c in chargers), return_exceptions=True
    )
    elapsed = loop.time() - started
    await asyncio.gather(*(c.close() for c in chargers), return_exceptions=True)
    return {
        "elapsed_s": elapsed,
        "unfinished_chargers": sum(1 for o in outcomes if isinstance(o, BaseException)),
    }


def as_dict(stats: Stats) -> dict[str, Any]:
    return {
        "sent": dict(stats.sent),
        "ok": dict(stats.ok),
        "errors": dict(stats.errors),
        "timeouts": dict(stats.timeouts),
        "error_codes": dict(stats.error_codes),
        "bytes_out": dict(stats.bytes_out),
        "bytes_in": dict(stats.bytes_in),
        "latency": {k: v for k, v in stats.latency.items()},
        "latency_by_purpose": {k: v for k, v in stats.latency_by_purpose.items()},
        "connect_failures": stats.connect_failures,
        "connections": stats.connections,
        "samples_sent": stats.samples_sent,
        "samples_acked": stats.samples_acked,
        "sessions_started": stats.sessions_started,
        "sessions_stopped": stats.sessions_stopped,
        "sessions_resumed": stats.sessions_resumed,
        "purpose": {k: dict(v) for k, v in stats.purpose.items()},
        "charger_hours": stats.charger_sim_s / 3600,
        "charging_hours": stats.charging_sim_s / 3600,
    }


def merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The totals of several :func:`as_dict` results: counts added, latencies concatenated."""

    def combine(a: Any, b: Any) -> Any:
        if isinstance(a, dict):
            return {k: combine(a[k], b[k]) if k in a and k in b else a.get(k, b.get(k)) for k in {*a, *b}}
        return a + b  # numbers add, latency lists concatenate

    total = parts[0]
    for part in parts[1:]:
        total = combine(total, part)
    return total


# --- main -------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("load", "storm", "stress"))
    parser.add_argument("--base-url", required=True, help="ws://127.0.0.1:PORT/ocpp/")
    parser.add_argument(
        "--chargers-file",
        required=True,
        help="JSON list of [id, tag, password|null, protocol (default ocpp1.6)]",
    )
    parser.add_argument("--out", required=True)
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--ramp", type=float, default=5)
    parser.add_argument("--compress", type=float, default=20)
    parser.add_argument("--heartbeat", type=float, default=300)
    parser.add_argument("--meter-interval", type=float, default=60)
    parser.add_argument("--session-minutes", type=float, default=60)
    parser.add_argument("--charging-share", type=float, default=0.25)
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--calls", type=int, default=24, help="stress mode: CALLs per charger")
    args = parser.parse_args()
    random.seed(args.seed)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4096 + 2 * len(json.loads(Path(args.chargers_file).read_text()))
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    fleet = json.loads(Path(args.chargers_file).read_text())
    by_protocol = {OCPP16: Stats(), OCPP201: Stats()}
    kinds = {OCPP16: Charger, OCPP201: Charger201}
    # [id, tag, password|null] or [id, tag, password|null, protocol]
    chargers = [
        kinds[entry[3] if len(entry) > 3 else OCPP16](
            *entry[:3], args.base_url, by_protocol[entry[3] if len(entry) > 3 else OCPP16]
        )
        for entry in fleet
    ]
    protocols = sorted({c.protocol for c in chargers})
    if args.mode != "load" and protocols != [OCPP16]:
        # storm and stress reset and split their latencies on one Stats: 1.6 fleets only.
        raise SystemExit(f"{args.mode} mode takes OCPP 1.6 fleets only")
    runner = {"load": run_load, "storm": run_storm, "stress": run_stress}[args.mode]
    result = asyncio.run(runner(args, chargers, by_protocol[OCPP16]))
    parts = {protocol: as_dict(by_protocol[protocol]) for protocol in protocols}
    result["stats"] = merge(list(parts.values()))
    result["stats_by_protocol"] = parts
    result["chargers_by_protocol"] = {p: sum(1 for c in chargers if c.protocol == p) for p in protocols}
    result["parameters"] = vars(args)
    Path(args.out).write_text(json.dumps(result))


if __name__ == "__main__":
    main()

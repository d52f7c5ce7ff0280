"""What one frame costs in billable work, per OCPP action, counted on the real code path.

The cost model (``csms cost``) multiplies these counts by the fleet's frames: they are
measured here, not typed in. Each action's frames go through ``csms.app.message.handle``
with the production collaborators (the DynamoDB connection store on moto, the PostgreSQL
repositories, the domain-event relay publishing to moto's EventBridge), and the script
counts, per frame:

- DynamoDB requests by operation, in two regimes: ``fresh`` (the connection's ``last_seen``
  is recent: no liveness write) and ``stale`` (it is older than the refresh period: one
  ``UpdateItem``). Which regime a frame is in depends on the time since the last write,
  which the cost model derives from the fleet's intervals;
- PostgreSQL statements and transactions (SQLAlchemy's ``before_cursor_execute`` and
  ``begin`` events on the product's engine): round trips, and commits (Aurora I/O);
- domain events recorded (rows added to ``domain_events``) and ``PutEvents`` calls;
- log lines and bytes of the message function at a sample rate of 1 (the model scales the
  routine lines by ``frame_log_sample_rate``).

``--write`` stores the figures in ``src/csms/cost/measured.json``; ``--check`` measures
again and exits 1 if a count differs from that file (or a byte size by more than 15 %), so
a change to the per-frame path that changes the bill cannot go unnoticed
(``tests/integration/test_benchmarks_smoke.py`` runs it).

Usage: ``.venv/bin/python benchmarks/measure_frames.py [--iterations 20] [--write | --check]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import _common as bench
import _frames as f

ROOT = bench.ROOT
MEASURED_PATH = ROOT / "src" / "csms" / "cost" / "measured.json"
CHARGER = "MEASURE-CP-1"
TENANT = "measure"
#: The actions a charger sends (MeterValues with the load benchmark's 3 samples).
ACTIONS = (
    "BootNotification",
    "Heartbeat",
    "StatusNotification",
    "Authorize",
    "StartTransaction",
    "MeterValues",
    "StopTransaction",
)
SAMPLES_PER_METER_VALUES = 3
#: Keys compared exactly by --check; the rest (bytes) within BYTES_TOLERANCE.
BYTES_TOLERANCE = 0.15


class CountingClient:
    """Wraps the lean DynamoDB client and counts each operation called through it."""

    def __init__(self, client: Any, counts: Counter[str]) -> None:
        self._client = client
        self._counts = counts
        self.exceptions = client.exceptions

    def __getattr__(self, name: str) -> Any:
        operation = getattr(self._client, name)

        def call(**kwargs: Any) -> Any:
            self._counts["".join(part.capitalize() for part in name.split("_"))] += 1
            return operation(**kwargs)

        return call


CONTEXT = bench.LambdaContext()


class SteppingClock:
    """The frames' clock: ``step`` seconds between frames (1 s: fresh, 1 h: stale)."""

    def __init__(self, start: datetime) -> None:
        self.at = start
        self.step = timedelta(seconds=1)

    def now(self) -> datetime:
        self.at += self.step
        return self.at


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--iterations", type=int, default=20, help="frames per action and regime")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help=f"store the figures in {MEASURED_PATH.name}")
    mode.add_argument("--check", action="store_true", help=f"exit 1 if they differ from {MEASURED_PATH.name}")
    args = parser.parse_args()
    with bench.database("csms_measure_frames") as url:
        aws = bench.MotoProcess()
        endpoint = aws.start()
        try:
            os.environ.update(
                {
                    "DATABASE_URL": url,
                    "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
                    "AWS_ENDPOINT_URL_EVENTBRIDGE": endpoint,
                    "CSMS_EVENT_BUS_NAME": "csms-measure-events",
                    "AWS_ACCESS_KEY_ID": "local",
                    "AWS_SECRET_ACCESS_KEY": "local",
                    "AWS_REGION": "us-east-1",
                    "CSMS_LOG_LEVEL": "INFO",
                    "CSMS_LOG_FORMAT": "json",
                    "POWERTOOLS_METRICS_DISABLED": "true",
                }
            )
            os.environ.pop("AWS_PROFILE", None)
            figures = measure(url, endpoint, max(2, args.iterations))
        finally:
            from csms.app import wiring

            if wiring.database.cache_info().currsize:
                wiring.database().engine.dispose()
            aws.stop()
    print(json.dumps(figures, indent=2))
    if args.write:
        MEASURED_PATH.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        print(f"written to {MEASURED_PATH.relative_to(ROOT)}")
    if args.check:
        drift = compare(json.loads(MEASURED_PATH.read_text(encoding="utf-8")), figures)
        for line in drift:
            print("DRIFT:", line, file=sys.stderr)
        if drift:
            print("rerun: .venv/bin/python benchmarks/measure_frames.py --write", file=sys.stderr)
            return 1
        print(f"no drift against {MEASURED_PATH.relative_to(ROOT)}")
    return 0


def measure(url: str, endpoint: str, n: int) -> dict[str, Any]:
    from sqlalchemy import event, text

    from csms.app import message, wiring
    from csms.aws.connections import DynamoConnectionStore
    from csms.aws.provisioning import ensure_connections_table, ensure_event_bus
    from csms.domain.connections import ConnectionRecord
    from csms.observability import logger
    from csms.services.provisioning import ProvisioningService

    sink = bench.quiet_logs()
    ensure_connections_table(endpoint, "csms-connections", "us-east-1")
    ensure_event_bus(endpoint, "csms-measure-events", "us-east-1")
    now = datetime.now(UTC)
    database = wiring.database()
    provisioning = ProvisioningService(database)
    provisioning.add_charger(CHARGER, TENANT, now, security_profile=0)
    provisioning.add_id_token("TAG-1", TENANT, now)

    dynamodb: Counter[str] = Counter()
    sql: Counter[str] = Counter()
    settings = wiring.settings()
    lean = wiring.connections()
    store = DynamoConnectionStore(
        CountingClient(lean._client, dynamodb),
        settings.connections_table,
        refresh=timedelta(seconds=settings.liveness_slack_seconds),
    )
    engine = database.engine
    event.listen(engine, "before_cursor_execute", lambda *a, **k: sql.update(["statements"]))
    event.listen(engine, "begin", lambda *a, **k: sql.update(["transactions"]))
    publishes: Counter[str] = Counter()
    relay = wiring.event_relay()
    publisher = relay._publisher  # the EventBridge publisher the relay flushes through
    original_publish = publisher.publish

    def counting_publish(events: Any) -> Any:
        publishes["PutEvents"] += 1
        return original_publish(events)

    publisher.publish = counting_publish

    clock = SteppingClock(now)
    store.register(ConnectionRecord("measure-conn", CHARGER, TENANT, "ocpp1.6", now))
    recorder: list[str] = []

    class Sender:
        def send(self, connection_id: str, frame: str) -> None:
            recorder.append(frame)

        def close(self, connection_id: str) -> None:
            pass

    deps = message.MessageDeps(store, wiring.dispatcher, lambda _: Sender(), clock, wiring.flush_events, 1.0)
    entry = logger.inject_lambda_context(lambda e, c: message.handle(e, c, deps))

    def events_count() -> int:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM domain_events")).scalar_one())

    state = {"serial": 0, "tx": 0, "at": 0.0}

    def next_frame(action: str) -> str:
        state["serial"] += 1
        state["at"] += 1.0
        uid, at = f"m-{state['serial']}", state["at"]
        if action == "BootNotification":
            return f.frame(uid, action, f.boot())
        if action == "Heartbeat":
            return f.frame(uid, action, {})
        if action == "StatusNotification":
            status = ("Available", "Preparing", "Charging", "Finishing")[state["serial"] % 4]
            return f.frame(uid, action, f.status(1, status, at))
        if action == "Authorize":
            return f.frame(uid, action, f.authorize("TAG-1"))
        if action == "StartTransaction":
            return f.frame(uid, action, f.start("TAG-1", state["serial"], at))
        if action == "MeterValues":
            return f.frame(
                uid, action, f.meter_values(state["tx"], SAMPLES_PER_METER_VALUES, at, state["serial"])
            )
        if action == "StopTransaction":
            return f.frame(uid, action, f.stop(state["tx"], 100_000 + state["serial"], at, "TAG-1"))
        raise ValueError(action)

    def send(action: str) -> str:
        body = next_frame(action)
        before = len(recorder)
        entry(
            {"requestContext": {"connectionId": "measure-conn", "routeKey": "$default"}, "body": body},
            CONTEXT,
        )
        answer = recorder[before] if len(recorder) > before else ""
        if not answer.startswith("[3,"):
            raise RuntimeError(f"{action} was answered {answer!r}")
        if action == "StartTransaction":
            state["tx"] = int(answer.split('"transactionId":')[1].split(",")[0].split("}")[0])
        return answer

    send("BootNotification")  # registers the charger as Accepted; warms every cache
    send("StartTransaction")
    out: dict[str, Any] = {
        "description": "Billable work per inbound frame on the message path, counted by "
        "benchmarks/measure_frames.py (read by csms cost)",
        "measured_at": datetime.now(UTC).date().isoformat(),
        "command": f"benchmarks/measure_frames.py --iterations {n} --write",
        "samples_per_meter_values": SAMPLES_PER_METER_VALUES,
        "liveness_refresh_seconds": settings.liveness_slack_seconds,
        "actions": {},
    }
    for action in ACTIONS:
        row: dict[str, Any] = {}
        for regime, step in (("fresh", timedelta(seconds=1)), ("stale", timedelta(hours=1))):
            opened: list[int] = []
            if action == "StopTransaction":  # each Stop closes a transaction of its own, opened uncounted
                for _ in range(n):
                    send("StartTransaction")
                    opened.append(state["tx"])
            clock.step = step
            events_before = events_count()
            dynamodb.clear()
            sql.clear()
            publishes.clear()
            log_bytes, log_lines = sink.bytes, sink.lines
            response_bytes = 0
            for _ in range(n):
                if opened:
                    state["tx"] = opened.pop(0)
                response_bytes += len(send(action).encode())
            per = 1.0 / n
            counted = sql.copy()  # before events_count(), whose own query is not the frames'
            events_added = events_count() - events_before
            row[regime] = {
                "dynamodb": {op: round(count * per, 3) for op, count in sorted(dynamodb.items())},
                "db_statements": round(counted["statements"] * per, 3),
                "db_transactions": round(counted["transactions"] * per, 3),
                "events": round(events_added * per, 3),
                "put_events_calls": round(publishes["PutEvents"] * per, 3),
                "log_lines": round((sink.lines - log_lines) * per, 3),
                "log_bytes": round((sink.bytes - log_bytes) * per, 1),
            }
            row["response_bytes"] = round(response_bytes * per, 1)
        row["request_bytes"] = len(next_frame(action).encode())
        out["actions"][action] = row
    return out


def compare(committed: dict[str, Any], fresh: dict[str, Any]) -> list[str]:
    """What differs: counts exactly, byte sizes beyond BYTES_TOLERANCE."""
    drift: list[str] = []

    def walk(path: str, old: Any, new: Any) -> None:
        if isinstance(old, dict) and isinstance(new, dict):
            for key in sorted(set(old) | set(new)):
                walk(f"{path}.{key}" if path else key, old.get(key, 0), new.get(key, 0))
            return
        if not isinstance(old, int | float) or not isinstance(new, int | float):
            return
        if "bytes" in path:
            if abs(new - old) > BYTES_TOLERANCE * max(abs(old), 1):
                drift.append(f"{path}: {old} -> {new}")
        elif abs(new - old) > 1e-9:
            drift.append(f"{path}: {old} -> {new}")

    walk("", committed.get("actions", {}), fresh.get("actions", {}))
    return drift


if __name__ == "__main__":
    raise SystemExit(main())

"""Meter ingestion into PostgreSQL: samples per second through the product's write path,
against the same rows loaded with ``COPY`` in the same run.

- ``handler``: MeterValues frames through the dispatcher (parse, schema validation, the
  transactions service, one unit of work per frame; no DynamoDB, no reply transport);
- ``repository``: ``PgMeterValues.add_samples`` in one unit of work per frame (the insert
  statement with ``ON CONFLICT DO NOTHING`` the handler uses);
- ``COPY``: psycopg ``cursor.copy`` of the same rows into ``meter_samples``, in one
  transaction (the bulk-load ceiling, without deduplication).

Each path writes its own charger's rows; the row counts are checked after each run.
Usage: ``.venv/bin/python benchmarks/bench_ingest.py [--samples 100000] [--per-frame 10]``
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import _common as bench
import _frames as f

TENANT = "bench"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=100_000, help="sampled values per path")
    parser.add_argument("--per-frame", type=int, default=10, help="sampled values per MeterValues (1-10)")
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    args = parser.parse_args()
    per_frame = max(1, min(10, args.per_frame))
    frames = max(1, args.samples // per_frame)
    total = frames * per_frame

    with bench.postgres() as pg:
        url = pg.database("csms_bench_ingest")
        results = run(url, frames, per_frame, pg)
        bench.header(
            "Meter ingestion: the product's write path vs COPY (samples per second)",
            samples=f"{total:,} per path, {per_frame} per MeterValues frame",
            postgresql=pg.describe(url),
        )
    storage = results.pop("storage")
    copy_rate = results["COPY"]["rate"]
    print(
        bench.table(
            ["path", "samples", "seconds", "samples/s", "vs COPY", "rows in PG", "PG CPU s"],
            [
                [
                    name,
                    r["samples"],
                    r["seconds"],
                    r["rate"],
                    f"{r['rate'] / copy_rate:.2f}x",
                    r["rows"],
                    r["pg_cpu"],
                ]
                for name, r in results.items()
            ],
        )
    )
    print(
        "\nhandler and repository: one transaction (BEGIN, INSERT ... SELECT FROM unnest(...) "
        "ON CONFLICT DO NOTHING, COMMIT) per frame, as every MeterValues is acknowledged only "
        "once durable; COPY: one transaction for everything."
    )
    print(
        f"\nstorage: {storage['bytes_per_sample']:.0f} bytes per sample in meter_samples (heap + indexes, "
        f"{storage['rows']:,} rows; csms cost --bytes-per-sample)"
    )
    bench.write_json(
        args.json, {"benchmark": "ingest", "per_frame": per_frame, "results": results, "storage": storage}
    )
    return 0


def run(url: str, frames: int, per_frame: int, pg: bench.Postgres) -> dict[str, dict[str, Any]]:
    import psycopg

    from csms.data.database import PgDatabase, make_engine
    from csms.domain.metering import MeterSample
    from csms.domain.stations import ChargerContext
    from csms.ocpp16.adapter import ADAPTER
    from csms.ocpp16.registry import Services
    from csms.ocppj.dispatcher import Dispatcher
    from csms.services.authorization import AuthorizationService
    from csms.services.core import ChargePointService, DataTransferService
    from csms.services.provisioning import ProvisioningService
    from csms.services.transactions import TransactionService

    engine = make_engine(url, pool_size=2)
    db = PgDatabase(engine)
    now = datetime.now(UTC)
    provisioning = ProvisioningService(db)
    for cp in ("INGEST-HANDLER", "INGEST-REPO", "INGEST-COPY"):
        provisioning.add_charger(cp, TENANT, now, security_profile=0)

    class NoConnections:
        def set_registration_status(self, *args: Any) -> None:
            pass

    dispatcher = Dispatcher(
        ADAPTER,
        Services(
            ChargePointService(db, NoConnections(), 300),  # type: ignore[arg-type]
            AuthorizationService(db),
            TransactionService(db),
            DataTransferService(),
        ),
    )
    results: dict[str, dict[str, Any]] = {}

    def measure(name: str, cp: str, work: Any) -> None:
        cpu = pg.cpu_seconds()
        started = time.perf_counter()
        work()
        seconds = time.perf_counter() - started
        rows = bench.count_rows(url, f"SELECT count(*) FROM meter_samples WHERE charge_point_id = '{cp}'")  # noqa: S608
        results[name] = {
            "samples": frames * per_frame,
            "seconds": seconds,
            "rate": frames * per_frame / seconds,
            "rows": rows,
            "pg_cpu": pg.cpu_seconds() - cpu,
        }

    texts = [
        f.frame(f"i{i}", "MeterValues", f.meter_values(None, per_frame, i, 1000 + i)) for i in range(frames)
    ]
    ctx = ChargerContext("INGEST-HANDLER", TENANT, "ingest")

    def handler() -> None:
        for text in texts:
            outcome = dispatcher.dispatch(text, ctx, now)
            if outcome.result != "CallResult":
                raise RuntimeError(f"MeterValues refused: {outcome.reply}")

    measure("handler", "INGEST-HANDLER", handler)

    def samples_at(i: int) -> list[MeterSample]:
        at = f.EPOCH + timedelta(seconds=i)
        return [
            MeterSample(
                timestamp=at,
                value=str(1000 + i),
                measurand=m,
                phase=p,
                unit=u,
                context="Sample.Periodic",
                location="Outlet",
                format="Raw",
            )
            for m, u, p in f._MEASURANDS[:per_frame]
        ]

    batches = [samples_at(i) for i in range(frames)]

    def repository() -> None:
        for batch in batches:
            db.run(
                lambda uow, batch=batch: uow.meter_values.add_samples(
                    TENANT, "INGEST-REPO", 1, None, batch, now
                )
            )

    measure("repository", "INGEST-REPO", repository)

    columns = (
        "tenant_id",
        "charge_point_id",
        "evse_id",
        "transaction_id",
        "timestamp",
        "measurand",
        "phase",
        "unit",
        "context",
        "location",
        "format",
        "value",
        "numeric_value",
        "received_at",
    )
    rows = [
        (
            TENANT,
            "INGEST-COPY",
            1,
            None,
            s.timestamp,
            s.measurand,
            s.phase or "",
            s.unit,
            s.context,
            s.location,
            s.format,
            s.value,
            float(s.value),
            now,
        )
        for batch in batches
        for s in batch
    ]

    def copy() -> None:
        with (
            psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn,
            conn.cursor() as cur,
            cur.copy(f"COPY meter_samples ({', '.join(columns)}) FROM STDIN") as load,
        ):
            for row in rows:
                load.write_row(row)

    measure("COPY", "INGEST-COPY", copy)
    engine.dispose()
    # What a stored sample costs in storage (heap + indexes of every partition), for csms cost.
    size = bench.count_rows(
        url,
        "SELECT coalesce(sum(pg_total_relation_size(inhrelid)), 0) FROM pg_inherits "
        "WHERE inhparent = 'meter_samples'::regclass",
    ) or bench.count_rows(url, "SELECT pg_total_relation_size('meter_samples')")
    rows = bench.count_rows(url, "SELECT count(*) FROM meter_samples")
    results["storage"] = {"bytes_per_sample": size / rows if rows else 0.0, "rows": rows, "bytes": size}
    return results


if __name__ == "__main__":
    raise SystemExit(main())

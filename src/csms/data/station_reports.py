"""PostgreSQL implementation of :class:`csms.domain.station_reports.ReportPartStore`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from csms.data.database import PgDatabase
from csms.data.tables import report_parts
from csms.domain.station_reports import ReportKind, ReportPart


class PgReportParts:
    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def add(self, tenant_id: str, charge_point_id: str, part: ReportPart, received_at: datetime) -> bool:
        with self._db.begin() as conn:
            inserted = conn.execute(
                pg_insert(report_parts)
                .values(
                    tenant_id=tenant_id,
                    charge_point_id=charge_point_id,
                    kind=part.kind.value,
                    request_id=part.request_id,
                    part=part.part,
                    seq_no=part.seq_no,
                    to_be_continued=part.to_be_continued,
                    generated_at=part.generated_at,
                    payload=part.payload,
                    received_at=received_at,
                )
                .on_conflict_do_nothing()
                .returning(report_parts.c.part)
            ).first()
            return inserted is not None

    def parts(
        self, tenant_id: str, charge_point_id: str, kind: ReportKind, request_id: int
    ) -> list[ReportPart]:
        c = report_parts.c
        with self._db.connect() as conn:
            rows = conn.execute(
                select(report_parts)
                .where(
                    c.tenant_id == tenant_id,
                    c.charge_point_id == charge_point_id,
                    c.kind == kind.value,
                    c.request_id == request_id,
                )
                .order_by(c.seq_no.nulls_last(), c.received_at, c.part)
            )
            return [
                ReportPart(
                    kind=ReportKind(r.kind),
                    request_id=r.request_id,
                    part=r.part,
                    to_be_continued=r.to_be_continued,
                    payload=r.payload,
                    seq_no=r.seq_no,
                    generated_at=r.generated_at,
                    received_at=r.received_at,
                )
                for r in rows
            ]

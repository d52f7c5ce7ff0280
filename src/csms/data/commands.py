"""PostgreSQL store of commands (the queue of record and the audit trail)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, func, insert, select, update

from csms.data.database import PgDatabase
from csms.data.outbox import append
from csms.data.tables import charge_point_events, commands, report_parts, transactions
from csms.domain.commands import Command, CommandStatus, FollowUp
from csms.domain.events import new_event
from csms.domain.firmware import EventKind

#: The 2.0.1 message a firmware or log progress step arrived in, as a follow-up's kind.
_STATUS_NOTIFICATION = {
    EventKind.FIRMWARE: "FirmwareStatusNotification",
    EventKind.DIAGNOSTICS: "LogStatusNotification",
}


def _command(row: Row[Any]) -> Command:
    m = row._mapping
    return Command(
        id=m["id"],
        tenant_id=m["tenant_id"],
        charge_point_id=m["charge_point_id"],
        name=m["name"],
        request=m["request"],
        status=CommandStatus(m["status"]),
        created_at=m["created_at"],
        protocol=m["protocol"],
        action=m["action"],
        ocpp_request=m["ocpp_request"],
        request_id=m["request_id"],
        result=m["result"],
        requested_by=m["requested_by"],
        ocpp_unique_id=m["ocpp_unique_id"],
        response=m["response"],
        error_code=m["error_code"],
        reason=m["reason"],
        sent_at=m["sent_at"],
        deadline=m["deadline"],
        finished_at=m["finished_at"],
        late_response=m["late_response"],
        late_response_at=m["late_response_at"],
        expires_at=m["expires_at"],
        attempts=m["attempts"],
    )


_OPEN = (CommandStatus.QUEUED.value, CommandStatus.SENT.value)


class PgCommandStore:
    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def add(self, command: Command) -> None:
        with self._db.begin() as conn:
            conn.execute(
                insert(commands).values(
                    id=command.id,
                    tenant_id=command.tenant_id,
                    charge_point_id=command.charge_point_id,
                    name=command.name,
                    protocol=command.protocol,
                    action=command.action,
                    request=command.request,
                    ocpp_request=command.ocpp_request,
                    request_id=command.request_id,
                    status=command.status.value,
                    requested_by=command.requested_by,
                    created_at=command.created_at,
                    expires_at=command.expires_at,
                )
            )

    def translated(self, command: Command) -> bool:
        with self._db.begin() as conn:
            result = conn.execute(
                update(commands)
                .where(commands.c.id == command.id, commands.c.status == CommandStatus.QUEUED.value)
                .values(
                    protocol=command.protocol,
                    action=command.action,
                    request=command.request,
                    ocpp_request=command.ocpp_request,
                    request_id=command.request_id,
                )
            )
            return bool(result.rowcount)

    def next_request_id(self) -> int:
        with self._db.begin() as conn:
            return int(conn.execute(select(func.nextval("command_request_ids"))).scalar_one())

    def get(self, tenant_id: str, command_id: str) -> Command | None:
        with self._db.connect() as conn:
            row = conn.execute(
                select(commands).where(commands.c.id == command_id, commands.c.tenant_id == tenant_id)
            ).first()
        return _command(row) if row else None

    def get_any(self, command_id: str) -> Command | None:
        with self._db.connect() as conn:
            row = conn.execute(select(commands).where(commands.c.id == command_id)).first()
        return _command(row) if row else None

    def search(
        self,
        tenant_id: str,
        charge_point_id: str | None,
        status: CommandStatus | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Command], int]:
        conditions = [commands.c.tenant_id == tenant_id]
        if charge_point_id is not None:
            conditions.append(commands.c.charge_point_id == charge_point_id)
        if status is not None:
            conditions.append(commands.c.status == status.value)
        where = and_(*conditions)
        with self._db.connect() as conn:
            total = conn.execute(select(func.count()).select_from(commands).where(where)).scalar_one()
            rows = conn.execute(
                select(commands)
                .where(where)
                .order_by(commands.c.created_at.desc(), commands.c.id)
                .limit(limit)
                .offset(offset)
            )
            return [_command(r) for r in rows], int(total)

    def oldest_queued(self, charge_point_id: str, now: datetime) -> Command | None:
        in_flight = (
            select(commands.c.id)
            .where(
                commands.c.charge_point_id == charge_point_id,
                commands.c.status == CommandStatus.SENT.value,
                commands.c.deadline > now,
            )
            .exists()
        )
        with self._db.connect() as conn:
            row = conn.execute(
                select(commands)
                .where(
                    commands.c.charge_point_id == charge_point_id,
                    commands.c.status == CommandStatus.QUEUED.value,
                    ~in_flight,
                )
                .order_by(commands.c.created_at, commands.c.id)
                .limit(1)
            ).first()
        return _command(row) if row else None

    def mark_sent(self, command_id: str, unique_id: str, sent_at: datetime, deadline: datetime) -> bool:
        with self._db.begin() as conn:
            result = conn.execute(
                update(commands)
                .where(commands.c.id == command_id, commands.c.status == CommandStatus.QUEUED.value)
                .values(
                    status=CommandStatus.SENT.value,
                    ocpp_unique_id=unique_id,
                    sent_at=sent_at,
                    deadline=deadline,
                    attempts=commands.c.attempts + 1,
                    reason=None,
                )
            )
            return bool(result.rowcount)

    def requeue(self, command_id: str, unique_id: str, reason: str) -> bool:
        with self._db.begin() as conn:
            result = conn.execute(
                update(commands)
                .where(
                    commands.c.id == command_id,
                    commands.c.status == CommandStatus.SENT.value,
                    commands.c.ocpp_unique_id == unique_id,
                )
                .values(
                    status=CommandStatus.QUEUED.value,
                    ocpp_unique_id=None,
                    sent_at=None,
                    deadline=None,
                    reason=reason,
                )
            )
            return bool(result.rowcount)

    def queued_expired(self, now: datetime, limit: int) -> list[Command]:
        # Served by the partial index ix_commands_queued_expiry (status = 'queued').
        with self._db.connect() as conn:
            rows = conn.execute(
                select(commands)
                .where(commands.c.status == CommandStatus.QUEUED.value, commands.c.expires_at <= now)
                .order_by(commands.c.expires_at)
                .limit(limit)
            )
            return [_command(r) for r in rows]

    def finish(
        self,
        command_id: str,
        status: CommandStatus,
        at: datetime,
        *,
        response: dict[str, Any] | None = None,
        error_code: str | None = None,
        reason: str | None = None,
        result: dict[str, Any] | None = None,
        unique_id: str | None = None,
        only: CommandStatus | None = None,
    ) -> bool:
        conditions = [commands.c.id == command_id, commands.c.status.in_(_OPEN)]
        if unique_id is not None:
            conditions += [
                commands.c.status == CommandStatus.SENT.value,
                commands.c.ocpp_unique_id == unique_id,
            ]
        if only is not None:
            conditions.append(commands.c.status == only.value)
        with self._db.begin() as conn:
            row = conn.execute(
                update(commands)
                .where(*conditions)
                .values(
                    status=status.value,
                    finished_at=at,
                    response=response,
                    error_code=error_code,
                    reason=reason,
                    result=result,
                )
                .returning(
                    commands.c.tenant_id, commands.c.charge_point_id, commands.c.name, commands.c.action
                )
            ).first()
            if row is None:
                return False
            append(
                conn,
                [
                    new_event(
                        "CommandFinished",
                        row.tenant_id,
                        row.charge_point_id,
                        at,
                        {
                            "commandId": command_id,
                            "name": row.name,
                            "action": row.action,
                            "status": status.value,
                            "response": response,
                            "errorCode": error_code,
                            "reason": reason,
                        },
                        correlation_id=f"command:{command_id}",
                    )
                ],
            )
            return True

    def by_unique_id(self, charge_point_id: str, unique_id: str) -> Command | None:
        with self._db.connect() as conn:
            row = conn.execute(
                select(commands).where(
                    commands.c.charge_point_id == charge_point_id, commands.c.ocpp_unique_id == unique_id
                )
            ).first()
        return _command(row) if row else None

    def record_late_response(self, command_id: str, payload: dict[str, Any], at: datetime) -> None:
        with self._db.begin() as conn:
            conn.execute(
                update(commands)
                .where(commands.c.id == command_id)
                .values(late_response=payload, late_response_at=at)
            )

    def sent_with_deadline_before(self, cutoff: datetime, limit: int) -> list[Command]:
        # Served by the partial index ix_commands_in_flight (status = 'sent'): few rows.
        with self._db.connect() as conn:
            rows = conn.execute(
                select(commands)
                .where(commands.c.status == CommandStatus.SENT.value, commands.c.deadline < cutoff)
                .order_by(commands.c.deadline)
                .limit(limit)
            )
            return [_command(r) for r in rows]

    def chargers_with_stale_queue(self, older_than: datetime) -> list[str]:
        with self._db.connect() as conn:
            rows = conn.execute(
                select(commands.c.charge_point_id)
                .where(commands.c.status == CommandStatus.QUEUED.value, commands.c.created_at < older_than)
                .distinct()
            )
            return [r.charge_point_id for r in rows]


class PgFollowUps:
    """What stations sent about a command after answering it (csms.domain.commands.FollowUps)."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def remote_start_transaction(
        self, tenant_id: str, charge_point_id: str, remote_start_id: int
    ) -> tuple[int, str] | None:
        with self._db.connect() as conn:
            row = conn.execute(
                select(transactions.c.id, transactions.c.transaction_id)
                .where(
                    transactions.c.tenant_id == tenant_id,
                    transactions.c.charge_point_id == charge_point_id,
                    transactions.c.remote_start_id == remote_start_id,
                )
                .order_by(transactions.c.start_timestamp.desc())
                .limit(1)
            ).first()
        return (int(row.id), str(row.transaction_id)) if row else None

    def follow_ups(self, tenant_id: str, charge_point_id: str, request_id: int) -> list[FollowUp]:
        # The parts the 2.0.1 inbound handlers keep by (station, kind, requestId): NotifyReport,
        # ReportChargingProfiles, NotifyCustomerInformation (migration 0015); then the firmware
        # and log progress steps with that requestId (migration 0022), oldest first.
        c = report_parts.c
        e = charge_point_events.c
        with self._db.connect() as conn:
            parts = conn.execute(
                select(report_parts)
                .where(
                    c.tenant_id == tenant_id, c.charge_point_id == charge_point_id, c.request_id == request_id
                )
                .order_by(c.kind, c.seq_no.nulls_last(), c.received_at, c.part)
            ).all()
            steps = conn.execute(
                select(e.kind, e.status, e.received_at)
                .where(
                    e.tenant_id == tenant_id, e.charge_point_id == charge_point_id, e.request_id == request_id
                )
                .order_by(e.received_at, e.id)
            ).all()
        return [
            FollowUp(
                kind=r.kind,
                received_at=r.received_at,
                data={
                    **({"seqNo": r.seq_no} if r.seq_no is not None else {}),
                    "tbc": r.to_be_continued,
                    **r.payload,
                },
            )
            for r in parts
        ] + [
            FollowUp(
                kind=_STATUS_NOTIFICATION[EventKind(r.kind)],
                received_at=r.received_at,
                data={"status": r.status},
            )
            for r in steps
        ]

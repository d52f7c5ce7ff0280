"""Commands: what the CSMS asks a charger to do, queued per charger, sent one at a time and
finished by the charger's answer (the pipeline itself is :mod:`csms.services.commands`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class CommandStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    FAILED = "failed"
    TIMED_OUT = "timed_out"

    @property
    def final(self) -> bool:
        return self not in (CommandStatus.QUEUED, CommandStatus.SENT)


@dataclass(frozen=True, slots=True)
class Command:
    id: str
    tenant_id: str
    charge_point_id: str
    action: str
    request: dict[str, Any]
    status: CommandStatus
    created_at: datetime
    requested_by: str | None = None
    ocpp_unique_id: str | None = None
    response: dict[str, Any] | None = None
    error_code: str | None = None
    reason: str | None = None
    sent_at: datetime | None = None
    deadline: datetime | None = None
    finished_at: datetime | None = None
    late_response: dict[str, Any] | None = None
    late_response_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PendingCall:
    """The charger's outstanding CALL (its single slot)."""

    charge_point_id: str
    unique_id: str
    action: str
    command_id: str
    tenant_id: str
    deadline: datetime


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a command ended, as decided by its action's result handler."""

    status: CommandStatus
    reason: str | None = None


class CommandStore(Protocol):
    def add(self, command: Command) -> None: ...

    def get(self, tenant_id: str, command_id: str) -> Command | None: ...

    def get_any(self, command_id: str) -> Command | None: ...

    def search(
        self,
        tenant_id: str,
        charge_point_id: str | None,
        status: CommandStatus | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Command], int]: ...

    def oldest_queued(self, charge_point_id: str, now: datetime) -> Command | None:
        """The charger's oldest queued command; None while a command sent to it still awaits
        its answer (status ``sent``, deadline not passed). The slot alone is not enough: it is
        freed when the answer arrives, before that answer's effects are applied, and the next
        command must not overtake them (e.g. the next part of a SendLocalList after a refusal)."""
        ...

    def mark_sent(self, command_id: str, unique_id: str, sent_at: datetime, deadline: datetime) -> bool:
        """queued → sent; False if it was not queued any more."""
        ...

    def finish(
        self,
        command_id: str,
        status: CommandStatus,
        at: datetime,
        *,
        response: dict[str, Any] | None = None,
        error_code: str | None = None,
        reason: str | None = None,
    ) -> bool:
        """queued/sent → a final status; False if it had already ended."""
        ...

    def by_unique_id(self, charge_point_id: str, unique_id: str) -> Command | None: ...

    def record_late_response(self, command_id: str, payload: dict[str, Any], at: datetime) -> None: ...

    def chargers_with_stale_queue(self, older_than: datetime) -> list[str]: ...

    def sent_with_deadline_before(self, cutoff: datetime, limit: int) -> list[Command]:
        """Commands still ``sent`` whose deadline passed before ``cutoff`` (oldest first)."""
        ...


class PendingCalls(Protocol):
    def claim(self, call: PendingCall, now: datetime) -> bool:
        """Take the charger's slot unless another unexpired call holds it."""
        ...

    def pop(self, charge_point_id: str, unique_id: str) -> PendingCall | None:
        """Free the slot if it holds ``unique_id``; returns the call it held."""
        ...

    def expired(self, now: datetime) -> list[PendingCall]: ...


class CommandQueue(Protocol):
    def enqueue(self, command: Command) -> None: ...

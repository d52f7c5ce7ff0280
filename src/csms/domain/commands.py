"""Commands: what the CSMS asks a station to do, queued per station, sent one at a time and
finished by the station's answer (the pipeline itself is :mod:`csms.services.commands`).

A command has a name: a neutral one both protocols share (``reset``, ``start-transaction``,
...) or, for an action one protocol alone has, its OCPP action (``GetBaseReport``). It is
translated for the protocol of the station (:class:`Translation`) when that is known, and again
at delivery if the station connected with another protocol meanwhile."""

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
    #: The neutral name, or the OCPP action of a protocol-specific command.
    name: str
    #: The body as the operator gave it, with the ids the CSMS allocated filled in (or, for one
    #: part of a request split into several commands, that part).
    request: dict[str, Any]
    status: CommandStatus
    created_at: datetime
    #: The subprotocol it was translated for (None: not yet, the station's is unknown).
    protocol: str | None = None
    #: The OCPP action and payload sent (or to be sent) in that protocol.
    action: str | None = None
    ocpp_request: dict[str, Any] | None = None
    #: The id the station echoes in the messages that follow (2.0.1 requestId, remoteStartId).
    request_id: int | None = None
    #: The answer read in neutral terms, where it says more than a status (a schedule, ...).
    result: dict[str, Any] | None = None
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
    #: Until when it may still be sent: a command whose station is offline (or whose send found
    #: the connection gone) waits for the station's next connection until then, and is timed
    #: out with the reason after (migration 0020). None: rows from before 0020.
    expires_at: datetime | None = None
    #: How many times it was sent (a send that found the connection gone counts).
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class Answer:
    """The station's answer to one of our CALLs, as received: a CALLRESULT's ``payload`` or a
    CALLERROR's ``error`` (code, description). Kept on the slot until the command's outcome is
    stored, so a crash in between loses nothing (the sweeper settles it)."""

    payload: dict[str, Any] | None = None
    error: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class PendingCall:
    """The charger's outstanding CALL (its single slot)."""

    charge_point_id: str
    unique_id: str
    action: str
    command_id: str
    tenant_id: str
    deadline: datetime
    #: The station's answer once it arrived (the slot is freed after the outcome is stored).
    answer: Answer | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a command ended, as decided by its action's result handler; ``result`` is what the
    answer says in neutral terms, when it says more than accepted or not."""

    status: CommandStatus
    reason: str | None = None
    result: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Translation:
    """A command in one protocol: the OCPP action and payload, and the id the station will echo
    in its follow-ups (None: it echoes none)."""

    action: str
    payload: dict[str, Any]
    request_id: int | None = None


@dataclass(frozen=True, slots=True)
class FollowUp:
    """One message a station sent about a command after answering it (a NotifyReport part, a
    FirmwareStatusNotification, ...), found by the command's request id."""

    kind: str
    received_at: datetime
    data: dict[str, Any]


class CommandStore(Protocol):
    def add(self, command: Command) -> None: ...

    def translated(self, command: Command) -> bool:
        """Record a queued command's translation (protocol, action, ocpp_request, request,
        request_id); False if it is not queued any more."""
        ...

    def next_request_id(self) -> int:
        """A new id for the station to echo (1 to 2^31-1, cycling)."""
        ...

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
        """queued → sent (one more attempt); False if it was not queued any more."""
        ...

    def requeue(self, command_id: str, unique_id: str, reason: str) -> bool:
        """sent (as ``unique_id``) → queued again, with the reason it waits; False if it is not
        sent as that call any more."""
        ...

    def queued_expired(self, now: datetime, limit: int) -> list[Command]:
        """Commands still queued whose expiry passed (oldest expiry first)."""
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
        result: dict[str, Any] | None = None,
        unique_id: str | None = None,
        only: CommandStatus | None = None,
    ) -> bool:
        """queued/sent → a final status; False if it had already ended. ``unique_id``: only if
        it is sent as that call (an answer or a deadline settles the call it is about, never a
        re-queued command); ``only``: only from that status."""
        ...

    def by_unique_id(self, charge_point_id: str, unique_id: str) -> Command | None: ...

    def record_late_response(self, command_id: str, payload: dict[str, Any], at: datetime) -> None: ...

    def chargers_with_stale_queue(self, older_than: datetime) -> list[str]: ...

    def sent_with_deadline_before(self, cutoff: datetime, limit: int) -> list[Command]:
        """Commands still ``sent`` whose deadline passed before ``cutoff`` (oldest first)."""
        ...


class FollowUps(Protocol):
    """What stations sent about a command after answering it, by (station, request id): the
    inbound side stores them, the command shows them."""

    def follow_ups(self, tenant_id: str, charge_point_id: str, request_id: int) -> list[FollowUp]: ...

    def remote_start_transaction(
        self, tenant_id: str, charge_point_id: str, remote_start_id: int
    ) -> tuple[int, str] | None:
        """The transaction a remote start produced: (our id, the station's transaction id)."""
        ...


class PendingCalls(Protocol):
    def claim(self, call: PendingCall, now: datetime) -> bool:
        """Take the charger's slot unless another call holds it (unexpired, or answered and
        not settled yet)."""
        ...

    def answer(self, charge_point_id: str, unique_id: str, answer: Answer) -> PendingCall | None:
        """Record the station's answer on the slot if it holds ``unique_id`` and has no answer
        yet; returns the call (with the answer), None otherwise (a late or repeated answer)."""
        ...

    def pop(self, charge_point_id: str, unique_id: str) -> PendingCall | None:
        """Free the slot if it holds ``unique_id``; returns the call it held."""
        ...

    def expired(self, now: datetime) -> list[PendingCall]:
        """Calls past their deadline, with their answer if one was recorded and not settled."""
        ...


class CommandQueue(Protocol):
    def enqueue(self, command: Command) -> None: ...

"""Server-initiated commands: submit, deliver one at a time per charger, finish.

PostgreSQL is the queue of record (``commands`` rows, oldest first per charger); SQS FIFO
(group = charger) only triggers delivery. Whoever finds a charger's single outstanding-CALL
slot free — the commands function on an SQS message, the message function when an answer
frees the slot, the timeout sweeper — sends that charger's *oldest* queued command. The slot
is a conditional DynamoDB write and ``queued → sent`` a conditional update, so a command is
sent once and in order, and a busy slot never waits for an SQS redelivery.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from csms.clock import Clock
from csms.constants import MAX_FRAME_BYTES
from csms.domain.commands import (
    Command,
    CommandQueue,
    CommandStatus,
    CommandStore,
    Outcome,
    PendingCall,
    PendingCalls,
)
from csms.domain.connections import ConnectionStore, FrameSender
from csms.domain.events import correlation
from csms.domain.tenancy import TenantScope
from csms.errors import ConnectionGone, InvalidInput, NotFound
from csms.services.file_urls import FileUrlRules, check_file_urls
from csms.services.stations import Stations

log = logging.getLogger(__name__)

#: How long after its deadline a command still "sent" without a pending call is timed out by
#: the sweeper's safety net (well after the slot-based timeout, so that one always goes first).
ORPHAN_GRACE: Final = timedelta(minutes=5)


#: Prepares an action's request at submit time (allocate ids, create rows); may return the
#: request to store instead (e.g. with a reservationId filled in).
Preparer = Callable[[Command], dict[str, Any]]
#: Builds the CALL payload at delivery time from the stored request (default: as stored).
Builder = Callable[[Command], dict[str, Any]]
#: Applies the side effects of a CALLRESULT and decides the command's outcome.
ResultHandler = Callable[[Command, dict[str, Any], datetime], Outcome]
#: Called when a command ends without a CALLRESULT (failed, timed out, CALLERROR).
FailureHandler = Callable[[Command, datetime], None]
#: The text of a CALL frame: (uniqueId, action, payload) -> text; the protocol adapter's.
FrameBuilder = Callable[[str, str, dict[str, Any]], str]
#: Splits one (prepared) request into several, sent one after another as separate commands
#: (SendLocalList chunks that keep every frame under 32 KB). Returns them in sending order.
Expander = Callable[[Command], list[dict[str, Any]]]


@dataclass
class ActionSpec:
    """What the pipeline needs to know about one server-initiated action."""

    name: str
    on_result: ResultHandler
    prepare: Preparer | None = None
    on_failure: FailureHandler | None = None
    build: Builder | None = None
    expand: Expander | None = None


@dataclass
class CommandRegistry:
    actions: dict[str, ActionSpec] = field(default_factory=dict)

    def register(self, spec: ActionSpec) -> None:
        self.actions[spec.name] = spec

    def spec(self, action: str) -> ActionSpec:
        try:
            return self.actions[action]
        except KeyError:
            raise InvalidInput(f"unknown command {action!r}") from None


class SlotBusy(Exception):
    """The charger has an outstanding CALL; the command stays queued."""


def status_outcome(accepted: tuple[str, ...] = ("Accepted",)) -> ResultHandler:
    """Outcome from a response's ``status`` field: listed values accept, others reject."""

    def handler(command: Command, payload: Mapping[str, Any], now: datetime) -> Outcome:
        status = payload.get("status")
        if status in accepted:
            return Outcome(CommandStatus.ACCEPTED)
        return Outcome(CommandStatus.REJECTED, reason=f"charger answered {status}")

    return handler


def always_accepted(command: Command, payload: Mapping[str, Any], now: datetime) -> Outcome:
    """For responses without a status (the charger's answer is the result)."""
    return Outcome(CommandStatus.ACCEPTED)


class CommandService:
    """The pipeline's three entry points: submit (API), deliver (commands function, message
    function, sweeper) and complete (message function)."""

    def __init__(
        self,
        store: CommandStore,
        pending: PendingCalls,
        queue: CommandQueue,
        connections: ConnectionStore,
        sender: Callable[[], FrameSender],
        registry: CommandRegistry,
        clock: Clock,
        *,
        stations: Stations,
        timeout: timedelta,
        call_frame: FrameBuilder,
        validate_request: Callable[[str, dict[str, Any]], None],
        validate_response: Callable[[str, dict[str, Any]], None],
        file_url_rules: Callable[[str], FileUrlRules] = lambda tenant_id: FileUrlRules(
            ("https", "ftps", "sftp")
        ),
    ) -> None:
        self._store = store
        self._pending = pending
        self._queue = queue
        self._connections = connections
        self._sender = sender
        self._registry = registry
        self._clock = clock
        self._stations = stations
        self._timeout = timeout
        self._call_frame = call_frame
        self._validate_request = validate_request
        self._validate_response = validate_response
        self._file_url_rules = file_url_rules

    # --- submit ---------------------------------------------------------------------------

    def submit(
        self, scope: TenantScope, charge_point_id: str, action: str, request: dict[str, Any]
    ) -> Command:
        """Validate, record as queued, and trigger delivery. The charger must be the scope's
        (NotFound) and in service (Conflict); the command is requested by the scope's subject."""
        return self.submit_all(scope, charge_point_id, action, request)[0]

    def submit_all(
        self, scope: TenantScope, charge_point_id: str, action: str, request: dict[str, Any]
    ) -> list[Command]:
        """As :meth:`submit`; an action with an ``expand`` hook may become several commands,
        returned in sending order. All are validated before any is recorded."""
        self._stations.require_in_service(scope, charge_point_id)
        spec = self._registry.spec(action)
        command = Command(
            id=str(uuid.uuid4()),
            tenant_id=scope.tenant_id,
            charge_point_id=charge_point_id,
            action=action,
            request=request,
            status=CommandStatus.QUEUED,
            created_at=self._clock.now(),
            requested_by=scope.subject,
        )
        check_file_urls(action, request, self._file_url_rules(scope.tenant_id))
        if spec.prepare is not None:
            command = _replace(command, request=spec.prepare(command))
        batch = [command]
        if spec.expand is not None:
            requests = spec.expand(command)
            if not requests:
                raise InvalidInput(f"{action}: nothing to send")
            # A charger's queue is ordered by created_at: a microsecond apart keeps the order.
            batch = [
                _replace(
                    command,
                    id=command.id if i == 0 else str(uuid.uuid4()),
                    request=part,
                    created_at=command.created_at + timedelta(microseconds=i),
                )
                for i, part in enumerate(requests)
            ]
        for queued in batch:
            self._validate_request(action, spec.build(queued) if spec.build else queued.request)
        for queued in batch:
            self._store.add(queued)
        for queued in batch:
            self._queue.enqueue(queued)
        return batch

    def get(self, scope: TenantScope, command_id: str) -> Command:
        found = self._store.get(scope.tenant_id, command_id)
        if found is None:
            raise NotFound(f"no command {command_id!r}")
        return found

    def search(
        self,
        scope: TenantScope,
        charge_point_id: str,
        status: CommandStatus | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Command], int]:
        """A charger's commands, newest first."""
        self._stations.require(scope, charge_point_id)
        return self._store.search(scope.tenant_id, charge_point_id, status, limit, offset)

    # --- deliver --------------------------------------------------------------------------

    def deliver_next(self, charge_point_id: str) -> Command | None:
        """Send the charger's oldest queued command if its slot is free; commands that
        cannot be sent (charger offline, frame too large) fail at once and the next is
        tried. Returns the command sent, None if none was (nothing queued, slot busy)."""
        while True:
            command = self._store.oldest_queued(charge_point_id, self._clock.now())
            if command is None:
                return None
            try:
                if self._deliver(command):
                    return command
            except SlotBusy:
                return None
            except _AlreadyTaken:
                continue  # someone else sent it meanwhile: look at the next one

    def _deliver(self, command: Command) -> bool:
        """True if sent; False if it failed at once. Raises SlotBusy / _AlreadyTaken."""
        now = self._clock.now()
        connection_id = self._connections.current_connection(command.charge_point_id)
        if connection_id is None:
            self._fail(command, now, "charger offline")
            return False
        spec = self._registry.spec(command.action)
        payload = spec.build(command) if spec.build else command.request
        unique_id = str(uuid.uuid4())
        frame = self._call_frame(unique_id, command.action, payload)
        size = len(frame.encode())
        if size > MAX_FRAME_BYTES:
            self._fail(command, now, f"frame of {size} bytes exceeds API Gateway's 32 KB frame limit")
            return False
        deadline = now + self._timeout
        call = PendingCall(
            charge_point_id=command.charge_point_id,
            unique_id=unique_id,
            action=command.action,
            command_id=command.id,
            tenant_id=command.tenant_id,
            deadline=deadline,
        )
        if not self._pending.claim(call, now):
            raise SlotBusy(command.charge_point_id)
        if not self._store.mark_sent(command.id, unique_id, now, deadline):
            self._pending.pop(command.charge_point_id, unique_id)
            raise _AlreadyTaken
        try:
            self._sender().send(connection_id, frame)
        except ConnectionGone:
            self._pending.pop(command.charge_point_id, unique_id)
            self._fail(command, now, "charger offline (connection gone)")
            return False
        except Exception:
            # Unknown whether it left: keep the slot; the answer or the deadline decides.
            log.exception("sending the command failed", extra={"command_id": command.id})
        log.info(
            "command sent",
            extra={"command_id": command.id, "action": command.action, "ocpp_unique_id": unique_id},
        )
        return True

    # --- complete -------------------------------------------------------------------------

    def complete(
        self,
        charge_point_id: str,
        unique_id: str,
        payload: dict[str, Any] | None,
        error: tuple[str, str] | None,
    ) -> Command | None:
        """Handle the charger's CALLRESULT (``payload``) or CALLERROR (``error`` = code,
        description) for our CALL ``unique_id``, then send the next queued command."""
        now = self._clock.now()
        pending = self._pending.pop(charge_point_id, unique_id)
        if pending is None:
            self._late(charge_point_id, unique_id, payload, error, now)
            return None
        command = self._store.get_any(pending.command_id)
        if command is None:  # pragma: no cover - the row is written before the slot is taken
            log.error("pending call for an unknown command", extra={"command_id": pending.command_id})
            self.deliver_next(charge_point_id)
            return None
        spec = self._registry.spec(command.action)
        if error is not None:
            code, description = error
            # finish() is False if the command ended meanwhile (the sweeper's safety net):
            # its on_failure ran there, and must not run twice.
            if (
                self._store.finish(command.id, CommandStatus.FAILED, now, error_code=code, reason=description)
                and spec.on_failure
            ):
                _in_command(command, spec.on_failure, now)
        else:
            assert payload is not None
            try:
                self._validate_response(command.action, payload)
            except Exception as exc:
                if (
                    self._store.finish(
                        command.id,
                        CommandStatus.FAILED,
                        now,
                        response=payload,
                        reason=f"invalid response: {exc}",
                    )
                    and spec.on_failure
                ):
                    _in_command(command, spec.on_failure, now)
            else:
                with correlation(f"command:{command.id}"):
                    outcome = spec.on_result(command, payload, now)
                self._store.finish(command.id, outcome.status, now, response=payload, reason=outcome.reason)
        self.deliver_next(charge_point_id)
        return self._store.get_any(command.id)

    def _late(
        self,
        charge_point_id: str,
        unique_id: str,
        payload: dict[str, Any] | None,
        error: tuple[str, str] | None,
        now: datetime,
    ) -> None:
        command = self._store.by_unique_id(charge_point_id, unique_id)
        if command is None:
            log.warning("answer to no call of ours", extra={"ocpp_unique_id": unique_id})
            return
        recorded = (
            payload
            if payload is not None
            else {"errorCode": error[0], "errorDescription": error[1]}
            if error
            else {}
        )
        self._store.record_late_response(command.id, recorded, now)
        log.warning("late answer recorded", extra={"command_id": command.id, "status": command.status.value})

    # --- sweep ----------------------------------------------------------------------------

    def sweep(
        self, stale_after: timedelta = timedelta(seconds=30), now: datetime | None = None
    ) -> dict[str, int]:
        """Time out calls past their deadline and kick chargers whose queue stalled."""
        now = now or self._clock.now()
        timed_out = errors = 0
        for call in self._pending.expired(now):
            # One charger's failure (a dependency down, a command that cannot be sent) must
            # not stop the sweep for the others. A slot popped but not finished is the safety
            # net's below; a queue not kicked, the stale-queue kick's of a later run.
            try:
                if self._pending.pop(call.charge_point_id, call.unique_id) is None:
                    continue  # answered meanwhile
                command = self._store.get_any(call.command_id)
                if command is not None and self._store.finish(
                    command.id, CommandStatus.TIMED_OUT, now, reason="no answer before the deadline"
                ):
                    timed_out += 1
                    spec = self._registry.actions.get(command.action)
                    if spec and spec.on_failure:
                        _in_command(command, spec.on_failure, now)
                self.deliver_next(call.charge_point_id)
            except Exception:
                log.exception(
                    "sweeping an expired call failed", extra={"charge_point_id": call.charge_point_id}
                )
                errors += 1
        # Safety net: a command whose slot is gone but which is still "sent" in PostgreSQL
        # (its answer took the slot, then PostgreSQL failed or the function was killed before
        # the result was written) would otherwise stay "sent" for ever. Its deadline passed
        # ORPHAN_GRACE ago, so an expired slot of its own was handled by the loop above.
        orphaned = 0
        for command in self._store.sent_with_deadline_before(now - ORPHAN_GRACE, limit=500):
            try:
                if self._store.finish(
                    command.id,
                    CommandStatus.TIMED_OUT,
                    now,
                    reason="no answer recorded before the deadline (the answer could not be stored)",
                ):
                    orphaned += 1
                    spec = self._registry.actions.get(command.action)
                    if spec and spec.on_failure:
                        _in_command(command, spec.on_failure, now)
            except Exception:
                log.exception("timing out an orphaned command failed", extra={"command_id": command.id})
                errors += 1
        if orphaned:
            log.error("timed out commands left sent without a pending call", extra={"count": orphaned})
        kicked = 0
        for charge_point_id in self._store.chargers_with_stale_queue(now - stale_after):
            try:
                if self.deliver_next(charge_point_id) is not None:
                    kicked += 1
            except Exception:
                log.exception(
                    "sending a stalled queue's next command failed",
                    extra={"charge_point_id": charge_point_id},
                )
                errors += 1
        return {"timed_out": timed_out + orphaned, "orphaned": orphaned, "kicked": kicked, "errors": errors}

    def _fail(self, command: Command, now: datetime, reason: str) -> None:
        if self._store.finish(command.id, CommandStatus.FAILED, now, reason=reason):
            spec = self._registry.actions.get(command.action)
            if spec and spec.on_failure:
                _in_command(command, spec.on_failure, now)


def _in_command(command: Command, callback: Callable[[Command, datetime], None], now: datetime) -> None:
    """Run an action's callback with the command as the correlation of its events."""
    with correlation(f"command:{command.id}"):
        callback(command, now)


class _AlreadyTaken(Exception):
    pass


def _replace(command: Command, **changes: Any) -> Command:
    from dataclasses import replace

    return replace(command, **changes)

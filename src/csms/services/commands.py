"""Server-initiated commands: submit, translate, deliver one at a time per station, finish.

PostgreSQL is the queue of record (``commands`` rows, oldest first per charger); SQS FIFO
(group = charger) only triggers delivery. Whoever finds a charger's single outstanding-CALL
slot free — the commands function on an SQS message, the message function when an answer
frees the slot or when a station's first frame on a new connection was answered, the timeout
sweeper — sends that charger's *oldest* queued command. The slot is a conditional DynamoDB
write and ``queued → sent`` a conditional update, so a command is sent once and in order, and
a busy slot never waits for an SQS redelivery.

A station that is offline, or whose connection turns out to be gone when the command is sent
(API Gateway cuts every connection at 2 hours), keeps its commands queued, in order, until
each one's expiry (``expires_at``); they go out after its first frame on its next connection,
and the sweeper times out those whose expiry passed. An answer is recorded on the slot first,
then its outcome in PostgreSQL, and only then is the slot freed: a crash in between leaves an
answered slot that the sweeper settles, idempotently.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Final

from csms.clock import Clock
from csms.constants import MAX_FRAME_BYTES
from csms.domain.commands import (
    Answer,
    Command,
    CommandQueue,
    CommandStatus,
    CommandStore,
    FollowUp,
    FollowUps,
    Outcome,
    PendingCall,
    PendingCalls,
    Translation,
)
from csms.domain.connections import ConnectionStore, FrameSender
from csms.domain.events import correlation
from csms.domain.tenancy import TenantScope
from csms.errors import Conflict, ConnectionGone, InvalidInput, NotFound
from csms.services.file_urls import FileUrlRules, check_file_urls
from csms.services.stations import Stations

log = logging.getLogger(__name__)

#: How long after its deadline a command still "sent" without a pending call is timed out by
#: the sweeper's safety net (well after the slot-based timeout, so that one always goes first).
ORPHAN_GRACE: Final = timedelta(minutes=5)
#: How long a command may wait to be sent unless the deployment or the request says otherwise.
DEFAULT_EXPIRY: Final = timedelta(minutes=15)
#: How many connections one delivery tries when sends keep finding them gone.
MAX_GONE_RETRIES: Final = 3


#: Prepares a command's request at submit time (allocate ids, create rows) and returns the
#: request to store (e.g. with a reservationId filled in). Neutral: run once, whatever protocol
#: the command is later sent in.
Preparer = Callable[[Command], dict[str, Any]]
#: A (prepared) request in one protocol: the OCPP action and payload. Pure; raises InvalidInput
#: naming the field when the protocol cannot express the request.
Translator = Callable[[dict[str, Any]], Translation]
#: Applies the side effects of a CALLRESULT and decides the command's outcome.
ResultHandler = Callable[[Command, dict[str, Any], datetime], Outcome]
#: Called when a command ends without a CALLRESULT (failed, timed out, CALLERROR); the command
#: has its final status.
FailureHandler = Callable[[Command, datetime], None]
#: The payload actually sent, from the stored one, at the moment the frame is built: puts in
#: what is never stored (a new password).
Builder = Callable[[Command, dict[str, Any]], dict[str, Any]]
#: The text of a CALL frame: (uniqueId, action, payload) -> text; the OCPP-J layer's.
FrameBuilder = Callable[[str, str, dict[str, Any]], str]
#: Splits one (prepared) request into several, sent one after another as separate commands
#: (local list parts, variables per message) so every frame stays under 32 KB and within what
#: the station takes. Returns the parts' requests in sending order.
Expander = Callable[[Command], list[dict[str, Any]]]
#: Validates a payload of this protocol against its official schema (raises InvalidInput).
Validator = Callable[[str, dict[str, Any]], None]


@dataclass
class ActionSpec:
    """What the pipeline needs to know about one command in one protocol: how its request
    becomes that protocol's CALL (``translate``) and what the answer does.

    ``protocol_specific``: the name is an OCPP action of this protocol and the request its
    payload; such a command is never translated for another protocol."""

    name: str
    on_result: ResultHandler
    translate: Translator | None = None
    prepare: Preparer | None = None
    on_failure: FailureHandler | None = None
    expand: Expander | None = None
    protocol_specific: bool = False
    build: Builder | None = None

    def translation(self, request: dict[str, Any]) -> Translation:
        if self.translate is None:
            return Translation(self.name, request)
        return self.translate(request)


def ocpp_action(
    action: str,
    on_result: ResultHandler,
    *,
    request_id: str | None = None,
    prepare: Preparer | None = None,
    on_failure: FailureHandler | None = None,
) -> ActionSpec:
    """A protocol-specific command: sent by its OCPP action with the operator's payload as is
    (``request_id``: the payload field the station echoes in its follow-ups)."""

    def identity(request: dict[str, Any]) -> Translation:
        rid = request.get(request_id) if request_id else None
        return Translation(action, request, rid if isinstance(rid, int) else None)

    return ActionSpec(
        action,
        on_result,
        translate=identity,
        prepare=prepare,
        on_failure=on_failure,
        protocol_specific=True,
    )


@dataclass
class CommandRegistry:
    """The commands one protocol can carry, and its schemas."""

    protocol: str
    validate_request: Validator
    validate_response: Validator
    actions: dict[str, ActionSpec] = field(default_factory=dict)

    def register(self, spec: ActionSpec) -> None:
        self.actions[spec.name] = spec

    def find(self, name: str) -> ActionSpec | None:
        return self.actions.get(name)

    def spec(self, name: str) -> ActionSpec:
        found = self.actions.get(name)
        if found is None:
            raise InvalidInput(f"unknown command {name!r} for {self.protocol}")
        return found


class SlotBusy(Exception):
    """The charger has an outstanding CALL; the command stays queued."""


class _Parked(Exception):
    """The station is offline, or the send found its connection gone: the command stays (or is
    again) queued for the station's next connection."""

    def __init__(self, connection_id: str | None) -> None:
        super().__init__(connection_id)
        #: The connection the send found gone (None: there was none).
        self.connection_id = connection_id


def answered(status: object, payload: Mapping[str, Any]) -> str:
    """``station answered X``, with a 2.0.1 statusInfo's reason code and text when given."""
    info = payload.get("statusInfo")
    if isinstance(info, dict) and info.get("reasonCode"):
        detail = str(info["reasonCode"])
        if info.get("additionalInfo"):
            detail += f": {info['additionalInfo']}"
        return f"station answered {status} ({detail})"
    return f"station answered {status}"


def status_outcome(accepted: tuple[str, ...] = ("Accepted",)) -> ResultHandler:
    """Outcome from a response's ``status`` field: listed values accept, others reject."""

    def handler(command: Command, payload: Mapping[str, Any], now: datetime) -> Outcome:
        status = payload.get("status")
        if status in accepted:
            return Outcome(CommandStatus.ACCEPTED)
        return Outcome(CommandStatus.REJECTED, reason=answered(status, payload))

    return handler


def always_accepted(command: Command, payload: Mapping[str, Any], now: datetime) -> Outcome:
    """For responses without a status (the station's answer is the result)."""
    return Outcome(CommandStatus.ACCEPTED)


@dataclass(frozen=True, slots=True)
class CommandFollowUps:
    """What a command led to after its answer: the transaction a remote start produced, and
    the messages the station sent with the command's request id."""

    transaction: tuple[int, str] | None = None
    parts: list[FollowUp] = field(default_factory=list)


class CommandService:
    """The pipeline's three entry points: submit (API), deliver (commands function, message
    function, sweeper) and complete (message function). One :class:`CommandRegistry` per
    subprotocol: a command is translated by the registry of the station's protocol."""

    def __init__(
        self,
        store: CommandStore,
        pending: PendingCalls,
        queue: CommandQueue,
        connections: ConnectionStore,
        sender: Callable[[], FrameSender],
        registries: Mapping[str, CommandRegistry],
        clock: Clock,
        *,
        stations: Stations,
        timeout: timedelta,
        call_frame: FrameBuilder,
        follow_ups: FollowUps | None = None,
        file_url_rules: Callable[[str], FileUrlRules] = lambda tenant_id: FileUrlRules(
            ("https", "ftps", "sftp")
        ),
        expiry: timedelta = DEFAULT_EXPIRY,
        on_finished: Callable[[Command], None] | None = None,
    ) -> None:
        self._store = store
        self._pending = pending
        self._queue = queue
        self._connections = connections
        self._sender = sender
        self._registries = dict(registries)
        self._clock = clock
        self._stations = stations
        self._timeout = timeout
        self._call_frame = call_frame
        self._follow_ups = follow_ups
        self._file_url_rules = file_url_rules
        self._expiry = expiry
        #: Told of every command that ended (answered, refused, failed, timed out), after its
        #: row says so: the load manager goes on with its plan (ADR 0024 §9). Never raises.
        self.on_finished = on_finished

    # --- submit ---------------------------------------------------------------------------

    def submit(
        self,
        scope: TenantScope,
        charge_point_id: str,
        name: str,
        request: dict[str, Any],
        *,
        expires_in: timedelta | None = None,
    ) -> Command:
        """Validate, translate, record as queued, and trigger delivery. The station must be
        the scope's (NotFound) and in service (Conflict); the command is requested by the
        scope's subject. It may wait to be sent (station offline) for ``expires_in``, by default
        the deployment's expiry."""
        return self.submit_all(scope, charge_point_id, name, request, expires_in=expires_in)[0]

    def submit_all(
        self,
        scope: TenantScope,
        charge_point_id: str,
        name: str,
        request: dict[str, Any],
        *,
        expires_in: timedelta | None = None,
    ) -> list[Command]:
        """As :meth:`submit`; a command with an ``expand`` hook may become several, returned
        in sending order. All are translated and validated before any is recorded.

        The station's protocol (its pin, else the protocol of its last connection) translates
        the command now: a request that protocol cannot express is InvalidInput naming the
        field. A station that never connected and is not pinned gets its commands translated
        when they are delivered (prepared now: a prepare hook is the same in every protocol); a
        protocol-specific command needs the protocol now (Conflict)."""
        station = self._stations.require_in_service(scope, charge_point_id)
        protocol = station.ocpp_version or station.last_protocol
        now = self._clock.now()
        command = Command(
            id=str(uuid.uuid4()),
            tenant_id=scope.tenant_id,
            charge_point_id=charge_point_id,
            name=name,
            request=request,
            status=CommandStatus.QUEUED,
            created_at=now,
            requested_by=scope.subject,
            expires_at=now + (expires_in if expires_in is not None else self._expiry),
        )
        if protocol is None:
            specs = [registry.find(name) for registry in self._registries.values()]
            if not any(specs):
                raise InvalidInput(f"unknown command {name!r}")
            if any(spec is None or spec.protocol_specific for spec in specs):
                raise Conflict(
                    f"{name} is an action of one OCPP version and the protocol of station "
                    f"{charge_point_id!r} is not known yet: pin it (ocppVersion) or let it connect once"
                )
            spec = self._neutral_spec(name)
            assert spec is not None
            batch = [replace(command, request=spec.prepare(command))] if spec.prepare else [command]
            self._check_file_urls_in_any_protocol(batch[0])
        else:
            batch = self._translate(self._registry(protocol), command, prepare=True, expand=True)
        for queued in batch:
            self._store.add(queued)
        for queued in batch:
            self._queue.enqueue(queued)
        return batch

    def _check_file_urls_in_any_protocol(self, command: Command) -> None:
        """The URLs a command not translated yet will carry, as each protocol would say them:
        a URL the tenant does not allow is refused now, not when the station connects."""
        for registry in self._registries.values():
            spec = registry.find(command.name)
            try:
                translation = spec.translation(command.request) if spec is not None else None
            except (InvalidInput, KeyError):
                continue  # that protocol will refuse it at delivery, or split it first
            if translation is not None:
                check_file_urls(
                    translation.action, translation.payload, self._file_url_rules(command.tenant_id)
                )

    def _registry(self, protocol: str) -> CommandRegistry:
        registry = self._registries.get(protocol)
        if registry is None:
            raise Conflict(f"no commands can be sent over {protocol}")
        return registry

    def _neutral_spec(self, name: str) -> ActionSpec | None:
        """A neutral command's spec in the first registry that has it: for what every protocol
        does alike (prepare, on_failure) before the command is translated."""
        for registry in self._registries.values():
            found = registry.find(name)
            if found is not None:
                return found
        return None

    def _translate(
        self, registry: CommandRegistry, command: Command, *, prepare: bool, expand: bool
    ) -> list[Command]:
        """The command (and the parts it splits into) in ``registry``'s protocol. ``prepare``:
        run the spec's prepare hook first (at submit); ``expand``: split it with the spec's
        expand hook (its first translation; a command translated again for another protocol
        keeps its parts). If translation fails after prepare made its records, the spec's
        ``on_failure`` undoes them."""
        spec = registry.spec(command.name)
        if prepare and spec.prepare is not None:
            command = replace(command, request=spec.prepare(command))
        try:
            parts = spec.expand(command) if expand and spec.expand is not None else [command.request]
            if not parts:
                raise InvalidInput(f"{command.name}: nothing to send")
            batch = []
            for i, part in enumerate(parts):
                translation = spec.translation(part)
                registry.validate_request(translation.action, translation.payload)
                # Where the station will fetch or upload (ADR 0023), in the words it is sent.
                check_file_urls(
                    translation.action, translation.payload, self._file_url_rules(command.tenant_id)
                )
                # A station's queue is ordered by created_at: a microsecond apart keeps the order.
                batch.append(
                    replace(
                        command,
                        id=command.id if i == 0 else str(uuid.uuid4()),
                        request=part,
                        created_at=command.created_at + timedelta(microseconds=i),
                        protocol=registry.protocol,
                        action=translation.action,
                        ocpp_request=translation.payload,
                        request_id=translation.request_id,
                    )
                )
        except InvalidInput:
            if prepare and spec.prepare is not None and spec.on_failure is not None:
                _in_command(replace(command, status=CommandStatus.FAILED), spec.on_failure, self._clock.now())
            raise
        return batch

    def get(self, scope: TenantScope, command_id: str) -> Command:
        found = self._store.get(scope.tenant_id, command_id)
        if found is None:
            raise NotFound(f"no command {command_id!r}")
        return found

    def follow_ups(self, command: Command) -> CommandFollowUps:
        """What the station sent about ``command`` (one the caller read with :meth:`get`)
        after answering it: the transaction of a remote start, the parts of a report, the
        progress of a firmware update or a log upload."""
        if self._follow_ups is None or command.request_id is None:
            return CommandFollowUps()
        source = self._follow_ups
        return CommandFollowUps(
            transaction=source.remote_start_transaction(
                command.tenant_id, command.charge_point_id, command.request_id
            )
            if command.action == "RequestStartTransaction"
            else None,
            parts=source.follow_ups(command.tenant_id, command.charge_point_id, command.request_id),
        )

    def search(
        self,
        scope: TenantScope,
        charge_point_id: str,
        status: CommandStatus | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Command], int]:
        """A station's commands, newest first."""
        self._stations.require(scope, charge_point_id)
        return self._store.search(scope.tenant_id, charge_point_id, status, limit, offset)

    # --- deliver --------------------------------------------------------------------------

    def deliver_next(self, charge_point_id: str) -> Command | None:
        """Send the station's oldest queued command if its slot is free. A station offline (or
        whose connection the send found gone) keeps it queued for its next connection; one past
        its expiry is timed out and the next is tried; one that cannot be sent (not expressible
        in the station's protocol, frame too large) fails at once and the next is tried.
        Returns the command sent, None if none was (nothing queued, slot busy, offline)."""
        gone_retries = 0
        while True:
            now = self._clock.now()
            command = self._store.oldest_queued(charge_point_id, now)
            if command is None:
                return None
            if command.expires_at is not None and command.expires_at <= now:
                self._expire(command, now)
                continue
            try:
                sent = self._deliver(command)
                if sent is not None:
                    return sent
            except SlotBusy:
                return None
            except _AlreadyTaken:
                continue  # someone else sent it meanwhile: look at the next one
            except _Parked as parked:
                # A send that found the connection gone: if the station connected again
                # meanwhile (its first frame found the command still "sent"), try that one.
                # (Offline, _deliver has just read that there is no connection: no second read.)
                gone_retries += 1
                if parked.connection_id is None or gone_retries >= MAX_GONE_RETRIES:
                    return None
                current = self._connections.current_record(charge_point_id)
                if current is None or current.connection_id == parked.connection_id:
                    return None

    def _deliver(self, command: Command) -> Command | None:
        """The command as sent; None if it failed at once. Raises SlotBusy / _AlreadyTaken /
        _Parked."""
        now = self._clock.now()
        connection = self._connections.current_record(command.charge_point_id)
        if connection is None:
            log.info(
                "station offline: the command waits for its next connection",
                extra={"command_id": command.id, "expires_at": command.expires_at},
            )
            raise _Parked(None)
        if command.protocol != connection.protocol:
            translated = self._retranslate(command, connection.protocol, now)
            if translated is None:
                return None
            command = translated
        if command.action is None or command.ocpp_request is None:  # pragma: no cover - translated above
            raise _AlreadyTaken
        spec = self._spec(command)
        payload = command.ocpp_request
        if spec is not None and spec.build is not None:
            try:
                payload = spec.build(command, payload)
            except InvalidInput as exc:
                self._fail(command, now, f"cannot be sent: {exc}")
                return None
        unique_id = str(uuid.uuid4())
        frame = self._call_frame(unique_id, command.action, payload)
        size = len(frame.encode())
        if size > MAX_FRAME_BYTES:
            self._fail(command, now, f"frame of {size} bytes exceeds API Gateway's 32 KB frame limit")
            return None
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
            self._sender().send(connection.connection_id, frame)
        except ConnectionGone:
            # The frame never left (API Gateway knows no such connection): back in the queue at
            # its place, then the slot is freed (a crash in between leaves the slot to expire;
            # the command waits, queued, meanwhile).
            self._store.requeue(
                command.id,
                unique_id,
                "the connection was gone when it was sent: waiting for the station's next connection",
            )
            self._pending.pop(command.charge_point_id, unique_id)
            log.info(
                "connection gone: the command waits for the station's next connection",
                extra={"command_id": command.id, "connection_id": connection.connection_id},
            )
            raise _Parked(connection.connection_id) from None
        except Exception:
            # Unknown whether it left: keep the slot; the answer or the deadline decides.
            log.exception("sending the command failed", extra={"command_id": command.id})
        log.info(
            "command sent",
            extra={
                "command_id": command.id,
                "command": command.name,
                "action": command.action,
                "ocpp_unique_id": unique_id,
            },
        )
        return command

    def _retranslate(self, command: Command, protocol: str, now: datetime) -> Command | None:
        """The command in the protocol the station connected with: translated for the first
        time (its protocol was unknown at submit), or again (the station changed protocol).
        None if it failed instead (the protocol cannot carry it). Raises _AlreadyTaken."""
        registry = self._registries.get(protocol)
        spec = registry.find(command.name) if registry is not None else None
        if registry is None or spec is None or (command.protocol is not None and spec.protocol_specific):
            self._fail(
                command,
                now,
                f"{command.name} cannot be sent over {protocol}, the protocol the station now speaks",
            )
            return None
        try:
            batch = self._translate(registry, command, prepare=False, expand=command.protocol is None)
        except InvalidInput as exc:
            self._fail(command, now, f"cannot be sent over {protocol}: {exc}")
            return None
        first = batch[0]
        if not self._store.translated(first):
            raise _AlreadyTaken
        for part in batch[1:]:
            self._store.add(part)
        return first

    # --- complete -------------------------------------------------------------------------

    def complete(
        self,
        charge_point_id: str,
        unique_id: str,
        payload: dict[str, Any] | None,
        error: tuple[str, str] | None,
    ) -> Command | None:
        """Handle the station's CALLRESULT (``payload``) or CALLERROR (``error`` = code,
        description) for our CALL ``unique_id``, then send the next queued command.

        The answer is recorded on the slot first (which only the call it answers can take,
        once), then its outcome is stored in PostgreSQL, then the slot is freed: a failure in
        between leaves the answered slot for the sweeper to settle (:meth:`sweep`), and a
        settlement that finds the outcome stored already only frees the slot."""
        now = self._clock.now()
        call = self._pending.answer(charge_point_id, unique_id, Answer(payload, error))
        if call is None:
            self._late(charge_point_id, unique_id, payload, error, now)
            return None
        command = self._settle(call, payload, error, now)
        if command is not None and command.status is CommandStatus.TIMED_OUT:
            # The sweeper timed it out just before the answer came (and frees the slot).
            self._store.record_late_response(command.id, _recorded(payload, error), now)
        self._pending.pop(charge_point_id, unique_id)
        self.deliver_next(charge_point_id)
        if command is None:
            return None
        finished = self._store.get_any(command.id)
        if (
            finished is not None
            and command.status is CommandStatus.SENT
            and command.ocpp_unique_id == unique_id
        ):
            # settled by this answer (not earlier by the sweeper, which told then)
            self._tell_finished(finished.id, finished)
        return finished

    def _settle(
        self,
        call: PendingCall,
        payload: dict[str, Any] | None,
        error: tuple[str, str] | None,
        now: datetime,
    ) -> Command | None:
        """Store the outcome the answer to ``call`` gives its command (side effects included),
        unless the command is not sent as that call any more (settled already: nothing runs
        twice). Returns the command as it was read."""
        command = self._store.get_any(call.command_id)
        if command is None:  # pragma: no cover - the row is written before the slot is taken
            log.error("pending call for an unknown command", extra={"command_id": call.command_id})
            return None
        if command.status is not CommandStatus.SENT or command.ocpp_unique_id != call.unique_id:
            return command
        spec = self._spec(command)
        on_failure = spec.on_failure if spec is not None else None
        uid = call.unique_id
        if error is not None:
            code, description = error
            # finish() is False if the command ended meanwhile (the sweeper's safety net):
            # its on_failure ran there, and must not run twice.
            if (
                self._store.finish(
                    command.id, CommandStatus.FAILED, now, error_code=code, reason=description, unique_id=uid
                )
                and on_failure
            ):
                _in_command(replace(command, status=CommandStatus.FAILED), on_failure, now)
            return command
        assert payload is not None
        try:
            if spec is None or command.protocol is None or command.action is None:  # pragma: no cover
                raise ValueError("the command was never translated")
            self._registries[command.protocol].validate_response(command.action, payload)
        except Exception as exc:
            if (
                self._store.finish(
                    command.id,
                    CommandStatus.FAILED,
                    now,
                    response=payload,
                    reason=f"invalid response: {exc}",
                    unique_id=uid,
                )
                and on_failure
            ):
                _in_command(replace(command, status=CommandStatus.FAILED), on_failure, now)
            return command
        assert spec is not None
        with correlation(f"command:{command.id}"):
            outcome = spec.on_result(command, payload, now)
        self._store.finish(
            command.id,
            outcome.status,
            now,
            response=payload,
            reason=outcome.reason,
            result=outcome.result,
            unique_id=uid,
        )
        return command

    def _tell_finished(self, command_id: str, command: Command | None = None) -> None:
        if self.on_finished is None:
            return
        try:
            command = command or self._store.get_any(command_id)
            if command is None or not command.status.final:
                return
            self.on_finished(command)
        except Exception:
            # The command's own outcome stands; whoever waited on it has a safety net (the
            # load-allocation job drives a plan on every minute).
            log.exception("a finished command's observer failed", extra={"command_id": command_id})

    def _spec(self, command: Command) -> ActionSpec | None:
        """The spec the command was translated by (not yet translated: the neutral one)."""
        if command.protocol is None:
            return self._neutral_spec(command.name)
        registry = self._registries.get(command.protocol)
        return registry.find(command.name) if registry is not None else None

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
        if command.status is CommandStatus.SENT:
            # The slot has its first answer, being settled (or left for the sweeper to settle).
            log.warning("answer repeated: the first one counts", extra={"command_id": command.id})
            return
        self._store.record_late_response(command.id, _recorded(payload, error), now)
        log.warning("late answer recorded", extra={"command_id": command.id, "status": command.status.value})

    # --- sweep ----------------------------------------------------------------------------

    def sweep(
        self, stale_after: timedelta = timedelta(seconds=30), now: datetime | None = None
    ) -> dict[str, int]:
        """Time out calls past their deadline and kick stations whose queue stalled."""
        now = now or self._clock.now()
        timed_out = errors = 0
        for call in self._pending.expired(now):
            # One station's failure (a dependency down, a command that cannot be sent) must
            # not stop the sweep for the others. The outcome is stored before the slot is
            # freed, so a run that fails half-way is repeated by the next one.
            try:
                if call.answer is not None:
                    # Answered, but its outcome was not stored (the message function failed or
                    # was killed in between): settle it from the recorded answer.
                    self._settle(call, call.answer.payload, call.answer.error, now)
                    self._tell_finished(call.command_id)
                else:
                    command = self._store.get_any(call.command_id)
                    if command is not None and self._store.finish(
                        command.id,
                        CommandStatus.TIMED_OUT,
                        now,
                        reason="no answer before the deadline",
                        unique_id=call.unique_id,
                    ):
                        timed_out += 1
                        spec = self._spec(command)
                        if spec and spec.on_failure:
                            _in_command(
                                replace(command, status=CommandStatus.TIMED_OUT), spec.on_failure, now
                            )
                        self._tell_finished(command.id)
                self._pending.pop(call.charge_point_id, call.unique_id)
                self.deliver_next(call.charge_point_id)
            except Exception:
                log.exception(
                    "sweeping an expired call failed", extra={"charge_point_id": call.charge_point_id}
                )
                errors += 1
        # Commands that waited for an offline station past their expiry.
        expired = 0
        for command in self._store.queued_expired(now, limit=500):
            try:
                if self._expire(command, now):
                    expired += 1
            except Exception:
                log.exception("expiring a queued command failed", extra={"command_id": command.id})
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
                    spec = self._spec(command)
                    if spec and spec.on_failure:
                        _in_command(replace(command, status=CommandStatus.TIMED_OUT), spec.on_failure, now)
                    self._tell_finished(command.id)
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
        return {
            "timed_out": timed_out + orphaned + expired,
            "orphaned": orphaned,
            "expired": expired,
            "kicked": kicked,
            "errors": errors,
        }

    def _expire(self, command: Command, now: datetime) -> bool:
        """Time out a queued command whose expiry passed, with the reason it was never sent."""
        assert command.expires_at is not None
        connection = self._connections.current_record(command.charge_point_id)
        why = (
            "the station did not connect in time"
            if connection is None
            else "the station was busy with earlier commands"
        )
        if command.attempts:
            why += f" (sent {command.attempts} time(s), the connection was gone)"
        reason = f"expired at {command.expires_at.isoformat()} before it could be sent: {why}"
        if not self._store.finish(
            command.id, CommandStatus.TIMED_OUT, now, reason=reason, only=CommandStatus.QUEUED
        ):
            return False
        spec = self._spec(command)
        if spec and spec.on_failure:
            _in_command(replace(command, status=CommandStatus.TIMED_OUT), spec.on_failure, now)
        log.info("command expired before it could be sent", extra={"command_id": command.id})
        self._tell_finished(command.id)
        return True

    def _fail(self, command: Command, now: datetime, reason: str) -> None:
        if self._store.finish(command.id, CommandStatus.FAILED, now, reason=reason):
            spec = self._spec(command)
            if spec and spec.on_failure:
                _in_command(replace(command, status=CommandStatus.FAILED), spec.on_failure, now)
            self._tell_finished(command.id)


def _recorded(payload: dict[str, Any] | None, error: tuple[str, str] | None) -> dict[str, Any]:
    """An answer as the command's ``lateResponse`` shows it."""
    if payload is not None:
        return payload
    return {"errorCode": error[0], "errorDescription": error[1]} if error else {}


def _in_command(command: Command, callback: Callable[[Command, datetime], None], now: datetime) -> None:
    """Run an action's callback with the command as the correlation of its events."""
    with correlation(f"command:{command.id}"):
        callback(command, now)


class _AlreadyTaken(Exception):
    pass

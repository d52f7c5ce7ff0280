"""In-memory implementations of the ports, for unit tests (no network, no database)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from datetime import datetime
from itertools import count
from typing import Any, TypeVar

from csms.domain.connections import ConnectionRecord
from csms.domain.device_model import (
    DeviceVariable,
    VariableAddress,
    VariableQuery,
    VariableSource,
    VariableValue,
)
from csms.domain.events import DomainEvent
from csms.domain.metering import UNKNOWN_EVSE, AddedSamples, MeterSample
from csms.domain.reservations import UsedReservation
from csms.domain.stations import (
    AvailabilityState,
    BootInfo,
    ChargingState,
    ChargingStateRecorded,
    ChargingStation,
    ConnectorStatus,
    RegistrationStatus,
    StatusRecorded,
)
from csms.domain.tokens import TYPE_PREFERENCE, AuthorizationStatus, IdToken, StoredIdToken
from csms.domain.transactions import (
    EventReceived,
    FlagReason,
    StoppedTransaction,
    Transaction,
    TransactionChanges,
    TransactionEventIn,
    TransactionEventType,
    TransactionStart,
    TransactionStop,
)
from csms.errors import AlreadyExists, ConnectionGone, StorageUnavailable
from csms.services.stations import Stations

T = TypeVar("T")


def same_tag(a: str, b: str) -> bool:
    """OCPP IdToken is a CiString: tags compare case-insensitively (as lower() in SQL)."""
    return a.lower() == b.lower()


class FakeUnitOfWork:
    def __init__(self) -> None:
        self.tenant_ids: set[str] = set()
        self.tenant_default_profiles: dict[str, int] = {}
        self.chargers: dict[str, ChargingStation] = {}
        self.boots: dict[str, BootInfo] = {}
        #: How often record_protocol was called (each call is a write).
        self.protocol_writes = 0
        #: (station, which password) for every connection of a station with a rotation on record.
        self.passwords_used: list[tuple[str, Any]] = []
        self.connector_latest: dict[tuple[str, int, int], ConnectorStatus] = {}
        self.status_history: list[ConnectorStatus] = []
        self.tags: dict[tuple[str, str], StoredIdToken] = {}
        self.txs: dict[int, Transaction] = {}
        #: The transaction event log: (transaction, seqNo, type, trigger, time, charging state,
        #: after end, answered status).
        self.tx_events: list[tuple[Any, ...]] = []
        self.unknown_stops: list[TransactionStop] = []
        self.used_reservations: dict[int, int] = {}
        self.samples: dict[tuple[Any, ...], tuple[int | None, MeterSample]] = {}
        self._ids = count(1)
        # The repositories are this object itself: one namespace keeps the fake short.
        self.tenants = self
        self.charge_points = _ChargePoints(self)
        self.connectors = self
        self.id_tokens = _IdTokens(self)
        self.transactions = self
        self.meter_values = self
        self.events = _Events()

    # tenants
    def ensure(self, tenant_id: str, at: datetime) -> None:
        self.tenant_ids.add(tenant_id)

    def default_security_profile(self, tenant_id: str) -> int:
        return self.tenant_default_profiles.get(tenant_id, 2)

    # connectors
    def record_status(
        self, tenant_id: str, charge_point_id: str, status: ConnectorStatus, received_at: datetime
    ) -> StatusRecorded | None:
        new_report = status not in self.status_history
        if new_report:
            self.status_history.append(status)
        key = (charge_point_id, status.evse_id, status.connector_id)
        current = self.connector_latest.get(key)
        if current is not None and current.timestamp > status.timestamp:
            return None
        charging_state = status.charging_state
        if charging_state is None and status.state is AvailabilityState.OCCUPIED and current is not None:
            # As the SQL: a report without one keeps the charging state while Occupied.
            charging_state = current.charging_state if current.state is AvailabilityState.OCCUPIED else None
        self.connector_latest[key] = replace(status, charging_state=charging_state)
        return StatusRecorded(
            new_report=new_report,
            previous_status=current.status if current else None,
            previous_error_code=current.error_code if current else None,
            previous_state=current.state if current else None,
            previous_charging_state=current.charging_state if current else None,
            charging_state=charging_state,
        )

    # connectors, the charging state a 2.0.1 transaction sets
    def record_charging_state(
        self,
        tenant_id: str,
        charge_point_id: str,
        evse_id: int,
        connector_id: int | None,
        charging_state: ChargingState,
        at: datetime,
        received_at: datetime,
    ) -> list[ChargingStateRecorded]:
        changed = []
        for (station, evse, connector), status in list(self.connector_latest.items()):
            mine = (
                connector == connector_id
                if connector_id is not None
                else status.state is AvailabilityState.OCCUPIED
            )
            if (station, evse) != (charge_point_id, evse_id) or not mine:
                continue
            if status.charging_state is charging_state or status.timestamp > at:
                continue
            now = replace(status, charging_state=charging_state, timestamp=at)
            self.connector_latest[(station, evse, connector)] = now
            self.status_history.append(now)
            changed.append(ChargingStateRecorded(now, status.charging_state))
        return changed

    # transactions
    def start(
        self,
        tenant_id: str,
        charge_point_id: str,
        start: TransactionStart,
        auth_status: AuthorizationStatus,
        received_at: datetime,
    ) -> tuple[Transaction, bool]:
        for tx in self.txs.values():
            if tx.protocol == "ocpp1.6" and (
                tx.charge_point_id,
                tx.evse_id,
                tx.id_token.value if tx.id_token else None,
                tx.meter_start,
                tx.start_timestamp,
            ) == (charge_point_id, start.evse_id, start.id_token.value, start.meter_start, start.timestamp):
                return tx, False
        pk = next(self._ids)
        tx = Transaction(
            id=pk,
            transaction_id=str(pk),
            tenant_id=tenant_id,
            charge_point_id=charge_point_id,
            start_timestamp=start.timestamp,
            evse_id=start.evse_id,
            connector_id=start.connector_id,
            id_token=start.id_token,
            start_auth_status=auth_status,
            meter_start=start.meter_start,
            reservation_id=start.reservation_id,
            deauthorized_at=None if auth_status is AuthorizationStatus.ACCEPTED else received_at,
        )
        self.txs[pk] = tx
        self.tx_events.append((pk, 0, TransactionEventType.STARTED, None, start.timestamp, None, False, None))
        return tx, True

    def token_in_use(
        self,
        tenant_id: str,
        token: IdToken,
        *,
        exclude: int | None = None,
        starting_at: tuple[str, int | None, datetime] | None = None,
    ) -> bool:
        def superseded(tx: Transaction) -> bool:
            return any(
                (newer.tenant_id, newer.charge_point_id, newer.evse_id)
                == (tx.tenant_id, tx.charge_point_id, tx.evse_id)
                and tx.evse_id is not None
                and newer.id > tx.id
                and newer.start_timestamp >= tx.start_timestamp
                for newer in self.txs.values()
            )

        def starting_here(tx: Transaction) -> bool:
            if starting_at is None:
                return False
            station, evse, at = starting_at
            return (tx.charge_point_id, tx.evse_id) == (station, evse) and tx.start_timestamp <= at

        return any(
            tx.tenant_id == tenant_id
            and tx.id_token is not None
            and same_tag(tx.id_token.value, token.value)
            and tx.stop_timestamp is None
            and tx.start_auth_status is AuthorizationStatus.ACCEPTED
            and tx.deauthorized_at is None
            and tx.id != exclude
            and not starting_here(tx)
            and not superseded(tx)
            for tx in self.txs.values()
        )

    def open_transaction_ids(self, charge_point_id: str) -> list[int]:
        return sorted(
            tx.id
            for tx in self.txs.values()
            if tx.charge_point_id == charge_point_id and tx.stop_timestamp is None
        )

    def use_reservation(
        self,
        tenant_id: str,
        charge_point_id: str,
        reservation_id: int,
        transaction_id: int,
        started_at: datetime,
        at: datetime,
    ) -> UsedReservation | None:
        if reservation_id in self.used_reservations:
            return None
        self.used_reservations[reservation_id] = transaction_id
        return UsedReservation(reservation_id, 1, IdToken("RESERVED"), at)

    def _mine(self, charge_point_id: str, transaction_id: str) -> Transaction | None:
        return next(
            (
                tx
                for tx in self.txs.values()
                if (tx.charge_point_id, tx.transaction_id) == (charge_point_id, transaction_id)
            ),
            None,
        )

    def stop(
        self, tenant_id: str, charge_point_id: str, stop: TransactionStop, received_at: datetime
    ) -> StoppedTransaction:
        tx = self._mine(charge_point_id, stop.transaction_id)
        if tx is None:
            new = stop not in self.unknown_stops
            self.unknown_stops.append(stop)
            return StoppedTransaction(transaction=None, unknown=True, stopped_now=new)
        stopped_now = tx.stop_timestamp is None
        if stopped_now:
            tx = replace(
                tx,
                meter_stop=stop.meter_stop,
                stop_timestamp=stop.timestamp,
                stop_reason=stop.reason,
                stop_id_token=stop.id_token,
            )
            self.txs[tx.id] = tx
            self.tx_events.append(
                (tx.id, None, TransactionEventType.ENDED, None, stop.timestamp, None, False, None)
            )
        return StoppedTransaction(transaction=tx, stopped_now=stopped_now)

    def receive_event(
        self, tenant_id: str, charge_point_id: str, event: TransactionEventIn, received_at: datetime
    ) -> EventReceived:
        before = self._mine(charge_point_id, event.transaction_id)
        created = before is None
        if before is None:
            pk = next(self._ids)
            before = Transaction(
                id=pk,
                transaction_id=event.transaction_id,
                tenant_id=tenant_id,
                charge_point_id=charge_point_id,
                start_timestamp=event.timestamp,
                protocol="ocpp2.0.1",
                evse_id=event.evse_id,
                connector_id=event.connector_id,
            )
            self.txs[pk] = before
        logged = [e for e in self.tx_events if e[0] == before.id]
        key = (event.seq_no, event.event_type, event.trigger_reason, event.timestamp)
        for _pk, seq_no, kind, trigger, at, _, _, answered in logged:
            if (seq_no, kind, trigger, at) == key:
                return EventReceived(before, created, new=False, answered=answered)
        after_end = before.stop_timestamp is not None and event.seq_no > (
            before.seq_no if before.seq_no is not None else -1
        )
        charging_seqs = [e[1] for e in logged if e[5] is not None and e[1] is not None and not e[6]]
        self.tx_events.append(
            (
                before.id,
                event.seq_no,
                event.event_type,
                event.trigger_reason,
                event.timestamp,
                event.charging_state,
                after_end,
                None,
            )
        )
        return EventReceived(
            before,
            created,
            new=True,
            event_pk=len(self.tx_events) - 1,
            after_end=after_end,
            started_seen=any(e[2] is TransactionEventType.STARTED for e in logged),
            charging_state_seq_no=max(charging_seqs) if charging_seqs else None,
        )

    def apply(
        self,
        transaction_pk: int,
        changes: TransactionChanges,
        event_pk: int | None = None,
        answered: AuthorizationStatus | None = None,
    ) -> Transaction:
        if event_pk is not None and answered is not None:
            self.tx_events[event_pk] = (*self.tx_events[event_pk][:7], answered)
        fields = {f.name: getattr(changes, f.name) for f in dataclass_fields(changes)}
        fields.pop("started_received_at")
        fields.pop("stopped_received_at")
        tx = replace(self.txs[transaction_pk], **fields)
        self.txs[transaction_pk] = tx
        return tx

    def flag(self, transaction_pk: int, reason: FlagReason, at: datetime) -> Transaction | None:
        tx = self.txs[transaction_pk]
        if tx.flagged_at is not None:
            return None
        tx = replace(tx, flagged_at=at, flag_reason=reason.value)
        self.txs[transaction_pk] = tx
        return tx

    # meter values
    def add_samples(
        self,
        tenant_id: str,
        charge_point_id: str,
        evse_id: int,
        transaction_id: str | None,
        samples: Sequence[MeterSample],
        received_at: datetime,
    ) -> AddedSamples:
        tx = self._mine(charge_point_id, transaction_id) if transaction_id is not None else None
        owned = tx.id if tx is not None else None
        new = 0
        for s in samples:
            key = (
                charge_point_id,
                evse_id,
                s.timestamp,
                s.measurand,
                s.phase,
                s.location,
                s.context,
                s.format,
            )
            if key not in self.samples:
                self.samples[key] = (owned, s)
                new += 1
        after_stop = (
            tx is not None
            and tx.stop_timestamp is not None
            and bool(samples)
            and max(s.timestamp for s in samples) > tx.stop_timestamp
        )
        return AddedSamples(new=new, transaction_pk=owned, after_stop=after_stop)

    def assign_evse(self, transaction_pk: int, evse_id: int) -> None:
        for key, (owned, sample) in list(self.samples.items()):
            if owned == transaction_pk and key[1] == UNKNOWN_EVSE:
                del self.samples[key]
                self.samples[(key[0], evse_id, *key[2:])] = (owned, sample)


class _Events:
    """uow.events: what the services recorded (published only if the work returns)."""

    def __init__(self) -> None:
        self.recorded: list[DomainEvent] = []

    def add(self, *events: DomainEvent) -> None:
        self.recorded.extend(events)


class _ChargePoints:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    def get(self, charge_point_id: str) -> ChargingStation | None:
        return self._uow.chargers.get(charge_point_id)

    def add(self, charge_point: ChargingStation, at: datetime) -> None:
        if charge_point.id in self._uow.chargers:
            raise AlreadyExists(charge_point.id)
        self._uow.chargers[charge_point.id] = charge_point

    def list(self, tenant_id: str | None = None) -> list[ChargingStation]:
        return [c for c in self._uow.chargers.values() if tenant_id in (None, c.tenant_id)]

    def remove(self, charge_point_id: str, tenant_id: str | None = None) -> bool:
        return self._uow.chargers.pop(charge_point_id, None) is not None

    def record_boot(self, charge_point_id: str, info: BootInfo, at: datetime) -> None:
        self._uow.boots[charge_point_id] = info

    def record_protocol(self, charge_point_id: str, protocol: str, at: datetime) -> None:
        self._uow.protocol_writes += 1
        station = self._uow.chargers.get(charge_point_id)
        if station is not None:
            self._uow.chargers[charge_point_id] = replace(station, last_protocol=protocol)

    def password_used(self, charge_point_id: str, used: Any, at: datetime) -> None:
        self._uow.passwords_used.append((charge_point_id, used))

    def register_pending(self, charge_point_id: str, tenant_id: str, at: datetime) -> ChargingStation:
        return self._uow.chargers.setdefault(
            charge_point_id,
            ChargingStation(charge_point_id, tenant_id, RegistrationStatus.PENDING, security_profile=0),
        )


class _IdTokens:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    def find(self, tenant_id: str, token: IdToken) -> StoredIdToken | None:
        # Case-insensitive, as PostgreSQL's lower(id_token); an untyped (1.6) token is found
        # under the most preferred type the tenant has it as.
        found = [t for t in self._uow.tags.values() if t.tenant_id == tenant_id and t.token.same(token)]
        found.sort(key=lambda t: TYPE_PREFERENCE.index(t.token.type))  # type: ignore[arg-type]
        return found[0] if found else None

    def add(self, stored: StoredIdToken, at: datetime) -> None:
        if any(
            t.tenant_id == stored.tenant_id and t.token.same(stored.token) for t in self._uow.tags.values()
        ):
            raise AlreadyExists(stored.token.value)
        self._uow.tags[(stored.tenant_id, stored.token.value)] = stored

    def list(self, tenant_id: str | None = None) -> list[StoredIdToken]:
        return [t for t in self._uow.tags.values() if tenant_id in (None, t.tenant_id)]


class FakeDatabase:
    """Runs work against one in-memory unit of work; can be switched to 'down'."""

    def __init__(self) -> None:
        self.uow = FakeUnitOfWork()
        self.down = False

    def run(self, work: Callable[[Any], T]) -> T:
        if self.down:
            raise StorageUnavailable("database is down (fake)")
        return work(self.uow)


class FakeConnectionStore:
    def __init__(self) -> None:
        self.records: dict[str, ConnectionRecord] = {}
        self.current: dict[str, str] = {}
        self.closed: set[str] = set()
        self.fail = False

    def register(self, record: ConnectionRecord) -> str | None:
        self.records[record.connection_id] = replace(record, awaiting_first_frame=True)
        previous = self.current.get(record.charge_point_id)
        self.current[record.charge_point_id] = record.connection_id
        return previous if previous != record.connection_id else None

    def touch(self, connection_id: str, at: datetime) -> ConnectionRecord | None:
        if self.fail:
            raise RuntimeError("dynamodb is down (fake)")
        record = self.records.get(connection_id)
        if record is None:
            return None
        record = replace(record, last_seen=at)
        self.records[connection_id] = record
        return record

    def set_registration_status(self, connection_id: str, status: RegistrationStatus) -> None:
        if connection_id in self.records:
            self.records[connection_id] = replace(self.records[connection_id], registration_status=status)

    def first_frame_answered(self, connection_id: str) -> bool:
        record = self.records.get(connection_id)
        if (
            record is None
            or not record.awaiting_first_frame
            or record.registration_status is not RegistrationStatus.ACCEPTED
        ):
            return False
        self.records[connection_id] = replace(record, awaiting_first_frame=False)
        return True

    def unregister(self, connection_id: str) -> ConnectionRecord | None:
        # Like the real store: the record stays (closed) so in-flight frames are attributed.
        record = self.records.get(connection_id)
        if record is None or connection_id in self.closed:
            return None
        self.closed.add(connection_id)
        if self.current.get(record.charge_point_id) != connection_id:
            return None
        del self.current[record.charge_point_id]
        return record

    def current_connection(self, charge_point_id: str) -> str | None:
        return self.current.get(charge_point_id)

    def current_record(self, charge_point_id: str) -> ConnectionRecord | None:
        connection_id = self.current.get(charge_point_id)
        return self.records.get(connection_id) if connection_id is not None else None

    def tenant_connections(self, tenant_id: str, *, last_seen: bool = True) -> dict[str, ConnectionRecord]:
        return {
            cp: self.records[conn]
            for cp, conn in self.current.items()
            if conn in self.records and self.records[conn].tenant_id == tenant_id
        }

    def with_last_seen(self, records: Mapping[str, ConnectionRecord]) -> dict[str, ConnectionRecord]:
        return {cp: self.records.get(record.connection_id, record) for cp, record in records.items()}

    def connections_of(self, charge_point_ids: Sequence[str]) -> dict[str, ConnectionRecord]:
        return {
            cp: self.records[self.current[cp]]
            for cp in charge_point_ids
            if cp in self.current and self.current[cp] in self.records
        }


class RecordingSender:
    """Records frames per connection; connections in ``gone`` raise ConnectionGone."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.closed: list[str] = []
        self.gone: set[str] = set()

    def send(self, connection_id: str, frame: str) -> None:
        if connection_id in self.gone:
            raise ConnectionGone(connection_id)
        self.sent.append((connection_id, frame))

    def close(self, connection_id: str) -> None:
        self.closed.append(connection_id)

    def __call__(self, event: dict[str, Any]) -> RecordingSender:
        return self


class FakeStationLookup:
    """Charge points known by (tenant, id): all of them unless ``known`` says otherwise; each
    last connected with ``protocols[id]`` (default: none yet)."""

    def __init__(
        self,
        known: Callable[[str, str], bool] = lambda tenant_id, charge_point_id: True,
        protocols: dict[str, str] | None = None,
    ) -> None:
        self._known = known
        self.protocols = protocols if protocols is not None else {}

    def get(self, tenant_id: str, charge_point_id: str) -> ChargingStation | None:
        if not self._known(tenant_id, charge_point_id):
            return None
        return ChargingStation(
            charge_point_id,
            tenant_id,
            RegistrationStatus.ACCEPTED,
            last_protocol=self.protocols.get(charge_point_id),
        )


def stations_where(
    known: Callable[[str, str], bool] = lambda tenant_id, charge_point_id: True,
    protocols: dict[str, str] | None = None,
) -> Stations:
    """The services' tenant check over :class:`FakeStationLookup`."""
    return Stations(FakeStationLookup(known, protocols))


class FakeDeviceModelStore:
    """The device model in memory: one entry per (tenant, station, attribute), as the PostgreSQL
    store upserts (metadata a value leaves out keeps what is stored)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, tuple[Any, ...]], DeviceVariable] = {}
        self.calls: list[tuple[str, str, list[VariableValue], VariableSource]] = []

    def record(
        self,
        tenant_id: str,
        charge_point_id: str,
        values: Sequence[VariableValue],
        source: VariableSource,
        at: datetime,
    ) -> None:
        self.calls.append((tenant_id, charge_point_id, list(values), source))
        for v in values:
            key = (tenant_id, charge_point_id, v.address.key())
            old = self.rows.get(key)
            self.rows[key] = DeviceVariable(
                address=v.address,
                value=v.value,
                mutability=v.mutability if v.mutability is not None or old is None else old.mutability,
                persistent=v.persistent if v.persistent is not None or old is None else old.persistent,
                constant=v.constant if v.constant is not None or old is None else old.constant,
                characteristics=(
                    v.characteristics if v.characteristics is not None or old is None else old.characteristics
                ),
                known=v.known,
                source=source,
                ocpp16_key=v.ocpp16_key if v.ocpp16_key is not None or old is None else old.ocpp16_key,
                updated_at=at,
            )

    def find(
        self, tenant_id: str, charge_point_id: str, addresses: Sequence[VariableAddress]
    ) -> list[DeviceVariable]:
        wanted = {a.key() for a in addresses}
        return [
            v
            for (t, cp, key), v in self.rows.items()
            if (t, cp) == (tenant_id, charge_point_id) and key in wanted
        ]

    def search(
        self, tenant_id: str, charge_point_id: str, query: VariableQuery
    ) -> tuple[list[DeviceVariable], int]:
        found = sorted(
            (
                v
                for (t, cp, _), v in self.rows.items()
                if (t, cp) == (tenant_id, charge_point_id)
                and (query.component is None or v.address.component.name.lower() == query.component.lower())
                and (query.variable is None or v.address.variable.name.lower() == query.variable.lower())
                and (query.evse_id is None or v.address.component.evse_id == query.evse_id)
            ),
            key=lambda v: v.address.key(),
        )
        return found[query.offset : query.offset + query.limit], len(found)


class FakeLiveSubscribers:
    """:class:`csms.domain.live.LiveSubscribers` in memory."""

    def __init__(self) -> None:
        self.by_connection: dict[str, Any] = {}

    def add(self, subscriber: Any) -> None:
        self.by_connection[subscriber.connection_id] = subscriber

    def remove(self, connection_id: str) -> None:
        self.by_connection.pop(connection_id, None)

    def of_tenant(self, tenant_id: str) -> list[str]:
        return [c for c, s in self.by_connection.items() if s.tenant_id == tenant_id]

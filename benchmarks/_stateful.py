"""The architecture this product replaces, minimal but honest: one long-lived process, the
``ocpp`` library's ``ChargePoint`` per connection over ``websockets``, library defaults
(schema validation in the event loop's thread pool), and the same PostgreSQL schema written
with plain SQL through a small pool of async psycopg connections.

It keeps what a stateful server keeps in memory (the connected chargers) and persists what
the product persists: boot info, connector status and its history, transactions, meter
samples; Authorize reads the id tag. There is no DynamoDB and no @connections call: the
reply goes back on the socket the request came in on.

It speaks OCPP 1.6 (``ocpp.v16.ChargePoint``) and 2.0.1 (``ocpp.v201.ChargePoint``), by the
subprotocol the charger negotiated. 2.0.1 stores the same things in the same tables:
TransactionEvent Started inserts the transaction (the station's id, its pk kept in memory
per connection), every event its ``transaction_events`` row and its meter values as
samples, Ended closes the transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action, AuthorizationStatus, RegistrationStatus
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201

from csms.ocpp16.mapping import STATUS_STATES


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _ts(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Pool:
    """A fixed pool of autocommit async connections."""

    def __init__(self, dsn: str, size: int) -> None:
        self._dsn = dsn
        self._size = size
        self._free: asyncio.Queue[psycopg.AsyncConnection[Any]] = asyncio.Queue()
        self._all: list[psycopg.AsyncConnection[Any]] = []

    async def open(self) -> None:
        for _ in range(self._size):
            conn = await psycopg.AsyncConnection.connect(self._dsn, autocommit=True)
            self._all.append(conn)
            self._free.put_nowait(conn)

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        conn = await self._free.get()
        try:
            yield conn
        finally:
            self._free.put_nowait(conn)

    async def close(self) -> None:
        for conn in self._all:
            await conn.close()


ENERGY = "Energy.Active.Import.Register"


async def _tag_status(db: psycopg.AsyncConnection[Any], tenant: str, id_tag: str) -> str:
    cursor = await db.execute(
        "SELECT status FROM id_tokens WHERE tenant_id = %s AND lower(id_token) = lower(%s)"
        " ORDER BY array_position(ARRAY['ISO14443', 'ISO15693', 'KeyCode', 'Local', 'Central', 'eMAID',"
        " 'MacAddress'], type) LIMIT 1",
        (tenant, id_tag),
    )
    found = await cursor.fetchone()
    return str(found[0]) if found else AuthorizationStatus.invalid.value


class StatefulCentralSystem(ChargePoint):  # type: ignore[misc]
    def __init__(self, cp_id: str, connection: Any, pool: Pool, tenant: str) -> None:
        super().__init__(cp_id, connection)
        self._pool = pool
        self._tenant = tenant

    @on(Action.boot_notification)
    async def on_boot(self, charge_point_vendor: str, charge_point_model: str, **extra: Any) -> Any:
        now = _now()
        async with self._pool.connection() as db:
            await db.execute(
                "UPDATE charge_points SET vendor = %s, model = %s, serial_number = %s, firmware_version = %s,"
                " last_boot_at = %s, updated_at = %s WHERE id = %s",
                (
                    charge_point_vendor,
                    charge_point_model,
                    extra.get("charge_point_serial_number"),
                    extra.get("firmware_version"),
                    now,
                    now,
                    self.id,
                ),
            )
        return call_result.BootNotification(
            current_time=_iso(now), interval=300, status=RegistrationStatus.accepted
        )

    @on(Action.heartbeat)
    async def on_heartbeat(self) -> Any:
        return call_result.Heartbeat(current_time=_iso(_now()))

    @on(Action.status_notification)
    async def on_status(self, connector_id: int, error_code: str, status: str, **extra: Any) -> Any:
        now = _now()
        at = _ts(extra["timestamp"]) if "timestamp" in extra else now
        # The schema's EVSE/connector addressing and normalized state, as the product maps them.
        state, charging_state = STATUS_STATES[status]
        row = (
            self._tenant,
            self.id,
            connector_id,
            1 if connector_id else 0,
            status,
            state.value,
            charging_state.value if charging_state else None,
            error_code,
            at,
        )
        async with self._pool.connection() as db, db.transaction():
            await db.execute(
                "INSERT INTO connector_status_history (tenant_id, charge_point_id, evse_id, connector_id,"
                " status, state, charging_state, error_code, status_timestamp, received_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (*row, now),
            )
            await db.execute(
                "INSERT INTO connectors (tenant_id, charge_point_id, evse_id, connector_id, status, state,"
                " charging_state, error_code, status_timestamp, updated_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (charge_point_id, evse_id, connector_id) DO UPDATE SET"
                " status = excluded.status, state = excluded.state, charging_state = excluded.charging_state,"
                " error_code = excluded.error_code, status_timestamp = excluded.status_timestamp,"
                " updated_at = excluded.updated_at",
                (*row, now),
            )
        return call_result.StatusNotification()

    async def _tag_status(self, db: psycopg.AsyncConnection[Any], id_tag: str) -> str:
        return await _tag_status(db, self._tenant, id_tag)

    @on(Action.authorize)
    async def on_authorize(self, id_tag: str) -> Any:
        async with self._pool.connection() as db:
            status = await self._tag_status(db, id_tag)
        return call_result.Authorize(id_tag_info={"status": status})

    @on(Action.start_transaction)
    async def on_start(
        self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **_: Any
    ) -> Any:
        async with self._pool.connection() as db, db.transaction():
            status = await self._tag_status(db, id_tag)
            cursor = await db.execute(
                "WITH n AS (SELECT nextval(pg_get_serial_sequence('transactions', 'id')) AS id)"
                " INSERT INTO transactions (id, transaction_id, tenant_id, charge_point_id, evse_id,"
                " connector_id, id_token, start_auth_status, meter_start, start_timestamp,"
                " started_received_at)"
                " SELECT n.id, n.id::text, %s, %s, %s, 1, %s, %s, %s, %s, %s FROM n RETURNING id",
                (self._tenant, self.id, connector_id, id_tag, status, meter_start, _ts(timestamp), _now()),
            )
            row = await cursor.fetchone()
        assert row is not None
        return call_result.StartTransaction(transaction_id=int(row[0]), id_tag_info={"status": status})

    @on(Action.stop_transaction)
    async def on_stop(self, transaction_id: int, meter_stop: int, timestamp: str, **extra: Any) -> Any:
        async with self._pool.connection() as db:
            await db.execute(
                "UPDATE transactions SET meter_stop = %s, stop_timestamp = %s, stop_reason = %s,"
                " stop_id_token = %s, stopped_received_at = %s WHERE transaction_id = %s::text"
                " AND charge_point_id = %s",
                (
                    meter_stop,
                    _ts(timestamp),
                    extra.get("reason"),
                    extra.get("id_tag"),
                    _now(),
                    transaction_id,
                    self.id,
                ),
            )
        return call_result.StopTransaction()

    @on(Action.meter_values)
    async def on_meter_values(
        self, connector_id: int, meter_value: list[dict[str, Any]], **extra: Any
    ) -> Any:
        now = _now()
        rows = [
            (
                self._tenant,
                self.id,
                connector_id,
                extra.get("transaction_id"),
                _ts(mv["timestamp"]),
                sv.get("measurand", "Energy.Active.Import.Register"),
                sv.get("phase") or "",
                sv.get("unit", "Wh"),
                sv.get("context", "Sample.Periodic"),
                sv.get("location", "Outlet"),
                sv.get("format", "Raw"),
                sv["value"],
                now,
            )
            for mv in meter_value
            for sv in mv["sampled_value"]
        ]
        async with self._pool.connection() as db, db.cursor() as cursor:
            await cursor.executemany(
                "INSERT INTO meter_samples (tenant_id, charge_point_id, evse_id, transaction_id,"
                " timestamp, measurand, phase, unit, context, location, format, value, received_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                rows,
            )
        return call_result.MeterValues()


_INSERT_SAMPLES = (
    "INSERT INTO meter_samples (tenant_id, charge_point_id, evse_id, transaction_id,"
    " timestamp, measurand, phase, unit, context, location, format, value, received_at)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
)


class StatefulCsms201(ChargePoint201):  # type: ignore[misc]
    """The same server for a 2.0.1 station (one per connection)."""

    def __init__(self, cp_id: str, connection: Any, pool: Pool, tenant: str) -> None:
        super().__init__(cp_id, connection)
        self._pool = pool
        self._tenant = tenant
        #: The station's transaction ids and their rows' pk: what a stateful server remembers.
        self._transactions: dict[str, int] = {}

    @on(Action201.boot_notification)
    async def on_boot(self, charging_station: dict[str, Any], reason: str, **_: Any) -> Any:
        now = _now()
        async with self._pool.connection() as db:
            await db.execute(
                "UPDATE charge_points SET vendor = %s, model = %s, serial_number = %s, firmware_version = %s,"
                " boot_reason = %s, last_boot_at = %s, updated_at = %s WHERE id = %s",
                (
                    charging_station["vendor_name"],
                    charging_station["model"],
                    charging_station.get("serial_number"),
                    charging_station.get("firmware_version"),
                    reason,
                    now,
                    now,
                    self.id,
                ),
            )
        return result201.BootNotification(current_time=_iso(now), interval=300, status="Accepted")

    @on(Action201.heartbeat)
    async def on_heartbeat(self) -> Any:
        return result201.Heartbeat(current_time=_iso(_now()))

    @on(Action201.status_notification)
    async def on_status(
        self, timestamp: str, connector_status: str, evse_id: int, connector_id: int, **_: Any
    ) -> Any:
        now = _now()
        row = (
            self._tenant,
            self.id,
            evse_id,
            connector_id,
            connector_status,
            connector_status,  # 2.0.1's ConnectorStatus is the normalized state
            None,
            None,
            _ts(timestamp),
        )
        async with self._pool.connection() as db, db.transaction():
            await db.execute(
                "INSERT INTO connector_status_history (tenant_id, charge_point_id, evse_id, connector_id,"
                " status, state, charging_state, error_code, status_timestamp, received_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (*row, now),
            )
            await db.execute(
                "INSERT INTO connectors (tenant_id, charge_point_id, evse_id, connector_id, status, state,"
                " charging_state, error_code, status_timestamp, updated_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (charge_point_id, evse_id, connector_id) DO UPDATE SET"
                " status = excluded.status, state = excluded.state,"
                " status_timestamp = excluded.status_timestamp, updated_at = excluded.updated_at",
                (*row, now),
            )
        return result201.StatusNotification()

    @on(Action201.authorize)
    async def on_authorize(self, id_token: dict[str, Any], **_: Any) -> Any:
        async with self._pool.connection() as db:
            status = await _tag_status(db, self._tenant, id_token["id_token"])
        return result201.Authorize(id_token_info={"status": status})

    @on(Action201.transaction_event)
    async def on_transaction_event(
        self,
        event_type: str,
        timestamp: str,
        trigger_reason: str,
        seq_no: int,
        transaction_info: dict[str, Any],
        **extra: Any,
    ) -> Any:
        now, at = _now(), _ts(timestamp)
        tx_id = transaction_info["transaction_id"]
        evse = extra.get("evse") or {}
        token = extra.get("id_token")
        readings = [
            (_ts(mv["timestamp"]), sv) for mv in extra.get("meter_value", ()) for sv in mv["sampled_value"]
        ]
        register = next((sv["value"] for _, sv in readings if sv.get("measurand", ENERGY) == ENERGY), None)
        async with self._pool.connection() as db, db.transaction():
            status = await _tag_status(db, self._tenant, token["id_token"]) if token else None
            pk = self._transactions.get(tx_id)
            if pk is None:
                cursor = await db.execute(
                    "INSERT INTO transactions (transaction_id, protocol, tenant_id, charge_point_id, evse_id,"
                    " connector_id, id_token, id_token_type, start_auth_status, meter_start, start_timestamp,"
                    " seq_no, charging_state, started_received_at)"
                    " VALUES (%s, 'ocpp2.0.1', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                    (
                        tx_id,
                        self._tenant,
                        self.id,
                        evse.get("id"),
                        evse.get("connector_id"),
                        token["id_token"] if token else None,
                        token["type"] if token else None,
                        status,
                        register,
                        at,
                        seq_no,
                        transaction_info.get("charging_state"),
                        now,
                    ),
                )
                row = await cursor.fetchone()
                assert row is not None
                pk = self._transactions[tx_id] = int(row[0])
            elif event_type == "Ended":
                await db.execute(
                    "UPDATE transactions SET meter_stop = %s, stop_timestamp = %s, stop_reason = %s,"
                    " stop_id_token = %s, stop_id_token_type = %s, seq_no = %s, charging_state = %s,"
                    " stopped_received_at = %s WHERE id = %s",
                    (
                        register,
                        at,
                        transaction_info.get("stopped_reason", "Local"),
                        token["id_token"] if token else None,
                        token["type"] if token else None,
                        seq_no,
                        transaction_info.get("charging_state"),
                        now,
                        pk,
                    ),
                )
                del self._transactions[tx_id]
            await db.execute(
                "INSERT INTO transaction_events (tenant_id, charge_point_id, transaction_pk, seq_no,"
                " event_type, trigger_reason, timestamp, evse_id, connector_id, charging_state,"
                " stopped_reason, id_token, id_token_type, id_token_status, meter_values, received_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    self._tenant,
                    self.id,
                    pk,
                    seq_no,
                    event_type,
                    trigger_reason,
                    at,
                    evse.get("id"),
                    evse.get("connector_id"),
                    transaction_info.get("charging_state"),
                    transaction_info.get("stopped_reason"),
                    token["id_token"] if token else None,
                    token["type"] if token else None,
                    status,
                    len(readings),
                    now,
                ),
            )
            if readings:
                async with db.cursor() as cursor:
                    await cursor.executemany(
                        _INSERT_SAMPLES,
                        [self._sample(evse.get("id", 1), pk, t, sv, now) for t, sv in readings],
                    )
        if token is None:
            return result201.TransactionEvent()
        return result201.TransactionEvent(id_token_info={"status": status})

    @on(Action201.meter_values)
    async def on_meter_values(self, evse_id: int, meter_value: list[dict[str, Any]], **_: Any) -> Any:
        now = _now()
        rows = [
            self._sample(evse_id, None, _ts(mv["timestamp"]), sv, now)
            for mv in meter_value
            for sv in mv["sampled_value"]
        ]
        async with self._pool.connection() as db, db.cursor() as cursor:
            await cursor.executemany(_INSERT_SAMPLES, rows)
        return result201.MeterValues()

    def _sample(
        self, evse_id: int, pk: int | None, at: datetime, sv: dict[str, Any], now: datetime
    ) -> tuple[Any, ...]:
        measurand = sv.get("measurand", ENERGY)
        unit = sv.get("unit_of_measure") or {}
        return (
            self._tenant,
            self.id,
            evse_id,
            pk,
            at,
            measurand,
            sv.get("phase") or "",
            unit.get("unit", "Wh" if measurand.startswith("Energy.") else ""),
            sv.get("context", "Sample.Periodic"),
            sv.get("location", "Outlet"),
            "Raw",
            str(sv["value"]),
            now,
        )


class StatefulServer:
    """The server in its own thread and event loop; ``connected`` is its in-memory registry."""

    def __init__(self, dsn: str, tenant: str, pool_size: int = 10) -> None:
        self._dsn = dsn.replace("postgresql+psycopg://", "postgresql://")
        self._tenant = tenant
        self._pool_size = pool_size
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="stateful-server", daemon=True)
        self.connected: dict[str, Any] = {}
        self.port = 0
        self._server: Any = None
        self._pool: Pool | None = None

    def start(self) -> int:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(60)
        return self.port

    async def _start(self) -> None:
        self._pool = Pool(self._dsn, self._pool_size)
        await self._pool.open()
        self._server = await websockets.serve(
            self._on_connect,
            "127.0.0.1",
            0,
            subprotocols=["ocpp2.0.1", "ocpp1.6"],
            ping_interval=None,
            max_queue=None,  # type: ignore[list-item]
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _on_connect(self, connection: Any) -> None:
        cp_id = connection.request.path.rstrip("/").rsplit("/", 1)[-1]
        kind = {"ocpp1.6": StatefulCentralSystem, "ocpp2.0.1": StatefulCsms201}.get(connection.subprotocol)
        if kind is None:
            await connection.close(1002, "ocpp1.6 or ocpp2.0.1 required")
            return
        assert self._pool is not None
        central = kind(cp_id, connection, self._pool, self._tenant)
        self.connected[cp_id] = connection
        try:
            await central.start()
        except websockets.ConnectionClosed:
            pass
        finally:
            if self.connected.get(cp_id) is connection:
                del self.connected[cp_id]

    def stop(self) -> None:
        async def _stop() -> None:
            self._server.close()
            await self._server.wait_closed()
            if self._pool is not None:
                await self._pool.close()

        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(_stop(), self.loop).result(60)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)

"""Reservation end to end: ReserveNow / CancelReservation through the REST API to a real
charger, and the reservation's lifecycle (requested → active → used | cancelled | expired;
rejected; failed)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.routing import after, on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action
from sqlalchemy import Engine
from websockets.asyncio.client import ClientConnection

from csms.app import wiring
from csms.clock import FixedClock
from csms.local.stack import LocalStack
from tests.integration.api_client import ApiClient
from tests.integration.charger import SimulatedCharger, connected, open_socket
from tests.integration.command_helpers import eventually, get, next_frame, provision, send
from tests.integration.conftest import rows

pytestmark = pytest.mark.integration
CP = "RSV-1"


class ReservingCharger(SimulatedCharger):
    """Accepts reservations on connector 1; connector 2 is occupied; cancels what it holds."""

    def __init__(self, charge_point_id: str, connection: ClientConnection) -> None:
        super().__init__(charge_point_id, connection)
        self.held: dict[int, dict[str, Any]] = {}

    @on(Action.reserve_now)
    def reserve_now(self, connector_id: int, reservation_id: int, **kwargs: Any) -> call_result.ReserveNow:
        if connector_id == 2:
            return call_result.ReserveNow(status="Occupied")
        self.held[reservation_id] = {"connector_id": connector_id, **kwargs}
        return call_result.ReserveNow(status="Accepted")

    @on(Action.cancel_reservation)
    def cancel_reservation(self, reservation_id: int) -> call_result.CancelReservation:
        found = self.held.pop(reservation_id, None)
        return call_result.CancelReservation(status="Accepted" if found else "Rejected")


@pytest.fixture
def operator(api: ApiClient) -> ApiClient:
    return provision(api, "acme", CP, "RSV-2")


def in_hours(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


def start_transaction(reservation_id: int, timestamp: datetime | None = None) -> call.StartTransaction:
    return call.StartTransaction(
        connector_id=1,
        id_tag="DRIVER-1",
        meter_start=1000,
        timestamp=(timestamp or datetime.now(UTC)).isoformat(),
        reservation_id=reservation_id,
    )


async def reservation(client: ApiClient, reservation_id: int) -> dict[str, Any]:
    found = await get(client, f"/reservations/{reservation_id}")
    assert found.status == 200
    body: dict[str, Any] = found.body
    return body


async def test_a_reservation_is_held_then_used_by_a_transaction(
    operator: ApiClient, stack: LocalStack, engine: Engine
) -> None:
    async with connected(stack, CP, ReservingCharger) as charger:
        # When the operator reserves connector 1 for a driver
        reserved = await send(
            operator,
            CP,
            "reserve-now",
            {
                "evseId": 1,
                "expiryDateTime": in_hours(1),
                "idToken": {"idToken": "DRIVER-1"},
                "groupIdToken": {"idToken": "FLEET", "type": "Central"},
            },
        )
        reservation_id = reserved.body["request"]["reservationId"]
        active = await reservation(operator, reservation_id)
        # and the driver arrives: the charger starts a transaction with the reservation
        started = await charger.call(start_transaction(reservation_id))
    # Then the CSMS allocated the reservationId and the charger holds it
    assert isinstance(charger, ReservingCharger)
    assert reserved.body["status"] == "accepted"
    assert charger.held[reservation_id]["id_tag"] == "DRIVER-1"
    assert charger.held[reservation_id]["parent_id_tag"] == "FLEET"
    assert active["status"] == "active"
    assert active["commandId"] == reserved.body["id"]
    # and the transaction used it
    used = await reservation(operator, reservation_id)
    assert (used["status"], used["transactionId"]) == ("used", started.transaction_id)
    assert rows(
        engine,
        "SELECT status, transaction_id, evse_id, id_token, id_token_type, group_id_token FROM reservations",
    ) == [
        {
            "status": "used",
            "transaction_id": started.transaction_id,
            "evse_id": 1,
            "id_token": "DRIVER-1",
            "id_token_type": "ISO14443",  # the token reserved for (1.6 does not send its type)
            "group_id_token": "FLEET",
        }
    ]
    listed = await get(operator, f"/stations/{CP}/reservations")
    assert [(r["reservationId"], r["status"]) for r in listed.body["items"]] == [(reservation_id, "used")]


async def test_refusals_and_failures(operator: ApiClient, stack: LocalStack) -> None:
    async with connected(stack, CP, ReservingCharger):
        occupied = await send(
            operator,
            CP,
            "reserve-now",
            {"evseId": 2, "expiryDateTime": in_hours(1), "idToken": {"idToken": "D"}},
        )
    offline = await asyncio.to_thread(
        operator.post,
        f"/api/v1/stations/{CP}/commands/reserve-now?expiresIn=10",
        {"evseId": 1, "expiryDateTime": in_hours(1), "idToken": {"idToken": "D"}},
    )
    # the station stays away past the command's expiry: the sweeper times it out
    later = FixedClock(datetime.now(UTC) + timedelta(seconds=30))
    await asyncio.to_thread(wiring.commands(later).sweep)
    offline = await get(operator, f"/commands/{offline.body['id']}")
    socket = await open_socket(stack, CP)
    pending = asyncio.create_task(
        send(
            operator,
            CP,
            "reserve-now",
            {"evseId": 1, "expiryDateTime": in_hours(1), "idToken": {"idToken": "D"}},
        )
    )
    frame = await next_frame(socket)
    await socket.send(json.dumps([4, frame[1], "InternalError", "boom", {}]))
    call_error = await pending
    await socket.close()
    assert (occupied.body["status"], occupied.body["reason"]) == ("rejected", "station answered Occupied")
    assert (await reservation(operator, occupied.body["request"]["reservationId"]))["status"] == "rejected"
    assert offline.body["status"] == "timed_out"
    assert offline.body["reason"].endswith("before it could be sent: the station did not connect in time")
    assert (await reservation(operator, offline.body["request"]["reservationId"]))["status"] == "failed"
    assert call_error.body["status"] == "failed"
    assert (await reservation(operator, call_error.body["request"]["reservationId"]))["status"] == "failed"
    by_status = await get(operator, f"/stations/{CP}/reservations", status="failed")
    assert by_status.body["total"] == 2


async def test_cancel_reservation(operator: ApiClient, stack: LocalStack) -> None:
    async with connected(stack, CP, ReservingCharger) as charger:
        reserved = await send(
            operator,
            CP,
            "reserve-now",
            {"evseId": 1, "expiryDateTime": in_hours(2), "idToken": {"idToken": "D"}},
        )
        reservation_id = reserved.body["request"]["reservationId"]
        # The charger lost it (rebooted): its Rejected leaves our record as it was
        assert isinstance(charger, ReservingCharger)
        lost = charger.held.pop(reservation_id)
        refused = await send(operator, CP, "cancel-reservation", {"reservationId": reservation_id})
        still = await reservation(operator, reservation_id)
        charger.held[reservation_id] = lost
        cancelled = await send(operator, CP, "cancel-reservation", {"reservationId": reservation_id})
        again = await send(operator, CP, "cancel-reservation", {"reservationId": reservation_id})
        unknown = await send(operator, CP, "cancel-reservation", {"reservationId": 999_999})
        elsewhere = await send(operator, "RSV-2", "cancel-reservation", {"reservationId": reservation_id})
    assert (refused.body["status"], still["status"]) == ("rejected", "active")
    assert cancelled.body["status"] == "accepted"
    assert (await reservation(operator, reservation_id))["status"] == "cancelled"
    assert reservation_id not in charger.held
    assert (again.status, unknown.status, elsewhere.status) == (409, 404, 404)


async def test_reservations_expire_on_schedule_and_a_late_start_still_uses_one(
    operator: ApiClient, stack: LocalStack
) -> None:
    async with connected(stack, CP, ReservingCharger) as charger:
        soon = await send(
            operator,
            CP,
            "reserve-now",
            {"evseId": 1, "expiryDateTime": in_hours(1), "idToken": {"idToken": "D"}},
        )
        later = await send(
            operator,
            CP,
            "reserve-now",
            {"evseId": 1, "expiryDateTime": in_hours(5), "idToken": {"idToken": "E"}},
        )
        soon_id = soon.body["request"]["reservationId"]
        # When the expiry job runs two hours from now
        expired = await asyncio.to_thread(
            wiring.reservations().expire_reservations, datetime.now(UTC) + timedelta(hours=2)
        )
        # and a transaction that started (offline) before the expiry reports its reservation late
        started = await charger.call(start_transaction(soon_id, datetime.now(UTC) + timedelta(minutes=30)))
    assert expired == 1
    assert (await reservation(operator, later.body["request"]["reservationId"]))["status"] == "active"
    used = await reservation(operator, soon_id)
    assert (used["status"], used["transactionId"]) == ("used", started.transaction_id)
    # Running the job again changes nothing
    assert await asyncio.to_thread(wiring.reservations().expire_reservations, datetime.now(UTC)) == 0


async def test_a_start_after_the_expiry_does_not_use_an_expired_reservation(
    operator: ApiClient, stack: LocalStack
) -> None:
    async with connected(stack, CP, ReservingCharger) as charger:
        soon = await send(
            operator,
            CP,
            "reserve-now",
            {"evseId": 1, "expiryDateTime": in_hours(1), "idToken": {"idToken": "D"}},
        )
        soon_id = soon.body["request"]["reservationId"]
        await asyncio.to_thread(
            wiring.reservations().expire_reservations, datetime.now(UTC) + timedelta(hours=2)
        )
        started = await charger.call(start_transaction(soon_id, datetime.now(UTC) + timedelta(hours=3)))
    assert started.transaction_id > 0  # the transaction is recorded all the same
    gone = await reservation(operator, soon_id)
    assert (gone["status"], gone["transactionId"]) == ("expired", None)


async def test_invalid_reservations_and_tenant_scope(
    operator: ApiClient, api: ApiClient, stack: LocalStack
) -> None:
    past = await send(
        operator,
        CP,
        "reserve-now",
        {"evseId": 1, "expiryDateTime": in_hours(-1), "idToken": {"idToken": "D"}},
    )
    negative = await send(
        operator,
        CP,
        "reserve-now",
        {"evseId": -1, "expiryDateTime": in_hours(1), "idToken": {"idToken": "D"}},
    )
    long_tag = await send(
        operator,
        CP,
        "reserve-now",
        {"evseId": 1, "expiryDateTime": in_hours(1), "idToken": {"idToken": "D" * 37}},
    )
    assert [r.status for r in (past, negative, long_tag)] == [422, 422, 422]
    assert "expiryDateTime" in past.body["detail"]
    async with connected(stack, CP, ReservingCharger):
        # a token longer than a 1.6 id tag cannot be sent to a 1.6 charger
        too_long_for_16 = await send(
            operator, CP, "reserve-now", {"expiryDateTime": in_hours(1), "idToken": {"idToken": "D" * 21}}
        )
        assert too_long_for_16.status == 422
        assert "idToken.idToken" in too_long_for_16.body["detail"]
        reserved = await send(
            operator,
            CP,
            "reserve-now",
            {"evseId": 1, "expiryDateTime": in_hours(1), "idToken": {"idToken": "D"}},
        )
    reservation_id = reserved.body["request"]["reservationId"]
    other = api.as_("globex", "viewer")
    assert (await get(other, f"/reservations/{reservation_id}")).status == 404
    assert (await get(other, f"/stations/{CP}/reservations")).status == 404
    assert (await get(operator, "/reservations/424242")).status == 404
    viewer = api.as_("acme", "viewer")
    assert (await get(viewer, f"/reservations/{reservation_id}")).body["status"] == "active"


class ReservingAndReporting(ReservingCharger):
    """Also answers TriggerMessage(StatusNotification) with the connector's actual status."""

    @on(Action.trigger_message)
    def trigger_message(
        self, requested_message: str, connector_id: int | None = None
    ) -> call_result.TriggerMessage:
        return call_result.TriggerMessage(status="Accepted")

    @after(Action.trigger_message)
    async def report(self, requested_message: str, connector_id: int | None = None) -> None:
        await self.call(
            call.StatusNotification(
                connector_id=connector_id or 0,
                error_code="NoError",
                status="Available",
                timestamp=datetime.now(UTC).isoformat(),
            )
        )


async def test_an_expired_reservation_asks_the_charger_for_the_connectors_status(
    operator: ApiClient, stack: LocalStack, engine: Engine
) -> None:
    from csms.app.scheduled import run

    async with connected(stack, CP, ReservingAndReporting) as charger:
        reserved = await send(
            operator,
            CP,
            "reserve-now",
            {"evseId": 1, "expiryDateTime": in_hours(1), "idToken": {"idToken": "D"}},
        )
        # the charger reports the connector Reserved, then (offline from our view) drops it
        await charger.call(
            call.StatusNotification(
                connector_id=1,
                error_code="NoError",
                status="Reserved",
                timestamp=datetime.now(UTC).isoformat(),
            )
        )
        # When the reservations job runs after the expiry date
        result = await asyncio.to_thread(run, "reservations", datetime.now(UTC) + timedelta(hours=2))
        # Then it asked the charger for connector 1's status, which the charger reported
        status = await eventually(
            lambda: asyncio.to_thread(
                rows,
                engine,
                "SELECT status FROM connectors WHERE charge_point_id = :cp AND evse_id = 1",
                cp=CP,
            ),
            lambda found: found == [{"status": "Available"}],
        )
    assert result == {"expired": 1, "status_requested": 1}
    assert reserved.body["status"] == "accepted"
    assert status == [{"status": "Available"}]
    asked = await get(operator, f"/stations/{CP}/commands")
    [trigger] = [c for c in asked.body["items"] if c["action"] == "TriggerMessage"]
    assert trigger["request"] == {"requestedMessage": "StatusNotification", "evseId": 1}
    assert trigger["ocppRequest"] == {"requestedMessage": "StatusNotification", "connectorId": 1}
    assert trigger["requestedBy"] == "job:reservations"
    # A second run changes nothing and asks nothing
    again = await asyncio.to_thread(run, "reservations", datetime.now(UTC) + timedelta(hours=2))
    assert again == {"expired": 0, "status_requested": 0}

"""RemoteTrigger end to end: TriggerMessage through the REST API to a real charger, whose
triggered message then arrives through the normal inbound path and lands where it always
does (connector status, firmware timeline, boot information)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from ocpp.routing import after, on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action
from sqlalchemy import Engine
from websockets.asyncio.client import ClientConnection

from csms.local.stack import LocalStack
from tests.integration.api_client import ApiClient, Reply
from tests.integration.charger import SimulatedCharger, connected
from tests.integration.command_helpers import eventually, get, provision, send
from tests.integration.conftest import rows

pytestmark = pytest.mark.integration
CP = "TRG-1"


class TriggeredCharger(SimulatedCharger):
    """Answers TriggerMessage and then sends the requested message, as 1.6 §5.17 describes;
    it has no meter, so MeterValues is NotImplemented."""

    def __init__(self, charge_point_id: str, connection: ClientConnection) -> None:
        super().__init__(charge_point_id, connection)
        self.answers: list[tuple[str, Any]] = []

    @on(Action.trigger_message)
    def trigger_message(
        self, requested_message: str, connector_id: int | None = None
    ) -> call_result.TriggerMessage:
        if requested_message == "MeterValues":
            return call_result.TriggerMessage(status="NotImplemented")
        if requested_message == "DiagnosticsStatusNotification":
            return call_result.TriggerMessage(status="Rejected")
        return call_result.TriggerMessage(status="Accepted")

    @after(Action.trigger_message)
    async def send_triggered(self, requested_message: str, connector_id: int | None = None) -> None:
        if requested_message == "StatusNotification":
            answer: Any = await self.call(
                call.StatusNotification(
                    connector_id=connector_id or 0,
                    error_code="NoError",
                    status="Preparing",
                    timestamp=datetime.now(UTC).isoformat(),
                )
            )
        elif requested_message == "FirmwareStatusNotification":
            answer = await self.call(call.FirmwareStatusNotification(status="Idle"))
        elif requested_message == "Heartbeat":
            answer = await self.call(call.Heartbeat())
        elif requested_message == "BootNotification":
            answer = await self.call(
                call.BootNotification(
                    charge_point_vendor="Triggerco", charge_point_model="T-1", firmware_version="3.2.1"
                )
            )
        else:
            return
        self.answers.append((requested_message, answer))


@pytest.fixture
def operator(api: ApiClient) -> ApiClient:
    return provision(api, "acme", CP)


async def test_a_triggered_status_notification_updates_the_connector(
    operator: ApiClient, stack: LocalStack, engine: Engine
) -> None:
    async with connected(stack, CP, TriggeredCharger) as charger:
        triggered = await send(
            operator, CP, "trigger-message", {"requestedMessage": "StatusNotification", "evseId": 2}
        )

        async def evses() -> Reply:
            return await get(operator, f"/stations/{CP}/evses")

        listed = await eventually(evses, lambda r: bool(r.body))
    assert (triggered.body["status"], triggered.body["ocppRequest"]) == (
        "accepted",
        {"requestedMessage": "StatusNotification", "connectorId": 2},
    )
    # 1.6 connector 2 is EVSE 2, connector 1
    assert [
        (evse["evseId"], c["connectorId"], c["status"]) for evse in listed.body for c in evse["connectors"]
    ] == [(2, 1, "Preparing")]
    assert isinstance(charger, TriggeredCharger)
    assert [name for name, _ in charger.answers] == ["StatusNotification"]
    assert rows(engine, "SELECT evse_id, connector_id, status, state FROM connector_status_history") == [
        {"evse_id": 2, "connector_id": 1, "status": "Preparing", "state": "Occupied"}
    ]


async def test_triggered_firmware_status_heartbeat_and_boot_take_the_normal_path(
    operator: ApiClient, stack: LocalStack, engine: Engine
) -> None:
    async with connected(stack, CP, TriggeredCharger) as charger:
        for message in ("FirmwareStatusNotification", "Heartbeat", "BootNotification"):
            answer = await send(operator, CP, "trigger-message", {"requestedMessage": message})
            assert answer.body["status"] == "accepted"
        assert isinstance(charger, TriggeredCharger)

        async def answered() -> int:
            return len(charger.answers)

        await eventually(answered, lambda n: n == 3)
    answers = dict(charger.answers)
    assert isinstance(answers["Heartbeat"], call_result.Heartbeat)
    assert answers["BootNotification"].status == "Accepted"
    timeline = await get(operator, f"/stations/{CP}/firmware-status")
    assert [e["status"] for e in timeline.body["items"]] == ["Idle"]
    assert rows(
        engine, "SELECT vendor, model, firmware_version FROM charge_points WHERE id = :cp", cp=CP
    ) == [{"vendor": "Triggerco", "model": "T-1", "firmware_version": "3.2.1"}]


async def test_not_implemented_and_rejected_triggers_are_rejected_with_the_answer(
    operator: ApiClient, stack: LocalStack
) -> None:
    async with connected(stack, CP, TriggeredCharger) as charger:
        meter = await send(operator, CP, "trigger-message", {"requestedMessage": "MeterValues", "evseId": 1})
        diagnostics = await send(
            operator, CP, "trigger-message", {"requestedMessage": "LogStatusNotification"}
        )
        # a message 1.6 has no trigger for is refused before it is sent, naming the field
        transaction = await send(operator, CP, "trigger-message", {"requestedMessage": "TransactionEvent"})
    assert (meter.body["status"], meter.body["reason"]) == ("rejected", "station answered NotImplemented")
    assert (diagnostics.body["status"], diagnostics.body["reason"]) == (
        "rejected",
        "station answered Rejected",
    )
    assert diagnostics.body["ocppRequest"] == {"requestedMessage": "DiagnosticsStatusNotification"}
    assert transaction.status == 422
    assert "requestedMessage" in transaction.body["detail"]
    assert isinstance(charger, TriggeredCharger)
    assert charger.answers == []


async def test_invalid_triggers_are_refused(operator: ApiClient) -> None:
    unknown = await send(operator, CP, "trigger-message", {"requestedMessage": "StartTransaction"})
    connector = await send(
        operator, CP, "trigger-message", {"requestedMessage": "StatusNotification", "evseId": 0}
    )
    assert (unknown.status, connector.status) == (422, 422)

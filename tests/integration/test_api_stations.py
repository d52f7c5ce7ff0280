"""The REST API's stations, through the local API Gateway and the real api function."""

from __future__ import annotations

import asyncio

import pytest
from ocpp.v16 import call

from csms.local.stack import LocalStack
from tests.integration.api_client import ApiClient
from tests.integration.charger import connected, open_socket

pytestmark = pytest.mark.integration
V1 = "/api/v1"
TEN = "2026-11-21T10:00:00Z"


@pytest.fixture
def admin(api: ApiClient) -> ApiClient:
    return api.as_("acme", "admin")


def test_provision_get_and_list(admin: ApiClient, api: ApiClient) -> None:
    created = admin.post(f"{V1}/stations", {"id": "CP-1", "generatePassword": True})
    assert created.status == 201
    assert created.headers["Location"] == f"{V1}/stations/CP-1"
    assert created.body["station"]["id"] == "CP-1"
    assert created.body["station"]["hasPassword"] is True
    assert created.body["station"]["ocppVersion"] is None
    assert 16 <= len(created.body["password"]) <= 40
    assert admin.post(f"{V1}/stations", {"id": "CP-2", "securityProfile": 0}).body["password"] is None

    got = api.as_("acme", "viewer").get(f"{V1}/stations/CP-1")
    assert got.status == 200
    assert got.body["registrationStatus"] == "Accepted"
    assert got.body["online"] is False
    assert got.body["evses"] == []
    assert (got.body["protocol"], got.body["lastProtocol"], got.body["bootReason"]) == (None, None, None)
    assert got.body["createdAt"].endswith("Z")
    assert "password" not in got.body

    listed = admin.get(f"{V1}/stations", limit=1)
    assert (listed.body["total"], listed.body["limit"], listed.body["offset"]) == (2, 1, 0)
    assert [c["id"] for c in listed.body["items"]] == ["CP-1"]
    second = admin.get(f"{V1}/stations", limit=1, offset=1, sort="id", order="asc")
    assert [c["id"] for c in second.body["items"]] == ["CP-2"]
    assert [c["id"] for c in admin.get(f"{V1}/stations", q="CP-2").body["items"]] == ["CP-2"]


async def test_live_state_and_connectors(admin: ApiClient, stack: LocalStack) -> None:
    admin.post(f"{V1}/stations", {"id": "CP-L", "securityProfile": 0})
    admin.post(f"{V1}/stations", {"id": "CP-OFF", "securityProfile": 0})
    async with connected(stack, "CP-L") as cp:
        await cp.call(
            call.BootNotification(charge_point_model="M", charge_point_vendor="V", firmware_version="9")
        )
        await cp.call(
            call.StatusNotification(
                connector_id=1, error_code="NoError", status="Available", timestamp="2026-11-21T10:00:00Z"
            )
        )
        await cp.call(
            call.StatusNotification(
                connector_id=1, error_code="NoError", status="Charging", timestamp="2026-11-21T10:05:00Z"
            )
        )
        detail = await asyncio.to_thread(admin.get, f"{V1}/stations/CP-L")
        online = await asyncio.to_thread(admin.get, f"{V1}/stations", online="true")
        offline = await asyncio.to_thread(admin.get, f"{V1}/stations", online="false")
        connections = await asyncio.to_thread(admin.get, f"{V1}/connections")
        history = await asyncio.to_thread(
            admin.get, f"{V1}/stations/CP-L/status-history", evseId=1, connectorId=1
        )
        evses = await asyncio.to_thread(admin.get, f"{V1}/stations/CP-L/evses")
    assert detail.body["online"] is True
    assert detail.body["connectionAgeSeconds"] >= 0
    assert detail.body["lastSeen"] is not None
    assert (detail.body["vendor"], detail.body["firmwareVersion"]) == ("V", "9")
    assert (detail.body["protocol"], detail.body["lastProtocol"]) == ("ocpp1.6", "ocpp1.6")
    [evse] = detail.body["evses"]
    assert evse["evseId"] == 1  # 1.6 connector 1: EVSE 1 with connector 1
    assert evse["connectors"] == [
        {
            "connectorId": 1,
            "status": "Charging",
            "state": "Occupied",
            "chargingState": "Charging",
            "errorCode": "NoError",
            "info": None,
            "vendorId": None,
            "vendorErrorCode": None,
            "since": "2026-11-21T10:05:00Z",
            "updatedAt": evse["connectors"][0]["updatedAt"],
        }
    ]
    assert evses.body == detail.body["evses"]
    assert [c["id"] for c in online.body["items"]] == ["CP-L"]
    assert [c["id"] for c in offline.body["items"]] == ["CP-OFF"]
    assert [c["stationId"] for c in connections.body] == ["CP-L"]
    assert connections.body[0]["protocol"] == "ocpp1.6"
    assert [h["status"] for h in history.body["items"]] == ["Charging", "Available"]


async def test_update_password_status_and_decommission(admin: ApiClient, stack: LocalStack) -> None:
    admin.post(f"{V1}/stations", {"id": "CP-U", "securityProfile": 0})
    updated = admin.patch(
        f"{V1}/stations/CP-U", {"password": "sixteen-char-pass", "registrationStatus": "Pending"}
    )
    assert updated.status == 200
    assert (updated.body["hasPassword"], updated.body["registrationStatus"]) == (True, "Pending")
    socket = await open_socket(stack, "CP-U", password="sixteen-char-pass")
    # Decommissioning closes the live connection and refuses the next one
    assert (await asyncio.to_thread(admin.delete, f"{V1}/stations/CP-U")).status == 204
    await asyncio.wait_for(socket.wait_closed(), 5)
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus):
        await open_socket(stack, "CP-U", password="sixteen-char-pass")
    assert admin.get(f"{V1}/stations").body["total"] == 0
    assert admin.get(f"{V1}/stations", includeDecommissioned="true").body["total"] == 1
    assert admin.get(f"{V1}/stations/CP-U").body["decommissionedAt"] is not None


def test_roles(api: ApiClient, admin: ApiClient) -> None:
    admin.post(f"{V1}/stations", {"id": "CP-R", "securityProfile": 0})
    for role in ("viewer", "operator"):
        client = api.as_("acme", role)
        assert client.get(f"{V1}/stations/CP-R").status == 200
        forbidden = client.post(f"{V1}/stations", {"id": "CP-X", "securityProfile": 0})
        assert forbidden.status == 403
        assert forbidden.content_type == "application/problem+json"
        assert client.patch(f"{V1}/stations/CP-R", {"clearPassword": True}).status == 403
        assert client.delete(f"{V1}/stations/CP-R").status == 403


def test_other_tenants_see_nothing(api: ApiClient, admin: ApiClient) -> None:
    admin.post(f"{V1}/stations", {"id": "CP-T", "securityProfile": 0})
    other = api.as_("globex", "admin")
    assert other.get(f"{V1}/stations/CP-T").status == 404
    assert other.patch(f"{V1}/stations/CP-T", {"clearPassword": True}).status == 404
    assert other.delete(f"{V1}/stations/CP-T").status == 404
    assert other.get(f"{V1}/stations/CP-T/evses").status == 404
    assert other.get(f"{V1}/stations/CP-T/status-history").status == 404
    assert other.get(f"{V1}/stations").body["total"] == 0


def test_errors_are_problem_json(api: ApiClient, admin: ApiClient) -> None:
    missing = admin.get(f"{V1}/stations/NOPE")
    assert (missing.status, missing.content_type) == (404, "application/problem+json")
    assert missing.body["title"] == "Not found"
    invalid = admin.post(f"{V1}/stations", {"id": "bad id", "securityProfile": 0})
    assert invalid.status == 422
    assert invalid.body["errors"][0]["field"].endswith("id")
    assert "id" in invalid.body["detail"]
    unknown_field = admin.post(f"{V1}/stations", {"id": "CP-9", "colour": "red"})
    assert unknown_field.status == 422
    bad_query = admin.get(f"{V1}/stations", limit=0)
    assert bad_query.status == 422
    assert "limit" in bad_query.body["detail"]
    assert admin.get(f"{V1}/nothing-here").status == 404
    wrong_method = admin.put(f"{V1}/stations", {})
    assert wrong_method.status == 405
    assert "GET" in wrong_method.headers["Allow"]
    assert admin.request("POST", f"{V1}/stations", raw="{not json").status == 422
    duplicate = admin.post(f"{V1}/stations", {"id": "CP-9", "securityProfile": 0})
    assert admin.post(f"{V1}/stations", {"id": "CP-9", "securityProfile": 0}).status == 409
    assert duplicate.status == 201
    no_token = api.anonymous().get(f"{V1}/stations")
    assert (no_token.status, no_token.content_type) == (401, "application/problem+json")
    assert api.anonymous().get(f"{V1}/health").status == 200


def test_idempotency_key_replays_the_first_response(admin: ApiClient) -> None:
    headers = {"Idempotency-Key": "create-cp-i"}
    first = admin.post(f"{V1}/stations", {"id": "CP-I", "generatePassword": True}, headers=headers)
    again = admin.post(f"{V1}/stations", {"id": "CP-I", "generatePassword": True}, headers=headers)
    assert first.status == again.status == 201
    # the first response, nothing re-run; but the password was shown once and is not kept
    assert again.body == {**first.body, "password": None}
    assert again.headers["Csms-Redacted-Fields"] == "password"
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    reused = admin.post(f"{V1}/stations", {"id": "CP-J", "securityProfile": 0}, headers=headers)
    assert reused.status == 422
    assert admin.get(f"{V1}/stations").body["total"] == 1


def test_docs_and_openapi_are_served(api: ApiClient) -> None:
    docs = api.anonymous().get("/api/docs")
    assert docs.status == 200
    assert "swagger" in str(docs.body).lower()
    document = api.anonymous().get("/api/openapi.json")
    assert document.status == 200
    assert f"{V1}/stations" in document.body["paths"]


def test_framework_edges(admin: ApiClient) -> None:
    admin.post(f"{V1}/stations", {"id": "CP-E", "securityProfile": 0})
    text = admin.request("POST", f"{V1}/stations", raw="id=CP-F", headers={"Content-Type": "text/plain"})
    assert (text.status, text.content_type) == (415, "application/problem+json")
    assert admin.get(f"{V1}/stations", offset=2**40).status == 422
    history = f"{V1}/stations/CP-E/status-history"
    assert admin.get(history, **{"from": "2026-11-21T00:00:00Z", "to": "2026-11-22T00:00:00Z"}).status == 200
    unix_seconds = admin.get(history, **{"from": "1.5"})
    assert unix_seconds.status == 422
    assert "ISO 8601" in unix_seconds.body["detail"]
    assert admin.get(history, evseId=2**40).status == 422
    # a connector is numbered within its EVSE: connectorId alone means nothing
    assert admin.get(history, connectorId=1).status == 422


def test_an_idempotent_replay_keeps_the_location(admin: ApiClient) -> None:
    headers = {"Idempotency-Key": "loc-1"}
    first = admin.post(f"{V1}/stations", {"id": "CP-LOC", "securityProfile": 0}, headers=headers)
    again = admin.post(f"{V1}/stations", {"id": "CP-LOC", "securityProfile": 0}, headers=headers)
    assert again.headers["Location"] == first.headers["Location"] == f"{V1}/stations/CP-LOC"


async def test_an_admin_pins_a_station_to_a_protocol(
    admin: ApiClient, api: ApiClient, stack: LocalStack
) -> None:
    # Given a station provisioned pinned to 1.6
    created = admin.post(f"{V1}/stations", {"id": "CP-PIN", "ocppVersion": "ocpp1.6", "securityProfile": 0})
    assert created.body["station"]["ocppVersion"] == "ocpp1.6"
    assert [s["id"] for s in admin.get(f"{V1}/stations", ocppVersion="ocpp1.6").body["items"]] == ["CP-PIN"]
    assert admin.get(f"{V1}/stations", ocppVersion="ocpp2.0.1").body["items"] == []
    # When it offers both protocols it speaks 1.6, which the station shows
    socket = await open_socket(stack, "CP-PIN", subprotocols=["ocpp2.0.1", "ocpp1.6"])
    assert socket.subprotocol == "ocpp1.6"
    live = await asyncio.to_thread(admin.get, f"{V1}/stations/CP-PIN")
    await socket.close()
    assert (live.body["protocol"], live.body["lastProtocol"]) == ("ocpp1.6", "ocpp1.6")
    # And an admin moves it to 2.0.1, then unpins it (an explicit null)
    assert (
        admin.patch(f"{V1}/stations/CP-PIN", {"ocppVersion": "ocpp2.0.1"}).body["ocppVersion"] == "ocpp2.0.1"
    )
    socket = await open_socket(stack, "CP-PIN", subprotocols=["ocpp2.0.1", "ocpp1.6"])
    assert socket.subprotocol == "ocpp2.0.1"
    await socket.close()
    unpinned = admin.patch(f"{V1}/stations/CP-PIN", {"ocppVersion": None})
    assert (unpinned.body["ocppVersion"], unpinned.body["lastProtocol"]) == (None, "ocpp2.0.1")
    # Unpinned, it is listed by the protocol it spoke last (what the listing shows), not by its pin
    assert admin.get(f"{V1}/stations", ocppVersion="ocpp2.0.1").body["items"] == []
    assert [s["id"] for s in admin.get(f"{V1}/stations", protocol="ocpp2.0.1").body["items"]] == ["CP-PIN"]
    assert admin.get(f"{V1}/stations", protocol="ocpp1.6").body["items"] == []
    # A station that never connected speaks the protocol it is pinned to
    admin.post(f"{V1}/stations", {"id": "CP-PIN-16", "ocppVersion": "ocpp1.6", "securityProfile": 0})
    assert [s["id"] for s in admin.get(f"{V1}/stations", protocol="ocpp1.6").body["items"]] == ["CP-PIN-16"]
    # Only admins pin, and only to a protocol we speak
    assert (
        api.as_("acme", "operator").patch(f"{V1}/stations/CP-PIN", {"ocppVersion": "ocpp1.6"}).status == 403
    )
    refused = admin.patch(f"{V1}/stations/CP-PIN", {"ocppVersion": "ocpp2.0"})
    assert refused.status == 422
    assert refused.body["errors"][0]["field"].endswith("ocppVersion")


async def test_a_listing_summarises_each_station_without_a_request_per_station(
    admin: ApiClient, stack: LocalStack
) -> None:
    # Given a station charging on both connectors: connector 1 reports its total power in kW,
    # connector 2 per phase in W; and an idle station
    assert admin.post(f"{V1}/id-tokens", {"idToken": "TAG-SUM"}).status == 201
    for station in ("CP-SUM", "CP-IDLE"):
        assert admin.post(f"{V1}/stations", {"id": station, "securityProfile": 0}).status == 201
    async with connected(stack, "CP-SUM") as cp:
        await cp.call(call.BootNotification(charge_point_model="M", charge_point_vendor="V"))
        transactions = []
        for connector in (1, 2):
            await cp.call(
                call.StatusNotification(
                    connector_id=connector, error_code="NoError", status="Charging", timestamp=TEN
                )
            )
            started = await cp.call(
                call.StartTransaction(connector_id=connector, id_tag="TAG-SUM", meter_start=0, timestamp=TEN)
            )
            transactions.append(int(started.transaction_id))
        power = {"measurand": "Power.Active.Import"}
        for minute, kw in ((1, "7.0"), (2, "7.4")):  # the latest reading counts, not the first
            await cp.call(
                call.MeterValues(
                    connector_id=1,
                    transaction_id=transactions[0],
                    meter_value=[
                        {
                            "timestamp": f"2026-11-21T10:0{minute}:00Z",
                            "sampledValue": [{"value": kw, "unit": "kW", **power}],
                        }
                    ],
                )
            )
        await cp.call(
            call.MeterValues(
                connector_id=2,
                transaction_id=transactions[1],
                meter_value=[
                    {
                        "timestamp": "2026-11-21T10:02:00Z",
                        "sampledValue": [
                            {"value": "1000", "unit": "W", "phase": phase, **power}
                            for phase in ("L1-N", "L2-N", "L3-N")
                        ],
                    }
                ],
            )
        )
        # When an operator lists the stations
        listed = await asyncio.to_thread(admin.get, f"{V1}/stations")
        # and after connector 2's transaction ends
        await cp.call(
            call.StopTransaction(
                transaction_id=transactions[1], meter_stop=500, timestamp="2026-11-21T10:03:00Z"
            )
        )
        after = await asyncio.to_thread(admin.get, f"{V1}/stations", q="CP-SUM")
        online = await asyncio.to_thread(admin.get, f"{V1}/stations", online="true")
    # Then each item carries its connectors, running transactions and power
    assert listed.status == 200
    by_id = {item["id"]: item for item in listed.body["items"]}
    busy, idle = by_id["CP-SUM"], by_id["CP-IDLE"]
    charging = {"connectorId": 1, "status": "Charging", "state": "Occupied", "chargingState": "Charging"}
    assert busy["connectors"] == [{"evseId": 1, **charging}, {"evseId": 2, **charging}]
    assert busy["runningTransactions"] == 2
    assert busy["powerW"] == 7400 + 3000  # 7.4 kW, and three phases of 1 kW
    assert busy["powerAt"] == "2026-11-21T10:02:00Z"
    assert idle["connectors"] == []
    assert (idle["runningTransactions"], idle["powerW"], idle["powerAt"]) == (0, None, None)
    # once one ends, only the other's power counts
    [only] = after.body["items"]
    assert (only["runningTransactions"], only["powerW"]) == (1, 7400)
    # the online filter comes with the same summary, and the live connection's last_seen
    [connected_item] = online.body["items"]
    assert connected_item["id"] == "CP-SUM"
    assert (connected_item["powerW"], connected_item["online"]) == (7400, True)
    assert connected_item["lastSeen"] is not None

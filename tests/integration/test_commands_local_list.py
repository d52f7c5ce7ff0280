"""LocalAuthListManagement end to end: SendLocalList derived from the tenant's id tags, split
into frames under API Gateway's 32 KB limit, versions tracked per charger; GetLocalListVersion.

The simulated charger keeps a real local list: it applies each frame it accepts (Full
replaces, Differential upserts and removes), so what it ends up holding is checked against
the tenant's tags."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action
from sqlalchemy import Engine, text
from websockets.asyncio.client import ClientConnection

from csms.constants import MAX_FRAME_BYTES
from csms.data.database import PgDatabase
from csms.data.device_model import PgDeviceModelStore
from csms.domain.device_model import VariableSource
from csms.local.stack import LocalStack
from csms.ocpp16.configuration import configuration_values
from tests.integration.api_client import ApiClient
from tests.integration.charger import SimulatedCharger, connected, open_socket
from tests.integration.command_helpers import get, next_frame, provision, send
from tests.integration.conftest import rows

pytestmark = pytest.mark.integration
CP = "LL-1"
EXPIRY = datetime(2027, 6, 30, 12, tzinfo=UTC)


class ListCharger(SimulatedCharger):
    """Holds a local authorization list; answers ``answer`` to SendLocalList."""

    def __init__(self, charge_point_id: str, connection: ClientConnection) -> None:
        super().__init__(charge_point_id, connection)
        self.version = 0
        self.tags: dict[str, dict[str, Any]] = {}
        self.frames: list[tuple[int, int, str, int]] = []  # (bytes, version, update type, entries)
        self.answer = "Accepted"
        self._sizes: list[int] = []

    async def route_message(self, raw_msg: str | bytes) -> None:
        self._sizes.append(len(raw_msg.encode() if isinstance(raw_msg, str) else raw_msg))
        await super().route_message(raw_msg)

    @on(Action.send_local_list)
    def send_local_list(
        self,
        list_version: int,
        update_type: str,
        local_authorization_list: list[dict[str, Any]] | None = None,
    ) -> call_result.SendLocalList:
        entries = local_authorization_list or []
        self.frames.append((self._sizes[-1], list_version, update_type, len(entries)))
        if self.answer != "Accepted":
            return call_result.SendLocalList(status=self.answer)
        if update_type == "Full":
            self.tags = {}
        for item in entries:
            if "id_tag_info" in item:
                self.tags[item["id_tag"]] = item["id_tag_info"]
            else:
                self.tags.pop(item["id_tag"], None)
        self.version = list_version
        return call_result.SendLocalList(status="Accepted")

    @on(Action.get_local_list_version)
    def get_local_list_version(self) -> call_result.GetLocalListVersion:
        return call_result.GetLocalListVersion(list_version=self.version)


@pytest.fixture
def operator(api: ApiClient) -> ApiClient:
    return provision(api, "acme", CP)


def add_tags(engine: Engine, count: int, *, prefix: str = "TAG-", tenant: str = "acme") -> None:
    """``count`` RFID tokens straight into PostgreSQL (every 7th blocked, every 3rd in a group)."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO id_tokens (tenant_id, id_token, type, status, expiry_date, group_id_token, "
                "group_id_token_type, created_at, updated_at) "
                "SELECT :tenant, :prefix || lpad(i::text, 5, '0'), 'ISO14443', "
                "CASE WHEN i % 7 = 0 THEN 'Blocked' ELSE 'Accepted' END, :expiry, "
                "CASE WHEN i % 3 = 0 THEN 'FLEET-' || (i % 10) END, "
                "CASE WHEN i % 3 = 0 THEN 'Central' END, now(), now() "
                "FROM generate_series(1, :count) AS i"
            ),
            {"tenant": tenant, "prefix": prefix, "expiry": EXPIRY, "count": count},
        )


def expected_info(i: int) -> dict[str, Any]:
    info: dict[str, Any] = {
        "status": "Blocked" if i % 7 == 0 else "Accepted",
        "expiry_date": "2027-06-30T12:00:00.000Z",
    }
    if i % 3 == 0:
        info["parent_id_tag"] = f"FLEET-{i % 10}"
    return info


async def test_a_full_list_of_1500_tags_goes_out_in_frames_under_32_kb(
    operator: ApiClient, stack: LocalStack, engine: Engine
) -> None:
    # Given a tenant with 1,500 id tags (another tenant's tags must not leak in)
    add_tags(engine, 1500)
    provision(operator, "globex", "LL-OTHER")
    add_tags(engine, 5, prefix="OTHER-", tenant="globex")
    async with connected(stack, CP, ListCharger) as charger:
        # When the operator sends the Full list
        sent = await send(operator, CP, "send-local-list", {"updateType": "Full"}, wait=20)
        version = await send(operator, CP, "get-local-list-version", {})
    assert isinstance(charger, ListCharger)
    # Then it arrived in several frames, each under 32 KB, with consecutive versions
    assert len(charger.frames) >= 4
    assert all(size < MAX_FRAME_BYTES for size, *_ in charger.frames)
    assert [v for _, v, _, _ in charger.frames] == list(range(1, len(charger.frames) + 1))
    assert [t for _, _, t, _ in charger.frames] == ["Full"] + ["Differential"] * (len(charger.frames) - 1)
    assert sum(n for *_, n in charger.frames) == 1500
    # and the charger holds exactly the tenant's tags with their idTagInfo
    assert charger.tags == {f"TAG-{i:05d}": expected_info(i) for i in range(1, 1501)}
    # The REST answer is the first command and lists every part
    assert sent.status == 200
    assert sent.body["request"]["updateType"] == "Full"
    assert [c["status"] for c in sent.body["chunks"]] == ["accepted"] * len(charger.frames)
    assert sent.body["chunks"][0]["id"] == sent.body["id"]
    for chunk, (_, list_version, _, _) in zip(sent.body["chunks"], charger.frames, strict=True):
        command = await get(operator, f"/commands/{chunk['id']}")
        assert (command.body["action"], command.body["request"]["listVersion"]) == (
            "SendLocalList",
            list_version,
        )
    # And the versions are tracked per charger
    assert (version.body["status"], version.body["response"]) == (
        "accepted",
        {"listVersion": len(charger.frames)},
    )
    state = await get(operator, f"/stations/{CP}/local-list")
    assert {k: state.body[k] for k in ("sentVersion", "reportedVersion", "inSync")} == {
        "sentVersion": len(charger.frames),
        "reportedVersion": len(charger.frames),
        "inSync": True,
    }
    assert rows(engine, "SELECT tenant_id, sent_version, reported_version FROM local_auth_lists") == [
        {"tenant_id": "acme", "sent_version": len(charger.frames), "reported_version": len(charger.frames)}
    ]


async def test_differential_updates_named_tags_and_changes_since_the_last_full_list(
    operator: ApiClient, stack: LocalStack, engine: Engine
) -> None:
    add_tags(engine, 20)
    async with connected(stack, CP, ListCharger) as charger:
        # A differential "what changed" needs a Full list to diff against
        too_early = await send(operator, CP, "send-local-list", {"updateType": "Differential"})
        full = await send(operator, CP, "send-local-list", {"updateType": "Full"})
        # When two tags change and one is deleted
        with engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE id_tokens SET status = 'Blocked', updated_at = now() WHERE id_token = 'TAG-00002'"
                )
            )
            conn.execute(
                text(
                    "UPDATE id_tokens SET group_id_token = 'VIP', group_id_token_type = 'Central', "
                    "updated_at = now() WHERE id_token = 'TAG-00005'"
                )
            )
            conn.execute(text("DELETE FROM id_tokens WHERE id_token = 'TAG-00001'"))
        changed = await send(operator, CP, "send-local-list", {"updateType": "Differential"})
        # and the deleted tag is named (deletions leave nothing to diff against)
        named = await send(
            operator,
            CP,
            "send-local-list",
            {"updateType": "Differential", "idTokens": [{"idToken": "TAG-00001"}, {"idToken": "TAG-00004"}]},
        )
    assert too_early.status == 409
    assert "Full" in too_early.body["detail"]
    assert isinstance(charger, ListCharger)
    assert [c["status"] for c in (full.body, changed.body, named.body)] == ["accepted"] * 3
    assert changed.body["ocppRequest"] == {
        "listVersion": 2,
        "updateType": "Differential",
        "localAuthorizationList": [
            {
                "idTag": "TAG-00002",
                "idTagInfo": {"status": "Blocked", "expiryDate": "2027-06-30T12:00:00.000Z"},
            },
            {
                "idTag": "TAG-00005",
                "idTagInfo": {
                    "status": "Accepted",
                    "expiryDate": "2027-06-30T12:00:00.000Z",
                    "parentIdTag": "VIP",
                },
            },
        ],
    }
    assert named.body["ocppRequest"]["localAuthorizationList"] == [
        {"idTag": "TAG-00001"},  # no idTagInfo: remove it from the charger's list
        {"idTag": "TAG-00004", "idTagInfo": {"status": "Accepted", "expiryDate": "2027-06-30T12:00:00.000Z"}},
    ]
    assert charger.version == 3
    assert "TAG-00001" not in charger.tags
    assert charger.tags["TAG-00002"]["status"] == "Blocked"
    assert len(charger.tags) == 19
    assert named.body.get("chunks") is None


async def test_a_refused_first_part_stops_the_rest_of_the_list(
    operator: ApiClient, stack: LocalStack, engine: Engine
) -> None:
    add_tags(engine, 1000)
    async with connected(stack, CP, ListCharger) as charger:
        assert isinstance(charger, ListCharger)
        charger.answer = "VersionMismatch"
        refused = await send(operator, CP, "send-local-list", {"updateType": "Full"})
        charger.answer = "NotSupported"
        unsupported = await send(
            operator,
            CP,
            "send-local-list",
            {"updateType": "Differential", "idTokens": [{"idToken": "TAG-00001"}]},
        )
    # Then only the first frame went out; it is rejected with the reason, the rest failed unsent
    assert len(charger.frames) == 2  # the refused first part of the Full list, then the differential
    statuses = [c["status"] for c in refused.body["chunks"]]
    assert len(statuses) >= 3
    assert statuses[0] == "rejected"
    assert set(statuses[1:]) == {"failed"}
    assert refused.body["reason"].startswith("station answered VersionMismatch")
    assert f"{len(statuses) - 1} following part(s) of the list not sent" in refused.body["reason"]
    second = await get(operator, f"/commands/{refused.body['chunks'][1]['id']}")
    assert second.body["reason"].startswith("not sent: the list version 1 before it was not accepted")
    assert (unsupported.body["status"], unsupported.body["reason"]) == (
        "rejected",
        "station answered NotSupported: it has no local authorization list",
    )
    # and no version was recorded as sent
    state = await get(operator, f"/stations/{CP}/local-list")
    assert (state.body["sentVersion"], state.body["inSync"]) == (None, None)


async def test_the_chargers_known_limits_shape_the_list(
    operator: ApiClient, stack: LocalStack, engine: Engine
) -> None:
    add_tags(engine, 250)
    # What the charger's GetConfiguration answer leaves in its device model
    PgDeviceModelStore(PgDatabase(engine)).record(
        "acme",
        CP,
        configuration_values(
            [
                {"key": "SendLocalListMaxLength", "readonly": True, "value": "100"},
                {"key": "LocalAuthListMaxLength", "readonly": True, "value": "300"},
            ],
            [],
        ),
        VariableSource.GET_CONFIGURATION,
        datetime.now(UTC),
    )
    async with connected(stack, CP, ListCharger) as charger:
        sent = await send(operator, CP, "send-local-list", {"updateType": "Full"})
        add_tags(engine, 60, prefix="MORE-")
        too_many = await send(operator, CP, "send-local-list", {"updateType": "Full"})
    assert isinstance(charger, ListCharger)
    assert [n for *_, n in charger.frames] == [100, 100, 50]
    assert len(sent.body["chunks"]) == 3
    assert too_many.status == 422
    assert "LocalAuthListMaxLength" in too_many.body["detail"]


async def test_failures_and_invalid_requests(operator: ApiClient, stack: LocalStack, engine: Engine) -> None:
    add_tags(engine, 3)
    socket = await open_socket(stack, CP)
    pending = asyncio.create_task(send(operator, CP, "send-local-list", {"updateType": "Full"}))
    frame = await next_frame(socket)
    await socket.send(json.dumps([4, frame[1], "InternalError", "flash full", {}]))
    failed = await pending
    pending = asyncio.create_task(send(operator, CP, "get-local-list-version", {}))
    frame = await next_frame(socket)
    await socket.send(json.dumps([3, frame[1], {"listVersion": -1}]))
    disabled = await pending
    await socket.close()
    assert (failed.body["status"], failed.body["errorCode"]) == ("failed", "InternalError")
    assert (disabled.body["status"], disabled.body["reason"]) == (
        "accepted",
        "the station's local authorization list is disabled",
    )
    state = await get(operator, f"/stations/{CP}/local-list")
    assert (state.body["sentVersion"], state.body["reportedVersion"]) == (None, -1)
    # Full lists hold every tag: naming tags is for differential updates only
    named_full = await send(
        operator, CP, "send-local-list", {"updateType": "Full", "idTokens": [{"idToken": "TAG-00001"}]}
    )
    too_long = await send(
        operator, CP, "send-local-list", {"updateType": "Differential", "idTokens": [{"idToken": "X" * 21}]}
    )
    assert (named_full.status, too_long.status) == (422, 422)
    # and an offline charger's list waits for it, in order before the next one
    offline = await send(operator, CP, "send-local-list", {"updateType": "Full"}, wait=0)
    assert (offline.body["status"], offline.body["request"]["listVersion"]) == ("queued", 2)
    # Versions keep growing: the next list never reuses one
    async with connected(stack, CP, ListCharger):
        again = await send(operator, CP, "send-local-list", {"updateType": "Full"})
    assert (again.body["status"], again.body["request"]["listVersion"]) == ("accepted", 3)
    first = await get(operator, f"/commands/{offline.body['id']}")
    assert first.body["status"] == "accepted"
    assert first.body["finishedAt"] <= again.body["sentAt"]

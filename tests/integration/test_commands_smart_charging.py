"""SmartCharging end to end: SetChargingProfile / ClearChargingProfile / GetCompositeSchedule
through the REST API to a real charger, the profiles in force per connector (OCPP 1.6
replacement semantics), and the TxProfile of a RemoteStartTransaction."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action
from sqlalchemy import Engine
from websockets.asyncio.client import ClientConnection

from csms.local.stack import LocalStack
from tests.builders import a_charging_profile
from tests.integration.api_client import ApiClient
from tests.integration.charger import SimulatedCharger, connected, open_socket
from tests.integration.command_helpers import get, next_frame, provision, send
from tests.integration.conftest import rows

pytestmark = pytest.mark.integration
CP = "SC-1"


class SmartCharger(SimulatedCharger):
    """Installs profiles up to stack level 5 (like a charger with ChargeProfileMaxStackLevel 5)."""

    def __init__(self, charge_point_id: str, connection: ClientConnection) -> None:
        super().__init__(charge_point_id, connection)
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.installed: dict[int, dict[str, Any]] = {}

    @on(Action.set_charging_profile)
    def set_charging_profile(
        self, connector_id: int, cs_charging_profiles: dict[str, Any]
    ) -> call_result.SetChargingProfile:
        self.received.append(("set-charging-profile", {"connector_id": connector_id, **cs_charging_profiles}))
        new = {"connector_id": connector_id, **cs_charging_profiles}
        if new["stack_level"] > 5:
            return call_result.SetChargingProfile(status="Rejected")
        # OCPP 1.6 §5.16.2: the same id, or the same purpose and stack level, is replaced
        key = ("connector_id", "charging_profile_purpose", "stack_level")
        self.installed = {
            pid: p
            for pid, p in self.installed.items()
            if pid != new["charging_profile_id"] and [p[k] for k in key] != [new[k] for k in key]
        }
        self.installed[new["charging_profile_id"]] = new
        return call_result.SetChargingProfile(status="Accepted")

    @on(Action.clear_charging_profile)
    def clear_charging_profile(self, **criteria: Any) -> call_result.ClearChargingProfile:
        self.received.append(("ClearChargingProfile", criteria))
        matching = [
            pid
            for pid, p in self.installed.items()
            if criteria.get("id") in (None, pid)
            and criteria.get("charging_profile_purpose") in (None, p["charging_profile_purpose"])
        ]
        for pid in matching:
            del self.installed[pid]
        return call_result.ClearChargingProfile(status="Accepted" if matching else "Unknown")

    @on(Action.get_composite_schedule)
    def get_composite_schedule(
        self, connector_id: int, duration: int, **kwargs: Any
    ) -> call_result.GetCompositeSchedule:
        return call_result.GetCompositeSchedule(
            status="Accepted",
            connector_id=connector_id,
            schedule_start="2026-11-21T12:00:00Z",
            charging_schedule={
                "duration": duration,
                "chargingRateUnit": kwargs.get("charging_rate_unit", "A"),
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": 7.4},
                    {"startPeriod": 600, "limit": 10.0},
                ],
                "minChargingRate": 0.3,
            },
        )

    @on(Action.remote_start_transaction)
    def remote_start(self, id_tag: str, **kwargs: Any) -> call_result.RemoteStartTransaction:
        self.received.append(("RemoteStartTransaction", {"id_tag": id_tag, **kwargs}))
        return call_result.RemoteStartTransaction(status="Accepted")


@pytest.fixture
def operator(api: ApiClient) -> ApiClient:
    return provision(api, "acme", CP)


async def profiles(client: ApiClient, **params: Any) -> list[tuple[int, int, str, int, str]]:
    """(chargingProfileId, evseId, purpose, stackLevel, status) of the listed profiles (the 1.6
    command's connector N is EVSE N)."""
    listed = await get(client, f"/stations/{CP}/charging-profiles", **params)
    assert listed.status == 200
    return [
        (p["chargingProfileId"], p["evseId"], p["chargingProfilePurpose"], p["stackLevel"], p["status"])
        for p in listed.body["items"]
    ]


async def test_installed_profiles_replace_by_id_and_by_purpose_and_stack_level(
    operator: ApiClient, stack: LocalStack, engine: Engine
) -> None:
    async with connected(stack, CP, SmartCharger) as charger:
        first = await send(
            operator, CP, "set-charging-profile", {"evseId": 1, "chargingProfile": a_charging_profile()}
        )
        max_profile = await send(
            operator,
            CP,
            "set-charging-profile",
            {
                "evseId": 0,
                "chargingProfile": a_charging_profile(
                    id=9,
                    chargingProfilePurpose="ChargingStationMaxProfile",
                    validFrom="2026-01-01T00:00:00Z",
                    validTo="2099-01-01T00:00:00Z",
                ),
            },
        )
        # Same connector, purpose and stack level, another id: replaces profile 1
        same_level = await send(
            operator,
            CP,
            "set-charging-profile",
            {"evseId": 1, "chargingProfile": a_charging_profile(id=2)},
        )
        # Same id on another connector: replaces profile 2 wherever it was
        same_id = await send(
            operator,
            CP,
            "set-charging-profile",
            {"evseId": 2, "chargingProfile": a_charging_profile(id=2, stackLevel=3)},
        )
        # A stack level the charger cannot take
        refused = await send(
            operator,
            CP,
            "set-charging-profile",
            {"evseId": 1, "chargingProfile": a_charging_profile(id=7, stackLevel=9)},
        )
    assert [c.body["status"] for c in (first, max_profile, same_level, same_id)] == ["accepted"] * 4
    assert (same_level.body["reason"], same_id.body["reason"]) == (
        "replaced 1 installed profile(s)",
        "replaced 1 installed profile(s)",
    )
    assert (refused.body["status"], refused.body["reason"]) == ("rejected", "station answered Rejected")
    # Then what is in force matches what the charger holds
    assert isinstance(charger, SmartCharger)
    assert sorted(charger.installed) == [2, 9]
    assert await profiles(operator) == [
        (9, 0, "ChargingStationMaxProfile", 0, "installed"),
        (2, 2, "TxDefaultProfile", 3, "installed"),
    ]
    assert await profiles(operator, status="cleared") == [
        (2, 1, "TxDefaultProfile", 0, "cleared"),
        (1, 1, "TxDefaultProfile", 0, "cleared"),
    ]
    assert await profiles(operator, status="rejected") == [(7, 1, "TxDefaultProfile", 9, "rejected")]
    assert len(await profiles(operator, anyStatus="true")) == 5
    assert await profiles(operator, evseId=0) == [(9, 0, "ChargingStationMaxProfile", 0, "installed")]
    detail = (await get(operator, f"/stations/{CP}/charging-profiles", evseId=0)).body["items"][0]
    assert detail["inForce"] is True
    assert (detail["validFrom"], detail["validTo"]) == ("2026-01-01T00:00:00Z", "2099-01-01T00:00:00Z")
    assert detail["chargingSchedule"][0]["chargingSchedulePeriod"][0] == {"startPeriod": 0, "limit": 7.4}
    assert detail["commandId"] == max_profile.body["id"]
    assert rows(engine, "SELECT count(*) AS n FROM charging_profiles WHERE status = 'installed'") == [
        {"n": 2}
    ]


async def test_clear_charging_profile_by_id_and_by_purpose(operator: ApiClient, stack: LocalStack) -> None:
    async with connected(stack, CP, SmartCharger):
        for pid, connector, purpose in (
            (1, 1, "TxDefaultProfile"),
            (2, 2, "TxDefaultProfile"),
            (3, 0, "ChargingStationMaxProfile"),
        ):
            body = {
                "evseId": connector,
                "chargingProfile": a_charging_profile(id=pid, chargingProfilePurpose=purpose),
            }
            assert (await send(operator, CP, "set-charging-profile", body)).body["status"] == "accepted"
        by_id = await send(operator, CP, "clear-charging-profile", {"chargingProfileId": 3})
        unknown = await send(operator, CP, "clear-charging-profile", {"chargingProfileId": 3})
        by_purpose = await send(
            operator, CP, "clear-charging-profile", {"chargingProfilePurpose": "TxDefaultProfile"}
        )
    assert by_id.body["status"] == "accepted"
    assert (unknown.body["status"], unknown.body["reason"]) == (
        "rejected",
        "station answered Unknown: no matching profile",
    )
    assert by_purpose.body["status"] == "accepted"
    assert await profiles(operator) == []
    assert {p[0] for p in await profiles(operator, status="cleared")} == {1, 2, 3}


async def test_get_composite_schedule_keeps_the_chargers_schedule(
    operator: ApiClient, stack: LocalStack
) -> None:
    async with connected(stack, CP, SmartCharger):
        schedule = await send(
            operator,
            CP,
            "get-composite-schedule",
            {"evseId": 1, "duration": 3600, "chargingRateUnit": "W"},
        )
    assert schedule.body["status"] == "accepted"
    assert schedule.body["ocppRequest"] == {"connectorId": 1, "duration": 3600, "chargingRateUnit": "W"}
    # the schedule in neutral terms (2.0.1's CompositeScheduleType)
    assert schedule.body["result"] == {
        "schedule": {
            "evseId": 1,
            "scheduleStart": "2026-11-21T12:00:00Z",
            "duration": 3600,
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7.4}, {"startPeriod": 600, "limit": 10.0}],
        }
    }
    assert schedule.body["response"] == {
        "status": "Accepted",
        "connectorId": 1,
        "scheduleStart": "2026-11-21T12:00:00Z",
        "chargingSchedule": {
            "duration": 3600,
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7.4}, {"startPeriod": 600, "limit": 10.0}],
            "minChargingRate": 0.3,
        },
    }


async def test_failed_and_timed_out_profiles_are_not_in_force(operator: ApiClient, stack: LocalStack) -> None:
    socket = await open_socket(stack, CP)
    pending = asyncio.create_task(
        send(operator, CP, "set-charging-profile", {"evseId": 1, "chargingProfile": a_charging_profile()})
    )
    frame = await next_frame(socket)
    # the frame carries 7.4 exactly as written (the 1.6 schema's multipleOf 0.1 holds)
    assert frame[3]["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 7.4
    await socket.send(json.dumps([4, frame[1], "NotSupported", "no smart charging", {}]))
    failed = await pending
    await socket.close()
    assert (failed.body["status"], failed.body["errorCode"]) == ("failed", "NotSupported")
    assert await profiles(operator) == []
    assert await profiles(operator, status="failed") == [(1, 1, "TxDefaultProfile", 0, "failed")]


@pytest.mark.parametrize(
    ("connector", "profile", "complaint"),
    [
        (1, a_charging_profile(chargingProfileKind="Recurring"), "recurrencyKind"),
        (1, a_charging_profile(recurrencyKind="Daily"), "recurrencyKind"),
        (
            1,
            a_charging_profile(
                chargingProfileKind="Relative",
                chargingSchedule={
                    "startSchedule": "2026-11-21T00:00:00Z",
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6}],
                },
            ),
            "startSchedule",
        ),
        (
            1,
            a_charging_profile(
                chargingSchedule={
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7.45}],
                }
            ),
            "one digit",
        ),
        (
            1,
            a_charging_profile(
                chargingSchedule={
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 60, "limit": 7}],
                }
            ),
            "start at 0",
        ),
        (
            1,
            a_charging_profile(
                chargingSchedule={
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [
                        {"startPeriod": 0, "limit": 7},
                        {"startPeriod": 0, "limit": 8},
                    ],
                }
            ),
            "increase",
        ),
        (
            1,
            a_charging_profile(chargingSchedule={"chargingRateUnit": "A", "chargingSchedulePeriod": []}),
            "chargingSchedulePeriod",
        ),
        (
            1,
            a_charging_profile(
                chargingSchedule={
                    "chargingRateUnit": "kW",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7}],
                }
            ),
            "chargingRateUnit",
        ),
        (1, a_charging_profile(stackLevel=-1), "stackLevel"),
        (1, a_charging_profile(chargingProfilePurpose="TxMaxProfile"), "chargingProfilePurpose"),
        (1, a_charging_profile(validFrom="2026-02-01T00:00:00Z", validTo="2026-01-01T00:00:00Z"), "validTo"),
        (1, a_charging_profile(validFrom="2026-02-01T00:00:00"), "validFrom"),
        (1, a_charging_profile(transactionId="5"), "transactionId"),
        (0, a_charging_profile(chargingProfilePurpose="TxProfile"), "TxProfile"),
        (
            1,
            a_charging_profile(chargingProfilePurpose="ChargingStationMaxProfile"),
            "ChargingStationMaxProfile",
        ),
    ],
)
async def test_invalid_profiles_are_refused(
    operator: ApiClient, connector: int, profile: dict[str, Any], complaint: str
) -> None:
    answer = await send(
        operator, CP, "set-charging-profile", {"evseId": connector, "chargingProfile": profile}
    )
    assert answer.status == 422
    assert complaint in json.dumps(answer.body)


async def test_a_recurring_profile_is_accepted(operator: ApiClient, stack: LocalStack) -> None:
    daily = a_charging_profile(
        chargingProfileKind="Recurring",
        recurrencyKind="Daily",
        chargingSchedule={
            "startSchedule": "2026-11-21T22:00:00+01:00",
            "duration": 28800,
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000, "numberPhases": 3}],
        },
    )
    async with connected(stack, CP, SmartCharger):
        answer = await send(operator, CP, "set-charging-profile", {"evseId": 1, "chargingProfile": daily})
    assert answer.body["status"] == "accepted"
    assert (
        answer.body["ocppRequest"]["csChargingProfiles"]["chargingSchedule"]["startSchedule"]
        == "2026-11-21T21:00:00.000Z"
    )
    listed = (await get(operator, f"/stations/{CP}/charging-profiles")).body["items"]
    assert (listed[0]["chargingProfileKind"], listed[0]["recurrencyKind"]) == ("Recurring", "Daily")


# --- Core: RemoteStartTransaction with a TxProfile ----------------------------------------------


async def test_remote_start_with_a_tx_profile_reaches_the_charger(
    operator: ApiClient, stack: LocalStack
) -> None:
    tx_profile = a_charging_profile(id=11, stackLevel=2, chargingProfilePurpose="TxProfile")
    async with connected(stack, CP, SmartCharger) as charger:
        answer = await send(
            operator,
            CP,
            "start-transaction",
            {"idToken": {"idToken": "DRIVER"}, "evseId": 1, "chargingProfile": tx_profile},
        )
    assert answer.body["status"] == "accepted"
    assert answer.body["request"]["chargingProfile"] == tx_profile
    assert isinstance(charger, SmartCharger)
    [(name, received)] = charger.received
    profile = received["charging_profile"]
    assert (name, profile["charging_profile_purpose"], profile["stack_level"]) == (
        "RemoteStartTransaction",
        "TxProfile",
        2,
    )
    assert [float(p["limit"]) for p in profile["charging_schedule"]["charging_schedule_period"]] == [
        7.4,
        16.1,
    ]


@pytest.mark.parametrize(
    ("profile", "complaint"),
    [
        (a_charging_profile(), "TxProfile"),
        (a_charging_profile(chargingProfilePurpose="TxProfile", transactionId="3"), "transactionId"),
        (
            a_charging_profile(
                chargingProfilePurpose="TxProfile",
                chargingSchedule={
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 0.05}],
                },
            ),
            "one digit",
        ),
        ({"id": 1}, "stackLevel"),
        ({**a_charging_profile(chargingProfilePurpose="TxProfile"), "colour": "blue"}, "colour"),
    ],
)
async def test_remote_start_refuses_invalid_profiles(
    operator: ApiClient, profile: dict[str, Any], complaint: str
) -> None:
    answer = await send(
        operator, CP, "start-transaction", {"idToken": {"idToken": "DRIVER"}, "chargingProfile": profile}
    )
    assert answer.status == 422
    assert complaint in json.dumps(answer.body)


async def test_a_model_rule_is_refused_at_the_field_it_names_in_words(operator: ApiClient) -> None:
    # Periods out of order break a rule of the schedule (a model validator), not of one field:
    # the problem places it at the periods, without pydantic's "Value error, " prefix, so the
    # console shows it next to the periods (issue 14: "next to the field where they belong")
    periods = [{"startPeriod": 0, "limit": 16}, {"startPeriod": 0, "limit": 8}]
    profile = a_charging_profile(
        chargingSchedule={"chargingRateUnit": "A", "chargingSchedulePeriod": periods}
    )
    answer = await send(operator, CP, "set-charging-profile", {"evseId": 0, "chargingProfile": profile})
    assert answer.status == 422
    assert answer.body["errors"] == [
        {
            "field": "body.chargingProfile.chargingSchedule.0.chargingSchedulePeriod",
            "message": "startPeriod must increase from one period to the next",
        }
    ]
    assert "Value error" not in answer.body["detail"]

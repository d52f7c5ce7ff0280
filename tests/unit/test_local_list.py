"""The local authorization list: what goes in it, and how it is cut into frames under 32 KB."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from csms.constants import MAX_FRAME_BYTES
from csms.domain.local_list import LocalListEntry, LocalListPlan, LocalListState, UpdateType
from csms.domain.tokens import AuthorizationStatus, IdToken, IdTokenInfo, IdTokenType, StoredIdToken
from csms.errors import Conflict, InvalidInput
from csms.ocpp16.local_list import entries_16, entry_payload, frames
from csms.ocpp16.local_list import payload as payload_16
from csms.ocpp16.schemas import SCHEMAS
from csms.services.local_list import LocalListService
from tests.fakes import stations_where

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)


CARD = IdTokenType.ISO14443


def a_tag(name: str, kind: IdTokenType = CARD, **overrides: object) -> StoredIdToken:
    values: dict[str, object] = {
        "tenant_id": "t1",
        "token": IdToken(name, kind),
        "status": AuthorizationStatus.ACCEPTED,
    }
    values.update(overrides)
    return StoredIdToken(**values)  # type: ignore[arg-type]


def an_entry(i: int) -> LocalListEntry:
    return LocalListEntry(
        IdToken(f"TAG-{i:015d}", CARD),  # 20 characters: the longest idTag
        IdTokenInfo(
            AuthorizationStatus.ACCEPTED,
            NOW + timedelta(days=365),
            IdToken(f"PARENT-{i:013d}", IdTokenType.CENTRAL),
        ),
    )


class FakeListStore:
    def __init__(self, tags: list[StoredIdToken], last_full: datetime | None = None) -> None:
        self._tags = tags
        self.last_full = last_full
        self.changed_since: datetime | None = None

    def state(self, tenant_id: str, charge_point_id: str) -> LocalListState | None:
        return None

    def next_version(self, charge_point_id: str) -> int:
        return 7

    def last_full_list_at(self, charge_point_id: str) -> datetime | None:
        return self.last_full

    def tokens(self, tenant_id: str, changed_since: datetime | None = None) -> list[StoredIdToken]:
        self.changed_since = changed_since
        return self._tags

    def tokens_named(self, tenant_id: str, values: Sequence[str]) -> list[StoredIdToken]:
        wanted = {name.lower() for name in values}  # case-insensitive, as the PostgreSQL store
        return [t for t in self._tags if t.token.value.lower() in wanted]

    def record_sent(self, tenant_id: str, charge_point_id: str, version: int, at: datetime) -> None: ...

    def record_reported(self, tenant_id: str, charge_point_id: str, version: int, at: datetime) -> None: ...

    def abandon_following(self, charge_point_id: str, version: int, at: datetime, reason: str) -> int:
        return 0


# --- frames ------------------------------------------------------------------------------------


def frames_16(plan: LocalListPlan, **options: int) -> list[dict[str, object]]:
    """The 1.6 SendLocalList payloads of the plan's parts."""
    return [payload_16(part) for part in frames(plan, **options)]


def test_a_large_list_is_cut_into_frames_that_each_fit_and_validate() -> None:
    # Given 2,000 entries of the longest kind (~130 bytes each: ~260 KB in all)
    plan = LocalListPlan(UpdateType.FULL, 41, [an_entry(i) for i in range(2000)])
    # When
    payloads = frames_16(plan)
    # Then every CALL frame fits, the first is Full and the rest differential, versions climb
    for payload in payloads:
        frame = json.dumps(
            [2, "0e0cf1b2-5b9e-4d3a-9d47-1a2b3c4d5e6f", "SendLocalList", payload], separators=(",", ":")
        )
        assert len(frame.encode()) <= MAX_FRAME_BYTES
        SCHEMAS.validate_request("SendLocalList", payload)
    assert len(payloads) == 9
    assert [p["listVersion"] for p in payloads] == list(range(41, 50))
    assert [p["updateType"] for p in payloads] == ["Full"] + ["Differential"] * 8
    sent = [e["idTag"] for p in payloads for e in p["localAuthorizationList"]]
    assert sent == [f"TAG-{i:015d}" for i in range(2000)]  # in order, none lost or doubled


def test_frames_are_packed_full() -> None:
    payloads = frames_16(LocalListPlan(UpdateType.DIFFERENTIAL, 1, [an_entry(i) for i in range(2000)]))
    sizes = [len(json.dumps([2, "x" * 36, "SendLocalList", p], separators=(",", ":"))) for p in payloads[:-1]]
    entry_size = len(json.dumps(entry_payload(an_entry(0)), separators=(",", ":"))) + 1
    assert all(MAX_FRAME_BYTES - size < entry_size + 20 for size in sizes)


def test_the_chargers_message_length_caps_entries_per_frame() -> None:
    payloads = frames_16(LocalListPlan(UpdateType.FULL, 1, [an_entry(i) for i in range(25)]), max_entries=10)
    assert [len(p["localAuthorizationList"]) for p in payloads] == [10, 10, 5]


def test_an_empty_full_list_is_one_frame_that_empties_the_chargers_list() -> None:
    assert frames_16(LocalListPlan(UpdateType.FULL, 3, [])) == [
        {"listVersion": 3, "updateType": "Full", "localAuthorizationList": []}
    ]


def test_entries_carry_the_id_tag_info_or_nothing_to_remove_the_tag() -> None:
    assert entry_payload(LocalListEntry(IdToken("GONE"), None)) == {"idTag": "GONE"}
    info = IdTokenInfo(
        AuthorizationStatus.BLOCKED, datetime(2027, 1, 1, tzinfo=UTC), IdToken("P", IdTokenType.CENTRAL)
    )
    assert entry_payload(LocalListEntry(IdToken("T", CARD), info)) == {
        "idTag": "T",
        "idTagInfo": {"status": "Blocked", "expiryDate": "2027-01-01T00:00:00.000Z", "parentIdTag": "P"},
    }


def test_a_16_list_says_2_0_1_statuses_in_its_own_words() -> None:
    # NoCredit has no 1.6 word: the station is told Blocked, which it acts on the same way
    info = IdTokenInfo(AuthorizationStatus.NO_CREDIT)
    assert entry_payload(LocalListEntry(IdToken("T", CARD), info))["idTagInfo"] == {"status": "Blocked"}


def test_a_16_list_holds_one_entry_per_value_and_only_values_it_can_carry() -> None:
    # A value held under two types is one 1.6 id tag: the type a 1.6 lookup finds (an RFID card
    # before a key code), in the plan's order; a 2.0.1 value longer than 20 characters is left out
    entries = [
        LocalListEntry(IdToken("1234", IdTokenType.KEY_CODE), IdTokenInfo(AuthorizationStatus.BLOCKED)),
        LocalListEntry(IdToken("1234", CARD), IdTokenInfo(AuthorizationStatus.ACCEPTED)),
        LocalListEntry(IdToken("E" * 21, IdTokenType.EMAID), IdTokenInfo(AuthorizationStatus.ACCEPTED)),
        LocalListEntry(IdToken("B", CARD), IdTokenInfo(AuthorizationStatus.ACCEPTED)),
    ]
    held = entries_16(LocalListPlan(UpdateType.FULL, 1, entries))
    assert [(e.token.value, e.token.type) for e in held] == [("1234", CARD), ("B", CARD)]
    assert [
        e["idTag"] for e in frames_16(LocalListPlan(UpdateType.FULL, 1, entries))[0]["localAuthorizationList"]
    ] == [
        "1234",
        "B",
    ]


# --- plan ----------------------------------------------------------------------------------------


def test_a_full_list_holds_every_tag_and_an_expired_one_goes_out_expired() -> None:
    store = FakeListStore(
        [
            a_tag("A"),
            a_tag("OLD", expiry_date=NOW - timedelta(days=1)),
            a_tag("B", status=AuthorizationStatus.BLOCKED),
        ]
    )
    plan = LocalListService(store, stations_where()).plan("t1", "CP", UpdateType.FULL, None, NOW)
    assert plan.first_version == 7
    assert [(e.token.value, e.info.status if e.info else None) for e in plan.entries] == [
        ("A", AuthorizationStatus.ACCEPTED),
        ("OLD", AuthorizationStatus.EXPIRED),
        ("B", AuthorizationStatus.BLOCKED),
    ]


def test_a_differential_with_names_removes_the_unknown_ones_once() -> None:
    store = FakeListStore([a_tag("A")])
    plan = LocalListService(store, stations_where()).plan(
        "t1", "CP", UpdateType.DIFFERENTIAL, [IdToken("A"), IdToken("GONE"), IdToken("A")], NOW
    )
    assert [(e.token.value, e.info is not None) for e in plan.entries] == [("A", True), ("GONE", False)]


def test_a_differential_names_tags_case_insensitively_and_sends_them_as_provisioned() -> None:
    # OCPP IdToken is a CiString: "tag1" and "Tag1" name the stored "TAG1", once
    store = FakeListStore([a_tag("TAG1", group=IdToken("FLEET", IdTokenType.CENTRAL))])
    plan = LocalListService(store, stations_where()).plan(
        "t1",
        "CP",
        UpdateType.DIFFERENTIAL,
        [IdToken("tag1"), IdToken("gone"), IdToken("Tag1"), IdToken("GONE")],
        NOW,
    )
    assert [
        (e.token.value, e.info.group.value if e.info and e.info.group else None) for e in plan.entries
    ] == [
        ("TAG1", "FLEET"),
        ("gone", None),
    ]


def test_a_differential_without_names_diffs_against_the_last_full_list() -> None:
    store = FakeListStore([a_tag("A")], last_full=NOW - timedelta(hours=1))
    LocalListService(store, stations_where()).plan("t1", "CP", UpdateType.DIFFERENTIAL, None, NOW)
    assert store.changed_since == NOW - timedelta(hours=1)
    with pytest.raises(Conflict):
        LocalListService(FakeListStore([]), stations_where()).plan(
            "t1", "CP", UpdateType.DIFFERENTIAL, None, NOW
        )
    with pytest.raises(InvalidInput):
        LocalListService(store, stations_where()).plan("t1", "CP", UpdateType.FULL, [IdToken("A")], NOW)

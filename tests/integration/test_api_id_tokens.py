"""The REST API's id tokens, through the local API Gateway and the real api function."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest
from ocpp.v16 import call

from csms.local.stack import LocalStack
from tests.integration.api_client import ApiClient
from tests.integration.charger import connected

pytestmark = pytest.mark.integration
V1 = "/api/v1"


@pytest.fixture
def admin(api: ApiClient) -> ApiClient:
    return api.as_("acme", "admin")


@pytest.fixture
def viewer(api: ApiClient) -> ApiClient:
    return api.as_("acme", "viewer")


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def ids(body: dict[str, Any]) -> list[str]:
    return [item["idToken"] for item in body["items"]]


def test_create_get_and_list(admin: ApiClient, viewer: ApiClient) -> None:
    # When an admin creates a tag with every field
    created = admin.post(
        f"{V1}/id-tokens",
        {
            "idToken": "04A2FF19",
            "status": "Blocked",
            "expiryDate": "2031-01-01T12:00:00+01:00",
            "groupIdToken": {"idToken": "FLEET-1"},
        },
    )
    # Then it answers 201 with where it lives and the stored tag, times in UTC
    assert created.status == 201
    assert created.headers["Location"] == f"{V1}/id-tokens/ISO14443/04A2FF19"
    assert created.body == {
        "idToken": "04A2FF19",
        "type": "ISO14443",
        "status": "Blocked",
        "effectiveStatus": "Blocked",
        "expired": False,
        "expiryDate": "2031-01-01T11:00:00Z",
        "groupIdToken": {"idToken": "FLEET-1", "type": "Central"},
        "createdAt": created.body["createdAt"],
        "updatedAt": created.body["createdAt"],
    }
    assert created.body["createdAt"].endswith("Z")
    # and a viewer reads the same thing back
    got = viewer.get(f"{V1}/id-tokens/ISO14443/04A2FF19")
    assert (got.status, got.body) == (200, created.body)
    # A tag given only its id is Accepted, without expiry or parent
    minimal = admin.post(f"{V1}/id-tokens", {"idToken": "TAG-MIN"})
    assert minimal.status == 201
    assert {
        k: minimal.body[k]
        for k in ("type", "status", "effectiveStatus", "expired", "expiryDate", "groupIdToken")
    } == {
        "type": "ISO14443",  # an RFID card, unless said otherwise
        "status": "Accepted",
        "effectiveStatus": "Accepted",
        "expired": False,
        "expiryDate": None,
        "groupIdToken": None,
    }
    listed = viewer.get(f"{V1}/id-tokens")
    assert listed.status == 200
    assert (listed.body["total"], listed.body["limit"], listed.body["offset"]) == (2, 50, 0)
    assert ids(listed.body) == ["04A2FF19", "TAG-MIN"]
    assert listed.body["items"][0] == created.body


def test_location_header_quotes_the_tag(admin: ApiClient) -> None:
    created = admin.post(f"{V1}/id-tokens", {"idToken": "app:user@x"})
    assert created.headers["Location"] == f"{V1}/id-tokens/ISO14443/app%3Auser%40x"
    assert admin.get(f"{V1}/id-tokens/ISO14443/app:user@x").body["idToken"] == "app:user@x"


def test_an_accepted_tag_past_its_expiry_is_effectively_expired(admin: ApiClient, now: datetime) -> None:
    admin.post(f"{V1}/id-tokens", {"idToken": "OLD", "expiryDate": iso(now - timedelta(days=1))})
    admin.post(
        f"{V1}/id-tokens",
        {"idToken": "OLD-BLOCKED", "status": "Blocked", "expiryDate": iso(now - timedelta(days=1))},
    )
    old = admin.get(f"{V1}/id-tokens/ISO14443/OLD").body
    assert (old["status"], old["effectiveStatus"], old["expired"]) == ("Accepted", "Expired", True)
    blocked = admin.get(f"{V1}/id-tokens/ISO14443/OLD-BLOCKED").body
    assert (blocked["status"], blocked["effectiveStatus"], blocked["expired"]) == ("Blocked", "Blocked", True)


async def test_authorize_uses_what_the_api_stored(admin: ApiClient, stack: LocalStack) -> None:
    # Given a charger and tags provisioned through the API
    admin.post(f"{V1}/stations", {"id": "CP-AUTH", "securityProfile": 0})
    admin.post(f"{V1}/id-tokens", {"idToken": "GOOD", "groupIdToken": {"idToken": "FLEET"}})
    admin.post(f"{V1}/id-tokens", {"idToken": "BAD", "status": "Blocked"})
    async with connected(stack, "CP-AUTH") as cp:
        good = await cp.call(call.Authorize(id_tag="GOOD"))
        bad = await cp.call(call.Authorize(id_tag="BAD"))
        # When the admin blocks the good one
        patched = await asyncio.to_thread(admin.patch, f"{V1}/id-tokens/ISO14443/GOOD", {"status": "Blocked"})
        again = await cp.call(call.Authorize(id_tag="GOOD"))
    assert patched.status == 200
    assert good.id_tag_info == {"status": "Accepted", "parent_id_tag": "FLEET"}
    assert bad.id_tag_info == {"status": "Blocked"}
    assert again.id_tag_info == {"status": "Blocked", "parent_id_tag": "FLEET"}


def test_filters(admin: ApiClient, viewer: ApiClient, now: datetime) -> None:
    past, future = iso(now - timedelta(hours=1)), iso(now + timedelta(days=30))
    for body in (
        {"idToken": "A-1", "groupIdToken": {"idToken": "FLEET"}},
        {"idToken": "A-2", "status": "Blocked", "groupIdToken": {"idToken": "FLEET"}, "expiryDate": future},
        {"idToken": "A_3", "expiryDate": past},
        {"idToken": "B-1", "status": "Invalid", "expiryDate": past},
        {"idToken": "B-2", "status": "Expired"},
    ):
        assert admin.post(f"{V1}/id-tokens", body).status == 201

    def matching(**params: object) -> tuple[list[str], int]:
        reply = viewer.get(f"{V1}/id-tokens", **params)
        assert reply.status == 200, reply.body
        return ids(reply.body), reply.body["total"]

    assert matching(status="Blocked") == (["A-2"], 1)
    assert matching(status="Accepted") == (["A-1", "A_3"], 2)
    assert matching(groupIdToken="FLEET") == (["A-1", "A-2"], 2)
    assert matching(q="A-") == (["A-1", "A-2"], 2)  # a prefix, with _ not a wildcard
    assert matching(q="A_") == (["A_3"], 1)
    assert matching(q="b") == ([], 0)  # case-sensitive, as Authorize compares tags
    assert matching(expired="true") == (["A_3", "B-1"], 2)
    assert matching(expired="false") == (["A-1", "A-2", "B-2"], 3)
    assert matching(expired="false", status="Accepted", q="A") == (["A-1"], 1)
    assert matching(groupIdToken="NOBODY") == ([], 0)


def test_sort_and_pagination(admin: ApiClient, now: datetime) -> None:
    # Created in this order (createdAt ascending), with expiry dates in another order
    for tag, days in (("T-C", 3), ("T-A", None), ("T-B", 1), ("T-D", 2)):
        body: dict[str, object] = {"idToken": tag}
        if days is not None:
            body["expiryDate"] = iso(now + timedelta(days=days))
        admin.post(f"{V1}/id-tokens", body)

    def order_of(**params: object) -> list[str]:
        return ids(admin.get(f"{V1}/id-tokens", **params).body)

    assert order_of() == ["T-A", "T-B", "T-C", "T-D"]
    assert order_of(order="desc") == ["T-D", "T-C", "T-B", "T-A"]
    assert order_of(sort="createdAt") == ["T-C", "T-A", "T-B", "T-D"]
    assert order_of(sort="createdAt", order="desc") == ["T-D", "T-B", "T-A", "T-C"]
    # tags without an expiry date come last either way
    assert order_of(sort="expiryDate") == ["T-B", "T-D", "T-C", "T-A"]
    assert order_of(sort="expiryDate", order="desc") == ["T-C", "T-D", "T-B", "T-A"]
    page = admin.get(f"{V1}/id-tokens", limit=3, offset=0)
    assert (ids(page.body), page.body["total"], page.body["limit"], page.body["offset"]) == (
        ["T-A", "T-B", "T-C"],
        4,
        3,
        0,
    )
    last = admin.get(f"{V1}/id-tokens", limit=3, offset=3)
    assert (ids(last.body), last.body["total"], last.body["offset"]) == (["T-D"], 4, 3)
    beyond = admin.get(f"{V1}/id-tokens", limit=3, offset=10)
    assert (ids(beyond.body), beyond.body["total"]) == ([], 4)


def test_update(admin: ApiClient) -> None:
    created = admin.post(
        f"{V1}/id-tokens",
        {"idToken": "U-1", "expiryDate": "2030-01-01T00:00:00Z", "groupIdToken": {"idToken": "P-1"}},
    ).body
    # Only what is given changes
    blocked = admin.patch(f"{V1}/id-tokens/ISO14443/U-1", {"status": "Blocked"})
    assert blocked.status == 200
    assert blocked.body == {
        **created,
        "status": "Blocked",
        "effectiveStatus": "Blocked",
        "updatedAt": blocked.body["updatedAt"],
    }
    assert blocked.body["updatedAt"] > created["updatedAt"]
    moved = admin.patch(
        f"{V1}/id-tokens/ISO14443/U-1",
        {"expiryDate": "2032-06-01T10:00:00+02:00", "groupIdToken": {"idToken": "P-2"}},
    )
    assert (moved.body["expiryDate"], moved.body["groupIdToken"], moved.body["status"]) == (
        "2032-06-01T08:00:00Z",
        {"idToken": "P-2", "type": "Central"},
        "Blocked",
    )
    # An explicit null clears the expiry date and the parent
    cleared = admin.patch(f"{V1}/id-tokens/ISO14443/U-1", {"expiryDate": None, "groupIdToken": None})
    assert (cleared.body["expiryDate"], cleared.body["groupIdToken"]) == (None, None)
    assert admin.get(f"{V1}/id-tokens/ISO14443/U-1").body == cleared.body
    # An empty patch changes nothing
    unchanged = admin.patch(f"{V1}/id-tokens/ISO14443/U-1", {})
    assert (unchanged.status, unchanged.body) == (200, cleared.body)
    # status may be changed but not cleared
    null_status = admin.patch(f"{V1}/id-tokens/ISO14443/U-1", {"status": None})
    assert null_status.status == 422
    assert null_status.body["errors"][0]["field"].endswith("status")
    assert "status" in null_status.body["detail"]
    assert admin.patch(f"{V1}/id-tokens/ISO14443/NOPE", {"status": "Accepted"}).status == 404
    assert admin.patch(f"{V1}/id-tokens/ISO14443/NOPE", {}).status == 404


async def test_delete_keeps_the_transactions_tag(admin: ApiClient, stack: LocalStack) -> None:
    # Given a transaction made with a tag
    admin.post(f"{V1}/stations", {"id": "CP-DEL", "securityProfile": 0})
    admin.post(f"{V1}/id-tokens", {"idToken": "GONE"})
    async with connected(stack, "CP-DEL") as cp:
        started = await cp.call(
            call.StartTransaction(
                connector_id=1, id_tag="GONE", meter_start=0, timestamp="2026-11-21T10:00:00Z"
            )
        )
    # When the tag is deleted
    deleted = admin.delete(f"{V1}/id-tokens/ISO14443/GONE")
    # Then it is gone, and the transaction still names it
    assert (deleted.status, deleted.body) == (204, "")
    assert admin.get(f"{V1}/id-tokens/ISO14443/GONE").status == 404
    assert admin.delete(f"{V1}/id-tokens/ISO14443/GONE").status == 404
    assert admin.get(f"{V1}/id-tokens").body["total"] == 0
    transaction = admin.get(f"{V1}/transactions/{started.transaction_id}")
    assert (transaction.status, transaction.body["idToken"]["idToken"]) == (200, "GONE")
    # and the tag can be created again
    assert admin.post(f"{V1}/id-tokens", {"idToken": "GONE"}).status == 201


def test_validation_errors_name_the_field(admin: ApiClient) -> None:
    def invalid(reply_status: int, body: dict[str, Any], field: str) -> None:
        assert reply_status == 422
        assert body["title"] == "Invalid request"
        assert body["errors"][0]["field"].endswith(field), body
        assert field in body["detail"]

    for payload, field in (
        ({"idToken": "X" * 37}, "idToken"),
        ({"idToken": ""}, "idToken"),
        ({}, "idToken"),
        ({"idToken": "T", "type": "NoAuthorization"}, "type"),  # never stored: accepted unseen
        ({"idToken": "T", "type": "RFID"}, "type"),
        ({"idToken": "T", "status": "ConcurrentTx"}, "status"),
        ({"idToken": "T", "expiryDate": "2030-01-01T00:00:00"}, "expiryDate"),  # no time zone
        ({"idToken": "T", "expiryDate": "soon"}, "expiryDate"),
        ({"idToken": "T", "expiryDate": 1_900_000_000}, "expiryDate"),  # seconds since 1970: not ISO 8601
        ({"idToken": "T", "expiryDate": "0"}, "expiryDate"),
        ({"idToken": "T", "expiryDate": "0001-01-01T00:00:00+05:00"}, "expiryDate"),  # before year 1 in UTC
        ({"idToken": "T\x00"}, "idToken"),  # control characters are not printable
        ({"idToken": "T", "groupIdToken": {"idToken": "P" * 37}}, "groupIdToken.idToken"),
        ({"idToken": "T", "groupIdToken": "P"}, "groupIdToken"),
        ({"idToken": "T", "colour": "red"}, "colour"),
    ):
        reply = admin.post(f"{V1}/id-tokens", payload)
        assert reply.content_type == "application/problem+json"
        invalid(reply.status, reply.body, field)
    admin.post(f"{V1}/id-tokens", {"idToken": "T"})
    for payload, field in (
        ({"status": "Maybe"}, "status"),
        ({"expiryDate": "2030-01-01"}, "expiryDate"),
        ({"groupIdToken": {"idToken": ""}}, "groupIdToken.idToken"),
        ({"idToken": "RENAMED"}, "idToken"),
        ({"type": "KeyCode"}, "type"),
    ):
        reply = admin.patch(f"{V1}/id-tokens/ISO14443/T", payload)
        invalid(reply.status, reply.body, field)
    for params, field in (
        ({"status": "Nope"}, "status"),
        ({"q": "\x00"}, "q"),
        ({"groupIdToken": "\x07"}, "groupIdToken"),
        ({"type": "NoAuthorization"}, "type"),
        ({"sort": "colour"}, "sort"),
        ({"order": "up"}, "order"),
        ({"expired": "maybe"}, "expired"),
        ({"limit": 501}, "limit"),
        ({"q": "Q" * 37}, "q"),
    ):
        reply = admin.get(f"{V1}/id-tokens", **params)
        invalid(reply.status, reply.body, field)
    duplicate = admin.post(f"{V1}/id-tokens", {"idToken": "T"})
    assert (duplicate.status, duplicate.body["title"]) == (409, "Already exists")


def test_roles(api: ApiClient, admin: ApiClient) -> None:
    admin.post(f"{V1}/id-tokens", {"idToken": "R-1"})
    for role in ("viewer", "operator"):
        client = api.as_("acme", role)
        assert client.get(f"{V1}/id-tokens/ISO14443/R-1").status == 200
        assert client.get(f"{V1}/id-tokens").body["total"] == 1
        for reply in (
            client.post(f"{V1}/id-tokens", {"idToken": "R-2"}),
            client.patch(f"{V1}/id-tokens/ISO14443/R-1", {"status": "Blocked"}),
            client.delete(f"{V1}/id-tokens/ISO14443/R-1"),
        ):
            assert (reply.status, reply.content_type) == (403, "application/problem+json")
    assert admin.get(f"{V1}/id-tokens/ISO14443/R-1").body["status"] == "Accepted"
    assert admin.get(f"{V1}/id-tokens").body["total"] == 1
    assert admin.patch(f"{V1}/id-tokens/ISO14443/R-1", {"status": "Blocked"}).status == 200
    assert admin.delete(f"{V1}/id-tokens/ISO14443/R-1").status == 204
    assert api.anonymous().get(f"{V1}/id-tokens").status == 401


def test_other_tenants_see_nothing(api: ApiClient, admin: ApiClient) -> None:
    admin.post(f"{V1}/id-tokens", {"idToken": "SHARED", "groupIdToken": {"idToken": "ACME-FLEET"}})
    other = api.as_("globex", "admin")
    # Another tenant's tag is not there for globex, exactly like a missing one
    missing = other.get(f"{V1}/id-tokens/ISO14443/NOPE")
    foreign = other.get(f"{V1}/id-tokens/ISO14443/SHARED")
    assert (
        (foreign.status, foreign.body["title"])
        == (missing.status, missing.body["title"])
        == (404, "Not found")
    )
    assert other.patch(f"{V1}/id-tokens/ISO14443/SHARED", {"status": "Blocked"}).status == 404
    assert other.delete(f"{V1}/id-tokens/ISO14443/SHARED").status == 404
    assert other.get(f"{V1}/id-tokens").body == {"items": [], "total": 0, "limit": 50, "offset": 0}
    assert other.get(f"{V1}/id-tokens", groupIdToken="ACME-FLEET").body["total"] == 0
    # Tags are unique per tenant: globex may hold the same tag, and each sees its own
    assert other.post(f"{V1}/id-tokens", {"idToken": "SHARED", "status": "Blocked"}).status == 201
    assert other.get(f"{V1}/id-tokens/ISO14443/SHARED").body["status"] == "Blocked"
    assert admin.get(f"{V1}/id-tokens/ISO14443/SHARED").body["status"] == "Accepted"
    assert admin.get(f"{V1}/id-tokens").body["total"] == 1


async def test_a_value_under_two_types_is_two_tokens(
    admin: ApiClient, viewer: ApiClient, stack: LocalStack
) -> None:
    # Given one value as a key code (blocked) and as an RFID card (accepted)
    key = admin.post(f"{V1}/id-tokens", {"idToken": "1234", "type": "KeyCode", "status": "Blocked"})
    card = admin.post(
        f"{V1}/id-tokens", {"idToken": "1234", "groupIdToken": {"idToken": "G", "type": "Local"}}
    )
    assert (key.status, card.status) == (201, 201)
    assert key.headers["Location"] == f"{V1}/id-tokens/KeyCode/1234"
    # Then each is its own resource, by type and value (the value case-insensitively)
    assert viewer.get(f"{V1}/id-tokens/KeyCode/1234").body["status"] == "Blocked"
    assert viewer.get(f"{V1}/id-tokens/ISO14443/1234").body["groupIdToken"] == {
        "idToken": "G",
        "type": "Local",
    }
    assert viewer.get(f"{V1}/id-tokens/eMAID/1234").status == 404
    assert [t["type"] for t in viewer.get(f"{V1}/id-tokens", q="1234").body["items"]] == [
        "ISO14443",
        "KeyCode",
    ]
    assert [t["type"] for t in viewer.get(f"{V1}/id-tokens", type="KeyCode").body["items"]] == ["KeyCode"]
    assert admin.post(f"{V1}/id-tokens", {"idToken": "1234", "type": "KeyCode"}).status == 409
    # And a 1.6 station, which names no type, is answered for the RFID card (the type preferred)
    admin.post(f"{V1}/stations", {"id": "CP-TYPES", "securityProfile": 0})
    async with connected(stack, "CP-TYPES") as cp:
        both = await cp.call(call.Authorize(id_tag="1234"))
        await asyncio.to_thread(admin.delete, f"{V1}/id-tokens/ISO14443/1234")
        key_only = await cp.call(call.Authorize(id_tag="1234"))
    assert both.id_tag_info == {"status": "Accepted", "parent_id_tag": "G"}
    assert key_only.id_tag_info == {"status": "Blocked"}


async def test_statuses_1_6_has_no_word_for_are_said_in_its_own(admin: ApiClient, stack: LocalStack) -> None:
    # NoCredit is storable; a 1.6 station hears Blocked. A token the tenant does not have is
    # Unknown in the model, Invalid to a 1.6 station.
    assert (
        admin.post(f"{V1}/id-tokens", {"idToken": "BROKE", "status": "NoCredit"}).body["status"] == "NoCredit"
    )
    admin.post(f"{V1}/stations", {"id": "CP-WORDS", "securityProfile": 0})
    async with connected(stack, "CP-WORDS") as cp:
        broke = await cp.call(call.Authorize(id_tag="BROKE"))
        nobody = await cp.call(call.Authorize(id_tag="NOBODY"))
    assert (broke.id_tag_info, nobody.id_tag_info) == ({"status": "Blocked"}, {"status": "Invalid"})

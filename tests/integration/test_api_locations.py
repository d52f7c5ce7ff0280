"""The REST API's locations, through the local API Gateway and the real api function."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.integration.api_client import ApiClient, Reply
from tests.integration.conftest import rows

pytestmark = pytest.mark.integration
V1 = "/api/v1"


@pytest.fixture
def admin(api: ApiClient) -> ApiClient:
    return api.as_("acme", "admin")


@pytest.fixture
def viewer(api: ApiClient) -> ApiClient:
    return api.as_("acme", "viewer")


def a_location(**overrides: Any) -> dict[str, Any]:
    body = {
        "name": "Depot North",
        "address": "Hafenstraße 1",
        "city": "Hamburg",
        "postalCode": "20457",
        "country": "DE",
        "coordinates": {"latitude": 53.5461, "longitude": 9.9661},
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def given_chargers(admin: ApiClient, *ids: str) -> None:
    for charge_point_id in ids:
        assert admin.post(f"{V1}/stations", {"id": charge_point_id, "securityProfile": 0}).status == 201


def assert_problem(reply: Reply, status: int, field: str | None = None) -> None:
    assert (reply.status, reply.content_type) == (status, "application/problem+json"), reply.body
    if field is not None:
        assert field in reply.body["detail"], reply.body


def parse(timestamp: str) -> datetime:
    assert timestamp.endswith("Z")
    return datetime.fromisoformat(timestamp)


def test_create_with_every_field_then_get(admin: ApiClient, viewer: ApiClient) -> None:
    before = datetime.now(UTC)
    # When an admin creates a location with its own id
    created = admin.post(f"{V1}/locations", a_location(id="HAM-01"))
    # Then it answers 201 with its URL and the stored location
    assert created.status == 201
    assert created.headers["Location"] == f"{V1}/locations/HAM-01"
    assert created.body == {
        "id": "HAM-01",
        "name": "Depot North",
        "address": "Hafenstraße 1",
        "city": "Hamburg",
        "postalCode": "20457",
        "country": "DE",
        "coordinates": {"latitude": 53.5461, "longitude": 9.9661},
        "stationCount": 0,
        "stationIds": [],
        "createdAt": created.body["createdAt"],
        "updatedAt": created.body["createdAt"],
    }
    assert before <= parse(created.body["createdAt"]) <= datetime.now(UTC)
    # And a viewer reads the same back
    got = viewer.get(f"{V1}/locations/HAM-01")
    assert (got.status, got.body) == (200, created.body)


def test_a_generated_id_is_short_and_url_safe(admin: ApiClient) -> None:
    created = admin.post(f"{V1}/locations", {"name": "Only a name"})
    assert created.status == 201
    location_id = created.body["id"]
    assert re.fullmatch(r"[0-9a-hjkmnp-tv-z]{12}", location_id)
    assert created.headers["Location"] == f"{V1}/locations/{location_id}"
    assert created.body["address"] is None
    assert created.body["coordinates"] is None
    assert admin.get(f"{V1}/locations/{location_id}").status == 200
    assert admin.post(f"{V1}/locations", {"name": "Only a name"}).body["id"] != location_id


def test_a_taken_id_is_a_conflict(admin: ApiClient) -> None:
    assert admin.post(f"{V1}/locations", a_location(id="HAM-01")).status == 201
    again = admin.post(f"{V1}/locations", a_location(id="HAM-01", name="Other"))
    assert_problem(again, 409)
    assert "HAM-01" in again.body["detail"]
    assert admin.get(f"{V1}/locations/HAM-01").body["name"] == "Depot North"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "tab\there"}, "name"),
        ({"name": "N", "id": "has space"}, "id"),
        ({"name": "N", "id": "-leading-dash"}, "id"),
        ({"name": "N", "id": "x" * 65}, "id"),
        ({"name": "N", "country": "de"}, "country"),
        ({"name": "N", "country": "XX"}, "country"),
        ({"name": "N", "country": "DEU"}, "country"),
        ({"name": "N", "coordinates": {"latitude": 91, "longitude": 0}}, "latitude"),
        ({"name": "N", "coordinates": {"latitude": 0, "longitude": -180.5}}, "longitude"),
        ({"name": "N", "coordinates": {"latitude": 10}}, "longitude"),
        ({"name": "N", "coordinates": {"longitude": 10}}, "latitude"),
        ({"name": "N", "coordinates": {"latitude": 1, "longitude": 2, "altitude": 3}}, "altitude"),
        ({"name": "N", "coordinates": [53.5, 9.9]}, "coordinates"),
        ({"name": "N", "postalCode": "1" * 21}, "postalCode"),
        ({"name": "N", "colour": "red"}, "colour"),
    ],
)
def test_invalid_bodies_are_422_naming_the_field(admin: ApiClient, body: dict[str, Any], field: str) -> None:
    reply = admin.post(f"{V1}/locations", body)
    assert_problem(reply, 422, field)
    assert admin.get(f"{V1}/locations").body["total"] == 0


def test_list_filters_sorts_pages_and_counts_chargers(admin: ApiClient, viewer: ApiClient) -> None:
    # Given three locations, two chargers at one of them and a decommissioned one there too
    admin.post(f"{V1}/locations", a_location(id="L-B", name="Berlin Mitte", country="DE"))
    admin.post(f"{V1}/locations", a_location(id="L-P", name="Paris Nord", country="FR"))
    admin.post(f"{V1}/locations", a_location(id="L-H", name="hamburg port", country="DE"))
    given_chargers(admin, "CP-1", "CP-2", "CP-3")
    admin.post(f"{V1}/locations/L-B/stations", {"stationIds": ["CP-1", "CP-2", "CP-3"]})
    assert admin.delete(f"{V1}/stations/CP-3").status == 204

    # When a viewer lists them: by name, case-insensitively, with the charger counts
    listed = viewer.get(f"{V1}/locations")
    assert listed.status == 200
    assert [(i["id"], i["stationCount"]) for i in listed.body["items"]] == [
        ("L-B", 2),
        ("L-H", 0),
        ("L-P", 0),
    ]
    assert (listed.body["total"], listed.body["limit"], listed.body["offset"]) == (3, 50, 0)
    assert "stationIds" not in listed.body["items"][0]
    # Then the filters, sorting and paging apply
    assert [i["id"] for i in viewer.get(f"{V1}/locations", q="AMBUR").body["items"]] == ["L-H"]
    assert [i["id"] for i in viewer.get(f"{V1}/locations", q="%").body["items"]] == []
    assert [i["id"] for i in viewer.get(f"{V1}/locations", country="DE").body["items"]] == ["L-B", "L-H"]
    assert [i["id"] for i in viewer.get(f"{V1}/locations", sort="name", order="desc").body["items"]] == [
        "L-P",
        "L-H",
        "L-B",
    ]
    created_order = viewer.get(f"{V1}/locations", sort="createdAt").body["items"]
    assert [i["id"] for i in created_order] == ["L-B", "L-P", "L-H"]
    page = viewer.get(f"{V1}/locations", limit=1, offset=1)
    assert ([i["id"] for i in page.body["items"]], page.body["total"]) == (["L-H"], 3)
    assert_problem(viewer.get(f"{V1}/locations", limit=0), 422, "limit")
    assert_problem(viewer.get(f"{V1}/locations", country="Germany"), 422, "country")
    assert_problem(viewer.get(f"{V1}/locations", sort="city"), 422, "sort")


def test_assign_moves_and_unassigns_chargers(admin: ApiClient, viewer: ApiClient, engine: Engine) -> None:
    admin.post(f"{V1}/locations", a_location(id="L-1"))
    admin.post(f"{V1}/locations", a_location(id="L-2", name="Second"))
    given_chargers(admin, "CP-A", "CP-B", "CP-C")

    # When an admin puts two chargers at L-1 (one named twice)
    assigned = admin.post(f"{V1}/locations/L-1/stations", {"stationIds": ["CP-B", "CP-A", "CP-B"]})
    # Then the location lists them, and the chargers name it
    assert assigned.status == 200
    assert (assigned.body["stationIds"], assigned.body["stationCount"]) == (["CP-A", "CP-B"], 2)
    assert viewer.get(f"{V1}/stations/CP-A").body["locationId"] == "L-1"
    assert [c["id"] for c in viewer.get(f"{V1}/stations", locationId="L-1").body["items"]] == [
        "CP-A",
        "CP-B",
    ]

    # When one of them is put at L-2, it moves
    moved = admin.post(f"{V1}/locations/L-2/stations", {"stationIds": ["CP-B"]})
    assert moved.body["stationIds"] == ["CP-B"]
    assert viewer.get(f"{V1}/locations/L-1").body["stationIds"] == ["CP-A"]

    # When an unknown charger is among them, nothing changes and the 422 names it
    refused = admin.post(f"{V1}/locations/L-1/stations", {"stationIds": ["CP-C", "NOPE-1", "CP-B", "NOPE-2"]})
    assert_problem(refused, 422, "stationIds")
    assert "'NOPE-1', 'NOPE-2'" in refused.body["detail"]
    assert "CP-C" not in refused.body["detail"]
    assert viewer.get(f"{V1}/locations/L-1").body["stationIds"] == ["CP-A"]
    assert viewer.get(f"{V1}/stations/CP-C").body["locationId"] is None

    # When a charger is taken off its location
    assert admin.delete(f"{V1}/locations/L-1/stations/CP-A").status == 204
    assert viewer.get(f"{V1}/locations/L-1").body["stationIds"] == []
    assert viewer.get(f"{V1}/stations/CP-A").body["locationId"] is None
    # Then taking it off again, or off a location it is not at, is 404
    assert_problem(admin.delete(f"{V1}/locations/L-1/stations/CP-A"), 404)
    assert_problem(admin.delete(f"{V1}/locations/L-1/stations/CP-B"), 404)
    assert_problem(admin.delete(f"{V1}/locations/NOPE/stations/CP-B"), 404)
    assert_problem(admin.post(f"{V1}/locations/NOPE/stations", {"stationIds": ["CP-B"]}), 404)
    assert rows(engine, "SELECT id, location_id FROM charge_points ORDER BY id") == [
        {"id": "CP-A", "location_id": None},
        {"id": "CP-B", "location_id": "L-2"},
        {"id": "CP-C", "location_id": None},
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "stationIds"),
        ({"stationIds": []}, "stationIds"),
        ({"stationIds": ["bad id"]}, "stationIds"),
        ({"stationIds": "CP-A"}, "stationIds"),
        ({"stationIds": ["CP-A"] * 501}, "stationIds"),
    ],
)
def test_invalid_assignments_are_422(admin: ApiClient, body: dict[str, Any], field: str) -> None:
    admin.post(f"{V1}/locations", a_location(id="L-1"))
    assert_problem(admin.post(f"{V1}/locations/L-1/stations", body), 422, field)


def test_update_changes_only_the_given_fields(admin: ApiClient) -> None:
    created = admin.post(f"{V1}/locations", a_location(id="L-U")).body
    # When the name changes and the address is cleared
    updated = admin.patch(f"{V1}/locations/L-U", {"name": "Depot South", "address": None})
    # Then only those change, and updatedAt moves on
    assert updated.status == 200
    assert updated.body == {
        **created,
        "name": "Depot South",
        "address": None,
        "updatedAt": updated.body["updatedAt"],
    }
    assert parse(updated.body["updatedAt"]) > parse(created["updatedAt"])
    # And the coordinates move together, and null clears them
    moved = admin.patch(f"{V1}/locations/L-U", {"coordinates": {"latitude": -33.9, "longitude": 18.4}})
    assert moved.body["coordinates"] == {"latitude": -33.9, "longitude": 18.4}
    assert_problem(admin.patch(f"{V1}/locations/L-U", {"coordinates": {"latitude": 1}}), 422, "longitude")
    cleared = admin.patch(f"{V1}/locations/L-U", {"coordinates": None}).body
    assert cleared["coordinates"] is None
    assert cleared["city"] == "Hamburg"
    # And an empty body changes nothing
    assert admin.patch(f"{V1}/locations/L-U", {}).body == cleared


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": None}, "name"),
        ({"name": ""}, "name"),
        ({"country": "ZZ"}, "country"),
        ({"id": "NEW"}, "id"),
        ({"city": "x" * 101}, "city"),
        ({"latitude": 1.0}, "latitude"),
    ],
)
def test_invalid_updates_are_422(admin: ApiClient, body: dict[str, Any], field: str) -> None:
    created = admin.post(f"{V1}/locations", a_location(id="L-U")).body
    assert_problem(admin.patch(f"{V1}/locations/L-U", body), 422, field)
    assert admin.get(f"{V1}/locations/L-U").body == created


def test_delete_unassigns_its_chargers(admin: ApiClient, engine: Engine) -> None:
    admin.post(f"{V1}/locations", a_location(id="L-D"))
    given_chargers(admin, "CP-D")
    admin.post(f"{V1}/locations/L-D/stations", {"stationIds": ["CP-D"]})
    assert admin.delete(f"{V1}/locations/L-D").status == 204
    assert_problem(admin.get(f"{V1}/locations/L-D"), 404)
    assert_problem(admin.delete(f"{V1}/locations/L-D"), 404)
    assert admin.get(f"{V1}/stations/CP-D").body["locationId"] is None
    assert rows(engine, "SELECT count(*) AS n FROM locations") == [{"n": 0}]


def test_missing_locations_are_404(admin: ApiClient) -> None:
    assert_problem(admin.get(f"{V1}/locations/NOPE"), 404, "NOPE")
    assert_problem(admin.patch(f"{V1}/locations/NOPE", {"name": "x"}), 404)
    assert_problem(admin.delete(f"{V1}/locations/NOPE"), 404)
    assert_problem(admin.get(f"{V1}/locations/bad%20id"), 422, "locationId")


def test_roles(api: ApiClient, admin: ApiClient) -> None:
    admin.post(f"{V1}/locations", a_location(id="L-R"))
    given_chargers(admin, "CP-R")
    for role in ("viewer", "operator"):
        client = api.as_("acme", role)
        assert client.get(f"{V1}/locations").status == 200
        assert client.get(f"{V1}/locations/L-R").status == 200
        assert_problem(client.post(f"{V1}/locations", a_location()), 403)
        assert_problem(client.patch(f"{V1}/locations/L-R", {"name": "x"}), 403)
        assert_problem(client.delete(f"{V1}/locations/L-R"), 403)
        assert_problem(client.post(f"{V1}/locations/L-R/stations", {"stationIds": ["CP-R"]}), 403)
        assert_problem(client.delete(f"{V1}/locations/L-R/stations/CP-R"), 403)
    assert_problem(api.anonymous().get(f"{V1}/locations"), 401)
    assert admin.get(f"{V1}/locations/L-R").body["name"] == "Depot North"


def test_other_tenants_cannot_see_or_touch_locations(api: ApiClient, admin: ApiClient) -> None:
    admin.post(f"{V1}/locations", a_location(id="L-T"))
    given_chargers(admin, "CP-T")
    admin.post(f"{V1}/locations/L-T/stations", {"stationIds": ["CP-T"]})
    other = api.as_("globex", "admin")
    other.post(f"{V1}/stations", {"id": "CP-G", "securityProfile": 0})
    assert_problem(other.get(f"{V1}/locations/L-T"), 404)
    assert_problem(other.patch(f"{V1}/locations/L-T", {"name": "mine"}), 404)
    assert_problem(other.delete(f"{V1}/locations/L-T"), 404)
    assert_problem(other.post(f"{V1}/locations/L-T/stations", {"stationIds": ["CP-G"]}), 404)
    assert_problem(other.delete(f"{V1}/locations/L-T/stations/CP-T"), 404)
    assert other.get(f"{V1}/locations").body["total"] == 0
    # Nor can another tenant's location take a charger of ours
    other.post(f"{V1}/locations", a_location(id="L-G"))
    refused = other.post(f"{V1}/locations/L-G/stations", {"stationIds": ["CP-T"]})
    assert_problem(refused, 422, "CP-T")
    mine = admin.get(f"{V1}/locations/L-T").body
    assert (mine["name"], mine["stationIds"]) == ("Depot North", ["CP-T"])

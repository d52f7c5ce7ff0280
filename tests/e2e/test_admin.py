"""The admins' pages in a real browser: id tokens (down to a charger's Authorize), locations (down
to the fleet's filter), users and roles (in moto's Cognito locally); what a viewer may not do."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import DevServer, Fleet, sign_in


def go_to(page: Any, link: str, heading: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=link, exact=True).click()
    expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()


def row_of(table: Any, text: str) -> Any:
    return table.get_by_role("row").filter(has_text=text)


def test_an_admin_creates_edits_blocks_and_deletes_an_id_token_and_a_charger_is_refused_it(
    page: Any, csms_dev: DevServer, fleet: Fleet
) -> None:
    fleet.provision("CP-TOK-16")
    charger = fleet.connect("CP-TOK-16", "ocpp1.6")
    assert fleet.loop.run(charger.authorize("TAG-NEW-1")) == "Invalid"  # unknown yet
    sign_in(page, csms_dev, fleet.tenant, "admin")
    go_to(page, "Id tokens", "Id tokens")

    # A bad one: the API's words next to the field (a date the API cannot store).
    page.get_by_role("button", name="Add id token").click()
    dialog = page.get_by_role("dialog", name="Add id token")
    dialog.get_by_role("textbox", name=re.compile(r"^Id token")).fill("TAG-NEW-1")
    expiry = dialog.get_by_role("textbox", name="Expiry date")
    expiry.fill("9999-12-31T00:00:00Z")
    dialog.get_by_role("button", name="Add id token").click()
    expect(expiry).to_have_attribute("aria-invalid", "true")
    # the nearest box holding the message is the field's own (it holds no other field)
    own = expiry.locator("xpath=ancestor::div[contains(., 'must be between the years 2 and 9998')][1]")
    expect(own).to_be_visible()
    expect(own.get_by_role("textbox")).to_have_count(1)

    # Corrected, it is created.
    expiry.fill("")
    dialog.get_by_role("button", name="Add id token").click()
    expect(dialog).to_have_count(0)
    tokens = page.get_by_role("table", name="Id tokens")
    expect(row_of(tokens, "TAG-NEW-1")).to_contain_text("Accepted")
    assert fleet.loop.run(charger.authorize("TAG-NEW-1")) == "Accepted"

    # Edited: an expiry date.
    page.get_by_role("button", name="Edit TAG-NEW-1").click()
    edit = page.get_by_role("dialog", name="Edit id token TAG-NEW-1")
    edit.get_by_role("textbox", name="Expiry date").fill("2031-01-02T03:04:05Z")
    edit.get_by_role("button", name="Save id token").click()
    expect(edit).to_have_count(0)
    expect(row_of(tokens, "TAG-NEW-1")).to_contain_text("02/01/2031, 03:04:05")

    # Blocked: the charger's Authorize is refused.
    page.get_by_role("button", name="Block TAG-NEW-1").click()
    expect(row_of(tokens, "TAG-NEW-1")).to_contain_text("Blocked")
    expect(page.get_by_role("button", name="Unblock TAG-NEW-1")).to_be_visible()
    assert fleet.loop.run(charger.authorize("TAG-NEW-1")) == "Blocked"

    # Deleted: gone from the list, unknown to the charger.
    page.get_by_role("button", name="Delete TAG-NEW-1").click()
    expect(row_of(tokens, "TAG-NEW-1")).to_have_count(0)
    assert fleet.loop.run(charger.authorize("TAG-NEW-1")) == "Invalid"


def test_an_admin_creates_a_location_assigns_a_station_and_the_fleet_filters_by_it(
    page: Any, csms_dev: DevServer, fleet: Fleet
) -> None:
    fleet.provision("CP-LOC-1")
    fleet.provision("CP-LOC-2")
    sign_in(page, csms_dev, fleet.tenant, "admin")
    go_to(page, "Locations", "Locations")
    page.get_by_role("button", name="Add location").click()
    dialog = page.get_by_role("dialog", name="Add location")
    dialog.get_by_role("textbox", name=re.compile(r"^Name")).fill("Harbour car park")
    dialog.get_by_role("textbox", name="Id", exact=True).fill("harbour")
    dialog.get_by_role("textbox", name="City", exact=True).fill("Bremen")
    dialog.get_by_role("button", name="Add location").click()
    expect(dialog).to_have_count(0)
    locations = page.get_by_role("table", name="Locations")
    expect(row_of(locations, "Harbour car park")).to_contain_text("Bremen")

    # A station that does not exist: the API's 422 under the field.
    page.get_by_role("button", name="Assign a station to Harbour car park").click()
    assign = page.get_by_role("dialog", name="Assign a station to Harbour car park")
    station = assign.get_by_role("textbox", name="Station id")
    station.fill("CP-NOPE")
    assign.get_by_role("button", name="Assign station").click()
    expect(station).to_have_attribute("aria-invalid", "true")
    own = station.locator("xpath=ancestor::div[contains(., \"no station 'CP-NOPE'\")][1]")
    expect(own).to_be_visible()
    expect(own.get_by_role("textbox")).to_have_count(1)
    station.fill("CP-LOC-1")
    assign.get_by_role("button", name="Assign station").click()
    expect(assign).to_have_count(0)
    expect(row_of(locations, "Harbour car park").get_by_role("link", name="1", exact=True)).to_be_visible()

    # The fleet's location filter finds it there, and only it.
    go_to(page, "Fleet", "Fleet")
    page.get_by_role("textbox", name="Location").click()
    page.get_by_role("option", name="Harbour car park").click()
    stations = page.get_by_role("table", name="Stations")
    expect(stations.get_by_role("link", name="CP-LOC-1")).to_be_visible()
    expect(stations.get_by_role("link", name="CP-LOC-2")).to_have_count(0)


def test_an_admin_invites_a_user_and_changes_the_role_and_a_viewer_may_do_neither(
    page: Any, csms_dev: DevServer, fleet: Fleet
) -> None:
    fleet.provision("CP-USR-1")  # the tenant exists from its first station
    email = f"operator.{fleet.tenant}@example.com"
    sign_in(page, csms_dev, fleet.tenant, "admin")
    go_to(page, "Users", "Users")
    page.get_by_role("button", name="Invite user").click()
    dialog = page.get_by_role("dialog", name="Invite user")
    dialog.get_by_role("textbox", name=re.compile(r"^Email")).fill(email)
    dialog.get_by_role("textbox", name=re.compile(r"^Role")).click()
    page.get_by_role("option", name="viewer", exact=True).click()
    dialog.get_by_role("button", name="Invite user").click()
    expect(dialog).to_have_count(0)
    users = page.get_by_role("table", name="Users")
    expect(row_of(users, email)).to_contain_text("viewer")

    # The role changes, in the list and in Cognito (what the API reads back).
    page.get_by_role("textbox", name=f"Role of {email}").click()
    page.get_by_role("option", name="operator", exact=True).click()
    expect(row_of(users, email).get_by_role("cell", name="operator", exact=True)).to_be_visible()
    status, listed = csms_dev.request("GET", "/api/v1/users", token=fleet.admin)
    assert status == 200, listed
    assert [(u["email"], u["role"]) for u in listed["items"]] == [(email, "operator")]

    # A viewer has no Users link and no action button, and the API refuses it (403).
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, csms_dev, fleet.tenant, "viewer")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Id tokens")).to_be_visible()
    expect(nav.get_by_role("link", name="Users")).to_have_count(0)
    page.goto(csms_dev.base_url + "/console/users")
    expect(page.get_by_role("alert")).to_contain_text("Your role may not do this")
    expect(page.get_by_role("button", name="Invite user")).to_have_count(0)
    go_to(page, "Locations", "Locations")
    expect(page.get_by_role("table", name="Locations")).to_be_visible()
    expect(page.get_by_role("main").get_by_role("button")).to_have_count(0)
    viewer = csms_dev.sign_in(fleet.tenant, "viewer")
    assert csms_dev.request("GET", "/api/v1/users", token=viewer)[0] == 403
    status, problem = csms_dev.request(
        "POST", "/api/v1/users", {"email": "x@example.com", "role": "admin"}, token=viewer
    )
    assert status == 403, problem
    assert (
        csms_dev.request("PATCH", "/api/v1/settings", {"defaultSecurityProfile": 0}, token=viewer)[0] == 403
    )

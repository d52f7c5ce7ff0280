"""The console in a real browser, as an operator uses it (issue 14's end-to-end cases)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import DevServer, Fleet, screenshot, sign_in


def test_the_sign_in_page_lists_the_tenants_and_the_roles(
    page: Any, csms_dev: DevServer, fleet: Fleet
) -> None:
    fleet.provision("CP-SIGN-1")  # the tenant exists from its first station
    page.goto(csms_dev.base_url + "/console/")
    expect(page.get_by_role("heading", name="Sign in to the CSMS console")).to_be_visible()
    expect(page.get_by_role("textbox", name="Tenant")).not_to_have_value("")  # the list has loaded
    page.get_by_role("textbox", name="Tenant").click()
    expect(page.get_by_role("option", name="default", exact=True)).to_be_visible()
    expect(page.get_by_role("option", name=fleet.tenant, exact=True)).to_be_visible()
    page.keyboard.press("Escape")
    for role in ("Viewer", "Operator", "Admin"):
        expect(page.get_by_role("radio", name=role)).to_be_attached()
    screenshot(page, "sign-in")


def test_a_charger_that_connects_appears_live_on_the_fleet_page(
    page: Any, csms_dev: DevServer, fleet: Fleet
) -> None:
    fleet.provision("CP-LIVE-16")
    fleet.provision("CP-LIVE-201")
    sign_in(page, csms_dev, fleet.tenant, "operator")
    stations = page.get_by_role("table", name="Stations")
    row16 = stations.get_by_role("row").filter(has_text="CP-LIVE-16")
    expect(row16).to_contain_text("Offline")
    # Without a reload, the page follows the charger's connection and its connectors.
    fleet.connect("CP-LIVE-16", "ocpp1.6")
    expect(row16).to_contain_text("Online")
    expect(row16).to_contain_text("ocpp1.6")
    expect(row16.get_by_title("EVSE 1 connector 1: Available")).to_be_visible()
    fleet.connect("CP-LIVE-201", "ocpp2.0.1")
    row201 = stations.get_by_role("row").filter(has_text="CP-LIVE-201")
    expect(row201).to_contain_text("Online")
    expect(row201).to_contain_text("ocpp2.0.1")


def test_the_fleet_search_finds_a_station_by_the_start_of_its_id(
    page: Any, csms_dev: DevServer, fleet: Fleet
) -> None:
    for station in ("CP-NORTH-1", "CP-NORTH-2", "CP-SOUTH-1"):
        fleet.provision(station)
    sign_in(page, csms_dev, fleet.tenant, "viewer")
    page.get_by_label("Search stations").fill("CP-SOUTH")
    stations = page.get_by_role("table", name="Stations")
    expect(stations.get_by_role("link", name="CP-SOUTH-1")).to_be_visible()
    expect(stations.get_by_role("link", name="CP-NORTH-1")).to_have_count(0)
    expect(page).to_have_url(f"{csms_dev.base_url}/console/fleet?q=CP-SOUTH")


def test_a_signed_in_operator_names_tenant_and_role_and_a_reload_keeps_the_session(
    page: Any, csms_dev: DevServer, fleet: Fleet
) -> None:
    fleet.provision("CP-SESSION-1")
    sign_in(page, csms_dev, fleet.tenant, "viewer")
    expect(page.get_by_label("Signed in as")).to_contain_text(fleet.tenant)
    expect(page.get_by_label("Signed in as")).to_contain_text("viewer")
    page.reload()
    expect(page.get_by_role("heading", name="Fleet", level=1)).to_be_visible()


def test_a_deep_link_without_a_session_asks_for_sign_in_then_returns_there(
    page: Any, csms_dev: DevServer, fleet: Fleet
) -> None:
    fleet.provision("CP-DEEP-1")
    page.goto(csms_dev.base_url + "/console/fleet?q=CP-DEEP")
    expect(page.get_by_role("heading", name="Sign in to the CSMS console")).to_be_visible()
    expect(page).to_have_url(f"{csms_dev.base_url}/console/sign-in")

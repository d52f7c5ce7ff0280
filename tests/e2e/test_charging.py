"""The smart charging editor in a real browser: a profile built on its timeline, sent to a station
that installs it, shown as installed; a limit the API refuses is shown at its field."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import DevServer, Fleet, screenshot, sign_in


def open_editor_for(page: Any, station_id: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Smart charging").click()
    expect(page.get_by_role("heading", name="Smart charging", level=1)).to_be_visible()
    picker = page.get_by_role("textbox", name="Station", exact=True)
    picker.click()
    picker.fill(station_id)
    page.get_by_role("option", name=station_id, exact=True).click()
    expect(page.get_by_role("table", name="Installed charging profiles")).to_be_visible()


def test_a_profile_built_in_the_editor_is_installed_at_the_station(
    page: Any, csms_dev: DevServer, fleet: Fleet
) -> None:
    fleet.provision("CP-PROF-16")
    charger = fleet.connect("CP-PROF-16", "ocpp1.6")
    sign_in(page, csms_dev, fleet.tenant, "operator")
    open_editor_for(page, "CP-PROF-16")

    page.get_by_role("textbox", name="Profile id").fill("7")
    page.get_by_role("textbox", name="Stack level").fill("2")
    page.get_by_role("textbox", name="Period 1 limit").fill("20")
    page.get_by_role("button", name="Add period").click()
    page.get_by_role("textbox", name="Period 2 limit").fill("10")
    expect(page.get_by_role("figure", name="Profile preview")).to_be_visible()
    screenshot(page, "profile-editor")
    page.get_by_role("button", name="Send profile").click()

    # The outcome and the installed list follow the station's answer without a reload.
    expect(page.get_by_role("status", name="Command outcome")).to_contain_text("accepted")
    installed = page.get_by_role("table", name="Installed charging profiles")
    expect(installed.get_by_role("row").filter(has_text="TxDefaultProfile")).to_contain_text("7")
    # What the station itself received: the two periods, an hour apart, in amperes.
    # (The ocpp library hands the payload over in snake case.)
    (profile,) = charger.profiles
    assert (profile["charging_profile_id"], profile["stack_level"]) == (7, 2)
    assert profile["charging_schedule"]["charging_rate_unit"] == "A"
    periods = profile["charging_schedule"]["charging_schedule_period"]
    assert [(p["start_period"], p["limit"]) for p in periods] == [(0, 20), (3600, 10)]


def test_a_profile_the_api_refuses_shows_its_words(page: Any, csms_dev: DevServer, fleet: Fleet) -> None:
    fleet.provision("CP-PROF-BAD")
    charger = fleet.connect("CP-PROF-BAD", "ocpp1.6")
    sign_in(page, csms_dev, fleet.tenant, "operator")
    open_editor_for(page, "CP-PROF-BAD")
    # The form lets a station-wide maximum be aimed at EVSE 1; only the API knows it belongs on 0.
    page.get_by_role("textbox", name="Purpose").click()
    page.get_by_role("option", name="ChargingStationMaxProfile").click()
    page.get_by_role("button", name="Send profile").click()
    problem = page.get_by_role("alert").filter(has_text="The profile was not accepted")
    expect(problem).to_contain_text("a ChargingStationMaxProfile is set on EVSE 0")
    screenshot(page, "profile-refused")
    assert charger.profiles == []


def test_a_viewer_previews_a_profile_and_cannot_send_it(page: Any, csms_dev: DevServer, fleet: Fleet) -> None:
    fleet.provision("CP-PROF-VIEW")
    fleet.connect("CP-PROF-VIEW", "ocpp2.0.1")
    sign_in(page, csms_dev, fleet.tenant, "viewer")
    open_editor_for(page, "CP-PROF-VIEW")
    expect(page.get_by_text("Your role may preview profiles but not send them.")).to_be_visible()
    expect(page.get_by_role("figure", name="Profile preview")).to_be_visible()
    expect(page.get_by_role("button", name="Send profile")).to_have_count(0)

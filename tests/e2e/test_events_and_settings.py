"""The live event feed and the tenant settings in a real browser; the console's favicon."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import DevServer, Fleet, screenshot, sign_in


def test_a_chargers_status_change_and_transaction_appear_on_the_events_page_without_reload(
    page: Any, csms_dev: DevServer, fleet: Fleet
) -> None:
    fleet.provision("CP-EVT-16")
    fleet.id_token("TAG-EVT-1")
    sign_in(page, csms_dev, fleet.tenant, "operator")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Live events").click()
    expect(page.get_by_role("heading", name="Live events", level=1)).to_be_visible()
    events = page.get_by_role("table", name="Live events")
    expect(page.get_by_text("Waiting for events…")).to_be_visible()
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads

    charger = fleet.connect("CP-EVT-16", "ocpp1.6")
    connected = events.get_by_role("row").filter(has_text="ChargerConnected")
    expect(connected).to_contain_text("CP-EVT-16")
    expect(events.get_by_role("row").filter(has_text="EVSE 1 connector 1: Available")).to_be_visible()

    fleet.loop.run(charger.status(1, "Unavailable"))
    expect(events.get_by_role("row").filter(has_text="EVSE 1 connector 1: Unavailable")).to_be_visible()
    fleet.loop.run(charger.status(1, "Available"))

    charger.auto_meter = False
    fleet.loop.run(charger.on_remote_start_now("TAG-EVT-1"))
    started = events.get_by_role("row").filter(has_text="TransactionStarted")
    expect(started).to_contain_text(f"transaction {charger.transaction_id} on EVSE 1")
    fleet.loop.run(charger.meter_once(1, 500))
    expect(events.get_by_role("row").filter(has_text="MeterValuesReceived").first).to_contain_text(
        "samples on EVSE 1"
    )
    transaction = charger.transaction_id
    fleet.loop.run(charger.stop_now())
    expect(events.get_by_role("row").filter(has_text="TransactionStopped")).to_contain_text(
        f"transaction {transaction}"
    )
    # Newest first, each once, and all of it without a reload.
    expect(events.get_by_role("row").nth(1)).to_contain_text("ConnectorStatusChanged")
    for once in ("ChargerConnected", "TransactionStarted", "TransactionStopped"):
        expect(events.get_by_role("row").filter(has_text=once)).to_have_count(1)
    assert page.evaluate("window.__sameDocument") is True

    # The type filter keeps only what it names.
    page.get_by_role("textbox", name="Event types").click()
    page.get_by_role("option", name="TransactionStarted", exact=True).click()
    page.keyboard.press("Escape")
    expect(events.get_by_role("row")).to_have_count(2)  # the header and the one start


def test_an_admin_changes_the_tenant_settings_and_the_api_s_422_shows_next_to_the_field(
    page: Any, csms_dev: DevServer, fleet: Fleet
) -> None:
    fleet.provision("CP-SET-0")  # the tenant exists from its first station
    sign_in(page, csms_dev, fleet.tenant, "admin")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()
    expect(page.get_by_role("radio", name=re.compile(r"^2: a password"))).to_be_checked()
    expect(page.get_by_role("checkbox", name="Use the deployment's default schemes")).to_be_checked()

    page.get_by_text("0: no password", exact=False).click()
    page.get_by_role("checkbox", name="Use the deployment's default schemes").uncheck()
    page.get_by_role("checkbox", name="sftp").uncheck()
    hosts = page.get_by_role("textbox", name="URL hosts")
    hosts.fill("files_example.com")  # an underscore: no host name
    hosts.press("Enter")
    page.get_by_role("button", name="Save settings").click()
    expect(hosts).to_have_attribute("aria-invalid", "true")
    own = hosts.locator("xpath=ancestor::div[contains(@class, 'mantine-InputWrapper-root')][1]")
    expect(own).to_contain_text("files_example.com: String should match pattern")
    assert csms_dev.request("GET", "/api/v1/settings", token=fleet.admin)[1]["defaultSecurityProfile"] == 2

    hosts.press("Backspace")
    hosts.fill("*.files.example.com")
    hosts.press("Enter")
    hosts.fill("firmware.example.org")
    hosts.press("Enter")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    expect(hosts).not_to_have_attribute("aria-invalid", "true")
    status, settings = csms_dev.request("GET", "/api/v1/settings", token=fleet.admin)
    assert status == 200, settings
    assert settings["defaultSecurityProfile"] == 0
    assert settings["fileUrlSchemes"] == ["https", "ftps"]
    assert settings["fileUrlHosts"] == ["*.files.example.com", "firmware.example.org"]
    expect(page.get_by_text("In force: https, ftps.", exact=False)).to_be_visible()
    screenshot(page, "settings")

    # What it changes: a station provisioned without a profile now gets 0.
    status, created = csms_dev.request("POST", "/api/v1/stations", {"id": "CP-SET-1"}, fleet.admin)
    assert status == 201, created
    assert (created["station"]["securityProfile"], created["station"]["securityProfileSource"]) == (
        0,
        "tenant",
    )
    assert created["password"] is None

    # A viewer reads the same settings and has nothing to change them with.
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, csms_dev, fleet.tenant, "viewer")
    page.goto(csms_dev.base_url + "/console/settings")
    expect(page.get_by_role("radio", name=re.compile(r"^0: no password"))).to_be_checked()
    expect(page.get_by_role("main")).to_contain_text("firmware.example.org")
    expect(page.get_by_role("button", name="Save settings")).to_have_count(0)
    expect(page.get_by_text("Only an admin changes the settings.")).to_be_visible()


def test_the_console_has_a_favicon_served_under_console_and_nothing_it_loads_is_missing(
    page: Any, csms_dev: DevServer, fleet: Fleet
) -> None:
    missing: list[str] = []
    page.on("response", lambda r: missing.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(csms_dev.base_url + "/console/")
    expect(page.get_by_role("heading", name="Sign in to the CSMS console")).to_be_visible()
    icon = page.locator("link[rel=icon]")
    expect(icon).to_have_attribute("type", "image/svg+xml")
    href = icon.evaluate("link => link.href")
    assert href == csms_dev.base_url + "/console/favicon.svg"
    # Headless Chromium does not fetch favicons itself: fetch it as the tab would.
    answer = page.request.get(href)
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("image/svg+xml")
    assert answer.text().startswith("<svg")
    assert "img-src 'self'" in answer.headers["content-security-policy"]
    page.goto(href)  # and it renders under the console's CSP
    expect(page.locator("svg")).to_be_visible()
    assert missing == []

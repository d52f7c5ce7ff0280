"""The console's accessibility in a real browser (issue 14: "keyboard navigation, labels,
contrast"): axe-core's WCAG 2.1 A/AA rules (and its best practices: landmarks, heading order) on
every main page, with real data on them (a station charging, its finished session, a site's
diagram, an open command form).

The console has one colour scheme (light: ``MantineProvider defaultColorScheme="light"``, no
toggle), so light is what is audited.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e.a11y import Audit
from tests.e2e.conftest import DevServer, Fleet, sign_in
from tests.e2e.test_sites import provision_site


def settled(page: Any, heading: str) -> None:
    """The page's own heading is shown and nothing is loading any more (axe judges what is drawn)."""
    expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
    expect(page.locator(".mantine-Loader-root")).to_have_count(0)


def go(page: Any, link: str, heading: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=link, exact=True).click()
    settled(page, heading)


def test_every_main_page_passes_axe_wcag_2_1_a_and_aa(page: Any, csms_dev: DevServer, fleet: Fleet) -> None:
    audit = Audit()
    fleet.provision("CP-A11Y-1")
    fleet.provision("CP-A11Y-2")
    fleet.id_token("TAG-A11Y-1")
    provision_site(fleet)
    charger = fleet.connect("CP-A11Y-1", "ocpp1.6")

    page.goto(csms_dev.base_url + "/console/")
    expect(page.get_by_role("heading", name="Sign in to the CSMS console")).to_be_visible()
    audit.check(page, "sign-in")

    sign_in(page, csms_dev, fleet.tenant, "admin")
    stations = page.get_by_role("table", name="Stations")
    expect(stations.get_by_role("row").filter(has_text="CP-A11Y-1")).to_contain_text("Online")
    audit.check(page, "fleet")

    # A station with a transaction charging: its connectors, the running card and its live charts.
    fleet.loop.run(charger.on_remote_start_now("TAG-A11Y-1"))
    transaction = str(charger.transaction_id)
    stations.get_by_role("link", name="CP-A11Y-1").click()
    settled(page, "Station CP-A11Y-1")
    running = page.get_by_label(f"Running transaction {transaction}")
    expect(running.get_by_role("figure", name="Energy")).not_to_contain_text("No values.")
    audit.check(page, "station (charging)")

    # The command form, open on its default command (a remote start).
    page.get_by_role("tab", name="Commands").click()
    expect(page.get_by_role("button", name="Send start transaction")).to_be_visible()
    audit.check(page, "station: command form")
    for tab, shows in (
        ("Configuration", "Configuration"),
        ("Charging profiles", "Installed charging profiles"),
        ("Timelines", "Connector status history"),
    ):
        page.get_by_role("tab", name=tab).click()
        expect(page.get_by_role("table", name=shows)).to_be_visible()
        expect(page.locator(".mantine-Loader-root")).to_have_count(0)
        audit.check(page, f"station: {tab.lower()}")

    go(page, "Sessions", "Sessions")
    sessions = page.get_by_role("table", name="Sessions")
    session_link = sessions.get_by_role("link", name=transaction, exact=True)
    expect(session_link).to_be_visible()
    audit.check(page, "sessions")
    session_link.click()
    settled(page, f"Session {transaction}")
    expect(page.get_by_role("figure", name="Energy")).to_be_visible()
    audit.check(page, "session")

    go(page, "Smart charging", "Smart charging")
    picker = page.get_by_role("textbox", name="Station", exact=True)
    picker.click()
    picker.fill("CP-A11Y-1")
    page.get_by_role("option", name="CP-A11Y-1", exact=True).click()
    expect(page.get_by_role("figure", name="Profile preview")).to_be_visible()
    audit.check(page, "smart charging: profile editor")

    # An admin's dialog: editing an id token.
    go(page, "Id tokens", "Id tokens")
    page.get_by_role("button", name="Edit TAG-A11Y-1").click()
    dialog = page.get_by_role("dialog", name="Edit id token TAG-A11Y-1")
    expect(dialog.get_by_role("button", name="Save id token")).to_be_visible()
    audit.check(page, "id tokens: edit dialog")
    page.keyboard.press("Escape")

    for link, heading in (
        ("Reports", "Reports"),
        ("Id tokens", "Id tokens"),
        ("Locations", "Locations"),
        ("Users", "Users"),
        ("Live events", "Live events"),
        ("Settings", "Settings"),
        ("Sites", "Sites"),
    ):
        go(page, link, heading)
        audit.check(page, link.lower())

    page.get_by_role("table", name="Sites").get_by_role("link", name="Depot yard").click()
    settled(page, "Depot yard")
    expect(page.get_by_role("list", name="Single-line diagram of Depot yard")).to_be_visible()
    audit.check(page, "site diagram")
    page.get_by_role("button", name="Change limits of Circuit feeder-1").click()
    expect(page.get_by_role("dialog", name="Limits of Circuit feeder-1")).to_be_visible()
    audit.check(page, "site diagram: limits dialog")

    audit.assert_clean()

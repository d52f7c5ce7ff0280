"""The console on a tablet (issue 14: "usable on a tablet"): portrait and landscape, touch. The
navigation is reachable (behind the burger where the screen is narrow), no page scrolls
sideways (only a wide table scrolls, inside its own box), and the fleet and a charging station
work by touch."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.a11y import Audit
from tests.e2e.conftest import LIVE_TIMEOUT_MS, DevServer, Fleet, screenshot, sign_in

TABLETS = {
    "portrait": {"width": 768, "height": 1024},
    "landscape": {"width": 1024, "height": 768},
}
PAGES = [
    ("Sessions", "Sessions"),
    ("Smart charging", "Smart charging"),
    ("Reports", "Reports"),
    ("Live events", "Live events"),
    ("Id tokens", "Id tokens"),
    ("Locations", "Locations"),
    ("Sites", "Sites"),
    ("Users", "Users"),
]


@pytest.fixture(params=list(TABLETS))
def tablet(request: pytest.FixtureRequest, browser: Any) -> Iterator[tuple[str, Any]]:
    """A page in a tablet's viewport: touch, a mobile browser's viewport handling, twice the
    pixels (a tablet's screen)."""
    context = browser.new_context(
        viewport=TABLETS[request.param],
        has_touch=True,
        is_mobile=True,
        device_scale_factor=2,
        locale="en-GB",
        timezone_id="UTC",
    )
    context.set_default_timeout(LIVE_TIMEOUT_MS)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield request.param, opened
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def expect_no_sideways_scroll(page: Any, where: str) -> None:
    """The page itself is no wider than the screen (a wide table may scroll in its own box)."""
    widths = page.evaluate(
        """() => {
            const s = document.scrollingElement;
            const wider = [...document.querySelectorAll('main *')]
                .filter((e) => e.getBoundingClientRect().right > s.clientWidth + 1)
                .filter((e) => !e.closest('.mantine-Table-scrollContainer, .mantine-ScrollArea-root'))
                .slice(0, 3)
                .map((e) => e.outerHTML.slice(0, 120));
            return {scroll: s.scrollWidth, client: s.clientWidth, wider};
        }"""
    )
    assert widths["scroll"] <= widths["client"], f"{where} scrolls sideways: {widths}"


def open_navigation(page: Any) -> Any:
    """The main navigation, opened with the burger where it is folded away."""
    nav = page.get_by_role("navigation", name="Main")
    burger = page.get_by_role("button", name="Toggle navigation")
    if burger.is_visible() and burger.get_attribute("aria-expanded") != "true":
        burger.tap()
    expect(nav.get_by_role("link", name="Fleet")).to_be_in_viewport()
    return nav


def test_the_console_works_on_a_tablet_by_touch_without_sideways_scrolling(
    tablet: tuple[str, Any], csms_dev: DevServer, fleet: Fleet
) -> None:
    orientation, page = tablet
    audit = Audit()  # axe at a tablet's width too: the folded navigation, the narrow layouts
    station_id = f"CP-TAB-{orientation.upper()}"  # (station ids are global: one per run)
    fleet.provision(station_id)
    fleet.provision(f"CP-TAB2-{orientation.upper()}")
    fleet.id_token("TAG-TAB-1")
    charger = fleet.connect(station_id, "ocpp1.6")
    sign_in(page, csms_dev, fleet.tenant, "admin")
    stations = page.get_by_role("table", name="Stations")
    expect(stations.get_by_role("row").filter(has_text=station_id)).to_contain_text("Online")
    expect_no_sideways_scroll(page, "fleet")
    # Portrait folds the navigation behind the burger (the table gets the width); landscape
    # shows it beside the page.
    nav_link = page.get_by_role("navigation", name="Main").get_by_role("link", name="Fleet")
    burger = page.get_by_role("button", name="Toggle navigation")
    if orientation == "portrait":
        expect(burger).to_be_visible()
        expect(nav_link).not_to_be_in_viewport()
        screenshot(page, "tablet-fleet")
    else:
        expect(burger).to_be_hidden()
        expect(nav_link).to_be_in_viewport()
    audit.check(page, f"fleet ({orientation})")

    # Every page of the navigation, reached by touch, fits the screen's width.
    for link, heading in PAGES:
        open_navigation(page).get_by_role("link", name=link, exact=True).tap()
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_in_viewport()
        expect(page.locator(".mantine-Loader-root")).to_have_count(0)
        expect_no_sideways_scroll(page, link)
    if orientation == "portrait":
        open_navigation(page)
        # (for the picture: the panel has finished sliding in)
        page.wait_for_function(
            "() => document.querySelector('nav[aria-label=Main]').getBoundingClientRect().left === 0"
        )
        page.wait_for_timeout(500)
        screenshot(page, "tablet-navigation")
        audit.check(page, "navigation open (portrait)")

    # A station charging, by touch from the fleet: its live card, then a command from its form.
    open_navigation(page).get_by_role("link", name="Fleet", exact=True).tap()
    fleet.loop.run(charger.on_remote_start_now("TAG-TAB-1"))
    stations.get_by_role("link", name=station_id, exact=True).tap()
    expect(page.get_by_role("heading", name=f"Station {station_id}", level=1)).to_be_visible()
    running = page.get_by_label(f"Running transaction {charger.transaction_id}")
    expect(running.get_by_role("figure", name="Energy")).not_to_contain_text("No values.")
    expect_no_sideways_scroll(page, "station")
    while charger.meter_wh < 12:  # (for the picture only: a few samples on the charts)
        page.wait_for_timeout(500)
    screenshot(page, f"tablet-station{'' if orientation == 'portrait' else '-landscape'}")
    audit.check(page, f"station ({orientation})")

    for tab in ("Configuration", "Charging profiles", "Timelines", "Commands"):
        page.get_by_role("tab", name=tab).tap()
        expect(page.get_by_role("tab", name=tab)).to_have_attribute("aria-selected", "true")
        expect(page.locator(".mantine-Loader-root")).to_have_count(0)
        expect_no_sideways_scroll(page, f"station: {tab}")
    page.get_by_role("textbox", name="Command").tap()
    page.get_by_role("option", name="Reset").tap()
    page.get_by_role("textbox", name="Type", exact=True).tap()
    page.get_by_role("option", name="Immediate").tap()
    page.get_by_role("button", name="Send reset").tap()
    expect(page.get_by_role("status", name="Command outcome")).to_contain_text("accepted")
    expect_no_sideways_scroll(page, "station: command sent")
    audit.assert_clean()

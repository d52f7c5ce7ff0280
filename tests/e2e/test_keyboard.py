"""The console with the keyboard alone (issue 14: "keyboard navigation"): sign in, skip to the
content, tab through the navigation, a dialog that keeps focus and gives it back, a menu that
closes back to its field, and a remote start sent from the command form to a simulated charger
that accepts it. Not one click: every step is a key press (page.goto opens the console)."""

from __future__ import annotations

import asyncio
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import DevServer, Fleet

#: How many key presses a walk may take before the test says the target is unreachable.
MAX_PRESSES = 80


def focused(locator: Any) -> bool:
    return bool(locator.evaluate("element => element === document.activeElement"))


def focused_name(page: Any) -> str:
    """The focused element's name as a screen reader would start to read it (enough to tell the
    navigation's links apart)."""
    name: str = page.evaluate(
        """() => {
            const e = document.activeElement;
            if (!e || e === document.body) return '(nothing)';
            const labelled = e.getAttribute('aria-label');
            if (labelled) return labelled;
            if (e.labels && e.labels.length) return e.labels[0].textContent.trim();
            return (e.textContent || '').trim().slice(0, 60);
        }"""
    )
    return name


def tab_to(page: Any, target: Any, key: str = "Tab") -> list[str]:
    """Press Tab (or Shift+Tab) until ``target`` has focus; the names focused on the way."""
    passed: list[str] = []
    for _ in range(MAX_PRESSES):
        if focused(target):
            return passed
        page.keyboard.press(key)
        passed.append(focused_name(page))
    raise AssertionError(f"{target} not reached with {key} in {MAX_PRESSES} presses; passed {passed}")


def expect_focus_ring(page: Any) -> None:
    """The focused control shows that it has focus: an outline (Mantine's :focus-visible ring)."""
    ring = page.evaluate(
        """() => {
            const style = getComputedStyle(document.activeElement);
            return {style: style.outlineStyle, width: parseFloat(style.outlineWidth)};
        }"""
    )
    assert ring["style"] != "none", f"{focused_name(page)!r} shows no focus: {ring}"
    assert ring["width"] >= 1, f"{focused_name(page)!r} shows no focus: {ring}"


def expect_focus_within(page: Any, container: Any) -> None:
    """Focus is on ``container`` or inside it (waited for: a dialog takes focus once open)."""
    page.wait_for_function(
        "element => element.contains(document.activeElement)", arg=container.element_handle()
    )


def sign_in_by_keyboard(page: Any, server: DevServer, tenant: str) -> None:
    page.goto(server.base_url + "/console/")
    expect(page.get_by_role("heading", name="Sign in to the CSMS console")).to_be_visible()
    tenant_field = page.get_by_role("textbox", name="Tenant")
    expect(tenant_field).not_to_have_value("")  # the tenants' list has replaced the text box
    tab_to(page, tenant_field)
    page.keyboard.type(tenant)
    expect(page.get_by_role("option", name=tenant, exact=True)).to_be_visible()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(tenant_field).to_have_value(tenant)
    # The roles are one stop (the checked one); the arrow keys choose.
    tab_to(page, page.get_by_role("radio", checked=True))
    while not page.get_by_role("radio", name="Admin").is_checked():
        page.keyboard.press("ArrowRight")
    expect(page.get_by_role("radio", name="Admin")).to_be_checked()
    tab_to(page, page.get_by_role("button", name="Sign in"))
    expect_focus_ring(page)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Fleet", level=1)).to_be_visible()


def test_an_operator_reaches_a_station_and_starts_a_charge_with_the_keyboard_alone(
    page: Any, csms_dev: DevServer, fleet: Fleet
) -> None:
    fleet.provision("CP-KEY-1")
    fleet.id_token("TAG-KEY-1")
    charger = fleet.connect("CP-KEY-1", "ocpp1.6")
    sign_in_by_keyboard(page, csms_dev, fleet.tenant)
    nav = page.get_by_role("navigation", name="Main")
    main = page.get_by_role("main")

    # The first Tab reaches "Skip to content", shown while focused; it lands in the main region.
    skip = page.get_by_role("link", name="Skip to content")
    page.keyboard.press("Tab")
    assert focused(skip), f"the first Tab reached {focused_name(page)!r}"
    expect(skip).to_be_in_viewport()
    expect_focus_ring(page)
    page.keyboard.press("Enter")
    assert main.evaluate("element => element === document.activeElement")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Search stations")).to_be_focused()

    # Back up through the navigation, link by link, to Id tokens.
    passed = tab_to(page, nav.get_by_role("link", name="Id tokens"), "Shift+Tab")
    assert passed == ["Settings", "Users", "Sites", "Locations", "Id tokens"], passed
    expect_focus_ring(page)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Id tokens", level=1)).to_be_visible()

    # A dialog keeps focus inside while open and gives it back to its button on Escape.
    add = page.get_by_role("button", name="Add id token")
    tab_to(page, add)
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Add id token")
    expect(dialog).to_be_visible()
    expect_focus_within(page, dialog)
    # (Its form arrives a moment later; the walk goes round it several times once it is there.)
    expect(dialog.get_by_role("button", name="Add id token")).to_be_visible()
    for _ in range(25):
        page.keyboard.press("Tab")
        expect_focus_within(page, dialog)
    # (From a text field: in a select, Escape first closes its list.)
    tab_to(page, dialog.get_by_role("textbox", name="Id token", exact=True))
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(add).to_be_focused()

    # Forward through the navigation from Fleet into the fleet's table, to the station.
    tab_to(page, nav.get_by_role("link", name="Fleet"), "Shift+Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Fleet", level=1)).to_be_visible()
    station = page.get_by_role("table", name="Stations").get_by_role("link", name="CP-KEY-1")
    passed = tab_to(page, station)
    rest = ["Sessions", "Smart charging", "Reports", "Live events", "Id tokens", "Locations", "Sites"]
    assert passed[: len(rest) + 1] == [*rest, "Users"], passed
    expect_focus_ring(page)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Station CP-KEY-1", level=1)).to_be_visible()

    # The tabs are one stop; the arrow keys move between them.
    tab_to(page, page.get_by_role("tab", name="Overview"))
    expect_focus_ring(page)
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="Commands")).to_be_focused()
    expect(page.get_by_role("tab", name="Commands")).to_have_attribute("aria-selected", "true")

    # The command menu opens and closes back to its field.
    command = page.get_by_role("textbox", name="Command")
    tab_to(page, command)
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("listbox")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("listbox")).to_be_hidden()
    expect(command).to_be_focused()
    expect(command).to_have_value("Start transaction")

    # Fill the remote start and send it.
    tab_to(page, page.get_by_role("textbox", name="Id token", exact=True))
    page.keyboard.type("TAG-KEY-1")
    tab_to(page, page.get_by_role("textbox", name="EVSE id", exact=True))
    page.keyboard.type("1")
    tab_to(page, page.get_by_role("button", name="Send start transaction"))
    expect_focus_ring(page)
    page.keyboard.press("Enter")
    expect(page.get_by_role("status", name="Command outcome")).to_contain_text("accepted")
    # The charger starts charging; back on the overview (the arrow keys again) it shows.
    fleet.loop.run(_until_charging(charger))
    tab_to(page, page.get_by_role("tab", name="Commands"), "Shift+Tab")
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_label(f"Running transaction {charger.transaction_id}")).to_contain_text(
        "Token TAG-KEY-1"
    )


async def _until_charging(charger: Any) -> None:
    while charger.transaction_id is None:
        await asyncio.sleep(0.1)

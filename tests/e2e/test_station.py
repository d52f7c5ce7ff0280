"""The station page in a real browser: a transaction charging live, stopped from the console, the
finished session's charts; a remote start and the API's error from the command form; what a
viewer may not do."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import DevServer, Fleet, screenshot, sign_in


def open_station(page: Any, station_id: str) -> None:
    page.get_by_role("table", name="Stations").get_by_role("link", name=station_id).click()
    expect(page.get_by_role("heading", name=f"Station {station_id}", level=1)).to_be_visible()


def start_from_the_console(page: Any, id_token: str, evse: int) -> None:
    page.get_by_role("tab", name="Commands").click()
    expect(page.get_by_role("textbox", name="Command")).to_have_value("Start transaction")
    page.get_by_role("textbox", name="Id token", exact=True).fill(id_token)
    page.get_by_role("textbox", name="EVSE id", exact=True).fill(str(evse))
    page.get_by_role("button", name="Send start transaction").click()


def stop_from_the_console_and_read_the_session(page: Any, transaction: str) -> None:
    running = page.get_by_label(f"Running transaction {transaction}")
    running.get_by_role("button", name=f"Stop transaction {transaction}").click()
    expect(page.get_by_text("No transaction is running.")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sessions").click()
    page.get_by_role("table", name="Sessions").get_by_role("link", name=transaction, exact=True).click()
    expect(page.get_by_role("heading", name=f"Session {transaction}", level=1)).to_be_visible()
    expect(page.get_by_text("finished", exact=True)).to_be_visible()


def test_a_charging_1_6_transaction_shows_live_is_stopped_from_the_console_and_its_charts_open(
    page: Any, csms_dev: DevServer, fleet: Fleet
) -> None:
    fleet.provision("CP-TX-16")
    fleet.id_token("TAG-E2E-1")
    charger = fleet.connect("CP-TX-16", "ocpp1.6")
    sign_in(page, csms_dev, fleet.tenant, "operator")
    open_station(page, "CP-TX-16")
    expect(page.get_by_text("No transaction is running.")).to_be_visible()

    # A card at the reader: the page follows without a reload.
    fleet.loop.run(charger.on_remote_start_now("TAG-E2E-1"))
    transaction = str(charger.transaction_id)
    running = page.get_by_label(f"Running transaction {transaction}")
    expect(running).to_contain_text("Token TAG-E2E-1")
    connectors = page.get_by_role("table", name="Connectors")
    expect(connectors.get_by_role("cell", name="Charging", exact=True).first).to_be_visible()
    expect(running.get_by_role("figure", name="Power")).to_be_visible()
    expect(running.get_by_role("figure", name="Energy")).to_be_visible()
    # The charger meters every second: its values reach the open page's charts.
    expect(running.get_by_role("figure", name="Energy")).not_to_contain_text("No meter values yet.")
    # The energy so far follows the register (the charger adds 3 Wh a second): a number, never "—".
    energy = running.get_by_label("Energy so far")
    expect(energy).to_have_text(re.compile(r"^\d+\.\d{3} kWh$"))
    # (For the picture only: a few more samples on the charts; nothing is judged on time.)
    while charger.meter_wh < 15:
        page.wait_for_timeout(500)
    expect(energy).not_to_have_text("0.003 kWh")  # it moved on, live
    page.wait_for_timeout(2000)
    screenshot(page, "station")

    stop_from_the_console_and_read_the_session(page, transaction)
    for chart in ("Power", "Energy", "State of charge"):
        expect(page.get_by_role("figure", name=chart)).to_be_visible()
    screenshot(page, "session")


def test_a_charging_2_0_1_transaction_shows_live_and_is_stopped_from_the_console(
    page: Any, csms_dev: DevServer, fleet: Fleet
) -> None:
    fleet.provision("CP-TX-201")
    fleet.id_token("TAG-E2E-2")
    station = fleet.connect("CP-TX-201", "ocpp2.0.1")
    sign_in(page, csms_dev, fleet.tenant, "operator")
    open_station(page, "CP-TX-201")
    fleet.loop.run(station.on_local_start_now("TAG-E2E-2"))
    transaction = str(station.transaction_id)
    running = page.get_by_label(f"Running transaction {transaction}")
    expect(running).to_contain_text("Token TAG-E2E-2")
    # 2.0.1 sends no meterStart: the energy so far counts from the first register reading.
    expect(running.get_by_label("Energy so far")).to_have_text(re.compile(r"^\d+\.\d{3} kWh$"))
    stop_from_the_console_and_read_the_session(page, transaction)
    expect(page.get_by_role("figure", name="Energy")).to_be_visible()


def test_an_operator_starts_a_transaction_from_the_command_form_and_watches_it_charge(
    page: Any, csms_dev: DevServer, fleet: Fleet
) -> None:
    fleet.provision("CP-RS-16")
    fleet.id_token("TAG-E2E-4")
    charger = fleet.connect("CP-RS-16", "ocpp1.6")
    sign_in(page, csms_dev, fleet.tenant, "operator")
    open_station(page, "CP-RS-16")
    start_from_the_console(page, "TAG-E2E-4", 1)
    outcome = page.get_by_role("status", name="Command outcome")
    expect(outcome).to_contain_text("accepted", timeout=5000)
    page.get_by_role("tab", name="Overview").click()
    assert charger.transaction_id is not None
    expect(page.get_by_label(f"Running transaction {charger.transaction_id}")).to_contain_text(
        "Token TAG-E2E-4"
    )


def test_a_viewer_sees_the_station_and_no_action(page: Any, csms_dev: DevServer, fleet: Fleet) -> None:
    fleet.provision("CP-VIEW-1")
    fleet.id_token("TAG-E2E-3")
    charger = fleet.connect("CP-VIEW-1", "ocpp1.6")
    fleet.loop.run(charger.on_remote_start_now("TAG-E2E-3"))
    # an operator's command, which the viewer reads in the station's history
    status, sent = csms_dev.request(
        "POST", "/api/v1/stations/CP-VIEW-1/commands/clear-cache?wait=10", {}, fleet.admin
    )
    assert status in (200, 202), sent
    sign_in(page, csms_dev, fleet.tenant, "viewer")
    open_station(page, "CP-VIEW-1")
    running = page.get_by_label(f"Running transaction {charger.transaction_id}")
    expect(running).to_be_visible()
    expect(running.get_by_role("button")).to_have_count(0)
    page.get_by_role("tab", name="Commands").click()
    expect(page.get_by_role("heading", name="Command history")).to_be_visible()
    expect(page.get_by_role("table", name="Command history")).to_contain_text("clear-cache")
    expect(page.get_by_role("tabpanel").get_by_role("alert")).to_have_count(0)
    expect(page.get_by_role("heading", name="Send a command")).to_have_count(0)
    expect(page.get_by_role("tabpanel").get_by_role("button")).to_have_count(0)

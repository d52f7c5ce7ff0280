"""The reports page in a real browser: energy per day and week per station and per location, and
utilisation, after real 1.6 and 2.0.1 transactions, checked against what the chargers sent."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import DevServer, Fleet, screenshot, sign_in


def a_location(fleet: Fleet, location_id: str, name: str, *stations: str) -> None:
    status, body = fleet.server.request(
        "POST", "/api/v1/locations", {"id": location_id, "name": name}, fleet.admin
    )
    assert status == 201, body
    status, body = fleet.server.request(
        "POST", f"/api/v1/locations/{location_id}/stations", {"stationIds": list(stations)}, fleet.admin
    )
    assert status == 200, body


def seconds_between(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def cells(table: Any, row_name: str) -> list[str]:
    row = table.get_by_role("row").filter(has=table.page.get_by_role("rowheader", name=row_name, exact=True))
    expect(row).to_have_count(1)
    return [text.strip() for text in row.get_by_role("cell").all_inner_texts()]


def test_the_reports_show_energy_per_day_and_week_per_station_and_location_and_utilisation(
    page: Any, csms_dev: DevServer, fleet: Fleet
) -> None:
    # Given a 1.6 charger at one location and a 2.0.1 station at another, each charging once,
    # with register readings the test chooses (no sample on a timer: exact figures).
    fleet.provision("CP-REP-16")
    fleet.provision("CP-REP-201")
    fleet.id_token("TAG-REP-1")
    a_location(fleet, "north", "North car park", "CP-REP-16")
    a_location(fleet, "airport", "Airport", "CP-REP-201")
    charger = fleet.connect("CP-REP-16", "ocpp1.6")
    station = fleet.connect("CP-REP-201", "ocpp2.0.1")
    charger.auto_meter = station.auto_meter = False

    fleet.loop.run(charger.on_remote_start_now("TAG-REP-1"))  # meterStart 0 Wh
    for wh in (1200, 800, 345):
        fleet.loop.run(charger.meter_once(1, wh))
    fleet.loop.run(charger.stop_now())  # meterStop 2345 Wh
    energy_16 = charger.meter_wh - 0

    fleet.loop.run(station.on_local_start_now("TAG-REP-1"))
    for wh in (1000, 1500, 250):  # the first reading is its meterStart (2.0.1 sends no meterStart)
        fleet.loop.run(station.meter_once(wh))
    fleet.loop.run(station.stop_now())
    energy_201 = station.registers[-1] - station.registers[0]
    assert (energy_16, energy_201) == (2345, 1750)

    today = datetime.now(UTC).date()
    monday = today - timedelta(days=today.weekday())

    # When a viewer opens the reports
    sign_in(page, csms_dev, fleet.tenant, "viewer")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Reports", level=1)).to_be_visible()

    # Then the energy is what the chargers' registers say, per station and per location, today
    per_station = page.get_by_role("table", name="Energy per station", exact=True)
    expect(per_station.get_by_role("columnheader", name=f"{today.isoformat()} (kWh)")).to_be_visible()
    expect(per_station.get_by_role("row").filter(has_text="CP-REP-16")).to_contain_text("2.345")
    assert cells(per_station, "CP-REP-16") == ["2.345", "2.345", "1"]
    assert cells(per_station, "CP-REP-201") == ["1.750", "1.750", "1"]
    per_location = page.get_by_role("table", name="Energy per location", exact=True)
    assert cells(per_location, "North car park") == ["2.345", "2.345", "1"]
    assert cells(per_location, "Airport") == ["1.750", "1.750", "1"]
    expect(page.get_by_text("4.095 kWh", exact=True)).to_be_visible()  # the total

    # and utilisation: the 1.6 connector charged from its Charging status to its Available one
    connector_16 = next(ts for c, s, ts in charger.statuses if c == 1 and s == "Charging")
    available_16 = [ts for c, s, ts in charger.statuses if c == 1 and s == "Available"][-1]
    utilisation = page.get_by_role("table", name="Utilisation per connector", exact=True)
    charging_time = cells(utilisation, "CP-REP-16 1/1")[0]
    shown = int(re.fullmatch(r"(\d+) s", charging_time).group(1))  # type: ignore[union-attr]
    assert abs(shown - seconds_between(connector_16, available_16)) <= 1, (charging_time, charger.statuses)
    expect(utilisation.get_by_role("rowheader", name="CP-REP-201 1/1")).to_be_visible()

    # and the charts are drawn (an SVG bar per period and series)
    for chart in ("Energy per day", "Utilisation per connector (% of the range)"):
        figure = page.get_by_role("figure", name=chart)
        expect(figure.locator("svg .recharts-bar-rectangle").first).to_be_attached()

    # When grouped by week, the same energy falls in this week's column
    page.get_by_text("Week", exact=True).click()
    expect(
        per_station.get_by_role("columnheader", name=f"week of {monday.isoformat()} (kWh)")
    ).to_be_visible()
    assert cells(per_station, "CP-REP-16") == ["2.345", "2.345", "1"]
    assert cells(per_location, "Airport") == ["1.750", "1.750", "1"]
    expect(page.get_by_role("figure", name="Energy per week")).to_be_visible()
    page.get_by_text("Day", exact=True).click()
    expect(page.get_by_role("figure", name="Energy per day")).to_be_visible()
    page.wait_for_timeout(800)  # (for the picture only: the chart's entry animation)
    screenshot(page, "reports")

    # A location filter narrows every figure to the stations there
    page.get_by_role("textbox", name="Location").click()
    page.get_by_role("option", name="Airport").click()
    expect(page.get_by_text("1.750 kWh", exact=True)).to_be_visible()
    expect(per_station.get_by_role("rowheader", name="CP-REP-16")).to_have_count(0)

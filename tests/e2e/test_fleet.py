"""The fleet page at 10,000 stations (issue 14): the total, paging, search and sort stay on the
server, a connected charger shows live, and the page makes one request for its rows, not one
per row (no /evses, no /meter-values).

The 10,000 stations are written straight into ``csms dev``'s PostgreSQL (benchmarks/_fleet.py:
the API would provision them one by one); the live charger is provisioned through the API and
connects over a real WebSocket.
"""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime
from typing import Any

from playwright.sync_api import expect

from csms.data.database import make_engine
from tests.e2e.conftest import REPO, DevServer, Fleet, screenshot, sign_in

sys.path.insert(0, str(REPO / "benchmarks"))
from _fleet import seed_fleet

STATIONS = 10_000
PER_ROW = re.compile(r"/api/v1/stations/[^/?]+/(evses|meter-values)|/evses/\d+/meter-values")


def test_the_fleet_page_pages_searches_and_sorts_10000_stations_and_shows_a_charger_live(
    page: Any, csms_dev: DevServer, fleet: Fleet
) -> None:
    # Given a tenant of 10,000 stations (a fifth of their connectors charging, with meter values)
    engine = make_engine(csms_dev.database_url)
    try:
        seed_fleet(engine, fleet.tenant, STATIONS, now=datetime.now(UTC), minutes=5, history=2)
    finally:
        engine.dispose()
    # and a real charger, provisioned through the API ("CP-" sorts before "FLT-": the first row)
    fleet.provision("CP-LIVE-FLEET")
    fleet.id_token("TAG-FLEET")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    # When an operator opens the fleet page
    sign_in(page, csms_dev, fleet.tenant, "operator")
    stations = page.get_by_role("table", name="Stations")
    # Then it counts them all and shows the first page
    expect(page.get_by_text("10,001 stations")).to_be_visible()
    live_row = stations.get_by_role("row").filter(has_text="CP-LIVE-FLEET")
    expect(live_row).to_contain_text("Offline")
    first_seeded = page.get_by_role("link", name="FLT-00001", exact=True)
    seeded_row = stations.get_by_role("row").filter(has=first_seeded)
    expect(seeded_row).to_contain_text("ABB Model 2")

    # When the charger connects and starts charging, Then its row follows, without a reload
    charger = fleet.connect("CP-LIVE-FLEET", "ocpp1.6")
    expect(live_row).to_contain_text("Online")
    expect(live_row.get_by_title("EVSE 1 connector 1: Available")).to_be_visible()
    fleet.loop.run(charger.on_remote_start_now("TAG-FLEET", 1))
    expect(live_row.get_by_title("EVSE 1 connector 1: Charging")).to_be_visible()
    expect(live_row).to_contain_text("11.0 kW")
    expect(stations.get_by_text(re.compile(r"^\d+\.\d kW$")).nth(4)).to_be_visible()  # the seeded ones too
    # and a few of the seeded stations connect too, over both protocols (a realistic mix to show)
    for station, protocol in (("FLT-00004", "ocpp1.6"), ("FLT-00005", "ocpp2.0.1"), ("FLT-00006", "ocpp1.6")):
        fleet.connect(station, protocol)
        row = stations.get_by_role("row").filter(has=page.get_by_role("link", name=station, exact=True))
        expect(row).to_contain_text("Online")
        expect(row).to_contain_text(protocol)
    page.set_viewport_size({"width": 1366, "height": 2000})  # the whole page of 25, with its total
    expect(page.get_by_role("button", name="Page 401")).to_be_in_viewport()
    screenshot(page, "fleet")

    # When they page to the last page (401 of 25)
    page.get_by_role("button", name="Page 401").click()
    expect(stations.get_by_role("link", name="FLT-10000", exact=True)).to_be_visible()
    expect(page).to_have_url(re.compile(r"[?&]page=401"))

    # When they search a station by the start of its id
    page.get_by_label("Search stations").fill("FLT-0712")
    expect(page.get_by_text("10 stations", exact=True)).to_be_visible()
    expect(stations.get_by_role("link", name="FLT-07123", exact=True)).to_be_visible()
    expect(stations.get_by_role("link", name="FLT-00001", exact=True)).to_have_count(0)

    # When they clear it and sort by station id, descending
    page.get_by_label("Search stations").fill("")
    expect(page.get_by_text("10,001 stations")).to_be_visible()
    page.get_by_role("button", name="Station").click()  # ascending already: now descending
    expect(page.get_by_role("columnheader", name="Station")).to_have_attribute("aria-sort", "descending")
    first = stations.get_by_role("row").nth(1)
    expect(first.get_by_role("link", name="FLT-10000", exact=True)).to_be_visible()

    # And through all of it, no request for a single row's connectors or meter values
    assert not [url for url in requests if PER_ROW.search(url)]
    assert any("/api/v1/stations?" in url for url in requests)

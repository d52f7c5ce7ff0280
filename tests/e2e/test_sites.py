"""A site's single-line diagram in a real browser (issue 15): a tree of circuits provisioned
through the API, drawn with each node's limits and the load allocated against them."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import DevServer, Fleet, screenshot, sign_in


def provision_site(fleet: Fleet) -> None:
    """A 40 A grid connection limited to 20 kW whose building, with the 5 A a breaker below
    carries, draws near (L1) and over (L3) its limit; two feeders, two breakers under the second."""
    server, admin = fleet.server, fleet.admin
    status, body = server.request("POST", "/api/v1/sites", {"id": "yard", "name": "Depot yard"}, admin)
    assert status == 201, body
    three = {"L1": 40, "L2": 40, "L3": 40}
    tree = {
        "nodes": [
            {"id": "grid", "kind": "grid", "name": "Grid connection", "limitA": three,
             "maxPowerKw": 20, "nonEvAllowanceA": {"L1": 32, "L2": 25, "L3": 36}},
            {"id": "feeder-1", "parentId": "grid", "kind": "circuit",
             "limitA": {"L1": 32, "L2": 32, "L3": 32}},
            {"id": "feeder-2", "parentId": "grid", "kind": "circuit",
             "limitA": {"L1": 25, "L2": 25, "L3": 25}},
            {"id": "breaker-2a", "parentId": "feeder-2", "kind": "circuit",
             "limitA": {"L1": 16, "L2": 16, "L3": 16}, "nonEvAllowanceA": {"L1": 5, "L2": 5, "L3": 5}},
            {"id": "breaker-2b", "parentId": "feeder-2", "kind": "circuit", "limitA": {"L1": 16}},
        ]
    }  # fmt: skip
    status, body = server.request("PUT", "/api/v1/sites/yard/nodes", tree, admin)
    assert status == 200, body


def test_a_sites_diagram_shows_its_tree_against_its_limits_and_a_refused_limit_by_field(
    page: Any, csms_dev: DevServer, fleet: Fleet
) -> None:
    fleet.provision("CP-SITE-1")  # the tenant exists from its first station
    provision_site(fleet)
    sign_in(page, csms_dev, fleet.tenant, "admin")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sites").click()
    page.get_by_role("table", name="Sites").get_by_role("link", name="Depot yard").click()
    expect(page.get_by_role("heading", name="Depot yard", level=1)).to_be_visible()
    # The tree change was allocated at once: the page shows that allocation.
    expect(page.get_by_label("Allocation")).to_contain_text("(TreeChanged)")
    diagram = page.get_by_role("list", name="Single-line diagram of Depot yard")
    grid = diagram.get_by_role("group", name="Grid connection Grid connection")
    expect(grid.get_by_role("meter", name="Grid connection L1")).to_have_attribute(
        "aria-valuetext", "37 A of 40 A, near limit"
    )
    expect(grid.get_by_role("meter", name="Grid connection L3")).to_have_attribute("data-level", "over")
    expect(grid.get_by_role("meter", name="Grid connection power")).to_be_visible()
    expect(grid).to_contain_text("Overloaded")
    # The second feeder's breakers hang below it, the first's branch is empty.
    feeder2 = diagram.get_by_role("listitem").filter(has=page.get_by_role("group", name="Circuit feeder-2"))
    expect(feeder2.get_by_role("group", name="Circuit breaker-2a")).to_be_visible()
    expect(feeder2.get_by_role("meter", name="breaker-2a L1")).to_have_attribute(
        "aria-valuetext", "5 A of 16 A"
    )
    # and the breaker's load flows through its feeder
    expect(feeder2.get_by_role("meter", name="feeder-2 L1")).to_have_attribute(
        "aria-valuetext", "5 A of 25 A"
    )
    expect(feeder2.get_by_role("meter", name="breaker-2b L1")).to_have_attribute(
        "aria-valuetext", "0 A of 16 A"
    )
    screenshot(page, "site")

    # An admin's limit the API refuses: the message under the field, nothing saved.
    page.get_by_role("button", name="Change limits of Circuit feeder-1").click()
    dialog = page.get_by_role("dialog", name="Limits of Circuit feeder-1")
    dialog.get_by_label("Power limit (kW)").fill("0")
    dialog.get_by_role("button", name="Save limits").click()
    expect(dialog.get_by_role("alert")).to_contain_text("maxPowerKw")
    expect(dialog.get_by_text("Input should be greater than 0", exact=True)).to_be_visible()
    status, node = csms_dev.request("GET", "/api/v1/sites/yard/nodes/feeder-1", token=fleet.admin)
    assert status == 200, node
    assert node["maxPowerKw"] is None, node

"""The charger-path CloudFront Function, run in Node against sample viewer requests."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from csms.constants import CHARGE_POINT_ID_HEADER, ORIGIN_VERIFY_HEADER

# No skip without Node: `make test` installs the CDK CLI with npm, so a missing `node` is a
# broken machine, and the function's behaviour must not go unproven silently.
pytestmark = pytest.mark.infra


def test_node_is_available() -> None:
    assert shutil.which("node") is not None, "Node.js is needed to test the CloudFront Function"


HARNESS = Path(__file__).with_name("cloudfront_function_harness.js")
FUNCTION = Path(__file__).resolve().parents[2] / "infra" / "csms_infra" / "cloudfront" / "charger_path.js"
ID_HEADER = CHARGE_POINT_ID_HEADER.lower()
VERIFY_HEADER = ORIGIN_VERIFY_HEADER.lower()


def a_viewer_request(
    uri: str = "/ocpp/CP001",
    *,
    querystring: dict[str, Any] | None = None,
    headers: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A CloudFront Functions viewer-request event (event structure version 1.0)."""
    return {
        "version": "1.0",
        "context": {"eventType": "viewer-request", "distributionId": "EDFDVBD6EXAMPLE", "requestId": "r-1"},
        "viewer": {"ip": "198.51.100.7"},
        "request": {
            "method": "GET",
            "uri": uri,
            "querystring": querystring or {},
            "headers": {
                "host": {"value": "d111111abcdef8.cloudfront.net"},
                "upgrade": {"value": "websocket"},
                "sec-websocket-protocol": {"value": "ocpp1.6"},
                **(headers or {}),
            },
            "cookies": {},
        },
    }


def run_function(event: dict[str, Any], function: Path = FUNCTION) -> dict[str, Any]:
    completed = subprocess.run(
        ["node", str(HARNESS), str(function)],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


@pytest.mark.parametrize(
    ("uri", "charge_point_id"),
    [
        ("/ocpp/CP001", "CP001"),
        ("/ocpp/CP001/", "CP001"),
        ("/ocpp/CP%20001", "CP 001"),
        ("/ocpp/caf%C3%A9-7", "café-7"),
        ("/ocpp/EVB-P17.42:A*=|@+", "EVB-P17.42:A*=|@+"),
    ],
    ids=[
        "plain",
        "trailing-slash",
        "percent-encoded-space",
        "percent-encoded-utf8",
        "ocpp-allowed-punctuation",
    ],
)
def test_a_charger_path_becomes_a_header_and_the_uri_becomes_root(uri: str, charge_point_id: str) -> None:
    # Given a charger connecting to /ocpp/{id}
    event = a_viewer_request(uri)

    # When the function runs
    request = run_function(event)

    # Then the id travels in the header and API Gateway sees the stage root
    assert request["uri"] == "/"
    assert request["headers"][ID_HEADER] == {"value": charge_point_id}
    assert request["headers"]["sec-websocket-protocol"] == {"value": "ocpp1.6"}


def test_the_query_string_is_passed_on_untouched() -> None:
    querystring = {
        "token": {"value": "abc"},
        "v": {"value": "1", "multiValue": [{"value": "1"}, {"value": "2"}]},
    }

    request = run_function(a_viewer_request("/ocpp/CP001", querystring=querystring))

    assert request["querystring"] == querystring
    assert request["uri"] == "/"


def test_client_supplied_id_and_origin_secret_headers_are_replaced_or_dropped() -> None:
    # Given a client that sends its own id and a guessed origin secret
    spoofed = {ID_HEADER: {"value": "SOMEONE-ELSE"}, VERIFY_HEADER: {"value": "guess"}}

    # When it connects as CP001
    request = run_function(a_viewer_request("/ocpp/CP001", headers=spoofed))

    # Then only the path decides the id, and the secret header is gone (CloudFront adds the real one)
    assert request["headers"][ID_HEADER] == {"value": "CP001"}
    assert VERIFY_HEADER not in request["headers"]


@pytest.mark.parametrize(
    "uri",
    [
        "/",
        "/ocpp",
        "/ocpp/",
        "/ocpp//",
        "/ocpp//CP001",
        "/ocpp/CP001/extra",
        "/ocpp/CP%2F001",
        "/ocpp/CP%0A001",
        "/ocpp/CP%E0%A4%A",
        "/OCPP/CP001",
        "/other/CP001",
        "/prod/CP001",
    ],
    ids=[
        "root",
        "prefix-without-slash",
        "missing-id",
        "empty-id-with-slash",
        "double-slash",
        "extra-segment",
        "encoded-slash",
        "control-character",
        "malformed-percent-encoding",
        "wrong-case-prefix",
        "other-prefix",
        "stage-style-path",
    ],
)
def test_anything_but_an_ocpp_charger_path_is_not_found(uri: str) -> None:
    response = run_function(a_viewer_request(uri, headers={ID_HEADER: {"value": "SPOOF"}}))

    assert response["statusCode"] == 404
    assert "uri" not in response  # a response, not a request sent on to the origin


def a_browser_request(uri: str, method: str = "GET") -> dict[str, Any]:
    event = a_viewer_request(uri)
    del event["request"]["headers"]["upgrade"]
    del event["request"]["headers"]["sec-websocket-protocol"]
    event["request"]["method"] = method
    return event


@pytest.mark.parametrize("uri", ["/", "/console"])
def test_a_browser_opening_the_root_is_sent_to_the_console(uri: str) -> None:
    response = run_function(a_browser_request(uri))

    assert response["statusCode"] == 302
    assert response["headers"]["location"] == {"value": "/console/"}


@pytest.mark.parametrize(("uri", "method"), [("/", "POST"), ("/favicon.ico", "GET"), ("/ocpp", "GET")])
def test_other_browser_requests_are_still_not_found(uri: str, method: str) -> None:
    assert run_function(a_browser_request(uri, method))["statusCode"] == 404


CONSOLE_ROUTES = FUNCTION.with_name("console_routes.js")


@pytest.mark.parametrize(
    ("uri", "sent"),
    [
        ("/console/", "/console/index.html"),
        ("/console/fleet", "/console/index.html"),
        ("/console/stations/CP-1.2/sessions", "/console/index.html"),
        ("/console/callback", "/console/index.html"),
        ("/console/config.json", "/console/config.json"),
        ("/console/assets/index-3f2a9c.js", "/console/assets/index-3f2a9c.js"),
        ("/console/favicon.svg", "/console/favicon.svg"),
    ],
)
def test_the_consoles_own_routes_get_its_page_and_its_files_pass(uri: str, sent: str) -> None:
    request = run_function(a_browser_request(uri), CONSOLE_ROUTES)

    assert request["uri"] == sent

"""The operator console as ``csms dev`` serves it: the built app under /console/, its runtime
configuration, the redirect from /, and the development sign-in that exists only locally."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import urllib3

from csms.local.console import LocalConsole
from csms.local.lambdas import LocalLambdaContext, load_handler
from csms.local.stack import LocalStack
from csms.services.provisioning import ProvisioningService
from tests.integration.api_client import ApiClient

_http = urllib3.PoolManager()


def fetch(
    stack: LocalStack, method: str, path: str, body: object = None, **headers: str
) -> urllib3.BaseHTTPResponse:
    data = json.dumps(body).encode() if body is not None else None
    if data is not None:
        headers.setdefault("Content-Type", "application/json")
    return _http.request(
        method,
        f"http://127.0.0.1:{stack.config.port}{path}",
        body=data,
        headers=headers,
        redirect=False,
        retries=False,
        timeout=10,
    )


@pytest.fixture
def console(stack: LocalStack) -> LocalConsole:
    served: LocalConsole = stack.console
    return served


@pytest.fixture
def built(console: LocalConsole, tmp_path: Path) -> Iterator[Path]:
    """A console build (what ``npm run build`` writes), served for one test."""
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>csms console</title><div id=root></div>")
    (dist / "assets" / "index-3f2a9c.js").write_text("console.log('app')")
    (dist / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (tmp_path / "secret.txt").write_text("outside the build")
    saved, console.dist = console.dist, dist
    yield dist
    console.dist = saved


@pytest.fixture
def unbuilt(console: LocalConsole, tmp_path: Path) -> Iterator[Path]:
    saved, console.dist = console.dist, tmp_path / "no-dist"
    yield console.dist
    console.dist = saved


def test_the_app_is_served_under_console_with_its_routes_falling_back_to_index(
    stack: LocalStack, built: Path
) -> None:
    page = fetch(stack, "GET", "/console/")
    assert page.status == 200
    assert b"csms console" in page.data
    assert page.headers["Cache-Control"] == "no-cache"
    assert page.headers["Content-Type"].startswith("text/html")
    # A route of the app (a reload on a station's page) answers the app, not a 404.
    deep = fetch(stack, "GET", "/console/stations/CP-1/sessions")
    assert deep.status == 200
    assert deep.data == page.data
    assert fetch(stack, "GET", "/console").headers["Location"] == "/console/"


def test_the_builds_hashed_assets_are_cached_for_good_and_a_missing_one_is_a_404(
    stack: LocalStack, built: Path
) -> None:
    asset = fetch(stack, "GET", "/console/assets/index-3f2a9c.js")
    assert asset.status == 200
    assert asset.data == b"console.log('app')"
    assert asset.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "javascript" in asset.headers["Content-Type"]
    # Not index.html served as JavaScript: the browser reports the real missing file.
    assert fetch(stack, "GET", "/console/assets/index-000000.js").status == 404
    assert fetch(stack, "GET", "/console/favicon.svg").headers["Cache-Control"] == "no-cache"


def test_nothing_outside_the_build_is_served(stack: LocalStack, built: Path) -> None:
    for path in (
        "/console/%2e%2e/secret.txt",
        "/console/..%2fsecret.txt",
        "/console/assets/..%2f..%2fsecret.txt",
    ):
        reply = fetch(stack, "GET", path)
        assert b"outside the build" not in reply.data, path


def test_the_pages_carry_the_security_headers_cloudfront_sends(stack: LocalStack, built: Path) -> None:
    headers = fetch(stack, "GET", "/console/").headers
    policy = headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy
    # the live WebSocket on this port (ADR 0025): 'self', and the address csms dev prints
    assert f"connect-src 'self' ws://127.0.0.1:{stack.config.port};" in policy
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_an_unbuilt_console_says_how_to_build_it(stack: LocalStack, unbuilt: Path) -> None:
    reply = fetch(stack, "GET", "/console/stations")
    assert reply.status == 503
    assert b"The console is not built" in reply.data
    assert b"npm run build" in reply.data
    # The rest of the stack is unaffected.
    assert fetch(stack, "GET", "/health").status == 200


def test_the_runtime_configuration_names_the_api_dev_sign_in_and_live_mode(stack: LocalStack) -> None:
    reply = fetch(stack, "GET", "/console/config.json")
    assert reply.status == 200
    assert json.loads(reply.data) == {
        "apiBase": "/api/v1",
        "auth": {"mode": "dev"},
        "live": {"mode": "websocket", "url": "/live"},  # ADR 0025, on this port
    }
    assert reply.headers["Cache-Control"] == "no-cache"


def test_a_browser_opening_the_root_is_sent_to_the_console_a_client_gets_the_index(
    stack: LocalStack,
) -> None:
    browser = fetch(stack, "GET", "/", Accept="text/html,application/xhtml+xml,*/*;q=0.8")
    assert browser.status == 302
    assert browser.headers["Location"] == "/console/"
    client = fetch(stack, "GET", "/", Accept="application/json")
    assert json.loads(client.data)["console"] == "/console/"


def test_the_tenant_picker_lists_the_default_tenant_first_then_the_others(
    stack: LocalStack, provisioning: ProvisioningService
) -> None:
    now = datetime.now(UTC)
    provisioning.add_charger("CP-T1", "acme", now, security_profile=0)
    provisioning.add_charger("CP-T2", "beta", now, security_profile=0)
    reply = fetch(stack, "GET", "/console/dev/tenants")
    assert json.loads(reply.data) == {
        "items": [
            {"id": "default", "name": "default"},
            {"id": "acme", "name": "acme"},
            {"id": "beta", "name": "beta"},
        ]
    }


def test_a_dev_sign_in_gives_a_token_the_api_honours_with_its_role(stack: LocalStack, api: ApiClient) -> None:
    signed = fetch(stack, "POST", "/console/dev/sign-in", {"tenantId": "acme", "role": "viewer"})
    assert signed.status == 200
    answer = json.loads(signed.data)
    expires = datetime.fromisoformat(answer["expiresAt"])
    assert timedelta(hours=7) < expires - datetime.now(UTC) <= timedelta(hours=8)
    viewer = ApiClient(api.base_url, b"unused", answer["token"])
    assert viewer.get("/api/v1/stations").status == 200
    refused = viewer.post("/api/v1/stations", {"id": "CP-V", "securityProfile": 0})
    assert refused.status == 403
    admin_token = json.loads(
        fetch(stack, "POST", "/console/dev/sign-in", {"tenantId": "acme", "role": "admin"}).data
    )["token"]
    admin = ApiClient(api.base_url, b"unused", admin_token)
    assert admin.post("/api/v1/stations", {"id": "CP-A", "securityProfile": 0}).status == 201
    # The tenant in the token is the one picked: another tenant's client does not see it.
    assert viewer.get("/api/v1/stations/CP-A").status == 200
    assert api.as_("beta", "admin").get("/api/v1/stations/CP-A").status == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tenantId": "acme", "role": "owner"}, "body.role"),
        ({"tenantId": "acme"}, "body.role"),
        ({"tenantId": "", "role": "admin"}, "body.tenantId"),
        ({"tenantId": "a b", "role": "admin"}, "body.tenantId"),
        ({"role": "admin"}, "body.tenantId"),
    ],
)
def test_a_bad_sign_in_names_the_field(stack: LocalStack, body: dict[str, str], field: str) -> None:
    reply = fetch(stack, "POST", "/console/dev/sign-in", body)
    assert reply.status == 422
    assert reply.headers["Content-Type"] == "application/problem+json"
    problem = json.loads(reply.data)
    assert problem["errors"][0]["field"] == field
    assert problem["detail"].startswith(field)


def test_a_sign_in_body_that_is_not_a_json_object_is_a_400(stack: LocalStack) -> None:
    for raw in (b"not json", b"[1, 2]"):
        reply = _http.request(
            "POST",
            f"http://127.0.0.1:{stack.config.port}/console/dev/sign-in",
            body=raw,
            headers={"Content-Type": "application/json"},
            retries=False,
        )
        assert reply.status == 400
        assert json.loads(reply.data)["detail"] == "the body must be a JSON object"


def test_the_deployed_api_function_has_no_dev_sign_in() -> None:
    # The Lambda app behind API Gateway, given the requests the console's dev sign-in answers.
    handler = load_handler("api")
    for method, path in (("POST", "/console/dev/sign-in"), ("GET", "/console/dev/tenants")):
        for prefix in ("", "/api/v1"):
            event = {
                "resource": "/{proxy+}",
                "path": prefix + path,
                "httpMethod": method,
                "headers": {"Content-Type": "application/json"},
                "multiValueHeaders": {},
                "queryStringParameters": None,
                "multiValueQueryStringParameters": None,
                "pathParameters": {"proxy": (prefix + path).lstrip("/")},
                "requestContext": {
                    "resourcePath": "/{proxy+}",
                    "httpMethod": method,
                    "path": "/prod" + prefix + path,
                    "stage": "prod",
                    "requestId": "console-probe",
                    "identity": {"sourceIp": "198.51.100.7"},
                    "authorizer": {"claims": {"custom:tenant": "default", "custom:role": "admin"}},
                },
                "body": json.dumps({"tenantId": "default", "role": "admin"}),
                "isBase64Encoded": False,
            }
            result = handler(event, LocalLambdaContext("api"))
            assert result["statusCode"] == 404, (method, prefix + path)
    from csms.app.api import resolver

    paths = resolver().get_openapi_schema().paths or {}
    assert not [path for path in paths if "console" in path]

"""Browser tests of the operator console: headless Chromium (Debian's, through Playwright) against a
real ``csms dev`` (the command itself, in a process of its own, with its embedded PostgreSQL and
its functions in containers), with simulated chargers over real WebSockets.

Each test works in a tenant of its own, so tests neither clean up nor see each other's stations.
Screenshots of the main pages go to ``docs/screenshots/`` (the README shows them).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import urllib3

from csms.local.stack import free_port
from tests.e2e.chargers import ChargerLoop, connect, disconnect

REPO = Path(__file__).resolve().parents[2]
DIST = REPO / "console" / "dist"
SCREENSHOTS = Path(os.environ.get("CSMS_E2E_SCREENSHOTS", REPO / "docs" / "screenshots"))
#: How long the console has to show what happened at a charger (issue 14: within 2 s of the
#: event; the rest is the charger's own frames and the page's first load on a busy machine).
LIVE_TIMEOUT_MS = 15_000
STARTUP_SECONDS = 180

_http = urllib3.PoolManager()


def chromium_path() -> str:
    found = os.environ.get("CSMS_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail(
            "the browser tests need Chromium: apt-get install chromium (make test does it as root), "
            "or CSMS_CHROMIUM=/path/to/chrome",
            pytrace=False,
        )
    return found


@dataclass
class DevServer:
    """A running ``csms dev``: its address and what it printed."""

    port: int
    output: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def charger_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp/"

    @property
    def database_url(self) -> str:
        """The embedded PostgreSQL's URL, as its banner printed it (for seeding in bulk what the
        API would take minutes to provision one by one)."""
        for _ in range(100):
            for line in self.output:
                if line.strip().startswith("database "):
                    return line.split(None, 1)[1].strip()
            time.sleep(0.1)  # the banner's last lines may still be on their way
        raise AssertionError("csms dev printed no database URL:\n" + "\n".join(self.output[-40:]))

    def request(self, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        reply = _http.request(
            method,
            self.base_url + path,
            body=json.dumps(body).encode() if body is not None else None,
            headers=headers,
            retries=False,
            timeout=30,
        )
        text = reply.data.decode()
        return reply.status, (
            json.loads(text) if text and "json" in reply.headers.get("Content-Type", "") else text
        )

    def sign_in(self, tenant: str, role: str) -> str:
        status, body = self.request("POST", "/console/dev/sign-in", {"tenantId": tenant, "role": role})
        assert status == 200, body
        token: str = body["token"]
        return token


@pytest.fixture(scope="session")
def csms_dev(pg_base_dir: Path) -> Iterator[DevServer]:
    """``csms dev`` as the README's first command runs it, on a free port and a state folder of
    its own (console/dist must be built: ``make test`` does it)."""
    if not (REPO / "console" / "dist" / "index.html").is_file():
        pytest.fail("console/dist is not built: `make test` builds it (or `make console`)")
    if not (DIST / "index.html").is_file():
        pytest.fail(f"the console is not built ({DIST}): make console", pytrace=False)
    server = DevServer(port=free_port())
    state = pg_base_dir / "e2e-state"
    state.mkdir(mode=0o755)
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("CSMS_", "DATABASE_URL", "AWS_"))}
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("csms")),
            "--state-dir",
            str(state),
            "dev",
            "--port",
            str(server.port),
            "--log-level",
            "WARNING",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment,
        cwd=REPO,
    )
    running = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            server.output.append(line.rstrip())
            if "is running" in line:
                running.set()

    threading.Thread(target=read, name="csms-dev-output", daemon=True).start()
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not running.wait(0.2):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("csms dev did not start:\n" + "\n".join(server.output[-40:]), pytrace=False)
        time.sleep(0.5)  # the rest of the banner
        yield server
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=LIVE_TIMEOUT_MS)

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path(),
            headless=True,
            # As root (CI) Chromium refuses its sandbox; the pages are our own.
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB", timezone_id="UTC")
    context.set_default_timeout(LIVE_TIMEOUT_MS)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture(scope="session")
def chargers() -> Iterator[ChargerLoop]:
    loop = ChargerLoop()
    yield loop
    loop.close()


@pytest.fixture
def tenant() -> str:
    return f"e2e-{uuid.uuid4().hex[:8]}"


class Fleet:
    """Stations of one tenant: provisioned through the REST API, connected as simulated chargers."""

    def __init__(self, server: DevServer, loop: ChargerLoop, tenant: str) -> None:
        self.server = server
        self.loop = loop
        self.tenant = tenant
        self.admin = server.sign_in(tenant, "admin")
        self.connected: list[Any] = []

    def provision(self, station_id: str) -> None:
        status, body = self.server.request(
            "POST", "/api/v1/stations", {"id": station_id, "securityProfile": 0}, self.admin
        )
        assert status == 201, body

    def id_token(self, token: str) -> None:
        status, body = self.server.request(
            "POST",
            "/api/v1/id-tokens",
            {"idToken": token, "type": "Central", "status": "Accepted"},
            self.admin,
        )
        assert status in (200, 201), body

    def connect(self, station_id: str, protocol: str = "ocpp1.6") -> Any:
        from tests.e2e.chargers import Charger16, Station201

        charger_class = Charger16 if protocol == "ocpp1.6" else Station201
        charger = self.loop.run(connect(self.server.charger_url, charger_class, station_id, protocol))
        self.connected.append(charger)
        return charger

    def disconnect_all(self) -> None:
        for charger in self.connected:
            self.loop.run(disconnect(charger))
        self.connected.clear()


@pytest.fixture
def fleet(csms_dev: DevServer, chargers: ChargerLoop, tenant: str) -> Iterator[Fleet]:
    made = Fleet(csms_dev, chargers, tenant)
    yield made
    made.disconnect_all()


def sign_in(page: Any, server: DevServer, tenant: str, role: str) -> None:
    from playwright.sync_api import expect

    """The development sign-in, as a person does it: open the console, pick the tenant and the
    role, press Sign in; the fleet page follows."""
    page.goto(server.base_url + "/")
    page.get_by_role("heading", name="Sign in to the CSMS console").wait_for()
    tenant_field = page.get_by_role("textbox", name="Tenant")
    # Until the tenants have loaded the field is a plain text box, replaced by the list when they
    # arrive (which then shows the first): a click before that lands on the one that goes away.
    expect(tenant_field).not_to_have_value("")
    tenant_field.click()
    # The tenants are listed once loaded (the default tenant always is).
    page.get_by_role("option", name="default", exact=True).wait_for()
    tenant_field.fill(tenant)
    page.get_by_role("option", name=tenant, exact=True).click()
    form = page.get_by_role("form", name="Development sign-in")
    form.get_by_text(role.capitalize(), exact=True).click()  # the segment's label (its radio is hidden)
    expect(form.get_by_role("radio", name=role.capitalize())).to_be_checked()
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Fleet", level=1).wait_for()


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)

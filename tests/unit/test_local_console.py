"""The local console's development sign-in refuses callers beyond this machine (csms dev --host
0.0.0.0 must not hand an admin token to the network); config.json names the live mode given."""

from __future__ import annotations

import json
from pathlib import Path
from unittest import mock

import pytest
from aiohttp.test_utils import make_mocked_request

from csms.local.console import SIGN_IN_PATH, TENANTS_PATH, LocalConsole
from csms.local.tokens import verify_token

KEY = b"unit-test-signing-key-0123456789abcdef"


def a_console(**overrides: object) -> LocalConsole:
    return LocalConsole(Path("/nonexistent"), KEY, lambda: [("acme", "Acme")], **overrides)  # type: ignore[arg-type]


def a_request(method: str, path: str, peer: str, body: object = None) -> object:
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (
        (peer, 40000) if name == "peername" else default
    )
    request = make_mocked_request(
        method, path, headers={"Content-Type": "application/json"}, transport=transport
    )
    raw = json.dumps(body).encode()

    async def read_json() -> object:
        return json.loads(raw)

    request.json = read_json  # type: ignore[method-assign]
    return request


@pytest.mark.parametrize("peer", ["198.51.100.7", "10.0.0.5", "2001:db8::1"])
async def test_a_caller_from_another_machine_is_refused(peer: str) -> None:
    console = a_console()
    signed = await console._sign_in(
        a_request("POST", SIGN_IN_PATH, peer, {"tenantId": "acme", "role": "admin"})
    )  # type: ignore[arg-type]
    listed = await console._list_tenants(a_request("GET", TENANTS_PATH, peer))  # type: ignore[arg-type]
    assert signed.status == listed.status == 403
    assert "only callers on the machine" in json.loads(signed.body)["detail"]  # type: ignore[arg-type]


@pytest.mark.parametrize("peer", ["127.0.0.1", "::1"])
async def test_a_caller_on_this_machine_gets_a_token_for_the_tenant_and_role(peer: str) -> None:
    console = a_console()
    signed = await console._sign_in(
        a_request("POST", SIGN_IN_PATH, peer, {"tenantId": "acme", "role": "operator"})
    )  # type: ignore[arg-type]
    assert signed.status == 200
    claims = verify_token(KEY, json.loads(signed.body)["token"])  # type: ignore[arg-type]
    assert (claims["custom:tenant"], claims["custom:role"]) == ("acme", "operator")


def test_config_names_the_live_mode_it_was_given() -> None:
    live = {"mode": "websocket", "url": "ws://127.0.0.1:8180/live"}
    assert a_console(live=live).config() == {"apiBase": "/api/v1", "auth": {"mode": "dev"}, "live": live}
    assert a_console().config()["live"] == {"mode": "poll"}
    relative = {"mode": "websocket", "url": "/live"}  # ADR 0025: on the page's own host and port
    assert a_console(live=relative).config()["live"] == relative

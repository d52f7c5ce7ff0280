"""The operator console, locally: what CloudFront + S3 and Cognito's managed login do on AWS.

``csms dev`` serves the built single-page app (``console/dist``, written by ``npm run build`` in
``console/``) under ``/console/`` on the API's own port, so the console calls ``/api/v1`` on
its own origin, as it does behind CloudFront:

- ``/console/config.json``: the runtime settings the console reads at start (API base, sign-in
  mode ``dev``, the live WebSocket at ``/live`` of the host the browser used, ADR 0025),
  generated here; on AWS the CDK app writes it at deploy.
- ``/console/assets/*``: the build's content-hashed files, cached for a year; any other path
  under ``/console/`` that is not a file answers ``index.html`` (the app's own routes), never
  cached, so a rebuild shows at the next reload.
- ``POST /console/dev/sign-in`` and ``GET /console/dev/tenants``: the development sign-in, which
  mints a local token (csms.local.tokens) for a tenant and a role, as Cognito's managed login
  issues an ID token on AWS. It exists only here: the Lambda app has no such route, and it
  answers only callers on this machine (``csms dev --host 0.0.0.0`` must not hand an admin
  token to the network).

If the console was not built, ``/console/`` says so, and how to build it, instead of failing.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
from aiohttp import web

from csms.api import API_PREFIX
from csms.constants import (
    CONSOLE_ASSETS,
    CONSOLE_CONFIG,
    CONSOLE_PATH,
    DEFAULT_TENANT,
    console_security_headers,
)
from csms.domain.tenancy import Role
from csms.local.tokens import create_token

log = logging.getLogger(__name__)

SIGN_IN_PATH = "/console/dev/sign-in"
TENANTS_PATH = "/console/dev/tenants"
#: How long a development sign-in lasts (a working day; the console signs in again after).
SIGN_IN_TTL_SECONDS = 8 * 3600
#: The build's hashed files never change under their name; everything else is revalidated.
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
#: What to run when the console was not built (``make dev`` does it).
BUILD_HINT = "make dev (or: cd console && npm ci && npm run build)"
TENANT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def default_console_dist() -> Path:
    """``console/dist`` of the checkout this package runs from (an editable install)."""
    return Path(__file__).resolve().parents[3] / "console" / "dist"


def _problem(status: int, title: str, detail: str, **extra: Any) -> web.Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return web.Response(
        status=status, body=json.dumps(body).encode(), headers={"Content-Type": "application/problem+json"}
    )


def _invalid(field: str, message: str) -> web.Response:
    # The shape of the REST API's validation problems, so the sign-in form shows them alike.
    return _problem(
        422,
        "Invalid request",
        f"body.{field}: {message}",
        errors=[{"field": f"body.{field}", "message": message}],
    )


class LocalConsole:
    """Serves the console, its configuration and the development sign-in on ``app``."""

    def __init__(
        self,
        dist: Path,
        signing_key: bytes,
        tenants: Callable[[], list[tuple[str, str]]],
        live: dict[str, Any] | None = None,
        connect_sources: tuple[str, ...] = (),
    ) -> None:
        self.dist = dist
        self._key = signing_key
        self._tenants = tenants
        self._live = live or {"mode": "poll"}
        headers = console_security_headers(connect_sources)
        # HSTS means nothing over plain HTTP (browsers ignore it there); CloudFront sends it.
        headers.pop("Strict-Transport-Security")
        self._security = headers

    @property
    def built(self) -> bool:
        return (self.dist / "index.html").is_file()

    def attach(self, app: web.Application) -> None:
        app.router.add_get(CONSOLE_CONFIG, self._config)
        app.router.add_post(SIGN_IN_PATH, self._sign_in)
        app.router.add_get(TENANTS_PATH, self._list_tenants)
        app.router.add_get(CONSOLE_PATH.rstrip("/"), self._to_console)
        app.router.add_get(CONSOLE_PATH + "{tail:.*}", self._static)

    def config(self) -> dict[str, Any]:
        """The console's runtime settings (``/console/config.json``): the live WebSocket's URL is
        relative to the page (ADR 0025), so it works on any host name of this machine."""
        return {"apiBase": API_PREFIX, "auth": {"mode": "dev"}, "live": self._live}

    # --- routes ----------------------------------------------------------------------------

    async def _to_console(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(CONSOLE_PATH)

    async def _config(self, request: web.Request) -> web.Response:
        return web.json_response(self.config(), headers={"Cache-Control": REVALIDATE})

    async def _static(self, request: web.Request) -> web.StreamResponse:
        if not self.built:
            return self._not_built()
        tail = request.match_info["tail"]
        path = (self.dist / tail).resolve()
        inside = path.is_relative_to(self.dist.resolve())
        if inside and tail and path.is_file():
            cache = IMMUTABLE if request.path.startswith(CONSOLE_ASSETS) else REVALIDATE
            return web.FileResponse(path, headers={"Cache-Control": cache, **self._security})
        if request.path.startswith(CONSOLE_ASSETS) or not inside:
            # A missing asset is a 404, not the app's page served as JavaScript.
            raise web.HTTPNotFound()
        return web.FileResponse(
            self.dist / "index.html",
            headers={"Cache-Control": REVALIDATE, "Content-Type": "text/html", **self._security},
        )

    def _not_built(self) -> web.Response:
        text = (
            "<!doctype html><html lang=en><meta charset=utf-8><title>csms console not built</title>"
            "<h1>The console is not built</h1>"
            f"<p>There is no <code>{self.dist}/index.html</code>. Build it with "
            f"<code>{BUILD_HINT}</code>, then reload this page. The REST API is at "
            f'<a href="{API_PREFIX.rsplit("/", 1)[0]}/docs">/api/docs</a>.</p></html>'
        )
        return web.Response(
            status=503, text=text, content_type="text/html", headers={"Cache-Control": REVALIDATE}
        )

    def _refuse_remote(self, request: web.Request) -> web.Response | None:
        try:
            if ipaddress.ip_address(request.remote or "").is_loopback:
                return None
        except ValueError:
            pass
        return _problem(
            403,
            "Forbidden",
            "the development sign-in answers only callers on the machine that runs csms dev",
        )

    async def _list_tenants(self, request: web.Request) -> web.Response:
        refused = self._refuse_remote(request)
        if refused is not None:
            return refused
        found = dict(await asyncio.to_thread(self._tenants))
        # The default tenant first, even on a fresh stack where nothing was written yet.
        items = [{"id": DEFAULT_TENANT, "name": found.pop(DEFAULT_TENANT, DEFAULT_TENANT)}]
        items += [{"id": tenant, "name": name} for tenant, name in found.items()]
        return web.json_response({"items": items})

    async def _sign_in(self, request: web.Request) -> web.Response:
        refused = self._refuse_remote(request)
        if refused is not None:
            return refused
        try:
            body = await request.json()
        except ValueError:
            return _problem(400, "Bad Request", "the body must be a JSON object")
        if not isinstance(body, dict):
            return _problem(400, "Bad Request", "the body must be a JSON object")
        tenant, role = body.get("tenantId"), body.get("role")
        if not isinstance(tenant, str) or not TENANT_ID.fullmatch(tenant):
            # Any well-formed id: a tenant exists from its first station, token or location,
            # as one named in a Cognito user's custom:tenant does on AWS.
            return _invalid(
                "tenantId", "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
            )
        roles = [r.value for r in Role]
        if role not in roles:
            return _invalid("role", f"must be one of {', '.join(roles)}")
        token = create_token(self._key, tenant, role, SIGN_IN_TTL_SECONDS, subject=f"dev-{role}@{tenant}")
        expires = datetime.fromtimestamp(_expiry(token), UTC).isoformat().replace("+00:00", "Z")
        log.info("development sign-in", extra={"tenant": tenant, "role": role})
        return web.json_response({"token": token, "expiresAt": expires})


def _expiry(token: str) -> int:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return int(claims["exp"])

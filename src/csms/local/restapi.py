"""The REST API locally: what API Gateway (REST, proxy integration, Cognito authorizer) does.

Requests under ``/api/`` become API Gateway REST proxy events for ``functions/api``; the
bearer token is verified here, as the Cognito authorizer does on AWS, and its claims are
passed in ``requestContext.authorizer.claims``. Without a valid token the function is not
invoked: 401 with a problem body (the deployed API's gateway responses say the same).

Each request runs the handler in a thread of the API's own pool, as concurrent Lambda
instances would: a long poll (``GET /api/v1/events?wait=20``) occupies one thread while it
waits and holds up neither other API requests nor the rest of the stack (the event loop's
default executor, which the SQS and schedule drivers use). The resolver keeps each request's
state apart (``csms.api.resolver``).
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt
from aiohttp import web

from csms.api.app import PUBLIC_PATHS
from csms.local.lambdas import LocalLambdaContext
from csms.local.tokens import verify_token

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
#: Requests served at once (Lambda's concurrency, locally); more wait for a free thread.
MAX_CONCURRENCY = 64


def _unauthorized(detail: str) -> web.Response:
    body = {"type": "about:blank", "title": "Unauthorized", "status": 401, "detail": detail}
    return web.Response(
        status=401,
        body=json.dumps(body).encode(),
        headers={"Content-Type": "application/problem+json", "WWW-Authenticate": "Bearer"},
    )


def _too_large(limit: int) -> web.Response:
    # API Gateway's REQUEST_TOO_LARGE gateway response (its limit is 10 MB, aiohttp's here).
    detail = f"the request body exceeds the {limit} byte limit"
    body = {"type": "about:blank", "title": "Payload too large", "status": 413, "detail": detail}
    return web.Response(
        status=413, body=json.dumps(body).encode(), headers={"Content-Type": "application/problem+json"}
    )


class LocalRestApi:
    def __init__(
        self, handler: Handler, signing_key: bytes, stage: str = "local", max_workers: int = MAX_CONCURRENCY
    ) -> None:
        self._handler = handler
        self._key = signing_key
        self._stage = stage
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="rest-api")

    def attach(self, app: web.Application) -> None:
        app.router.add_route("*", r"/api/{tail:[\s\S]*}", self._serve)
        app.on_cleanup.append(self._close)

    async def _close(self, app: web.Application) -> None:
        # Like Lambda, a request still running (a long poll) is left to finish on its own.
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        claims: dict[str, Any] | None = None
        if request.path not in PUBLIC_PATHS:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not token:
                return _unauthorized("a bearer token is required (csms token create --tenant T --role R)")
            try:
                claims = verify_token(self._key, token.strip())
            except jwt.InvalidTokenError as exc:
                return _unauthorized(f"invalid token: {exc}")
        try:
            event = await self._event(request, claims)
        except web.HTTPRequestEntityTooLarge:
            return _too_large(request.client_max_size)
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(self._executor, self._handler, event, LocalLambdaContext("api"))
        return self._response(result)

    async def _event(self, request: web.Request, claims: dict[str, Any] | None) -> dict[str, Any]:
        raw = await request.read()
        try:
            body: str | None = raw.decode("utf-8") if raw else None
            encoded = False
        except UnicodeDecodeError:
            body, encoded = base64.b64encode(raw).decode(), True
        multi_headers: dict[str, list[str]] = {}
        for key, value in request.headers.items():
            multi_headers.setdefault(key, []).append(value)
        multi_query: dict[str, list[str]] = {}
        for key, value in request.query.items():
            multi_query.setdefault(key, []).append(value)
        context: dict[str, Any] = {
            "resourcePath": "/{proxy+}",
            "httpMethod": request.method,
            "path": f"/{self._stage}{request.path}",
            "stage": self._stage,
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {
                "sourceIp": request.remote or "127.0.0.1",
                "userAgent": request.headers.get("User-Agent"),
            },
        }
        if claims is not None:
            # The REST API's Cognito authorizer hands every claim over as a string.
            context["authorizer"] = {
                "claims": {k: v if isinstance(v, str) else json.dumps(v) for k, v in claims.items()}
            }
        return {
            "resource": "/{proxy+}",
            "path": request.path,
            "httpMethod": request.method,
            "headers": {k: v[-1] for k, v in multi_headers.items()},
            "multiValueHeaders": multi_headers,
            "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": {"proxy": request.path.lstrip("/")},
            "stageVariables": None,
            "requestContext": context,
            "body": body,
            "isBase64Encoded": encoded,
        }

    @staticmethod
    def _response(result: dict[str, Any]) -> web.Response:
        headers: dict[str, str] = dict(result.get("headers") or {})
        for key, values in (result.get("multiValueHeaders") or {}).items():
            headers[key] = ", ".join(values)
        body = result.get("body") or ""
        payload = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
        headers.pop("Content-Length", None)
        return web.Response(status=int(result.get("statusCode", 200)), body=payload, headers=headers)

"""A small HTTP client for the REST API tests (bearer tokens minted with the test key)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import urllib3

from csms.local.tokens import create_token

_http = urllib3.PoolManager(maxsize=8)


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]
    content_type: str


class ApiClient:
    def __init__(self, base_url: str, key: bytes, token: str | None = None) -> None:
        self.base_url = base_url
        self._key = key
        self._token = token

    def as_(self, tenant: str, role: str) -> ApiClient:
        return ApiClient(self.base_url, self._key, create_token(self._key, tenant, role, 3600))

    def anonymous(self) -> ApiClient:
        return ApiClient(self.base_url, self._key, None)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        raw: str | None = None,
    ) -> Reply:
        url = self.base_url + path
        if params:
            url += "?" + urlencode({k: v for k, v in params.items() if v is not None})
        all_headers = {"Accept": "application/json", **(headers or {})}
        if self._token:
            all_headers["Authorization"] = f"Bearer {self._token}"
        data = raw.encode() if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None:
            all_headers.setdefault("Content-Type", "application/json")
        response = _http.request(method, url, body=data, headers=all_headers, timeout=30, retries=False)
        text = response.data.decode()
        content_type = response.headers.get("Content-Type", "")
        parsed = json.loads(text) if text and "json" in content_type else text
        return Reply(response.status, parsed, dict(response.headers), content_type)

    def get(self, path: str, **params: Any) -> Reply:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.request("POST", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.request("PATCH", path, body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.request("PUT", path, body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Reply:
        return self.request("DELETE", path, **kwargs)

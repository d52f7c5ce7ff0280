"""Health: the public answer costs no dependency; the deep one needs a token and is bounded."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from csms.app import wiring
from tests.integration.api_client import ApiClient

V1 = "/api/v1"


class _Stalled:
    """A database (or table) that does not answer until released: a stalled PostgreSQL."""

    def __init__(self) -> None:
        self.asked = 0
        self.release = threading.Event()

    def ping(self) -> bool:
        self.asked += 1
        self.release.wait(30)
        return True


@pytest.fixture
def stalled(monkeypatch: Any) -> Any:
    database = _Stalled()
    monkeypatch.setattr(wiring, "database", lambda: database)
    yield database
    database.release.set()


def test_the_public_health_check_asks_no_dependency(api: ApiClient, stalled: _Stalled) -> None:
    # Given PostgreSQL stalled
    # When anyone asks for the health of the API, without a token
    reply = api.anonymous().get(f"{V1}/health")
    # Then it answers at once, without a database round trip
    assert reply.status == 200
    assert reply.body["status"] == "ok"
    assert set(reply.body) == {"status", "version"}
    assert stalled.asked == 0


def test_the_deep_health_check_needs_a_token(api: ApiClient) -> None:
    assert api.anonymous().get(f"{V1}/health/dependencies").status == 401
    reply = api.as_("acme", "viewer").get(f"{V1}/health/dependencies")
    assert reply.status == 200
    assert reply.body["database"] == {"reachable": True}
    assert reply.body["dynamodb"] == {"reachable": True}


def test_the_deep_health_check_answers_503_during_a_stall(api: ApiClient, stalled: _Stalled) -> None:
    # Given PostgreSQL stalled
    # When an operator asks for the dependencies
    started = time.monotonic()
    reply = api.as_("acme", "viewer").get(f"{V1}/health/dependencies")
    # Then the answer is 503 with the database unreachable, long before the stall ends
    assert reply.status == 503
    assert reply.body["status"] == "degraded"
    assert reply.body["database"] == {"reachable": False}
    assert reply.body["dynamodb"] == {"reachable": True}
    assert stalled.asked == 1
    assert time.monotonic() - started < 25  # (the stall lasts 30 s; the bound is about 3 s)

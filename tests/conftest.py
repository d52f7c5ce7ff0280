"""Fixtures shared by every test package."""

from __future__ import annotations

import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.hookimpl(trylast=True)  # after any plugin that reorders (pytest-randomly)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The browser tests run last. Playwright's sync API keeps an event loop running in the main
    thread from its first page until the session ends, and pytest-asyncio cannot start a test's
    loop while one runs: async tests after a browser test would all fail."""
    items.sort(key=lambda item: "tests/e2e/" in item.nodeid.replace("\\", "/"))


@pytest.fixture(scope="session")
def pg_base_dir() -> Iterator[Path]:
    """A temporary root for PostgreSQL data directories, outside pytest's basetemp.

    As root, the embedded server runs as an unprivileged user that must traverse every parent
    of its data dir. pytest re-locks ``/tmp/pytest-of-<user>`` to 0700 at the start of every
    session, so a second test session on the same machine would lock this one's server out.
    """
    base = Path(tempfile.mkdtemp(prefix="csms-tests-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_tmp_path(pg_base_dir: Path, request: pytest.FixtureRequest) -> Path:
    """A fresh directory for one test's PostgreSQL state (see :func:`pg_base_dir`)."""
    name = re.sub(r"[^A-Za-z0-9_-]", "_", request.node.name)[:40]
    path = pg_base_dir / f"{name}-{uuid.uuid4().hex[:8]}"
    path.mkdir(mode=0o755)
    return path

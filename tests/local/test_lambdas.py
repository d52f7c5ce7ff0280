"""Lambda's execution model locally: containers with their own state, a concurrency limit,
cold starts, and a timeout that kills (csms.local.lambdas)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from csms.local.lambdas import FunctionCrashed, FunctionError, FunctionPool, FunctionTimeout

HANDLERS = {
    # Module state: what a container keeps between invocations.
    "counter": """
import os, time
COUNT = 0
def lambda_handler(event, context):
    global COUNT
    COUNT += 1
    time.sleep(event.get("sleep", 0))
    return {"pid": os.getpid(), "count": COUNT}
""",
    # Answers late: the "reply" is a file written after the sleep.
    "late": """
import time, pathlib
def lambda_handler(event, context):
    time.sleep(event["sleep"])
    pathlib.Path(event["reply"]).write_text("late answer")
    return {"ok": True}
""",
    "failing": """
def lambda_handler(event, context):
    raise ValueError("boom")
""",
}


@pytest.fixture
def functions_dir(tmp_path: Path) -> Path:
    for name, code in HANDLERS.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "handler.py").write_text(code)
    return tmp_path


@pytest.fixture
def pools(functions_dir: Path) -> Iterator[Any]:
    made: list[FunctionPool] = []

    def make(function: str, **kwargs: Any) -> FunctionPool:
        pool = FunctionPool(function, functions_dir=functions_dir, **kwargs)
        made.append(pool)
        return pool

    yield make
    for pool in made:
        pool.stop()


def in_parallel(pool: FunctionPool, events: list[dict[str, Any]]) -> list[Any]:
    results: list[Any] = [None] * len(events)

    def run(index: int) -> None:
        results[index] = pool(events[index])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(events))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_each_container_has_its_own_module_state_and_is_reused(pools: Any) -> None:
    pool = pools("counter", concurrency=2)

    # When two invocations overlap, then a third follows
    first, second = in_parallel(pool, [{"sleep": 0.5}, {"sleep": 0.5}])
    third = pool({})

    # Then they ran in two containers, neither of them this process, each with its own count
    assert first["pid"] != second["pid"]
    assert os.getpid() not in (first["pid"], second["pid"])
    assert (first["count"], second["count"]) == (1, 1)
    # and the third reused one (warm: its module state is still there)
    assert third["pid"] in (first["pid"], second["pid"])
    assert third["count"] == 2
    assert pool.stats.cold_starts == 2
    assert pool.containers() == 2


def test_invocations_beyond_the_concurrency_wait_for_a_container(pools: Any) -> None:
    pool = pools("counter", concurrency=1)

    results = in_parallel(pool, [{"sleep": 0.3}, {"sleep": 0.3}, {"sleep": 0.3}])

    assert len({r["pid"] for r in results}) == 1
    assert sorted(r["count"] for r in results) == [1, 2, 3]
    assert pool.stats.waits == 2
    assert pool.stats.cold_starts == 1


def test_an_invocation_past_the_timeout_is_killed_and_its_late_answer_never_happens(
    pools: Any, tmp_path: Path
) -> None:
    pool = pools("late", timeout=0.5)
    pool({"sleep": 0, "reply": str(tmp_path / "warm")})  # the cold start is not the invocation
    reply = tmp_path / "reply"

    with pytest.raises(FunctionTimeout):
        pool({"sleep": 1.5, "reply": str(reply)})
    time.sleep(2)  # (longer than the handler would have needed)

    assert not reply.exists()
    assert pool.stats.timeouts == 1
    # and the next invocation gets a new container (a cold start)
    pool({"sleep": 0, "reply": str(tmp_path / "again")})
    assert pool.stats.cold_starts == 2


def test_a_handler_error_reaches_the_caller_and_the_container_lives_on(pools: Any) -> None:
    pool = pools("failing")
    for _ in range(2):
        with pytest.raises(FunctionError, match="boom"):
            pool({})
    assert pool.stats.cold_starts == 1


def test_a_container_killed_mid_invocation_is_a_crash(pools: Any) -> None:
    pool = pools("counter")
    outcome: list[BaseException] = []

    def invoke() -> None:
        try:
            pool({"sleep": 5, "marker": "victim"})
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=invoke)
    thread.start()
    deadline = time.monotonic() + 30
    while pool.kill_running(lambda event: event.get("marker") == "victim") == 0:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    thread.join(10)

    assert len(outcome) == 1
    assert isinstance(outcome[0], FunctionCrashed)
    assert pool.containers() == 0

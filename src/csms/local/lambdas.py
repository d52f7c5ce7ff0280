"""Lambda's execution model, locally: each function's invocations run in containers of their own.

On AWS every invocation of a function runs in an execution environment (a "container") that
serves one invocation at a time, keeps its module state between invocations, is created on
demand (a cold start: the handler module is imported again), is capped by the function's
concurrency, and is killed when an invocation outlives the function's timeout (whatever it
was about to do, a reply to a charger included, never happens). Running every handler in
threads of one process hid all of that: module state was shared by every "container", the
GIL serialised the whole stack, and a handler past API Gateway's 29 s still posted its late
answer.

:class:`FunctionPool` is one function: its containers are worker processes (``spawn``: a
fresh interpreter each, with the environment the stack prepared), started when every
existing one is busy and fewer than ``concurrency`` exist; an invocation beyond that waits
for a free container (Lambda would throttle instead; a laptop's two cores cannot run a
thousand containers, so waiting is the useful local stand-in, and :attr:`waits` counts it).
A pool is a drop-in for ``load_handler(function)``: ``pool(event, context)``, blocking, from
any thread, so the gateway, the REST API, the SQS event source and the scheduler call it as
they called the handler.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import multiprocessing
import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Final

log = logging.getLogger(__name__)

#: The Lambda timeouts of the functions (infra/csms_infra: 29 s for the WebSocket routes and
#: the API, 30 s commands, 60 s the scheduled jobs).
FUNCTION_TIMEOUTS: Final = {"commands": 30.0, "scheduled": 60.0}
DEFAULT_TIMEOUT: Final = 29.0
#: How many containers a function may have at once locally (Lambda's are in the hundreds;
#: these fit two cores and a few hundred megabytes).
DEFAULT_CONCURRENCY: Final = {
    "connect": 4,
    "message": 6,
    "disconnect": 2,
    "api": 4,
    "commands": 2,
    "scheduled": 2,
}


#: API Gateway gives up on an integration after 29 s (not adjustable for WebSocket APIs).
INTEGRATION_TIMEOUT_SECONDS: Final = 29.0
_REGION: Final = "us-east-1"
_ACCOUNT: Final = "000000000000"
FUNCTIONS_DIR = Path(__file__).resolve().parents[3] / "functions"


def load_handler(
    function: str, functions_dir: Path = FUNCTIONS_DIR
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """``lambda_handler`` of ``functions/<function>/handler.py``, loaded like Lambda does."""
    path = functions_dir / function / "handler.py"
    spec = importlib.util.spec_from_file_location(f"csms_functions_{function}", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}: run from a source checkout (pip install -e .)")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.lambda_handler  # type: ignore[no-any-return]


class LocalLambdaContext:
    """The Lambda context attributes that Powertools and our handlers read."""

    def __init__(self, function_name: str, budget_seconds: float = INTEGRATION_TIMEOUT_SECONDS) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{_REGION}:{_ACCOUNT}:function:{function_name}"
        self.memory_limit_in_mb = 128
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        self._deadline = time.monotonic() + budget_seconds

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before API Gateway's integration timeout."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class FunctionTimeout(Exception):
    """The invocation outlived the function's timeout; its container was killed."""


class FunctionCrashed(Exception):
    """The container died during the invocation (killed, out of memory, ``os._exit``)."""


class FunctionError(Exception):
    """The handler raised; the message is its ``repr``."""


def _serve(function: str, conn: Connection, environment: Mapping[str, str], functions_dir: Path) -> None:
    """A container: load the handler (the cold start), then serve invocations one at a time."""
    os.environ.update(environment)
    started = time.monotonic()
    handler = load_handler(function, functions_dir)
    conn.send(("ready", time.monotonic() - started))
    while True:
        try:
            event, budget = conn.recv()
        except (EOFError, OSError):
            return
        try:
            result = handler(event, LocalLambdaContext(function, budget))
        except BaseException as exc:  # a Lambda reports the error; the container lives on
            conn.send(("error", repr(exc)))
        else:
            conn.send(("ok", result))


@dataclass(eq=False)
class _Container:
    process: Any
    conn: Connection
    #: The event of the invocation it is running (None when idle): fault injection looks at it.
    event: dict[str, Any] | None = None


@dataclass
class PoolStats:
    invocations: int = 0
    cold_starts: int = 0
    cold_start_seconds: list[float] = field(default_factory=list)
    #: Invocations that waited for a free container (the concurrency limit reached).
    waits: int = 0
    timeouts: int = 0
    crashes: int = 0


class FunctionPool:
    """One function's containers (see the module docstring)."""

    def __init__(
        self,
        function: str,
        *,
        concurrency: int | None = None,
        timeout: float | None = None,
        environment: Mapping[str, str] | None = None,
        functions_dir: Path = FUNCTIONS_DIR,
    ) -> None:
        self.function = function
        self._functions_dir = functions_dir
        self.concurrency = concurrency or DEFAULT_CONCURRENCY.get(function, 2)
        self.timeout = timeout or FUNCTION_TIMEOUTS.get(function, DEFAULT_TIMEOUT)
        self._environment = dict(environment or {})
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Condition()
        self._idle: list[_Container] = []
        self._busy: set[_Container] = set()
        self._count = 0
        self._closed = False
        self.stats = PoolStats()

    # --- the handler interface ----------------------------------------------------------------

    def __call__(self, event: dict[str, Any], context: Any = None) -> Any:
        """Invoke the function with ``event`` and wait for its result."""
        budget = self.timeout
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        if remaining is not None:
            budget = min(budget, max(0.001, remaining() / 1000))
        container = self._acquire()
        container.event = event
        try:
            try:
                container.conn.send((event, budget))
                answered = container.conn.poll(self.timeout)
            except (OSError, EOFError) as exc:
                raise self._crashed(container) from exc
            if not answered:
                # Lambda ends the environment at the function's timeout: whatever the handler was
                # about to do (a reply to a charger) is lost with it.
                self._kill(container)
                self.stats.timeouts += 1
                raise FunctionTimeout(f"{self.function} timed out after {self.timeout:g} s")
            try:
                status, value = container.conn.recv()
            except (OSError, EOFError) as exc:
                raise self._crashed(container) from exc
        finally:
            container.event = None
            self._release(container)
        if status == "error":
            raise FunctionError(value)
        return value

    # --- containers ---------------------------------------------------------------------------

    def _acquire(self) -> _Container:
        with self._lock:
            self.stats.invocations += 1
            waited = False
            while True:
                if self._closed:
                    raise FunctionCrashed(f"{self.function}: the stack is stopping")
                if self._idle:
                    container = self._idle.pop()
                    self._busy.add(container)
                    return container
                if self._count < self.concurrency:
                    self._count += 1
                    break
                if not waited:
                    self.stats.waits += 1
                    waited = True
                self._lock.wait()
        try:
            container = self._start()
        except BaseException:
            with self._lock:
                self._count -= 1
                self._lock.notify()
            raise
        with self._lock:
            self._busy.add(container)
        return container

    def _start(self) -> _Container:
        parent, child = self._context.Pipe()
        process = self._context.Process(
            target=_serve,
            args=(self.function, child, self._environment, self._functions_dir),
            name=f"lambda-{self.function}",
            daemon=True,
        )
        process.start()
        child.close()
        if not parent.poll(120):
            process.kill()
            raise FunctionCrashed(f"{self.function}: the container did not start")
        try:
            _, seconds = parent.recv()
        except (OSError, EOFError) as exc:
            raise FunctionCrashed(f"{self.function}: the container died while starting") from exc
        with self._lock:
            self.stats.cold_starts += 1
            self.stats.cold_start_seconds.append(float(seconds))
        log.debug("cold start", extra={"function": self.function, "seconds": round(seconds, 3)})
        return _Container(process, parent)

    def _release(self, container: _Container) -> None:
        with self._lock:
            self._busy.discard(container)
            if container.process.is_alive() and not self._closed:
                self._idle.append(container)
            else:
                self._count -= 1
                with contextlib.suppress(OSError):
                    container.conn.close()
            self._lock.notify()

    def _crashed(self, container: _Container) -> FunctionCrashed:
        self._kill(container)
        self.stats.crashes += 1
        return FunctionCrashed(f"{self.function}: the container died during the invocation")

    @staticmethod
    def _kill(container: _Container) -> None:
        container.process.kill()
        container.process.join(5)

    # --- fault injection and shutdown ---------------------------------------------------------

    def kill_running(self, matches: Callable[[dict[str, Any]], bool]) -> int:
        """Kill every container running an invocation whose event ``matches`` (a function killed
        mid-invocation: its caller sees a crash, whatever it did not finish is lost)."""
        with self._lock:
            doomed = [c for c in self._busy if c.event is not None and matches(c.event)]
        for container in doomed:
            container.process.kill()
        return len(doomed)

    def containers(self) -> int:
        """How many containers exist (idle or busy)."""
        with self._lock:
            return self._count

    def stop(self) -> None:
        """End every container (idle ones at once; busy ones are killed, as on a redeploy)."""
        with self._lock:
            self._closed = True
            containers = [*self._idle, *self._busy]
            self._idle.clear()
            self._lock.notify_all()
        for container in containers:
            with contextlib.suppress(OSError):
                container.conn.close()
            container.process.kill()
            container.process.join(5)

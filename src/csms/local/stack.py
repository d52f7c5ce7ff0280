"""The whole product on one machine: PostgreSQL, moto, the gateway emulator, the functions.

:class:`LocalStack` plays the part of AWS: it provisions the resources the CDK app would
(a database with migrations applied, the DynamoDB table), sets each function's
environment the way Lambda would, loads the real ``functions/*/handler.py`` and puts the
API Gateway emulator in front of them. It is used by ``csms dev``, the integration tests
and the load tests alike.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from aiohttp import web

import csms
from csms.constants import (
    CONSOLE_PATH,
    LIVE_PATH,
    LIVE_SUBPROTOCOL,
    LIVE_TOKEN_PREFIX,
    OCPP_PATH_PREFIX,
    ROUTE_FUNCTIONS,
    SUPPORTED_SUBPROTOCOLS,
)
from csms.local.lambdas import load_handler

if TYPE_CHECKING:
    from csms.local.console import LocalConsole
    from csms.local.lambdas import FunctionPool

log = logging.getLogger(__name__)

DATABASE_NAME = "csms"
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}


@dataclass
class StackConfig:
    host: str = "127.0.0.1"
    port: int = 8180
    state_dir: Path | None = None
    #: An existing PostgreSQL (DATABASE_URL); None = the embedded one in state_dir.
    database_url: str | None = None
    #: "moto" = in-process moto server; "env" = whatever boto3 is configured for
    #: (AWS_ENDPOINT_URL for LocalStack, or real AWS credentials).
    aws: str = "moto"
    allow_unknown_chargers: bool = False
    durable_database: bool = True
    log_format: str = "console"
    log_level: str = "INFO"
    #: Extra environment for the functions (CSMS_* settings).
    environment: dict[str, str] = field(default_factory=dict)
    #: Key the local authorizer trusts; None = the key file in the state folder.
    api_signing_key: bytes | None = None
    #: Fire the schedules of csms.schedules locally (through functions/scheduled), as
    #: EventBridge Scheduler does on AWS.
    run_schedules: bool = True
    #: Write the functions' environment to ``<state dir>/dev-env.json`` while running, so
    #: ``csms run-job`` in another terminal acts on this stack (``csms dev`` sets it).
    publish_environment: bool = False
    #: How often ``csms dev`` checks that the embedded PostgreSQL it started is alive.
    supervise_seconds: float = 1.0
    #: "processes": each function's invocations run in containers of their own (worker
    #: processes with their own module state, a concurrency limit, cold starts and the
    #: function's timeout: csms.local.lambdas), and moto in a process of its own, as on AWS.
    #: "threads": every handler in threads of this process, moto in-process (the
    #: integration tests: they change the functions' settings at run time and look into
    #: moto's backends, and start in a second instead of paying a cold start per container).
    functions: Literal["processes", "threads"] = "processes"
    #: Containers per function in "processes" mode (csms.local.lambdas.DEFAULT_CONCURRENCY).
    concurrency: dict[str, int] = field(default_factory=dict)
    #: API Gateway's quotas (csms.local.gateway.GatewayLimits); None = AWS's.
    gateway_limits: Any = None
    #: The built operator console served under /console/ (csms.local.console); None = the
    #: checkout's ``console/dist``.
    console_dist: Path | None = None
    #: The console's live-update settings (``live`` of /console/config.json): the live WebSocket
    #: on this port (ADR 0025), a URL relative to the page, so any host name of this machine works;
    #: ``{"mode": "poll"}`` makes the console long-poll the event feed instead.
    console_live: dict[str, Any] = field(default_factory=lambda: {"mode": "websocket", "url": LIVE_PATH})


#: The functions' environment of a running ``csms dev`` (see StackConfig.publish_environment).
ENVIRONMENT_FILE = "dev-env.json"
_SHARED_ENVIRONMENT = ("DATABASE_URL", "AWS_REGION", *DUMMY_CREDENTIALS)


def running_environment(state_dir: Path) -> dict[str, str] | None:
    """The environment a running ``csms dev`` published in ``state_dir``, if it is running."""
    path = state_dir / ENVIRONMENT_FILE
    try:
        published = json.loads(path.read_text())
        os.kill(int(published["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    environment: dict[str, str] = published["environment"]
    return environment


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address to bind) is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``, readable by the owner only at every moment: the content
    goes to a new file created with mode 0600 (whatever the umask), then renamed over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class LocalStack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.database_url: str | None = None
        self.aws_endpoint: str | None = None
        self._postgres: Any = None
        self._moto: Any = None
        self._gateway: Any = None
        self._stop_postgres = False
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        #: How often the supervisor restarted the embedded PostgreSQL.
        self.postgres_restarts = 0
        self._pools: dict[str, FunctionPool] = {}
        #: The SQS queue the load-trigger rules deliver to (set when AWS is provisioned).
        self.load_triggers_queue_url = ""
        self._live_queue_url = ""
        self.live_gateway: Any = None

    # --- lifecycle ------------------------------------------------------------------------

    def provision(self) -> None:
        """Start/attach the database and AWS services, apply migrations, set the env."""
        from csms.local.tokens import signing_key
        from csms.settings import default_state_dir

        cfg = self.config
        state_dir = cfg.state_dir or default_state_dir()
        if cfg.api_signing_key is None:
            cfg.api_signing_key = signing_key(state_dir)
        if cfg.port == 0:
            cfg.port = free_port(cfg.host)
        self.database_url = cfg.database_url or self._start_postgres(state_dir)
        self._migrate(self.database_url)
        self.aws_endpoint = self._start_aws()
        self._configure_functions()

    async def start(self) -> None:
        """Provision everything, then serve chargers (blocking work runs in a thread)."""
        await asyncio.to_thread(self.provision)
        from csms.local.gateway import LocalGateway

        handlers = {route: self.function(function) for route, function in ROUTE_FUNCTIONS.items()}
        self._gateway = LocalGateway(
            handlers,
            host=self.config.host,
            port=self.config.port,
            origin_verify_secret=os.environ["CSMS_ORIGIN_VERIFY_SECRET"],
            max_workers=64,
            management_credentials=self._management_credentials(),
            limits=self.config.gateway_limits,
        )
        from csms.constants import LIVE_PATH, LIVE_ROUTES, LIVE_STAGE
        from csms.local.live import local_authorizer

        assert self.config.api_signing_key is not None
        live = self.function("live")
        # The consoles' live API (ADR 0025): on AWS a WebSocket API of its own; here on the
        # same port, as the console's origin serves it.
        self.live_gateway = LocalGateway(
            {route: live for route in LIVE_ROUTES},
            host=self.config.host,
            port=self.config.port,
            stage=LIVE_STAGE,
            api_id="live",
            max_workers=16,
            management_credentials=self._management_credentials(),
            limits=self.config.gateway_limits,
            path=LIVE_PATH,
            authorize=local_authorizer(self.config.api_signing_key),
            app=self._gateway.app,
            front_door=False,
        )
        self._gateway.app.router.add_get("/", self._index)
        self._gateway.app.router.add_get("/health", self._health)
        from csms.local.restapi import LocalRestApi

        assert self.config.api_signing_key is not None
        LocalRestApi(self.function("api"), self.config.api_signing_key).attach(self._gateway.app)
        self.console = self._console()
        self.console.attach(self._gateway.app)
        await self._gateway.start()
        self.live_gateway.port = self._gateway.port
        from csms.aws.clients import client
        from csms.local.sqs_driver import EventSourceMapping

        region = os.environ["AWS_REGION"]
        mapping = EventSourceMapping(
            client("sqs", region), os.environ["CSMS_COMMANDS_QUEUE_URL"], self.function("commands"), region
        )
        self.command_trigger = mapping
        # Lambda's SQS event source of the scheduled function: the load-trigger rules' queue.
        load_triggers = EventSourceMapping(
            client("sqs", region),
            self.load_triggers_queue_url,
            self.function("scheduled"),
            region,
            function_name="scheduled",
        )
        self._stopping.clear()
        #: The fan-out's SQS trigger, locally (ADR 0025): the live rule on moto's bus fills the queue.
        self.live_trigger = EventSourceMapping(
            client("sqs", region),
            self._live_queue_url,
            self.function("fanout"),
            region,
            function_name="fanout",
        )
        self._tasks = [
            asyncio.create_task(mapping.run(self._stopping)),
            asyncio.create_task(load_triggers.run(self._stopping)),
            asyncio.create_task(self.live_trigger.run(self._stopping)),
        ]
        if self._postgres is not None:
            self._tasks.append(asyncio.create_task(self._supervise_postgres()))
        if self.config.run_schedules:
            from csms.schedules import SCHEDULES

            scheduled = self.function("scheduled")
            for schedule in SCHEDULES:
                self._tasks.append(
                    asyncio.create_task(self._fire(schedule.name, schedule.every_seconds, scheduled))
                )

    def _management_credentials(self) -> Any:
        """Beyond loopback anyone on the network could post frames to chargers through
        @connections: require the functions' SigV4 signature, as IAM does on AWS."""
        if is_loopback(self.config.host):
            return None
        from csms.aws.signed import default_credentials

        return default_credentials()()

    def function(self, name: str) -> Callable[[dict[str, Any], Any], Any]:
        """The handler the stack invokes for ``functions/<name>``: its pool of containers, or
        the handler itself in "threads" mode. One per function and stack."""
        if self.config.functions == "threads":
            return load_handler(name)
        if name not in self._pools:
            from csms.constants import DATABASE_BOUNDS
            from csms.local.lambdas import FunctionPool

            environment = {}
            if name in DATABASE_BOUNDS:  # as the CDK app sets them for this function
                statement_ms, stall_s = DATABASE_BOUNDS[name]
                environment = {
                    "CSMS_DATABASE_STATEMENT_TIMEOUT_MS": str(statement_ms),
                    "CSMS_DATABASE_STALL_TIMEOUT_SECONDS": f"{stall_s:g}",
                }
            self._pools[name] = FunctionPool(
                name, concurrency=self.config.concurrency.get(name), environment=environment
            )
        return self._pools[name]

    def _console(self) -> LocalConsole:
        from csms.app import wiring
        from csms.data.tenants import tenant_names
        from csms.local.console import LocalConsole, default_console_dist

        assert self.config.api_signing_key is not None
        live = self.config.console_live
        url = str(live.get("url", ""))
        # A relative URL is the page's own origin, which 'self' covers for ws: too (CSP 3); the
        # address csms dev prints is named as well, for browsers that do not.
        if "://" in url:
            sources: tuple[str, ...] = (url,)
        elif live.get("mode") == "websocket":
            sources = (self.live_url.removesuffix(LIVE_PATH),)
        else:
            sources = ()
        return LocalConsole(
            self.config.console_dist or default_console_dist(),
            self.config.api_signing_key,
            lambda: tenant_names(wiring.database()),
            live=live,
            connect_sources=sources,
        )

    def console_url(self) -> str:
        return f"http://{self.config.host}:{self.config.port}{CONSOLE_PATH}"

    @property
    def pools(self) -> dict[str, FunctionPool]:
        """The functions' container pools ("processes" mode): stats, fault injection."""
        return dict(self._pools)

    async def _supervise_postgres(self) -> None:
        """Restart the embedded PostgreSQL when it dies (issue 13: after a crash it stayed down
        until a CLI command happened to start it). Checked every ``supervise_seconds``."""
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), self.config.supervise_seconds)
                return
            except TimeoutError:
                pass
            if self._postgres is None or await asyncio.to_thread(self._postgres.running):
                continue
            log.error("the embedded PostgreSQL is down; restarting it")
            started = asyncio.get_running_loop().time()
            try:
                await asyncio.to_thread(self._postgres.ensure_running)
            except Exception:
                log.exception("could not restart the embedded PostgreSQL; trying again")
                continue
            self.postgres_restarts += 1
            log.warning(
                "the embedded PostgreSQL is back",
                extra={"seconds": round(asyncio.get_running_loop().time() - started, 2)},
            )

    async def _fire(
        self, job: str, every_seconds: float, handler: Callable[[dict[str, Any], Any], Any]
    ) -> None:
        """EventBridge Scheduler, locally: invoke the scheduled function with {"job": name}."""
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), every_seconds)
            except TimeoutError:
                from csms.local.lambdas import LocalLambdaContext

                try:
                    await asyncio.to_thread(handler, {"job": job}, LocalLambdaContext("scheduled"))
                except Exception:
                    log.exception("scheduled job failed", extra={"job": job})

    async def stop(self) -> None:
        """Stop everything this stack started, in reverse order."""
        self._stopping.set()
        for task in self._tasks:
            await task
        self._tasks = []
        if self.live_gateway is not None:
            await self.live_gateway.stop()
            self.live_gateway = None
        if self._gateway is not None:
            await self._gateway.stop()
            self._gateway = None
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await asyncio.to_thread(pool.stop)
        await asyncio.to_thread(self._release)

    def _publish_environment(self) -> None:
        from csms.settings import default_state_dir

        shared = {
            key: value
            for key, value in os.environ.items()
            if key.startswith(("CSMS_", "AWS_ENDPOINT_URL")) or key in _SHARED_ENVIRONMENT
        }
        path = (self.config.state_dir or default_state_dir()) / ENVIRONMENT_FILE
        # It holds the origin secret and the @connections credentials: owner-only from birth.
        write_private(path, json.dumps({"pid": os.getpid(), "environment": shared}, indent=2))
        self._published = path

    def _release(self) -> None:
        from csms.app import wiring

        published = getattr(self, "_published", None)
        if published is not None:
            published.unlink(missing_ok=True)

        if wiring.database.cache_info().currsize:
            wiring.database().engine.dispose()
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
        if self._postgres is not None and self._stop_postgres:
            self._postgres.stop()
        self._postgres = None

    @property
    def gateway(self) -> Any:
        """The running :class:`csms.local.gateway.LocalGateway`."""
        return self._gateway

    # --- pieces ---------------------------------------------------------------------------

    def _start_postgres(self, state_dir: Path) -> str:
        from csms.local.postgres import EmbeddedPostgres

        self._postgres = EmbeddedPostgres(state_dir / "pgdata", durable=self.config.durable_database)
        # A server already running in the state dir (another csms process) is shared, and
        # left running when we stop.
        self._stop_postgres = not (self._postgres.data_dir / "postmaster.pid").exists()
        self._postgres.start()
        return str(self._postgres.create_database(DATABASE_NAME))

    @staticmethod
    def _migrate(url: str) -> None:
        from csms.data.database import make_engine
        from csms.data.migrate import upgrade

        engine = make_engine(url)
        try:
            upgrade(engine)
        finally:
            engine.dispose()

    def _start_aws(self) -> str | None:
        from csms.aws.provisioning import (
            ensure_command_secrets_key,
            ensure_commands_queue,
            ensure_connections_table,
            ensure_event_bus,
            ensure_idempotency_table,
            ensure_limits_table,
            ensure_load_trigger_rules,
            ensure_pending_calls_table,
            ensure_queue,
            ensure_rule_to_queue,
            ensure_user_pool,
        )

        table = self.config.environment.get("CSMS_CONNECTIONS_TABLE", "csms-connections")
        idempotency_table = self.config.environment.get("CSMS_IDEMPOTENCY_TABLE", "csms-idempotency")
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        if self.config.aws == "moto":
            from csms.local.aws import LocalAws, LocalAwsProcess

            self._moto = LocalAwsProcess() if self.config.functions == "processes" else LocalAws()
            moto_endpoint: str = self._moto.start()
            os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = moto_endpoint
            os.environ["AWS_ENDPOINT_URL_SQS"] = moto_endpoint
            os.environ["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"] = moto_endpoint
            os.environ["AWS_ENDPOINT_URL_EVENTBRIDGE"] = moto_endpoint
            os.environ["AWS_ENDPOINT_URL_KMS"] = moto_endpoint
            endpoint: str | None = moto_endpoint
            for key, value in DUMMY_CREDENTIALS.items():
                os.environ[key] = value
            if not is_loopback(self.config.host):
                # The functions sign @connections calls with it; the gateway checks them.
                os.environ["AWS_SECRET_ACCESS_KEY"] = secrets.token_urlsafe(32)
            os.environ.pop("AWS_PROFILE", None)
            os.environ.pop("AWS_SESSION_TOKEN", None)
        else:
            endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL")
        os.environ.setdefault("AWS_REGION", region)
        ensure_connections_table(endpoint, table, region)
        ensure_idempotency_table(endpoint, idempotency_table, region)
        ensure_pending_calls_table(
            endpoint, self.config.environment.get("CSMS_PENDING_CALLS_TABLE", "csms-pending-calls"), region
        )
        ensure_limits_table(endpoint, self.config.environment.get("CSMS_LIMITS_TABLE", "csms-limits"), region)
        sqs_endpoint = os.environ.get("AWS_ENDPOINT_URL_SQS") or os.environ.get("AWS_ENDPOINT_URL")
        os.environ["CSMS_COMMANDS_QUEUE_URL"] = ensure_commands_queue(
            sqs_endpoint, "csms-commands.fifo", region
        )
        kms_endpoint = os.environ.get("AWS_ENDPOINT_URL_KMS") or os.environ.get("AWS_ENDPOINT_URL")
        os.environ["CSMS_COMMAND_SECRETS_KEY_ID"] = ensure_command_secrets_key(
            kms_endpoint,
            self.config.environment.get("CSMS_COMMAND_SECRETS_KEY_ID", "csms-command-secrets"),
            region,
        )
        cognito_endpoint = os.environ.get("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER") or os.environ.get(
            "AWS_ENDPOINT_URL"
        )
        os.environ["CSMS_USER_POOL_ID"] = ensure_user_pool(cognito_endpoint, "csms-operators", region)
        events_endpoint = os.environ.get("AWS_ENDPOINT_URL_EVENTBRIDGE") or os.environ.get("AWS_ENDPOINT_URL")
        os.environ["CSMS_EVENT_BUS_NAME"] = ensure_event_bus(
            events_endpoint, self.config.environment.get("CSMS_EVENT_BUS_NAME", "csms-events"), region
        )
        os.environ["CSMS_EVENTS_DEAD_LETTER_QUEUE_URL"] = ensure_queue(
            sqs_endpoint, "csms-events-dlq", region
        )
        os.environ["CSMS_EVENTS_PARKING_QUEUE_URL"] = ensure_queue(sqs_endpoint, "csms-events-parked", region)
        # The events that reallocate a site, as the CDK app routes them (csms.load_triggers).
        self.load_triggers_queue_url = ensure_queue(sqs_endpoint, "csms-load-triggers", region)
        bus = os.environ["CSMS_EVENT_BUS_NAME"]
        ensure_load_trigger_rules(events_endpoint, sqs_endpoint, bus, self.load_triggers_queue_url, region)
        # The live rule (ADR 0025): every domain event to the fan-out's queue, as on AWS.
        from csms.local.live import LIVE_QUEUE, LIVE_RULE
        from csms.services.console_live import EVENT_PATTERN

        live_queue = ensure_queue(sqs_endpoint, LIVE_QUEUE, region)
        ensure_rule_to_queue(
            events_endpoint, region, os.environ["CSMS_EVENT_BUS_NAME"], LIVE_RULE, EVENT_PATTERN, live_queue
        )
        self._live_queue_url = live_queue
        return endpoint

    def _configure_functions(self) -> None:
        """The functions' environment, as the CDK app sets it on Lambda."""
        cfg = self.config
        assert self.database_url is not None
        env = {
            "DATABASE_URL": self.database_url,
            "CSMS_WS_MANAGEMENT_ENDPOINT": f"http://{cfg.host}:{cfg.port}/local",
            "CSMS_LIVE_MANAGEMENT_ENDPOINT": f"http://{cfg.host}:{cfg.port}/live",
            "CSMS_ORIGIN_VERIFY_SECRET": secrets.token_urlsafe(24),
            "CSMS_ALLOW_UNKNOWN_CHARGERS": "true" if cfg.allow_unknown_chargers else "false",
            # A container serves one invocation at a time, as on Lambda; in "threads" mode one
            # process serves every concurrent invocation.
            "CSMS_DATABASE_POOL_SIZE": "1" if cfg.functions == "processes" else "20",
            "CSMS_DATABASE_MAX_OVERFLOW": "1" if cfg.functions == "processes" else "40",
            "CSMS_LOG_FORMAT": cfg.log_format,
            "CSMS_LOG_LEVEL": cfg.log_level,
            "POWERTOOLS_METRICS_DISABLED": "true",
            **cfg.environment,
        }
        os.environ.update(env)
        if cfg.publish_environment:
            self._publish_environment()
        # Settings are read once per process: start from this environment.
        from csms.app import api, wiring
        from csms.settings import get_settings

        get_settings.cache_clear()
        wiring.reset()
        api.resolver.cache_clear()

    # --- HTTP endpoints of the local server ----------------------------------------------------

    @property
    def live_url(self) -> str:
        """The consoles' live WebSocket (ADR 0025): ``ws://host:port/live``."""
        return f"ws://{self.config.host}:{self.config.port}{LIVE_PATH}"

    def charger_url(self, charge_point_id: str = "{chargePointId}") -> str:
        return f"ws://{self.config.host}:{self.config.port}{OCPP_PATH_PREFIX}{charge_point_id}"

    async def _index(self, request: web.Request) -> web.Response:
        if "text/html" in request.headers.get("Accept", ""):
            # A browser opening the server's address gets the console; a client asking for
            # JSON gets what the server is.
            raise web.HTTPFound(CONSOLE_PATH)
        return web.json_response(
            {
                "name": "csms",
                "description": "Serverless OCPP Central System: local stack (API Gateway WebSocket emulator "
                "in front of the same Lambda handlers that run on AWS)",
                "version": csms.__version__,
                "ocpp": {"url": self.charger_url(), "subprotocols": list(SUPPORTED_SUBPROTOCOLS)},
                "health": "/health",
                "api": {"base": "/api/v1", "docs": "/api/docs", "openapi": "/api/openapi.json"},
                "console": CONSOLE_PATH,
                "live": {
                    "url": self.live_url,
                    "subprotocols": [LIVE_SUBPROTOCOL, f"{LIVE_TOKEN_PREFIX}<token>"],
                },
            }
        )

    async def _health(self, request: web.Request) -> web.Response:
        from csms.app.health import dependencies

        # Bounded (about 3 s) whatever the dependencies do: a stall answers 503, not a hang.
        found = await asyncio.to_thread(dependencies)
        database_ok, dynamodb_ok, healthy = found.database, found.dynamodb, found.healthy
        return web.json_response(
            {
                "status": "ok" if healthy else "degraded",
                "version": csms.__version__,
                "database": {"reachable": database_ok},
                "dynamodb": {"reachable": dynamodb_ok},
                "chargers": {"connected": self._gateway.connection_count() if self._gateway else 0},
            },
            status=200 if healthy else 503,
        )


class BackgroundStack:
    """A :class:`LocalStack` served from its own thread and event loop (tests, benchmarks)."""

    def __init__(self, config: StackConfig) -> None:
        self.stack = LocalStack(config)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="csms-local-stack", daemon=True)

    def start(self) -> LocalStack:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.stack.start(), self._loop).result(timeout=120)
        return self.stack

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.stack.stop(), self._loop).result(timeout=60)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

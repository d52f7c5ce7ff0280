"""Integration fixtures: one real PostgreSQL and one local stack for the whole session.

The stack (gateway emulator + the real handlers + moto) serves from its own thread on a
free loopback port; tests talk to it with real WebSocket clients and read PostgreSQL
directly to check what landed. Set TEST_DATABASE_URL to use an existing server instead of
the embedded one (a database ``csms_test`` is created there).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from csms.data.database import PgDatabase, make_engine
from csms.local.stack import BackgroundStack, LocalStack, StackConfig
from csms.services.provisioning import ProvisioningService
from tests.integration.api_client import ApiClient

pytestmark = pytest.mark.integration

API_KEY = b"integration-test-signing-key-0123456789"

TABLES = (
    "command_secrets",
    "load_allocations",
    "load_limit_schedules",
    "load_live_loads",
    "load_nodes",
    "load_sites",
    "security_events",
    "device_events",
    "report_parts",
    "charging_limits",
    "ev_charging_needs",
    "reservations",
    "charge_point_events",
    "energy_rollup",
    "energy_rollup_days",
    "domain_events",
    "locations",
    "meter_samples",
    "unknown_transaction_stops",
    "transactions",
    "connector_status_history",
    "connectors",
    "id_tokens",
    "charge_points",
    "tenants",
)


@pytest.fixture(scope="session")
def database_url(pg_base_dir: Path) -> Iterator[str]:
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        admin = create_engine(external, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS csms_test WITH (FORCE)"))
            conn.execute(text("CREATE DATABASE csms_test"))
        admin.dispose()
        yield external.rsplit("/", 1)[0] + "/csms_test"
        return
    from csms.local.postgres import EmbeddedPostgres

    postgres = EmbeddedPostgres(pg_base_dir / "integration" / "pgdata", durable=False)
    postgres.start()
    try:
        yield postgres.create_database("csms_test")
    finally:
        postgres.stop()


@pytest.fixture(scope="session")
def stack(database_url: str) -> Iterator[LocalStack]:
    background = BackgroundStack(
        StackConfig(
            port=0,
            database_url=database_url,
            durable_database=False,
            log_level="WARNING",
            api_signing_key=API_KEY,
            # Handlers in threads of this process: tests change the functions' settings at run
            # time and look into moto (test_processes_mode.py runs the containers).
            functions="threads",
            # Long polls of the event feed end within 2 s (schemathesis asks for any wait).
            # No REST rate limits: one tenant makes thousands of requests here (schemathesis);
            # test_api_access.py turns them on.
            environment={
                "CSMS_FEED_MAX_WAIT_SECONDS": "2",
                "CSMS_API_RATE_PER_PRINCIPAL": "0",
                "CSMS_API_RATE_PER_TENANT": "0",
            },
        )
    )
    started = background.start()
    try:
        yield started
    finally:
        background.stop()


@pytest.fixture(scope="session")
def engine(stack: LocalStack) -> Iterator[Engine]:
    assert stack.database_url is not None
    engine = make_engine(stack.database_url, pool_size=2)
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def clean_database(engine: Engine) -> None:
    # The stack's schedules keep firing between tests (a job may be writing right now): a
    # TRUNCATE that deadlocks with one is tried again, it does not fail the next test.
    for attempt in range(5):
        try:
            with engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
            break  # (not return: DynamoDB's leftovers below are cleared too)
        except OperationalError as failed:
            if not isinstance(failed.orig, psycopg.errors.DeadlockDetected) or attempt == 4:
                raise
            time.sleep(0.2 * (attempt + 1))
    # A test that ends while one of our CALLs is unanswered leaves the charger's slot taken.
    from csms.app import wiring
    from csms.aws.clients import client

    settings = wiring.settings()
    dynamodb = client("dynamodb", settings.aws_region)
    for table in (settings.pending_calls_table, settings.limits_table):
        for item in dynamodb.scan(TableName=table, ProjectionExpression="pk").get("Items", []):
            dynamodb.delete_item(TableName=table, Key={"pk": item["pk"]})


@pytest.fixture
def provisioning(engine: Engine) -> ProvisioningService:
    return ProvisioningService(PgDatabase(engine))


@pytest.fixture
def api(stack: LocalStack) -> ApiClient:
    """Calls the REST API over HTTP; ``api.as_("tenant", "role")`` gives a client with a token."""
    return ApiClient(f"http://127.0.0.1:{stack.config.port}", API_KEY)


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def reconfigure() -> Iterator[object]:
    """Change the functions' environment for one test, as a redeploy would."""

    saved: dict[str, str | None] = {}

    def apply(**env: str) -> None:
        for key, value in env.items():
            saved.setdefault(key, os.environ.get(key))
            os.environ[key] = value
        _clear_caches()

    yield apply
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    _clear_caches()


def _clear_caches() -> None:
    from csms.app import wiring
    from csms.settings import get_settings

    get_settings.cache_clear()
    for factory in (
        wiring.admission,
        wiring.dispatcher,
        wiring.limits,
        wiring.login_limiter,
        wiring.frame_limiter,
        wiring.api_access,
        wiring.users,
    ):
        factory.cache_clear()


def rows(engine: Engine, sql: str, **params: object) -> list[dict[str, object]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(sql), params)]

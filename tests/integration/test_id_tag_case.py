"""Id tokens match case-insensitively (OCPP 1.6 IdToken is a CiString20Type, 2.0.1 compares
them "case-insensitive") wherever a token from a station or an operator is compared with stored
ones, and are stored and echoed as given. Real chargers over a real WebSocket, the real API,
checked in PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.dialects import postgresql

from csms.cli import main
from csms.data.database import PgDatabase
from csms.data.local_list import PgLocalListStore
from csms.data.migrate import alembic_config, upgrade
from csms.data.repositories import _FIND_ANY_TOKEN, _FIND_TYPED_TOKEN
from csms.data.transactions import _IN_USE
from csms.domain.tokens import IdToken
from csms.errors import AlreadyExists
from csms.local.stack import LocalStack
from csms.services.provisioning import ProvisioningService
from tests.builders import a_start_transaction, a_stop_transaction
from tests.integration.api_client import ApiClient
from tests.integration.charger import raw_charger
from tests.integration.conftest import rows

pytestmark = pytest.mark.integration
TENANT = "acme"
CP_A = "CASE-A"
CP_B = "CASE-B"
V1 = "/api/v1"


@pytest.fixture(autouse=True)
def fleet(provisioning: ProvisioningService, now: datetime) -> None:
    provisioning.add_charger(CP_A, TENANT, now, security_profile=0)
    provisioning.add_charger(CP_B, TENANT, now, security_profile=0)
    provisioning.add_id_token("TAG1", TENANT, now, group=IdToken("FLEET"))
    provisioning.add_id_token("TAG2", TENANT, now)


# --- the charger's side ------------------------------------------------------------------------


async def test_authorize_start_and_stop_match_the_tag_whatever_its_case(
    stack: LocalStack, engine: Engine
) -> None:
    a = await raw_charger(stack, CP_A)
    authorized = await a.call("Authorize", {"idTag": "tag1"})
    started = await a.call("StartTransaction", a_start_transaction(idTag="Tag1"))
    stopped = await a.call("StopTransaction", a_stop_transaction(started["transactionId"], idTag="tAG1"))
    unknown = await a.call("Authorize", {"idTag": "tag3"})
    await a.socket.close()
    assert authorized["idTagInfo"] == {"status": "Accepted", "parentIdTag": "FLEET"}
    assert started["idTagInfo"] == {"status": "Accepted", "parentIdTag": "FLEET"}
    assert stopped["idTagInfo"] == {"status": "Accepted", "parentIdTag": "FLEET"}
    assert unknown["idTagInfo"] == {"status": "Invalid"}
    # the transaction keeps the tags as the charger sent them
    assert rows(engine, "SELECT id_token, stop_id_token, start_auth_status FROM transactions") == [
        {"id_token": "Tag1", "stop_id_token": "tAG1", "start_auth_status": "Accepted"}
    ]


async def test_a_case_variant_of_a_tag_in_a_transaction_is_concurrent(stack: LocalStack) -> None:
    a, b = await raw_charger(stack, CP_A), await raw_charger(stack, CP_B)
    first = await a.call("StartTransaction", a_start_transaction(idTag="TAG1"))
    second = await b.call(
        "StartTransaction", a_start_transaction(idTag="tag1", timestamp="2026-11-21T10:05:00Z")
    )
    other = await b.call(
        "StartTransaction", a_start_transaction(connectorId=2, idTag="tag2", timestamp="2026-11-21T10:06:00Z")
    )
    await a.socket.close()
    await b.socket.close()
    assert first["idTagInfo"]["status"] == "Accepted"
    assert second["idTagInfo"] == {"status": "ConcurrentTx", "parentIdTag": "FLEET"}
    assert other["idTagInfo"] == {"status": "Accepted"}


async def test_a_start_uses_a_reservation_made_for_the_tag_in_another_case(
    stack: LocalStack, engine: Engine
) -> None:
    now = datetime.now(UTC)
    with engine.begin() as conn:
        reservation_id = conn.execute(
            text(
                "INSERT INTO reservations (tenant_id, charge_point_id, evse_id, id_token, group_id_token, "
                "expiry_date, status, created_at, updated_at) "
                "VALUES (:tenant, :cp, 1, 'TAG1', 'FLEET', :expiry, 'active', :now, :now) RETURNING id"
            ),
            {"tenant": TENANT, "cp": CP_A, "expiry": now + timedelta(hours=1), "now": now},
        ).scalar_one()
    a = await raw_charger(stack, CP_A)
    started = await a.call(
        "StartTransaction",
        a_start_transaction(idTag="tag1", timestamp=now.isoformat(), reservationId=reservation_id),
    )
    await a.socket.close()
    assert started["idTagInfo"] == {"status": "Accepted", "parentIdTag": "FLEET"}
    assert rows(engine, "SELECT status, transaction_id, id_token, group_id_token FROM reservations") == [
        {
            "status": "used",
            "transaction_id": started["transactionId"],
            "id_token": "TAG1",
            "group_id_token": "FLEET",
        }
    ]


def _plan(engine: Engine, statement: Any, params: dict[str, Any]) -> str:
    compiled = statement.compile(dialect=postgresql.dialect())
    with engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        # the statement's own constants (its literal binds), then the given parameters
        values = {**compiled.params, **params}
        plan = "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {compiled}", values))
        conn.exec_driver_sql("RESET enable_seqscan")
    return plan


def test_the_case_insensitive_lookups_use_the_lower_indexes(engine: Engine) -> None:
    # by value over every type (1.6), and by type and value (2.0.1): the one unique index
    untyped = _plan(engine, _FIND_ANY_TOKEN, {"tenant_id": TENANT, "value": "tag1"})
    assert "ux_id_tokens_value" in untyped, untyped
    typed = _plan(engine, _FIND_TYPED_TOKEN, {"tenant_id": TENANT, "value": "tag1", "type": "ISO14443"})
    assert "ux_id_tokens_value" in typed, typed
    # A tenant with many transactions of many tokens, mostly closed (as in production), so the
    # planner's estimates favour the partial index of open transactions by token
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO transactions (id, transaction_id, tenant_id, charge_point_id, evse_id, "
                "connector_id, id_token, start_auth_status, meter_start, start_timestamp, "
                "started_received_at, stop_timestamp) "
                "SELECT i, i::text, :tenant, :cp, i % 4, 1, 'T-' || i, 'Accepted', 0, now(), now(), "
                "CASE WHEN i % 50 <> 0 THEN now() END FROM generate_series(1000, 6000) AS i"
            ),
            {"tenant": TENANT, "cp": CP_A},
        )
        conn.execute(text("ANALYZE transactions"))
    concurrent = _plan(
        engine,
        _IN_USE,
        {
            "tenant_id": TENANT,
            "value": "tag1",
            "exclude": 10,
            "station": "",
            "evse": -2,
            "at": datetime.now(UTC),
        },
    )
    assert "ix_transactions_open_by_tag" in concurrent, concurrent


# --- the operator's side -----------------------------------------------------------------------


def test_the_api_refuses_a_case_variant_and_finds_a_tag_whatever_its_case(api: ApiClient) -> None:
    admin = api.as_(TENANT, "admin")
    tokens = f"{V1}/id-tokens"
    duplicate = admin.post(tokens, {"idToken": "tag1"})
    assert (duplicate.status, duplicate.body["title"]) == (409, "Already exists")
    found = admin.get(f"{tokens}/ISO14443/tag1")
    assert (found.status, found.body["idToken"], found.body["groupIdToken"]["idToken"]) == (
        200,
        "TAG1",
        "FLEET",
    )
    blocked = admin.patch(f"{tokens}/ISO14443/Tag1", {"status": "Blocked"})
    assert (blocked.status, blocked.body["idToken"], blocked.body["status"]) == (200, "TAG1", "Blocked")
    assert admin.delete(f"{tokens}/ISO14443/tAg1").status == 204
    assert admin.get(f"{tokens}/ISO14443/TAG1").status == 404
    # once it is gone, the variant can be created, and is stored as given
    created = admin.post(tokens, {"idToken": "tag1"})
    assert (created.status, created.body["idToken"]) == (201, "tag1")
    # other tenants are other namespaces
    assert api.as_("globex", "admin").post(tokens, {"idToken": "TAG1"}).status == 201


def test_provisioning_and_the_cli_refuse_a_case_variant(
    provisioning: ProvisioningService, engine: Engine, now: datetime, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(AlreadyExists):
        provisioning.add_id_token("Tag2", TENANT, now)
    assert main(["idtags", "add", "CARD-1", "--tenant", TENANT]) == 0
    assert main(["idtags", "add", "card-1", "--tenant", TENANT]) == 1
    assert "exists already" in capsys.readouterr().err
    assert rows(
        engine, "SELECT id_token FROM id_tokens WHERE lower(id_token) IN ('tag2', 'card-1') ORDER BY 1"
    ) == [
        {"id_token": "CARD-1"},
        {"id_token": "TAG2"},
    ]


def test_a_differential_local_list_names_tags_whatever_their_case(engine: Engine) -> None:
    store = PgLocalListStore(PgDatabase(engine))
    named = store.tokens_named(TENANT, ["tag1", "Tag2", "nobody"])
    assert sorted((t.token.value, t.group.value if t.group else None) for t in named) == [
        ("TAG1", "FLEET"),
        ("TAG2", None),
    ]


# --- migration 0009 ----------------------------------------------------------------------------

MIGRATION_DB = "csms_id_tag_case_migration"


@pytest.fixture
def scratch_engine(engine: Engine) -> Iterator[Engine]:
    """A database of its own on the same server, to migrate step by step."""
    admin = create_engine(engine.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {MIGRATION_DB} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {MIGRATION_DB}"))
    scratch = create_engine(engine.url.set(database=MIGRATION_DB))
    try:
        yield scratch
    finally:
        scratch.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {MIGRATION_DB} WITH (FORCE)"))
        admin.dispose()


def _downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _indexes(engine: Engine) -> dict[str, str]:
    found = rows(
        engine,
        "SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN "
        "('ux_id_tags_tenant_lower_id_tag', 'ix_transactions_open_by_tag', 'id_tags_pkey')",
    )
    return {str(r["indexname"]): str(r["indexdef"]) for r in found}


def test_migration_0009_refuses_tags_that_collide_case_insensitively(scratch_engine: Engine) -> None:
    upgrade(scratch_engine, "0008")
    now = datetime.now(UTC)
    with scratch_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO tenants (id, name, created_at) "
                "VALUES ('acme', 'acme', :now), ('globex', 'globex', :now)"
            ),
            {"now": now},
        )
        for tenant, tag in (("acme", "TAG1"), ("acme", "tag1"), ("acme", "TAG2"), ("globex", "tag2")):
            conn.execute(
                text(
                    "INSERT INTO id_tags (tenant_id, id_tag, status, created_at, updated_at) "
                    "VALUES (:tenant, :tag, 'Accepted', :now, :now)"
                ),
                {"tenant": tenant, "tag": tag, "now": now},
            )
    # When the database has two tags that differ only in case, the upgrade fails naming them
    with pytest.raises(Exception, match=r"(?s)case-insensitively.*acme.*TAG1.*tag1") as failed:
        upgrade(scratch_engine)
    assert "TAG2" not in str(failed.value)  # a tag and its variant in another tenant do not collide
    with scratch_engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0008"
    # Once an operator resolved the collision, it runs
    with scratch_engine.begin() as conn:
        conn.execute(text("DELETE FROM id_tags WHERE id_tag = 'tag1'"))
    upgrade(scratch_engine, "0009")
    indexes = _indexes(scratch_engine)
    assert "lower(id_tag)" in indexes["ux_id_tags_tenant_lower_id_tag"]
    assert "UNIQUE" in indexes["ux_id_tags_tenant_lower_id_tag"]
    assert "lower(id_tag)" in indexes["ix_transactions_open_by_tag"]
    assert "stop_timestamp IS NULL" in indexes["ix_transactions_open_by_tag"]
    assert "id_tags_pkey" in indexes
    with scratch_engine.begin() as conn, pytest.raises(Exception, match="ux_id_tags_tenant_lower_id_tag"):
        conn.execute(
            text(
                "INSERT INTO id_tags (tenant_id, id_tag, status, created_at, updated_at) "
                "VALUES ('acme', 'Tag1', 'Accepted', now(), now())"
            )
        )
    # and it goes back down (and up again, to the newest revision and down to it)
    _downgrade(scratch_engine, "0008")
    indexes = _indexes(scratch_engine)
    assert "ux_id_tags_tenant_lower_id_tag" not in indexes
    assert "lower" not in indexes["ix_transactions_open_by_tag"]
    assert "(tenant_id, id_tag)" in indexes["ix_transactions_open_by_tag"]
    upgrade(scratch_engine)
    _downgrade(scratch_engine, "0009")
    assert "lower(id_tag)" in _indexes(scratch_engine)["ix_transactions_open_by_tag"]

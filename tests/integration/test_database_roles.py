"""The runtime database roles may touch rows and nothing else (issue 13: the functions
connected as the Aurora master user)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ProgrammingError

from csms.data.database import make_engine
from csms.data.roles import ensure_role, set_password


@pytest.fixture
def owner(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def as_role(database_url: str, name: str, password: str) -> Engine:
    url = make_url(database_url).set(username=name, password=password)
    return create_engine(url)


def test_a_runtime_role_reads_and_writes_rows_but_changes_no_schema(database_url: str, owner: Engine) -> None:
    # Given the charger path's role, as the migration creates it
    ensure_role(owner, "csms_test_charger", "first-password-0123456789")
    ensure_role(owner, "csms_test_charger", "first-password-0123456789")  # idempotent
    runtime = as_role(database_url, "csms_test_charger", "first-password-0123456789")
    try:
        with runtime.begin() as conn:
            # Then rows: yes (a table, a sequence behind an identity column)
            conn.execute(text("INSERT INTO tenants (id, name, created_at) VALUES ('r1', 'r', now())"))
            assert conn.execute(text("SELECT name FROM tenants WHERE id = 'r1'")).scalar() == "r"
            conn.execute(text("DELETE FROM tenants WHERE id = 'r1'"))
        # And the schema, roles and other tables: no
        for statement in (
            "CREATE TABLE intruder (id int)",
            "DROP TABLE tenants",
            "ALTER TABLE tenants ADD COLUMN x int",
            "TRUNCATE tenants",
            "CREATE ROLE another LOGIN",
        ):
            with pytest.raises(ProgrammingError), runtime.begin() as conn:
                conn.execute(text(statement))
    finally:
        runtime.dispose()


def test_tables_created_later_by_the_owner_are_reachable_too(database_url: str, owner: Engine) -> None:
    ensure_role(owner, "csms_test_operator", "operator-password-0123456789")
    with owner.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS later_partition (id int)"))
    runtime = as_role(database_url, "csms_test_operator", "operator-password-0123456789")
    try:
        with runtime.begin() as conn:
            conn.execute(text("INSERT INTO later_partition VALUES (1)"))
    finally:
        runtime.dispose()
        with owner.begin() as conn:
            conn.execute(text("DROP TABLE later_partition"))


def test_a_rotated_password_replaces_the_old_one(database_url: str, owner: Engine) -> None:
    ensure_role(owner, "csms_test_rotated", "old-password-0123456789")
    verifier = "SELECT rolpassword FROM pg_authid WHERE rolname = 'csms_test_rotated'"
    with owner.connect() as conn:
        before = conn.execute(text(verifier)).scalar()

    set_password(owner, "csms_test_rotated", "new-password-with-a-quote'-0123")

    # (the embedded server trusts loopback, so the stored verifier is what can be checked here)
    with owner.connect() as conn:
        after = conn.execute(text(verifier)).scalar()
    assert before
    assert after
    assert after != before

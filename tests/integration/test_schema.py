"""The migrated database and the tables the queries use must agree."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from csms.data.migrate import current_revision, upgrade
from csms.data.tables import metadata
from tests.integration.conftest import rows

pytestmark = pytest.mark.integration

#: Column-level differences; indexes live in the migrations only (they are not queried by name).
COLUMN_DIFFS = {"add_table", "remove_table", "add_column", "remove_column", "modify_type", "modify_nullable"}


def _flatten(diffs: list[object]) -> list[tuple[object, ...]]:
    flat: list[tuple[object, ...]] = []
    for diff in diffs:
        flat.extend(diff if isinstance(diff, list) else [diff])  # type: ignore[arg-type]
    return flat


def test_migrations_match_the_table_definitions(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                # monthly partitions and Alembic's own bookkeeping are not in the metadata
                "include_name": lambda name, kind, parent: (
                    not (
                        kind == "table"
                        and (name == "alembic_version" or (name or "").startswith("meter_samples_"))
                    )
                ),
            },
        )
        diffs = [d for d in _flatten(compare_metadata(context, metadata)) if d[0] in COLUMN_DIFFS]
    assert diffs == []


def test_upgrade_is_idempotent_and_at_head(engine: Engine) -> None:
    from alembic.script import ScriptDirectory

    from csms.data.migrate import alembic_config

    upgrade(engine)
    assert current_revision(engine) == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_meter_samples_are_partitioned_by_month(engine: Engine) -> None:
    partitions = rows(
        engine,
        "SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'meter_samples' ORDER BY 1",
    )
    names = [p["name"] for p in partitions]
    assert "meter_samples_default" in names
    assert len([n for n in names if n != "meter_samples_default"]) >= 5

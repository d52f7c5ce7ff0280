"""Database roles with least privilege, created and kept up to date by the migration.

On AWS the functions do not connect as the Aurora master user (issue 13): the charger path
(connect, message, disconnect, commands) and the operator path (api) each log in as a role of
their own that may read and write rows and nothing else: no DDL, no role management, no
``rds_superuser`` powers, no access to other databases' objects. The scheduled jobs and the
migration keep the owner (the master user): the meter housekeeping creates, attaches and drops
partitions, which PostgreSQL allows only to a table's owner.

The migration (``csms.app.migrate``) calls :func:`ensure_role` for each role with the password
from its Secrets Manager secret; the rotation function (``csms.app.rotate``) calls
:func:`set_password`. Privileges on tables created later (partitions, new migrations) come
from default privileges of the owner.
"""

from __future__ import annotations

import re
from typing import Final

from sqlalchemy import Connection, Engine, text

#: What a runtime role may do: rows of the application's tables, its sequences and functions.
TABLE_PRIVILEGES: Final = "SELECT, INSERT, UPDATE, DELETE"
SEQUENCE_PRIVILEGES: Final = "USAGE, SELECT, UPDATE"
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def _identifier(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(f"not a role name we create: {name!r}")
    return f'"{name}"'


def ensure_role(engine: Engine, name: str, password: str, schema: str = "public") -> None:
    """Create ``name`` (LOGIN, nothing else) or set its password, and grant it the runtime
    privileges on ``schema``: now and, through default privileges, on what the owner creates."""
    role = _identifier(name)
    with engine.begin() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :name"), {"name": name}).first()
        if exists is None:
            conn.execute(text(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT"))
        _set_password(conn, role, password)
        database = conn.execute(text("SELECT current_database()")).scalar_one()
        conn.execute(text(f'GRANT CONNECT ON DATABASE "{database}" TO {role}'))
        conn.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {role}"))
        conn.execute(text(f"GRANT {TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA {schema} TO {role}"))
        conn.execute(text(f"GRANT {SEQUENCE_PRIVILEGES} ON ALL SEQUENCES IN SCHEMA {schema} TO {role}"))
        conn.execute(text(f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {schema} TO {role}"))
        conn.execute(
            text(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT {TABLE_PRIVILEGES} ON TABLES TO {role}")
        )
        conn.execute(
            text(
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema}"
                f" GRANT {SEQUENCE_PRIVILEGES} ON SEQUENCES TO {role}"
            )
        )
        conn.execute(
            text(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT EXECUTE ON FUNCTIONS TO {role}")
        )


def set_password(engine: Engine, name: str, password: str) -> None:
    """Give ``name`` a new password (secret rotation)."""
    with engine.begin() as conn:
        _set_password(conn, _identifier(name), password)


def _set_password(conn: Connection, role: str, password: str) -> None:
    # ALTER ROLE takes no bind parameters: the password is quoted as a literal, by PostgreSQL.
    literal = conn.execute(text("SELECT quote_literal(:p)"), {"p": password}).scalar_one()
    conn.execute(text(f"ALTER ROLE {role} PASSWORD {literal}"))

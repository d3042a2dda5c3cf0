"""Schema migrations (Alembic), run from code: `apigov registry migrate` or on first use.

Alembic is imported only when a migration runs: every other command checks the schema's
revision with one query against `HEAD`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

# The newest migration's id (a test keeps it equal to the newest file in migrations/versions/).
HEAD = "0003"

# Any fixed number: the PostgreSQL advisory lock that serialises migrations of one database.
_LOCK_KEY = 0x61706967


def _config(connection: Connection) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
        return None if row is None else str(row[0])


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` in one transaction (PostgreSQL DDL is transactional)."""
    from alembic import command

    with engine.connect() as connection:
        # Several processes may open a new registry at once: one migrates, the others wait and
        # then find the schema current (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock).
        connection.execution_options(apigov_write=True)
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
            command.upgrade(_config(connection), revision)

"""Migrations build exactly the tables the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from apigov.registry import migrate
from apigov.registry.models import Base
from apigov.registry.sql import SqlRegistry


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS))
    return config


def test_head_constant_is_the_newest_migration() -> None:
    assert ScriptDirectory.from_config(_config()).get_current_head() == migrate.HEAD


def test_migrated_schema_matches_the_models(registry_url: str) -> None:
    store = SqlRegistry(registry_url)
    try:
        with store.engine.connect() as connection:
            context = MigrationContext.configure(connection)
            assert compare_metadata(context, Base.metadata) == []
        assert migrate.current_revision(store.engine) == migrate.HEAD
    finally:
        store.close()


def test_downgrade_and_upgrade_again(registry_url: str) -> None:
    store = SqlRegistry(registry_url)
    try:
        with store.engine.begin() as connection:
            config = _config()
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        with store.engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(store.engine)
        with store.engine.connect() as connection:
            assert set(Base.metadata.tables) <= set(inspect(connection).get_table_names())
    finally:
        store.close()


def test_processes_opening_a_new_registry_at_once_migrate_it_once(registry_url: str) -> None:
    barrier = threading.Barrier(6)
    failures: list[BaseException] = []

    def open_registry() -> None:
        try:
            barrier.wait(timeout=60)
            SqlRegistry(registry_url).close()
        except BaseException as error:  # surfaced by the assertion below
            failures.append(error)

    workers = [threading.Thread(target=open_registry) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not failures, failures
    store = SqlRegistry(registry_url)
    try:
        assert migrate.current_revision(store.engine) == migrate.HEAD
    finally:
        store.close()

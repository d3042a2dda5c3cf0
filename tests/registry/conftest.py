"""Registry fixtures: every storage test runs on SQLite and on a real PostgreSQL 15."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from registry_support import fresh_database, install_pact_broker_cli, postgres_server

from apigov.registry.sql import SqlRegistry


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def pact_broker_cli() -> Path:
    """The Rust Pact CLI's `pact-broker` (npm package `@pact-foundation/pact-cli`), installed
    once per machine into `<repo>/.cache/npm-pact` (git-ignored)."""
    return install_pact_broker_cli()


@pytest.fixture(params=["sqlite", "postgresql"])
def registry_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty registry's location: a SQLite file, or a new database on the PostgreSQL server."""
    if request.param == "sqlite":
        return str(tmp_path / "registry.db")
    server: str = request.getfixturevalue("postgres_url")
    return fresh_database(server)


@pytest.fixture
def registry(registry_url: str) -> Iterator[SqlRegistry]:
    store = SqlRegistry(registry_url)
    yield store
    store.close()

"""Each page makes a fixed number of statements, whatever the size of the registry.

Two registries of the same shape, one with ten times the services and twice the versions of
the other, answer every page with exactly as many SQL statements: nothing is read one row at a
time.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from apigov.registry.domain import ContractFile, Role
from apigov.registry.server.app import create_app
from apigov.registry.sql import SqlRegistry
from apigov.registry.web import diffview, matrix, operations
from helpers import item_pact, item_spec


def _name(index: int) -> str:
    return f"svc{index:05d}"


def seed(location: str, services: int, versions: int) -> None:
    """Every service holds pacts with the next two; each version's spec differs; the newest
    version of each service is deployed to `prod`, each on its own team of ten."""
    store = SqlRegistry(location)
    try:
        for index in range(services):
            name = _name(index)
            for version in range(versions):
                files = [ContractFile("openapi.yaml", Role.SPEC, item_spec(revision=f"v{version}"))]
                for step in (1, 2):
                    provider = _name((index + step) % services)
                    files.append(
                        ContractFile(
                            f"pacts/{name}-{provider}.json",
                            Role.PACT,
                            item_pact(name, provider),
                            provider,
                        )
                    )
                store.publish(name, f"1.{version}", files, branch="main")
            store.record_deployment(name, f"1.{versions - 1}", "prod")
    finally:
        store.close()


def statements_per_page(location: str, versions: int) -> dict[str, int]:
    pages = [
        "/ui/",
        "/ui/services",
        "/ui/services?q=svc&team=",
        f"/ui/services/{_name(1)}",
        "/ui/matrix?env=prod",
        f"/ui/matrix?env=prod&service={_name(1)}&version=1.{versions - 1}",
        f"/ui/diff?service={_name(1)}",
    ]
    counts: dict[str, int] = {}
    with TestClient(create_app(location)) as client:
        engine = client.app.state.engine  # type: ignore[attr-defined]
        seen = [0]

        def count(*_: Any) -> None:
            seen[0] += 1

        event.listen(engine, "before_cursor_execute", count)
        for path in pages:
            # Cold caches: parsed specs and comparisons are remembered by content, and both
            # registries hold the same contents.
            operations._cache.clear()
            diffview._cache.clear()
            seen[0] = 0
            answer = client.get(path)
            assert answer.status_code == 200, answer.text[-2000:]
            counts[path.replace(f"1.{versions - 1}", "LATEST")] = seen[0]
        event.remove(engine, "before_cursor_execute", count)
    return counts


@pytest.fixture
def no_checks_while_viewing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The matrix runs a few missing static checks per view: the count is of its reads.
    monkeypatch.setattr(matrix, "CHECKS_PER_PAGE", 0)
    yield


def test_pages_make_as_many_statements_for_ten_times_the_services(
    tmp_path: Path, no_checks_while_viewing: None
) -> None:
    small = str(tmp_path / "small.db")
    large = str(tmp_path / "large.db")
    seed(small, services=4, versions=2)
    seed(large, services=40, versions=4)
    counted_small = statements_per_page(small, versions=2)
    counted_large = statements_per_page(large, versions=4)
    assert counted_small == counted_large
    # And a handful each: a page is a few batched queries, not one per row.
    assert max(counted_large.values()) <= 40, counted_large

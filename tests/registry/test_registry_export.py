"""`registry export` / `registry import`: a JSON-lines dump of everything, replayed into an
empty registry (here SQLite -> PostgreSQL) gives the same can-i-deploy answers and the same
dump again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from registry_support import apigov_in_process as _run
from registry_support import fresh_database

from apigov.registry.gate import Decision, Policy, can_i_deploy, can_i_deploy_to_tag
from apigov.registry.publishing import collect_service_folder
from apigov.registry.server.auth import Scope, TokenStore
from apigov.registry.sql import SqlRegistry
from apigov.spec.loader import Loader
from helpers import CONTRACTS

QUESTIONS = [
    ("orders", "1.0.0", "production"),
    ("orders", "1.0.0", "staging"),
    ("payments", "1.0.0", "production"),
    ("payments", "2.0.0", "production"),
    ("inventory", "1.0.0", "production"),
]


def _seed(location: str) -> None:
    """The example fleet with deployments, a release, an ended deployment, a verification,
    cached static results, a token, tags and a main branch."""
    store = SqlRegistry(location)
    try:
        for service in ("payments", "inventory", "orders"):
            collected = collect_service_folder(CONTRACTS / service, service, Loader())
            store.publish(service, "1.0.0", collected.files, metadata=collected.metadata)
        store.record_deployment("payments", "1.0.0", "production")
        store.record_deployment("payments", "1.0.0", "staging")
        store.record_undeployment("payments", "staging")
        store.record_release("inventory", "1.0.0", "production")
        orders = store.version("orders", "1.0.0")
        assert orders is not None
        [pact] = [p for p in orders.pacts if p.provider == "payments"]
        store.record_verification("payments", "1.0.0", "orders", pact.sha256, True)
        for question in QUESTIONS:
            can_i_deploy(store, *question)  # caches the static results as evidence
        TokenStore(store.engine).create("ci", Scope.PUBLISH)
        # Tags (one version with two, one tag on two services) and a named main branch.
        store.add_tags("payments", "1.0.0", ["prod", "v1"])
        store.add_tags("orders", "1.0.0", ["prod"])
        store.set_main_branch("orders", "trunk")
    finally:
        store.close()


def _labels(location: str) -> dict[str, Any]:
    """What tags and main branches answer: each version's tags, each service's main branch,
    and the pacts held with payments as consumer version selectors see them."""
    store = SqlRegistry(location)
    try:
        return {
            "tags": {
                f"{service}@1.0.0": store.version_tags(service, "1.0.0")
                for service in ("payments", "inventory", "orders")
            },
            "main": {s: store.main_branch(s) for s in ("payments", "inventory", "orders")},
            "pacts": store.pact_publications("payments"),
        }
    finally:
        store.close()


def _answers(location: str) -> list[Decision]:
    store = SqlRegistry(location)
    try:
        by_environment = [
            can_i_deploy(store, *question, policy=policy)
            for question in QUESTIONS
            for policy in (Policy(), Policy(require_verification=True))
        ]
        # And for a tag (the Broker's --to TAG): the tags moved with the versions.
        by_tag = [
            can_i_deploy_to_tag(store, service, "1.0.0", "prod")
            for service in ("orders", "payments", "inventory")
        ]
        return by_environment + by_tag
    finally:
        store.close()


def test_sqlite_to_postgresql_keeps_every_answer(tmp_path: Path, postgres_url: str) -> None:
    source = str(tmp_path / "source.db")
    _seed(source)
    dump = tmp_path / "dump.jsonl"
    code, out, err = _run("registry", "export", str(dump), "--registry", source)
    assert (code, out) == (0, "")
    # 3 versions; orders holds 2 pacts, every version a spec and service.yaml.
    assert err.startswith("Exported 3 services, ")
    assert "3 versions, 2 environments, 2 deployments, 1 release, " in err

    target = fresh_database(postgres_url)
    code, out, err = _run("registry", "import", str(dump), "--registry", target)
    assert code == 0, err
    assert out.startswith("Imported 3 services, ")

    assert _answers(target) == _answers(source)
    # The answers are not all the same one, so the comparison above means something.
    answers = _answers(source)
    verdicts = {decision.deployable for decision in answers}
    assert verdicts == {True, False}
    # orders to prod: payments 1.0.0 carries prod (satisfied), inventory carries no tag.
    assert {(p.provider, p.answer.value) for p in answers[-3].pairs} == {
        ("inventory", "deploy-provider-not-tagged"),
        ("payments", "deploy-pair-satisfied"),
    }
    labels = _labels(target)
    assert labels == _labels(source)
    assert labels["tags"] == {
        "payments@1.0.0": ["prod", "v1"],
        "inventory@1.0.0": [],
        "orders@1.0.0": ["prod"],
    }
    assert labels["main"] == {"payments": None, "inventory": None, "orders": "trunk"}
    [held] = labels["pacts"]
    assert (held.consumer, held.tags, held.main_branch) == ("orders", ("prod",), "trunk")

    again = tmp_path / "again.jsonl"
    assert _run("registry", "export", str(again), "--registry", target)[0] == 0
    assert again.read_text() == dump.read_text()

    # The token came along (as its hash) and still names its scope.
    store = SqlRegistry(target)
    try:
        [token] = TokenStore(store.engine).list()
        assert (token.name, token.scope, token.revoked_at) == ("ci", Scope.PUBLISH, None)
        assert store.has_environment("staging")
        assert store.live_versions("staging", ["payments"]) == []
    finally:
        store.close()


def test_import_refuses_a_registry_that_is_not_empty(tmp_path: Path) -> None:
    source = str(tmp_path / "source.db")
    _seed(source)
    dump = tmp_path / "dump.jsonl"
    assert _run("registry", "export", str(dump), "--registry", source)[0] == 0
    code, _, err = _run("registry", "import", str(dump), "--registry", source)
    assert code == 2
    assert err == (
        f"apigov: error: {dump}: the registry to import into is not empty "
        "(import needs an empty one)\n"
    )


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"kind": "service"}'], ":1: not an apigov-registry-export file"),
        (["not json"], ":1: not JSON: "),
        (
            ['{"kind": "header", "format": "apigov-registry-export", "formatVersion": 3}'],
            ":1: format version 3 is not 1 or 2",
        ),
        (
            [
                '{"kind": "header", "format": "apigov-registry-export", "formatVersion": 1}',
                '{"kind": "version", "service": "ghost", "number": "1", "digest": "d", '
                '"createdAt": "2026-01-01T00:00:00+00:00", "files": []}',
            ],
            ":3: version record refers to or lacks 'ghost'",
        ),
    ],
)
def test_a_broken_dump_is_refused_with_its_line_and_nothing_is_written(
    tmp_path: Path, lines: list[str], message: str
) -> None:
    dump = tmp_path / "dump.jsonl"
    # A valid service line goes second: the import must not keep it when a later line fails.
    dump.write_text(
        "\n".join(
            [
                *lines[:1],
                '{"kind": "service", "name": "early", "createdAt": "2026-01-01T00:00:00+00:00"}',
                *lines[1:],
            ]
        )
        + "\n"
    )
    target = str(tmp_path / "target.db")
    code, _, err = _run("registry", "import", str(dump), "--registry", target)
    assert code == 2
    assert message in err
    # One transaction: the service before the broken line is not there either.
    store = SqlRegistry(target)
    try:
        assert store.audit_log() == []
        assert store.version("early", "1") is None
        assert _run("registry", "export", "-", "--registry", target)[1].count("\n") == 1
    finally:
        store.close()


def test_a_format_1_dump_without_tags_or_main_branches_still_imports(tmp_path: Path) -> None:
    """Dumps written before tags existed (format version 1) have neither member."""
    dump = tmp_path / "dump.jsonl"
    dump.write_text(
        '{"kind": "header", "format": "apigov-registry-export", "formatVersion": 1}\n'
        '{"kind": "service", "name": "orders", "createdAt": "2026-01-01T00:00:00+00:00"}\n'
        '{"kind": "version", "service": "orders", "number": "1", "digest": "d", '
        '"createdAt": "2026-01-01T00:00:00+00:00", "files": []}\n'
    )
    target = str(tmp_path / "target.db")
    assert _run("registry", "import", str(dump), "--registry", target)[0] == 0
    store = SqlRegistry(target)
    try:
        assert store.version_tags("orders", "1") == []
        assert store.main_branch("orders") is None
        assert store.version("orders", "1") is not None
    finally:
        store.close()

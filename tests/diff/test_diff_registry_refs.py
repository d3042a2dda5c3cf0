"""Registry refs as BASE/HEAD: `SERVICE@VERSION` and `SERVICE@ENVIRONMENT`, on a SQLite
registry seeded with `apigov publish` of the fleet."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from apigov.registry.refs import materialise, parse_registry_ref
from apigov.registry.sql import SqlRegistry
from apigov.spec.errors import InputError
from helpers import CONTRACTS, run_apigov, write


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("orders@1.4.0", ("orders", "1.4.0")),
        ("orders@production", ("orders", "production")),
        ("order-service@2.0.0+build.7", ("order-service", "2.0.0+build.7")),
        # Paths, git revisions and other shapes are never refs.
        ("contracts/orders/openapi.yaml", None),
        ("main:contracts/orders/openapi.yaml", None),
        ("HEAD:orders@1.yaml", None),
        ("./orders@1", None),
        ("C:\\specs\\orders@1", None),
        ("orders.yaml", None),
        ("a@b@c", None),
        ("@1.0.0", None),
        ("orders@", None),
        ("-", None),
    ],
)
def test_diff_parse_registry_ref(text: str, expected: tuple[str, str] | None) -> None:
    assert parse_registry_ref(text) == expected


def test_diff_a_file_named_like_a_ref_is_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert parse_registry_ref("orders@1.4.0") == ("orders", "1.4.0")
    write(tmp_path, "orders@1.4.0", "openapi: 3.0.3\n")
    assert parse_registry_ref("orders@1.4.0") is None


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """orders 1.4.0 (the fleet as it is, deployed to production) and 1.5.0 (Order.number
    removed), and shipping 3.0.0 (a consumer of orders, deployed to production; notifications,
    its other consumer, is not in the registry), published with the real commands."""
    folder = tmp_path_factory.mktemp("registry")
    database = str(folder / "registry.db")
    shutil.copytree(CONTRACTS, folder / "contracts")
    spec_path = folder / "contracts" / "orders" / "openapi.yaml"
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    order = spec["components"]["schemas"]["Order"]
    del order["properties"]["number"]
    order["required"].remove("number")
    spec["info"]["version"] = "2.0.0"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    common = ("--registry", database)
    steps = [
        ("publish", str(CONTRACTS / "orders"), "--service", "orders", "--version", "1.4.0"),
        ("publish", "contracts/orders", "--service", "orders", "--version", "1.5.0", "--root", "."),
        ("record-deployment", "orders", "1.4.0", "--env", "production"),
        ("publish", str(CONTRACTS / "shipping"), "--service", "shipping", "--version", "3.0.0"),
        ("record-deployment", "shipping", "3.0.0", "--env", "production"),
    ]
    for step in steps:
        result = run_apigov(*step, *common, cwd=folder)
        assert result.code == 0, result.stderr
    return folder, database


def test_diff_between_an_environment_and_a_version_names_consumers(
    registry: tuple[Path, str],
) -> None:
    _, database = registry
    result = run_apigov(
        "diff",
        "orders@production",
        "orders@1.5.0",
        "--registry",
        database,
        "--consumers",
        "contracts/",
        "--format",
        "json",
    )
    assert result.code == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["inputs"] == ["orders@production:openapi.yaml", "orders@1.5.0:openapi.yaml"]
    removed = {
        f["operation"]: f
        for f in report["findings"]
        if f["id"] == "response-required-property-removed"
    }
    single = removed["GET /orders/{orderId}"]
    assert sorted(single["consumers"]) == ["notifications", "shipping"]
    # A removal points at the base document, named after the ref it came from.
    assert single["location"]["file"] == "orders@production:openapi.yaml"
    assert single["service"] == "orders"


def test_diff_same_version_twice_finds_nothing(registry: tuple[Path, str]) -> None:
    _, database = registry
    result = run_apigov("diff", "orders@production", "orders@1.4.0", "--registry", database)
    assert result.code == 0, result.stderr
    assert result.stdout == "No problems found in 2 documents.\n"


def test_diff_registry_ref_mistakes_exit_2(registry: tuple[Path, str], tmp_path: Path) -> None:
    _, database = registry
    unknown = run_apigov("diff", "orders@9.9.9", "orders@1.4.0", "--registry", database)
    assert unknown.code == 2
    assert "orders has no version 9.9.9 and there is no environment '9.9.9'" in unknown.stderr
    # Reading a ref never creates a registry.
    missing = str(tmp_path / "nothing.db")
    absent = run_apigov("diff", "orders@1.4.0", "orders@1.4.0", "--registry", missing)
    assert absent.code == 2
    assert absent.stderr == f"apigov: error: {missing}: no registry here (name one with " + (
        "--registry or APIGOV_REGISTRY)\n"
    )
    assert not Path(missing).exists()


def test_diff_several_live_versions_must_be_named(
    registry: tuple[Path, str], tmp_path: Path
) -> None:
    _, database = registry
    # A copy, so the module's registry keeps one live version for the other tests.
    copy = str(tmp_path / "copy.db")
    shutil.copyfile(database, copy)
    deployed = run_apigov(
        "record-deployment", "orders", "1.5.0", "--env", "production", "--target", "eu",
        "--registry", copy,
    )  # fmt: skip
    assert deployed.code == 0, deployed.stderr
    result = run_apigov("diff", "orders@production", "orders@1.5.0", "--registry", copy)
    assert result.code == 2
    assert (
        "several versions of orders are live in production (orders@1.4.0, orders@1.5.0); "
        "name one" in result.stderr
    )


def test_diff_materialise_keeps_relative_paths(registry: tuple[Path, str], tmp_path: Path) -> None:
    _, database = registry
    store = SqlRegistry(database, migrate_schema=False)
    try:
        root = materialise("orders@1.4.0", store, tmp_path)
        with pytest.raises(InputError, match="orders has no version nothing"):
            materialise("orders@nothing", store, tmp_path / "x")
    finally:
        store.close()
    # The spec refers to ../_shared/*.yaml: the service folder sits one level down.
    assert root == tmp_path / "_" / "orders" / "openapi.yaml"
    assert root.read_bytes() == (CONTRACTS / "orders" / "openapi.yaml").read_bytes()
    shared = tmp_path / "_" / "_shared" / "problem.yaml"
    assert shared.read_bytes() == (CONTRACTS / "_shared" / "problem.yaml").read_bytes()
    assert (tmp_path / "_" / "orders" / "service.yaml").is_file()
    # Pacts are not part of the spec.
    assert not (tmp_path / "_" / "orders" / "pacts").exists()


def test_diff_files_shared_beside_a_registry_ref_are_named_after_it(
    registry: tuple[Path, str], tmp_path: Path
) -> None:
    _, database = registry
    shutil.copytree(CONTRACTS, tmp_path / "contracts")
    head = tmp_path / "contracts" / "orders" / "openapi.yaml"
    spec = yaml.safe_load(head.read_text(encoding="utf-8"))
    order = spec["components"]["schemas"]["Order"]
    # `subtotal` is a `$ref` to Money in ../_shared/common.yaml: its removal points there.
    del order["properties"]["subtotal"]
    order["required"].remove("subtotal")
    head.write_text(json.dumps(spec), encoding="utf-8")
    result = run_apigov(
        "diff", "orders@1.4.0", "contracts/orders/openapi.yaml", "--root", ".",
        "--registry", database, "--format", "json", cwd=tmp_path,
    )  # fmt: skip
    assert result.code == 1, result.stderr
    files = {f["location"]["file"] for f in json.loads(result.stdout)["findings"]}
    assert files == {"orders@1.4.0:../_shared/common.yaml"}


def test_diff_consumers_from_an_environment_are_the_live_ones(registry: tuple[Path, str]) -> None:
    _, database = registry
    result = run_apigov(
        "diff", "orders@production", "orders@1.5.0", "--consumers-from", "production",
        "--registry", database, "--format", "json",
    )  # fmt: skip
    assert result.code == 1, result.stderr
    removed = {
        f["operation"]: f
        for f in json.loads(result.stdout)["findings"]
        if f["id"] == "response-required-property-removed"
    }
    # Only shipping runs in production; notifications' pact is not in the registry.
    assert removed["GET /orders/{orderId}"]["consumers"] == ["shipping"]
    assert removed["GET /orders"]["consumers"] == ["shipping"]
    unknown = run_apigov(
        "diff", "orders@production", "orders@1.5.0", "--consumers-from", "staging",
        "--registry", database,
    )  # fmt: skip
    assert unknown.code == 2
    assert "there is no environment 'staging'" in unknown.stderr

"""Which environments are production for `apigov fuzz`: the registry's flag and the configuration.

Refusals happen before any request, so most of these need no service: a run that is *not*
refused goes on to connect to 127.0.0.1:9, where nothing listens, and ends with exit 3.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from apigov.registry.domain import ContractFile, Role
from apigov.registry.sql import SqlRegistry
from helpers import REPO, run_apigov, write

SPEC = str(REPO / "tests" / "fuzz" / "specs" / "defects.yaml")
NOWHERE = "http://127.0.0.1:9"
REFUSED_DELETE = (
    "refusing to send DELETE requests to a production target (DELETE /items/{itemId}); "
    "pass --safe or --exclude them, or --allow-destructive"
)
UNREACHABLE = f"apigov: error: {NOWHERE}: cannot connect"


@pytest.fixture
def registry_file(tmp_path: Path) -> str:
    """items@2 published; deployed to `live` (created production) and to `staging` (not)."""
    location = str(tmp_path / "registry.db")
    store = SqlRegistry(location)
    try:
        content = Path(SPEC).read_bytes()
        store.publish("items", "2", [ContractFile("openapi.yaml", Role.SPEC, content)])
    finally:
        store.close()
    for environment, flag in (("live", ["--production"]), ("staging", [])):
        result = run_apigov(
            "record-deployment", "items", "2", "--env", environment, *flag, "--registry", location
        )
        assert result.code == 0, result.stderr
    return location


def test_an_environment_marked_production_in_the_registry_refuses_delete(
    registry_file: str,
) -> None:
    refused = run_apigov(
        "fuzz", SPEC, "--base-url", NOWHERE, "--env", "live", "--registry", registry_file
    )
    assert refused.code == 2
    assert refused.stderr.endswith(REFUSED_DELETE + "\n"), refused.stderr
    # `staging` is in the same registry, not marked production: the run goes ahead.
    allowed = run_apigov(
        "fuzz", SPEC, "--base-url", NOWHERE, "--env", "staging", "--registry", registry_file
    )
    assert allowed.code == 3
    assert allowed.stderr.startswith(UNREACHABLE)
    lifted = run_apigov(
        "fuzz",
        SPEC,
        "--base-url",
        NOWHERE,
        "--env",
        "live",
        "--allow-destructive",
        "--registry",
        registry_file,
    )
    assert lifted.code == 3
    assert lifted.stderr.startswith(UNREACHABLE)


def test_an_environment_marked_production_in_the_configuration_refuses_delete(
    tmp_path: Path,
) -> None:
    config = write(tmp_path, "apigov.yaml", "environments:\n  - {name: live, production: true}\n")
    refused = run_apigov(
        "fuzz", SPEC, "--base-url", NOWHERE, "--env", "live", "--config", str(config)
    )
    assert refused.code == 2
    assert refused.stderr.endswith(REFUSED_DELETE + "\n"), refused.stderr


def test_safe_on_production_refuses_writes_too(tmp_path: Path) -> None:
    """--safe drops DELETE; on production it also promises not to write to shared data."""
    config = write(tmp_path, "apigov.yaml", "environments:\n  - {name: live, production: true}\n")
    refused = run_apigov(
        "fuzz", SPEC, "--base-url", NOWHERE, "--env", "live", "--safe", "--config", str(config)
    )
    assert refused.code == 2
    assert refused.stderr.endswith(
        "refusing to send POST requests to a production target (POST /items); "
        "--exclude them, or --allow-destructive\n"
    ), refused.stderr
    # Without the writes, only reads are left: the run goes ahead.
    reads = run_apigov(
        "fuzz",
        SPEC,
        "--base-url",
        NOWHERE,
        "--env",
        "live",
        "--safe",
        "--exclude",
        "POST *",
        "--config",
        str(config),
    )
    assert reads.code == 3, reads.stderr
    # --safe on a target that is not production keeps writes (positive data only).
    staging = run_apigov(
        "fuzz", SPEC, "--base-url", NOWHERE, "--env", "qa", "--safe", "--config", str(config)
    )
    assert staging.code == 3, staging.stderr


def test_destructive_methods_from_the_configuration(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        "apigov.yaml",
        "environments:\n  - {name: live, production: true}\n"
        "fuzz:\n  destructive-methods: [DELETE, POST]\n",
    )
    refused = run_apigov(
        "fuzz", SPEC, "--base-url", NOWHERE, "--env", "live", "--config", str(config)
    )
    assert refused.code == 2
    assert (
        "refusing to send DELETE, POST requests to a production target "
        "(POST /items, DELETE /items/{itemId})"
    ) in refused.stderr


def test_asking_about_an_environment_creates_no_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("APIGOV_REGISTRY", raising=False)
    result = run_apigov("fuzz", SPEC, "--base-url", NOWHERE, "--env", "staging", cwd=tmp_path)
    assert result.code == 3, result.stderr
    assert not (tmp_path / ".apigov").exists()

"""The policy of the Pact Broker routes: Pact clients cannot say which evidence can-i-deploy
needs, so `apigov registry serve` takes it (`--broker-require`, `--broker-max-age`, else the
configuration's `can-i-deploy` section) and its Broker matrix and can-i-deploy answer with it.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from registry_support import apigov_in_process, serve_registry

from apigov.registry.publishing import collect_service_folder
from apigov.registry.sql import SqlRegistry
from apigov.spec.loader import Loader
from helpers import CONTRACTS


def _seed(location: str) -> None:
    """orders 1.0.0 published; payments and inventory 1.0.0 deployed to production. Both of
    orders' pairs pass the static check; neither has a verification result."""
    registry = SqlRegistry(location)
    try:
        for service in ("payments", "inventory", "orders"):
            collected = collect_service_folder(CONTRACTS / service, service, Loader())
            registry.publish(service, "1.0.0", collected.files, metadata=collected.metadata)
        registry.record_deployment("payments", "1.0.0", "production")
        registry.record_deployment("inventory", "1.0.0", "production")
    finally:
        registry.close()


def _summary(url: str) -> Any:
    query = urlencode({"pacticipant": "orders", "version": "1.0.0", "environment": "production"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"{url}/can-i-deploy?{query}", timeout=30) as answer:
        return json.loads(answer.read())["summary"]


def test_the_configured_policy_applies_to_the_broker_routes(tmp_path: Path) -> None:
    location = str(tmp_path / "registry.db")
    _seed(location)
    config = tmp_path / "apigov.yaml"
    config.write_text("can-i-deploy:\n  require: [verification]\n", encoding="utf-8")

    with serve_registry(location, "--no-auth", "--config", str(config)) as url:
        configured = _summary(url)
    # --broker-require replaces the configuration: `static` alone asks for the default.
    with serve_registry(
        location, "--no-auth", "--config", str(config), "--broker-require", "static"
    ) as url:
        static_only = _summary(url)

    # Verification required, none recorded: nothing failed, evidence missing -> unknown (null).
    assert configured["deployable"] is None
    assert (configured["success"], configured["failed"], configured["unknown"]) == (0, 0, 2)
    assert static_only["deployable"] is True
    assert (static_only["success"], static_only["failed"], static_only["unknown"]) == (2, 0, 0)


def test_a_policy_that_is_not_one_stops_the_server_before_it_starts(tmp_path: Path) -> None:
    location = str(tmp_path / "registry.db")
    code, _, err = apigov_in_process(
        "registry", "serve", "--registry", location, "--broker-require", "verified"
    )
    assert code == 2
    assert err.startswith("apigov: error: --broker-require: 'verified' is not an evidence name")
    code, _, err = apigov_in_process(
        "registry", "serve", "--registry", location, "--broker-max-age", "soon"
    )
    assert code == 2
    assert err == (
        "apigov: error: --broker-max-age: max-age 'soon' is not an age like 12h, 7d or 2w\n"
    )
    assert not Path(location).exists()  # refused before the registry was even opened


def test_a_body_size_that_is_not_one_is_refused_under_its_own_name(tmp_path: Path) -> None:
    location = str(tmp_path / "registry.db")
    code, _, err = apigov_in_process(
        "registry", "serve", "--registry", location, "--max-body-size", "lots"
    )
    assert code == 2
    # The option named is the one given (it once named --max-size, the documents' option).
    assert "Invalid value for --max-body-size: 'lots' is not a size like 64M" in err
    assert not Path(location).exists()

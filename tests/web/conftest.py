"""Fixtures for the registry's web pages (shared with the fleet map's tests; keep names stable).

- `web_server`: a real `apigov registry serve` (uvicorn) on a free port of 127.0.0.1, over a
  temporary SQLite registry seeded from the example fleet in contracts/ through the server's
  own JSON API (publish, record-deployment, verification and fuzz evidence);
- `web_client`: a FastAPI TestClient over a copy of that seeded registry (fast page tests);
- `browser`: headless Debian chromium driven by Playwright's sync API;
- `screenshot_dir`: where browser tests save their PNGs, under pytest's output folder.

The seeded fleet (`Fleet` says the same in code):

    every service of contracts/ at 1.0.0 (branch main), deployed to staging and production
    payments 1.1.0 (branch main), deployed to staging
    orders 2.0.0 (branch remove-order-number): demo/orders-2.0.0.openapi.yaml, which removes
        Order.number; deployed to staging, where it breaks notifications and shipping
    can-i-deploy asked for orders 2.0.0 in staging and production (so every pair orders is
        part of has its static result stored; notifications -> shipping has none)
    a green live verification of orders' pact (1.0.0's, which 2.0.0 holds unchanged) with
        payments 1.1.0; a green fuzz run of payments 1.1.0 in staging
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from apigov.registry.domain import Registry
from helpers import CONTRACTS, REPO, wait_until_healthy

SERVER_START_SECONDS = 60
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_INSTALL_SECONDS = 600
SERVICES = ("inventory", "notifications", "orders", "payments", "shipping")
BREAKING_SPEC = REPO / "demo" / "orders-2.0.0.openapi.yaml"


@dataclass(frozen=True)
class Fleet:
    """What the seeded registry holds, for assertions."""

    services: tuple[str, ...] = SERVICES
    environments: tuple[str, ...] = ("production", "staging")
    broken_provider: str = "orders@2.0.0"
    broken_consumers: tuple[str, ...] = ("notifications", "shipping")
    broken_environment: str = "staging"


@dataclass(frozen=True)
class WebServer:
    url: str
    registry: str  # the SQLite file the server serves
    token: str  # an admin token (writes through the JSON API)
    fleet: Fleet


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def seed_fleet(registry: Registry, workdir: Path) -> None:
    """Publish the example fleet and say where it runs, through any `Registry` (here the
    HTTP client, so every write goes through the server's API)."""
    from apigov.registry.publishing import collect_service_folder
    from apigov.spec.loader import Loader

    def publish(folder: Path, service: str, version: str, branch: str) -> dict[str, str]:
        collected = collect_service_folder(folder, service, Loader(root=folder.parent))
        assert collected.refused is None, f"{folder} does not publish"
        registry.publish(
            service, version, collected.files, branch=branch, metadata=collected.metadata
        )
        return {f.path: f.sha256 for f in collected.files}

    pacts: dict[str, dict[str, str]] = {}
    for service in SERVICES:
        pacts[service] = publish(CONTRACTS / service, service, "1.0.0", "main")
        for environment in ("staging", "production"):
            registry.record_deployment(service, "1.0.0", environment)
    publish(CONTRACTS / "payments", "payments", "1.1.0", "main")
    registry.record_deployment("payments", "1.1.0", "staging")
    # A pull request's orders: its spec removes Order.number, which two consumers read.
    tree = workdir / "pr"
    shutil.copytree(CONTRACTS, tree / "contracts")
    shutil.copyfile(BREAKING_SPEC, tree / "contracts" / "orders" / "openapi.yaml")
    publish(tree / "contracts" / "orders", "orders", "2.0.0", "remove-order-number")
    registry.record_deployment("orders", "2.0.0", "staging")
    registry.record_verification(
        "payments", "1.1.0", "orders", pacts["orders"]["pacts/orders-payments.json"], True
    )
    registry.record_fuzz_run(
        "payments",
        "1.1.0",
        "staging",
        passed=True,
        complete=True,
        run={"seed": 7, "requests": 412, "failures": []},
    )


@pytest.fixture(scope="session")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    """`apigov registry serve` over the seeded fleet (writes need a token, reads are open)."""
    from apigov.registry.client import HttpRegistry
    from apigov.registry.server.auth import Scope, TokenStore
    from apigov.registry.sql import SqlRegistry

    workdir = tmp_path_factory.mktemp("web-registry")
    database = workdir / "registry.db"
    store = SqlRegistry(str(database))
    token = TokenStore(store.engine).create("web-tests", Scope.ADMIN)
    store.close()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = workdir / "server.log"
    command = [sys.executable, "-m", "apigov", "registry", "serve", "--registry", str(database)]
    with log.open("wb") as output:
        server = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "NO_COLOR": "1"},
        )
    try:
        wait_until_healthy(url, server, SERVER_START_SECONDS, lambda: log.read_text()[-3000:])
        client = HttpRegistry(url, token=token)
        try:
            seed_fleet(client, workdir)
            # The gate, asked as a pipeline would: it checks and stores each pair's result.
            for environment in ("staging", "production"):
                client.decide("orders", "2.0.0", environment)
        finally:
            client.close()
        yield WebServer(url, str(database), token, Fleet())
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=20)


@pytest.fixture(scope="session")
def web_client(web_server: WebServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A TestClient over the app, on a copy of the server's seeded registry (reads are open).

    A copy: viewing a matrix stores the static checks it runs, and what one test's views
    store must not change what another test (or the fleet map's) sees on `web_server`.
    The copy's location is `web_client.app.state.registry.location`.
    """
    from fastapi.testclient import TestClient

    from apigov.registry.server.app import create_app

    copy = tmp_path_factory.mktemp("web-client") / "registry.db"
    source = sqlite3.connect(web_server.registry)
    target = sqlite3.connect(copy)
    try:
        source.backup(target)  # consistent while the server has it open (WAL)
    finally:
        target.close()
        source.close()
    with TestClient(create_app(str(copy))) as client:
        yield client


def _install_chromium() -> None:
    """Debian's chromium, when it is missing: failing loudly, never skipping."""
    apt = shutil.which("apt-get")
    if apt is None:
        pytest.fail(f"{CHROMIUM} is missing and apt-get is not available to install it")
    command = [apt, "install", "-y", "chromium"]
    if os.geteuid() != 0:
        sudo = shutil.which("sudo")
        if sudo is None:
            pytest.fail(f"{CHROMIUM} is missing; install it with: apt-get install -y chromium")
        command = [sudo, "-n", *command]
    try:
        result = subprocess.run(
            command,
            capture_output=True,
            timeout=CHROMIUM_INSTALL_SECONDS,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"apt-get install chromium took longer than {CHROMIUM_INSTALL_SECONDS} s")
    if result.returncode != 0 or not CHROMIUM.exists():
        output = (result.stdout + result.stderr).decode("utf-8", "replace")[-2000:]
        pytest.fail(f"could not install chromium ({result.returncode}):\n{output}")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian chromium under Playwright's sync API (no Playwright-managed browsers)."""
    if not CHROMIUM.exists():
        _install_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser page (its own context: no cookies shared between tests)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Under pytest's output folder (`--basetemp`, else its temporary root): one PNG per test."""
    return tmp_path_factory.mktemp("screenshots", numbered=False)

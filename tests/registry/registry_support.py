"""Registry test support: a real PostgreSQL 15 server for the session, fresh databases per test.

The tests run as root; PostgreSQL refuses to, so the server runs as the `postgres` user in a
temporary folder it owns, on a free port of 127.0.0.1, and is stopped at the end of the session.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from apigov.registry.domain import ContractFile, Role
from helpers import CONTRACTS, REPO, npm_tool, wait_until_healthy

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PACT_CLI_PACKAGE = "@pact-foundation/pact-cli@18.1.2"
NPM_PREFIX = REPO / ".cache" / "npm-pact"
CLIENT_ENVIRONMENT = {
    **os.environ,
    "NO_COLOR": "1",
    "PACT_DO_NOT_TRACK": "true",
    # The server is on 127.0.0.1: never through a proxy from the environment.
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}


def install_pact_broker_cli() -> Path:
    """The Pact CLI's `pact-broker`, installed with npm once (xdist workers share it)."""
    return npm_tool(NPM_PREFIX, PACT_CLI_PACKAGE, "pact-broker")


def run_pact_broker(cli: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`pact-broker ARGS --broker-base-url URL`, from the repository's top folder."""
    return subprocess.run(
        [str(cli), *args, "--broker-base-url", url],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env=CLIENT_ENVIRONMENT,
        check=False,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_postgres(*command: str) -> None:
    subprocess.run(
        ["runuser", "-u", "postgres", "--", *command],
        check=True,
        capture_output=True,
        timeout=120,
    )


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Start PostgreSQL 15 in a temporary folder; yields the URL of its `postgres` database."""
    if not (PG_BIN / "initdb").exists():
        pytest.fail(f"PostgreSQL 15 is required for the registry tests ({PG_BIN} not found)")
    base = Path(tempfile.mkdtemp(prefix="apigov-pg-", dir="/tmp"))
    data, sockets = base / "data", base / "sockets"
    sockets.mkdir()
    shutil.chown(base, "postgres", "postgres")
    shutil.chown(sockets, "postgres", "postgres")
    port = _free_port()
    try:
        _as_postgres(
            str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync"
        )
        options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        _as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(base / "log"),
            "-w", "-t", "60", "start",
        )  # fmt: skip
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def fresh_database(server_url: str) -> str:
    """A new, empty database on the server: every test starts from nothing."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:16]}"
    dsn = server_url.replace("postgresql://", "postgresql://", 1)
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def spec_file(text: str, path: str = "openapi.yaml") -> ContractFile:
    return ContractFile(path, Role.SPEC, text.encode())


def pact_file(path: str, content: bytes, provider: str) -> ContractFile:
    return ContractFile(path, Role.PACT, content, provider)


def fleet_file(service: str, relative: str) -> bytes:
    return (CONTRACTS / service / relative).read_bytes()


@contextlib.contextmanager
def serve_registry(location: str, *options: str, wait: float = 60) -> Iterator[str]:
    """Run `apigov registry serve` on a free port of 127.0.0.1 in a subprocess; yields its URL.

    Waits (bounded) until the health check answers, and stops the server at the end.
    """
    import os
    import sys

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "apigov", "registry", "serve", "--registry", location]
    server = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port), *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        wait_until_healthy(
            url,
            server,
            wait,
            lambda: server.stderr.read().decode() if server.stderr else "",
        )
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=20)
        if server.stderr:
            server.stderr.close()


def apigov_in_process(*argv: str) -> tuple[int, str, str]:
    """`apigov ARGV` in this process, through the real entry point (its error handler and exit
    codes) and much faster than a subprocess: exit code, stdout, stderr."""
    import io
    from contextlib import redirect_stderr, redirect_stdout

    from apigov.cli.app import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(list(argv))
        except SystemExit as ended:
            code = int(ended.code or 0)
    return code, out.getvalue(), err.getvalue()

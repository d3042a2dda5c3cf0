"""Reliability of the served registry under concurrent writers, a crash, and two servers.

Everything here is real: `apigov registry serve` in subprocesses on 127.0.0.1, SQLite files in
WAL mode and the PostgreSQL 15 server of the session, clients on threads speaking HTTP. Waits
and counts are bounded; nothing is timed.
"""

from __future__ import annotations

import base64
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from registry_support import fresh_database

from apigov.registry.domain import ContractFile, Role, version_digest
from apigov.registry.sql import SqlRegistry

SERVER_START_SECONDS = 60
REQUEST_SECONDS = 60
# The shared part every version refers to: stored once, however many versions hold it.
COMMON = b"components:\n  schemas:\n    Money:\n      type: integer\n"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServerProcess:
    """`apigov registry serve` (one uvicorn worker, in the command's own process) on a free port.

    Unlike `serve_registry`, the test holds the process: it can SIGKILL it and start another
    on the same storage.
    """

    def __init__(self, location: str, log: Path) -> None:
        self.location = location
        self.log = log
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ServerProcess:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "apigov",
                    "registry",
                    "serve",
                    "--registry",
                    self.location,
                    "--no-auth",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                ],
                stdout=log,
                stderr=log,
                env={**os.environ, "NO_COLOR": "1"},
            )
        return self

    def wait_until_healthy(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + SERVER_START_SECONDS
        with httpx.Client(trust_env=False, timeout=2) as probe:
            while True:
                if self.process.poll() is not None:
                    pytest.fail(f"the registry server exited: {self.log.read_text()[-2000:]}")
                try:
                    if probe.get(f"{self.url}/api/v1/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"the registry server did not answer within {SERVER_START_SECONDS} s"
                    )
                time.sleep(0.1)

    def kill(self) -> int:
        """SIGKILL: no shutdown handler, no rollback by the server, open transactions cut."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        return self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=20)


@pytest.fixture
def servers_for(tmp_path: Path) -> Iterator[Any]:
    """Start N servers on one storage (migrated first, so they do not race to create tables)."""
    started: list[ServerProcess] = []

    def start(location: str, count: int) -> list[ServerProcess]:
        SqlRegistry(location).close()
        group = [
            ServerProcess(location, tmp_path / f"server-{len(started) + i}.log").start()
            for i in range(count)
        ]
        started.extend(group)
        for server in group:
            server.wait_until_healthy()
        return group

    yield start
    for server in started:
        server.stop()


def _storage(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        return str(tmp_path / "registry.db")
    return fresh_database(request.getfixturevalue("postgres_url"))


def _b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


def _body(files: list[ContractFile]) -> dict[str, Any]:
    return {
        "files": [
            {
                "path": f.path,
                "role": f.role.value,
                "content": _b64(f.content),
                "provider": f.provider,
            }
            for f in files
        ]
    }


def _client() -> httpx.Client:
    return httpx.Client(trust_env=False, timeout=REQUEST_SECONDS)


def _all_pages(client: httpx.Client, url: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(1000):  # bounded: far more pages than any test writes
        params: dict[str, Any] = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
        page = client.get(url, params=params).json()
        items += page["items"]
        cursor = page["nextCursor"]
        if not cursor:
            return items
    raise AssertionError(f"{url} did not end")


def _stored_version(client: httpx.Client, base: str, service: str, version: str) -> Any:
    answer = client.get(f"{base}/api/v1/services/{service}/versions/{version}")
    if answer.status_code == 404:
        return None
    assert answer.status_code == 200, answer.text
    return answer.json()


def _contents(client: httpx.Client, base: str, sha256s: set[str]) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    wanted = sorted(sha256s)
    for start in range(0, len(wanted), 1000):
        answer = client.post(
            f"{base}/api/v1/content-lookups", json={"sha256s": wanted[start : start + 1000]}
        )
        assert answer.status_code == 200, answer.text
        for item in answer.json()["items"]:
            found[item["sha256"]] = base64.b64decode(item["content"])
    return found


# ---- 16 concurrent clients publishing overlapping versions ---------------------------------

SERVICES = ("alpha", "beta", "gamma")
VERSIONS = ("1.0.0", "1.1.0", "2.0.0")
CLIENTS = 16


def _variant_files(service: str, version: str, variant: int) -> list[ContractFile]:
    """What client group `variant` publishes as service@version: two variants per version
    differ in the spec; the pact depends on the service and variant only (shared by versions);
    the common part is the same for everything."""
    spec = (
        f"openapi: 3.0.3\ninfo: {{title: {service}, version: '{version}'}}\n"
        f"x-variant: {variant}\npaths: {{}}\n"
    ).encode()
    pact = f'{{"consumer": {{"name": "{service}"}}, "variant": {variant}}}'.encode()
    return [
        ContractFile("../_shared/common.yaml", Role.SPEC_PART, COMMON),
        ContractFile("openapi.yaml", Role.SPEC, spec),
        ContractFile(f"pacts/{service}-ledger.json", Role.PACT, pact, "ledger"),
    ]


@dataclass
class Outcome:
    client: int
    service: str
    version: str
    variant: int
    status: int
    new_contents: list[str] = field(default_factory=list)


def _overlapping_burst(servers: list[ServerProcess]) -> list[Outcome]:
    """16 clients, each publishing every service@version once in its own shuffled order.

    Client k publishes variant k % 2 through server k % len(servers): with two servers every
    conflict is between writes that came through different processes.
    """
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS, timeout=60)
    failures: list[BaseException] = []

    def run(k: int) -> None:
        try:
            base = servers[k % len(servers)].url
            keys = [(s, v) for s in SERVICES for v in VERSIONS]
            random.Random(k).shuffle(keys)
            with _client() as client:
                start.wait()
                for service, version in keys:
                    variant = k % 2
                    answer = client.put(
                        f"{base}/api/v1/services/{service}/versions/{version}",
                        json=_body(_variant_files(service, version, variant)),
                    )
                    news = answer.json().get("newContents", []) if answer.is_success else []
                    with lock:
                        outcomes.append(
                            Outcome(k, service, version, variant, answer.status_code, news)
                        )
        except BaseException as error:  # reported by the main thread
            failures.append(error)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not any(t.is_alive() for t in threads), "a client did not finish within 240 s"
    assert not failures, failures
    return outcomes


def _check_overlapping_burst(outcomes: list[Outcome], base: str) -> None:
    keys = [(s, v) for s in SERVICES for v in VERSIONS]
    assert len(outcomes) == CLIENTS * len(keys)
    winners: dict[tuple[str, str], int] = {}
    for key in keys:
        mine = [o for o in outcomes if (o.service, o.version) == key]
        statuses = Counter(o.status for o in mine)
        # 8 clients per variant: one publish creates it, the 7 others of its variant are
        # acknowledged as the same content, and all 8 of the other variant are conflicts.
        assert statuses == {201: 1, 200: 7, 409: 8}, (key, statuses)
        (created,) = [o for o in mine if o.status == 201]
        winners[key] = created.variant
        assert {o.variant for o in mine if o.status == 200} == {created.variant}
        assert {o.variant for o in mine if o.status == 409} == {1 - created.variant}

    with _client() as client:
        # Exactly the acknowledged versions, each holding exactly the winning variant's files.
        for service in SERVICES:
            listed = _all_pages(client, f"{base}/api/v1/services/{service}/versions")
            assert sorted(v["number"] for v in listed) == sorted(VERSIONS)
        expected_shas: set[str] = set()
        for (service, version), variant in winners.items():
            files = _variant_files(service, version, variant)
            stored = _stored_version(client, base, service, version)
            assert stored["digest"] == version_digest(files)
            assert sorted((f["path"], f["role"], f["sha256"]) for f in stored["files"]) == sorted(
                (f.path, f.role.value, f.sha256) for f in files
            )
            expected_shas |= {f.sha256 for f in files}
        contents = _contents(client, base, expected_shas)
        for (service, version), variant in winners.items():
            for f in _variant_files(service, version, variant):
                assert contents[f.sha256] == f.content

        # Each distinct content was reported new by exactly one acknowledged publish, and none
        # by a repeat or a conflict (they store nothing): the count of new contents over all
        # answers is the count of distinct contents the winners hold.
        reported = [sha for o in outcomes for sha in o.new_contents]
        assert sorted(reported) == sorted(expected_shas)
        # The common part (held by all 9 versions) was stored once, by whichever came first.
        common = ContractFile("../_shared/common.yaml", Role.SPEC_PART, COMMON).sha256
        assert reported.count(common) == 1

        # The audit log has one publish per created version, nothing for repeats or conflicts.
        audit = _all_pages(client, f"{base}/api/v1/audit-log")
        publishes = sorted(e["subject"] for e in audit if e["action"] == "publish")
        assert publishes == sorted(f"{s}@{v}" for s, v in keys)


@pytest.mark.parametrize(
    ("backend", "server_count"),
    [("sqlite", 1), ("postgresql", 1), ("postgresql", 2)],
    ids=["sqlite", "postgresql", "postgresql-two-servers"],
)
def test_concurrent_overlapping_publishes_keep_exactly_what_was_acknowledged(
    backend: str,
    server_count: int,
    servers_for: Any,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    servers = servers_for(_storage(backend, request, tmp_path), server_count)
    outcomes = _overlapping_burst(servers)
    for server in servers:
        # Every server process sees the same final state.
        _check_overlapping_burst(outcomes, server.url)


# ---- kill -9 during a publish burst --------------------------------------------------------

BURST_CLIENTS = 8
KILL_AFTER = 24
FILES_PER_VERSION = 12


def _burst_files(service: str, version: str) -> list[ContractFile]:
    """A version of many files, each with content of its own, so a publish is a transaction of
    some length (a kill lands inside one) — plus the common part every version shares."""
    files = [ContractFile("../_shared/common.yaml", Role.SPEC_PART, COMMON)]
    files.append(
        ContractFile(
            "openapi.yaml",
            Role.SPEC,
            f"openapi: 3.0.3\ninfo: {{title: {service}, version: '{version}'}}\n"
            "paths: {}\n".encode(),
        )
    )
    for i in range(FILES_PER_VERSION - 2):
        body = f"# {service}@{version} part {i}\n" + "x: 1\n" * 200
        files.append(ContractFile(f"parts/part-{i:02}.yaml", Role.SPEC_PART, body.encode()))
    return files


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_kill_9_during_a_publish_burst_loses_nothing_acknowledged_and_leaves_no_half_version(
    backend: str, servers_for: Any, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    location = _storage(backend, request, tmp_path)
    (server,) = servers_for(location, 1)
    acknowledged: set[tuple[str, str]] = set()
    attempted: set[tuple[str, str]] = set()
    lock = threading.Lock()
    enough = threading.Event()
    failures: list[BaseException] = []

    def run(k: int) -> None:
        service = f"svc{k}"
        try:
            with _client() as client:
                for n in range(1000):  # bounded; the kill ends it long before
                    version = f"1.0.{n}"
                    with lock:
                        attempted.add((service, version))
                    try:
                        answer = client.put(
                            f"{server.url}/api/v1/services/{service}/versions/{version}",
                            json=_body(_burst_files(service, version)),
                        )
                    except httpx.TransportError:
                        return  # the server is gone: this publish's fate is unknown
                    assert answer.status_code == 201, answer.text
                    with lock:
                        acknowledged.add((service, version))
                        if len(acknowledged) >= KILL_AFTER:
                            enough.set()
        except BaseException as error:
            failures.append(error)
            enough.set()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(BURST_CLIENTS)]
    for thread in threads:
        thread.start()
    assert enough.wait(timeout=180), "the burst did not reach its kill point within 180 s"
    assert server.kill() == -signal.SIGKILL
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert not failures, failures
    assert len(acknowledged) >= KILL_AFTER
    in_flight = attempted - acknowledged
    # The clients were still publishing: some publishes were cut by the kill.
    assert in_flight

    (restarted,) = servers_for(location, 1)
    with _client() as client:
        base = restarted.url
        present: set[tuple[str, str]] = set()
        for k in range(BURST_CLIENTS):
            service = f"svc{k}"
            if client.get(f"{base}/api/v1/services/{service}/versions").status_code == 404:
                continue  # none of this client's publishes committed before the kill
            listed = _all_pages(client, f"{base}/api/v1/services/{service}/versions")
            present |= {(service, v["number"]) for v in listed}
        # Every acknowledged publish is there; nothing that was never sent is.
        assert acknowledged <= present <= attempted
        expected_shas: set[str] = set()
        for service, version in sorted(present):
            files = _burst_files(service, version)
            stored = _stored_version(client, base, service, version)
            # No half-written version: whatever is there holds every one of its files.
            assert len(stored["files"]) == FILES_PER_VERSION, (service, version)
            assert stored["digest"] == version_digest(files)
            assert {f["sha256"] for f in stored["files"]} == {f.sha256 for f in files}
            expected_shas |= {f.sha256 for f in files}
        contents = _contents(client, base, expected_shas)
        assert set(contents) == expected_shas
        for service, version in present:
            for f in _burst_files(service, version):
                assert contents[f.sha256] == f.content
        # The audit log names exactly the versions that are there (written in their
        # transactions, so it cannot name a version that was cut).
        audit = _all_pages(client, f"{base}/api/v1/audit-log")
        assert sorted(e["subject"] for e in audit if e["action"] == "publish") == sorted(
            f"{s}@{v}" for s, v in present
        )

        # The store still takes writes: a cut publish can be sent again (stored now, or
        # acknowledged as the same content if it had committed), and new versions go in.
        for service, version in sorted(in_flight)[:4]:
            again = client.put(
                f"{base}/api/v1/services/{service}/versions/{version}",
                json=_body(_burst_files(service, version)),
            )
            assert again.status_code == (200 if (service, version) in present else 201)
        fresh = client.put(
            f"{base}/api/v1/services/after-crash/versions/1.0.0",
            json=_body(_burst_files("after-crash", "1.0.0")),
        )
        assert fresh.status_code == 201, fresh.text
        assert fresh.json()["newContents"]

    if backend == "sqlite":
        restarted.stop()
        store = SqlRegistry(location)
        try:
            with store.engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
                assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        finally:
            store.close()

"""Registry benchmark: can-i-deploy latency and publish throughput, SQLite and PostgreSQL.

Seeds a registry with N services x V versions, each service holding pacts with K providers
(N*K consumer/provider pairs), deploys the newest version of every service to E environments,
then asks can-i-deploy for random services (in-process, through `Registry`; the HTTP server is
a later slice). The static-compatibility cache is warmed first, so the figures measure the
registry's own queries. Run it for two sizes to see whether cost grows with unrelated services:

    .venv/bin/python bench/registry.py --backend sqlite --services 100,1000
    .venv/bin/python bench/registry.py --backend postgresql --services 100,1000   # starts PG 15

No timed assertions live in tests; figures go to docs/registry.md by hand.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tests" / "registry"))

from sqlalchemy import event  # noqa: E402

from apigov.registry.domain import ContractFile, Role  # noqa: E402
from apigov.registry.gate import can_i_deploy  # noqa: E402
from apigov.registry.sql import SqlRegistry  # noqa: E402
from helpers import item_pact, item_spec  # noqa: E402


def service_files(index: int, services: int, providers: int, version: int) -> list[ContractFile]:
    name = f"svc{index:05d}"
    # The spec changes with the version, so versions do not collapse into one content.
    files = [ContractFile("openapi.yaml", Role.SPEC, item_spec(revision=f"v{version}"))]
    for step in range(1, providers + 1):
        provider = f"svc{(index + step) % services:05d}"
        files.append(
            ContractFile(
                f"pacts/{name}-{provider}.json", Role.PACT, item_pact(name, provider), provider
            )
        )
    return files


def seed(
    location: str, services: int, versions: int, providers: int, envs: int, threads: int
) -> float:
    """Publish everything with `threads` concurrent publishers; returns contracts per second."""
    SqlRegistry(location).close()
    jobs = [(i, v) for v in range(versions) for i in range(services)]
    chunks = [jobs[k::threads] for k in range(threads)]
    published = [0] * threads

    def worker(slot: int) -> None:
        store = SqlRegistry(location)
        try:
            for index, version in chunks[slot]:
                files = service_files(index, services, providers, version)
                store.publish(f"svc{index:05d}", f"1.{version}", files)
                published[slot] += len(files)
        finally:
            store.close()

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    store = SqlRegistry(location)
    try:
        for env in range(envs):
            for index in range(services):
                store.record_deployment(f"svc{index:05d}", f"1.{versions - 1}", f"env{env}")
    finally:
        store.close()
    return sum(published) / elapsed


def measure(location: str, services: int, versions: int, queries: int) -> dict[str, float]:
    store = SqlRegistry(location)
    rng = random.Random(7)
    sample = [rng.randrange(services) for _ in range(queries)]
    try:
        for index in set(sample):  # warm the static-compatibility cache
            decision = can_i_deploy(store, f"svc{index:05d}", f"1.{versions - 1}", "env0")
            assert decision.deployable, decision
        statements = [0]

        def counted(*_: object) -> None:
            statements[0] += 1

        event.listen(store.engine, "before_cursor_execute", counted)
        timings = []
        cpu_started = time.process_time()
        for index in sample:
            started = time.perf_counter()
            can_i_deploy(store, f"svc{index:05d}", f"1.{versions - 1}", "env0")
            timings.append(time.perf_counter() - started)
        # This process's CPU per answer: steadier than wall time on a busy machine.
        cpu_ms = (time.process_time() - cpu_started) / len(sample) * 1000
    finally:
        store.close()
    timings.sort()
    return {
        "p50_ms": statistics.median(timings) * 1000,
        "p99_ms": timings[int(len(timings) * 0.99) - 1] * 1000,
        # Load-independent: the same number of statements whatever the registry's size.
        "statements": statements[0] / len(sample),
        "cpu_ms": cpu_ms,
    }


@contextlib.contextmanager
def backend(kind: str, size: int) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="apigov-bench-") as folder:
            yield str(Path(folder) / "registry.db")
        return
    from registry_support import fresh_database, postgres_server

    with postgres_server() as server:
        yield fresh_database(server)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--services", default="100,1000", help="comma-separated sizes")
    parser.add_argument("--versions", type=int, default=5)
    parser.add_argument("--providers", type=int, default=5, help="pacts held per service")
    parser.add_argument("--environments", type=int, default=5)
    parser.add_argument("--threads", type=int, default=8, help="concurrent publishers")
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args(argv)
    # A terminated run still stops its PostgreSQL server and removes its temporary files.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print(
        "backend   services  versions  pairs  publish contracts/s  statements  cpu/answer  p50  p99"
    )
    for size in (int(s) for s in args.services.split(",")):
        with backend(args.backend, size) as location:
            rate = seed(
                location, size, args.versions, args.providers, args.environments, args.threads
            )
            figures = measure(location, size, args.versions, args.queries)
        print(
            f"{args.backend:<9} {size:>8}  {args.versions:>8}  {size * args.providers:>5}"
            f"  {rate:>19.0f}  {figures['statements']:>10.1f}  {figures['cpu_ms']:>7.1f} ms"
            f"  {figures['p50_ms']:.1f} ms  {figures['p99_ms']:.1f} ms",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

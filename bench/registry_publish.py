"""Registry benchmark: publish throughput through the HTTP server, 8 concurrent clients.

Starts `apigov registry serve` (uvicorn, `--workers N` processes) on an empty registry, then C
client threads of this process publish distinct versions over `PUT
/api/v1/services/{s}/versions/{v}` (each version: one OpenAPI document and K pacts, as
bench/registry.py seeds them; every spec is new content, pacts repeat across versions and are
deduplicated by hash). Reports contracts (files) per second over the whole burst, p50/p99 of
one publish round trip, the server's CPU time per publish (its processes' user + system time
over the burst), and the SQL statements one publish runs (counted in-process on the same
database); the last two barely move with the machine's load:

    .venv/bin/python bench/registry_publish.py --backend postgresql --clients 8
    .venv/bin/python bench/registry_publish.py --backend sqlite --clients 8

Bounded: a fixed number of publishes, a server start timeout, 127.0.0.1 only. No assertions;
figures go to docs/registry.md by hand.
"""

from __future__ import annotations

import argparse
import base64
import os
import signal
import statistics
import sys
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tests" / "registry"))

import httpx  # noqa: E402
from sqlalchemy import event  # noqa: E402

from apigov.registry.domain import ContractFile  # noqa: E402
from apigov.registry.sql import SqlRegistry  # noqa: E402
from harness import sibling  # noqa: E402


def _body(files: list[ContractFile]) -> dict[str, Any]:
    return {
        "files": [
            {
                "path": f.path,
                "role": f.role.value,
                "content": base64.b64encode(f.content).decode(),
                "provider": f.provider,
            }
            for f in files
        ]
    }


def burst(
    url: str, local: ModuleType, services: int, versions: int, providers: int, clients: int
) -> dict[str, float]:
    """Every client publishes its share of services x versions; returns the figures."""
    jobs = [(i, v) for v in range(versions) for i in range(services)]
    shares = [jobs[k::clients] for k in range(clients)]
    # Bodies are built before the clock starts: the figure is the server's, not this process's.
    bodies = [
        [
            (f"svc{i:05d}", f"1.{v}", _body(local.service_files(i, services, providers, v)))
            for i, v in share
        ]
        for share in shares
    ]
    timings: list[float] = []
    lock = threading.Lock()
    errors: list[str] = []
    start = threading.Barrier(clients)

    def client(slot: int) -> None:
        mine: list[float] = []
        with httpx.Client(base_url=f"{url}/api/v1", timeout=120, trust_env=False) as http:
            start.wait()
            for service, version, body in bodies[slot]:
                began = time.perf_counter()
                answer = http.put(f"/services/{service}/versions/{version}", json=body)
                mine.append(time.perf_counter() - began)
                if answer.status_code != 201:
                    errors.append(f"{service}@{version}: {answer.status_code} {answer.text}")
        with lock:
            timings.extend(mine)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{len(errors)} publishes failed, first: {errors[0]}")
    timings.sort()
    return {
        "contracts_per_s": len(jobs) * (1 + providers) / elapsed,
        "p50_ms": statistics.median(timings) * 1000,
        "p99_ms": timings[max(int(len(timings) * 0.99) - 1, 0)] * 1000,
    }


def server_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of the server process and its worker processes so far.

    Steadier than wall time on a shared machine: what the server spent, whatever else ran.
    """
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a process that ended while we looked
        own = int(stat.parent.name) == pid
        if own or int(fields[1]) == pid:  # fields[1]: the parent's pid
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def statements_per_publish(location: str, local: ModuleType, providers: int) -> float:
    """SQL statements one publish runs (a new version whose pacts are stored already)."""
    store = SqlRegistry(location)
    count = [0]

    def counted(*_: object) -> None:
        count[0] += 1

    try:
        event.listen(store.engine, "before_cursor_execute", counted)
        rounds = 20
        for n in range(rounds):
            store.publish("svc00000", f"9.{n}", local.service_files(0, 1000, providers, 9000 + n))
    finally:
        store.close()
    return count[0] / rounds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument("--versions", type=int, default=5)
    parser.add_argument("--providers", type=int, default=5, help="pacts per version")
    parser.add_argument("--clients", type=int, default=8, help="concurrent publishers")
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.environ.setdefault("NO_COLOR", "1")
    local = sibling("registry")
    http = sibling("registry_http")
    print(
        "backend     workers  clients  publishes  contracts/s  p50 ms  p99 ms  statements"
        "  server cpu/publish"
    )
    with local.backend(args.backend, args.services) as location:
        SqlRegistry(location).close()
        server, url = http.serve(location, args.workers)
        try:
            cpu_before = server_cpu_seconds(server.pid)
            figures = burst(url, local, args.services, args.versions, args.providers, args.clients)
            cpu_ms = (server_cpu_seconds(server.pid) - cpu_before) * 1000
        finally:
            server.terminate()
            server.wait(timeout=30)
        statements = statements_per_publish(location, local, args.providers)
    print(
        f"{args.backend:<11} {args.workers:>7}  {args.clients:>7}"
        f"  {args.services * args.versions:>9}  {figures['contracts_per_s']:>11.0f}"
        f"  {figures['p50_ms']:>6.1f}  {figures['p99_ms']:>6.1f}  {statements:>10.1f}"
        f"  {cpu_ms / (args.services * args.versions):>12.2f} ms",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Registry web pages: server time of each page with 1,000 services seeded.

Seeds a registry as bench/registry.py does (N services x V versions, each holding pacts with K
providers, the newest version of every service deployed to E environments), builds the server's
app in this process, warms the static-compatibility results of the pairs the measured pages show
(as can-i-deploy runs would have), then requests every page kind R times through a TestClient
and reports p50/p99 of the server time: from the moment the request enters the app to the last
byte of the answer (an ASGI wrapper around the app, so the test client's own cost is left out).

    .venv/bin/python bench/registry_web.py --services 1000 --versions 5

Bounded: in-process, a fixed number of requests. No assertions; figures go to
docs/registry-web.md by hand. The issue's goal: every page under 300 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import sibling

REPO = Path(__file__).resolve().parents[1]


class ServerTime:
    """ASGI wrapper: how long each HTTP request spent inside the app, in seconds (`last`), and
    the CPU time this process used meanwhile (`last_cpu`: steadier than wall time on a busy
    machine; it includes the little the test client does while it waits)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.last = 0.0
        self.last_cpu = 0.0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        cpu_started = time.process_time()

        async def timed_send(message: Any) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.last = time.perf_counter() - started
                self.last_cpu = time.process_time() - cpu_started

        await self.app(scope, receive, timed_send)


def pages(services: int, versions: int, chosen: list[int]) -> dict[str, Callable[[], str]]:
    """Each page kind as a function giving the next path to ask (services cycle through
    `chosen`, the ones whose pairs were warmed)."""
    turn = [0]

    def name() -> str:
        turn[0] += 1
        return f"svc{chosen[turn[0] % len(chosen)]:05d}"

    newest = f"1.{versions - 1}"
    return {
        "home": lambda: "/ui/",
        "services (first page)": lambda: "/ui/services",
        "services ?q=": lambda: f"/ui/services?q={name()[:7]}",
        "service page": lambda: f"/ui/services/{name()}",
        "matrix (env, 40 consumers)": lambda: "/ui/matrix?env=env0",
        "matrix ?service=": lambda: f"/ui/matrix?env=env0&service={name()}",
        "matrix + can-i-deploy": lambda: f"/ui/matrix?env=env0&service={name()}&version={newest}",
        "diff (first view)": lambda: f"/ui/diff?service={name()}&from=1.0&to={newest}",
    }


def measure(
    location: str, services: int, versions: int, requests: int
) -> dict[str, tuple[list[float], list[float]]]:
    """Per page kind: (server wall times, process CPU times), in seconds."""
    from fastapi.testclient import TestClient

    from apigov.registry.gate import can_i_deploy
    from apigov.registry.server.app import create_app
    from apigov.registry.sql import SqlRegistry
    from apigov.registry.web import diffview

    rng = random.Random(7)
    chosen = [rng.randrange(services) for _ in range(requests)]
    store = SqlRegistry(location)
    try:
        # The first matrix page shows the pairs of the first 40 consumers by name, the other
        # pages those of the chosen services: can-i-deploy checks and stores each of them, as
        # a pipeline asking before each deployment would have.
        for index in sorted(set(chosen) | set(range(min(services, 40)))):
            can_i_deploy(store, f"svc{index:05d}", f"1.{versions - 1}", "env0")
    finally:
        store.close()
    app = create_app(location)
    timer = ServerTime(app)
    timings: dict[str, tuple[list[float], list[float]]] = {}
    with TestClient(timer) as client:  # type: ignore[arg-type]
        for path_of in pages(services, versions, [services - 1]).values():
            client.get(path_of())  # compile each template and open connections first
        for label, path_of in pages(services, versions, chosen).items():
            timings[label] = ([], [])
            for _ in range(requests):
                if label.startswith("diff"):
                    # A comparison is remembered by content: time the work, not the memory.
                    diffview._cache.clear()
                answer = client.get(path_of())
                assert answer.status_code == 200, answer.text[-500:]
                timings[label][0].append(timer.last)
                timings[label][1].append(timer.last_cpu)
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", default="1000", help="comma-separated sizes")
    parser.add_argument("--versions", type=int, default=5)
    parser.add_argument("--providers", type=int, default=5, help="pacts held per service")
    parser.add_argument("--environments", type=int, default=5)
    parser.add_argument("--threads", type=int, default=8, help="concurrent publishers (seeding)")
    parser.add_argument("--requests", type=int, default=40, help="requests per page kind")
    args = parser.parse_args(argv)
    local = sibling("registry")
    os.environ.setdefault("NO_COLOR", "1")
    for size in (int(s) for s in args.services.split(",")):
        with local.backend("sqlite", size) as location:
            started = time.perf_counter()
            local.seed(
                location, size, args.versions, args.providers, args.environments, args.threads
            )
            seeded = time.perf_counter() - started
            print(
                f"{size} services x {args.versions} versions, {size * args.providers} pairs, "
                f"{args.environments} environments (seeded in {seeded:.0f} s); "
                f"{args.requests} requests per page, server time:",
                flush=True,
            )
            timings = measure(location, size, args.versions, args.requests)
        print(f"  {'page':<26} {'p50':>9} {'p99':>9} {'max':>9} {'cpu p50':>9}")
        for label, (walls, cpus) in timings.items():
            walls.sort()
            p99 = walls[max(int(len(walls) * 0.99) - 1, 0)]
            print(
                f"  {label:<26} {statistics.median(walls) * 1000:>6.1f} ms"
                f" {p99 * 1000:>6.1f} ms {walls[-1] * 1000:>6.1f} ms"
                f" {statistics.median(cpus) * 1000:>6.1f} ms",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Registry benchmark through the HTTP server: can-i-deploy latency from a second process.

Seeds a registry like bench/registry.py (N services x V versions, each holding pacts with K
providers, so N*K consumer/provider pairs; the newest version of every service deployed to E
environments), starts `apigov registry serve` on it (a uvicorn process on 127.0.0.1), warms the
static-compatibility cache, then asks `GET /api/v1/can-i-deploy` (and the Pact Broker's
`GET /matrix`) for random services from this process over one keep-alive connection and reports
p50/p99 of the whole round trip, best of `--rounds` rounds, with the server's CPU time per
request (steadier than wall time on a busy machine) and the load average:

    .venv/bin/python bench/registry_http.py --backend sqlite --services 100,1000 --versions 50
    .venv/bin/python bench/registry_http.py --backend postgresql --services 100,1000 --versions 50
    .venv/bin/python bench/registry_http.py --keep /tmp/registries ...   # seed SQLite once

Bounded: a fixed number of queries, a server start timeout, 127.0.0.1 only. No assertions;
figures go to docs/registry.md and docs/benchmarks.md by hand.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tests" / "registry"))

import httpx  # noqa: E402

from harness import sibling  # noqa: E402


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(location: str, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "apigov",
            "registry",
            "serve",
            "--registry",
            location,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-auth",
            "--workers",
            str(workers),
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=2, trust_env=False).status_code == 200:
                return server, url
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not start within 120 s")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    url: str, server_pid: int, services: int, versions: int, queries: int, rounds: int
) -> dict[str, dict[str, float]]:
    """p50/p99 and server CPU per request of each route, from the round with the best p50."""
    rng = random.Random(7)
    sample = [rng.randrange(services) for _ in range(queries)]
    newest = f"1.{versions - 1}"
    with httpx.Client(base_url=url, timeout=60, trust_env=False) as client:

        def own_api(index: int) -> bool:
            params = {"service": f"svc{index:05d}", "version": newest, "environment": "env0"}
            answer = client.get("/api/v1/can-i-deploy", params=params)
            answer.raise_for_status()
            return bool(answer.json()["deployable"])

        def broker_matrix(index: int) -> bool:
            params = {
                "q[][pacticipant]": f"svc{index:05d}",
                "q[][version]": newest,
                "environment": "env0",
                "latestby": "cvp",
            }
            answer = client.get("/matrix", params=params)
            answer.raise_for_status()
            return bool(answer.json()["summary"]["deployable"])

        routes: dict[str, Callable[[int], bool]] = {
            "can-i-deploy": own_api,
            "matrix": broker_matrix,
        }
        for index in set(sample):  # warm the static-compatibility cache on the server
            assert own_api(index), f"svc{index:05d} is not deployable"
        figures: dict[str, dict[str, float]] = {}
        for name, ask in routes.items():
            ask(sample[0])
            best: dict[str, float] | None = None
            for _ in range(rounds):
                timings = []
                cpu_before = _cpu_seconds(server_pid)
                for index in sample:
                    started = time.perf_counter()
                    ask(index)
                    timings.append(time.perf_counter() - started)
                cpu = (_cpu_seconds(server_pid) - cpu_before) / len(sample)
                timings.sort()
                result = {
                    "p50_ms": statistics.median(timings) * 1000,
                    "p99_ms": timings[max(int(len(timings) * 0.99) - 1, 0)] * 1000,
                    "cpu_ms": cpu * 1000,
                    "load": os.getloadavg()[0],
                }
                if best is None or result["p50_ms"] < best["p50_ms"]:
                    best = result
            assert best is not None
            figures[name] = best
    return figures


@contextlib.contextmanager
def seeded(local: ModuleType, args: argparse.Namespace, size: int) -> Iterator[tuple[str, float]]:
    """A seeded registry (location, seconds spent seeding); with --keep, SQLite registries are
    seeded once into that folder and reused by later runs."""
    if args.keep and args.backend == "sqlite":
        folder = Path(args.keep)
        folder.mkdir(parents=True, exist_ok=True)
        location = folder / (
            f"registry-{size}x{args.versions}x{args.providers}x{args.environments}.db"
        )
        seconds = 0.0
        if not location.exists():
            partial = location.with_suffix(".partial.db")
            for leftover in folder.glob(partial.name + "*"):
                leftover.unlink()
            started = time.perf_counter()
            local.seed(
                str(partial), size, args.versions, args.providers, args.environments, args.threads
            )
            seconds = time.perf_counter() - started
            partial.rename(location)
        yield str(location), seconds
        return
    with local.backend(args.backend, size) as location:
        started = time.perf_counter()
        local.seed(location, size, args.versions, args.providers, args.environments, args.threads)
        yield location, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--services", default="100,1000", help="comma-separated sizes")
    parser.add_argument("--versions", type=int, default=50)
    parser.add_argument("--providers", type=int, default=5, help="pacts held per service")
    parser.add_argument("--environments", type=int, default=5)
    parser.add_argument("--threads", type=int, default=8, help="concurrent publishers (seeding)")
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3, help="rounds per route; best is shown")
    parser.add_argument("--keep", metavar="DIR", help="seed SQLite registries once, here")
    args = parser.parse_args(argv)
    # A terminated run still stops its servers and removes its temporary files.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    local = sibling("registry")
    os.environ.setdefault("NO_COLOR", "1")
    print(
        "backend   services  versions  pairs  seed s  route         p50       p99      "
        "server cpu/req  load",
        flush=True,
    )
    for size in (int(s) for s in args.services.split(",")):
        with seeded(local, args, size) as (location, seconds):
            server, url = serve(location, args.workers)
            try:
                figures = measure(url, server.pid, size, args.versions, args.queries, args.rounds)
            finally:
                server.terminate()
                server.wait(timeout=30)
        for route, result in figures.items():
            print(
                f"{args.backend:<9} {size:>8}  {args.versions:>8}  {size * args.providers:>5}"
                f"  {seconds:>6.0f}  {route:<12}  {result['p50_ms']:>5.1f} ms  "
                f"{result['p99_ms']:>5.1f} ms  {result['cpu_ms']:>8.2f} ms  "
                f"{result['load']:>6.1f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

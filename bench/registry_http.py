"""Registry benchmark through the HTTP server: can-i-deploy latency from a second process.

Seeds a registry like bench/registry.py (N services x V versions, each holding pacts with K
providers, so N*K consumer/provider pairs; the newest version of every service deployed to E
environments), starts `apigov registry serve` on it (a uvicorn process on 127.0.0.1), warms the
static-compatibility cache, then asks `GET /api/v1/can-i-deploy` for random services from this
process over one keep-alive connection and reports p50/p99 of the whole round trip:

    .venv/bin/python bench/registry_http.py --backend sqlite --services 100,1000 --versions 50
    .venv/bin/python bench/registry_http.py --backend postgresql --services 100,1000 --versions 50

Bounded: a fixed number of queries, a server start timeout, 127.0.0.1 only. No assertions;
figures go to docs/registry.md by hand.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tests" / "registry"))

import httpx  # noqa: E402


def _in_process_bench() -> ModuleType:
    """bench/registry.py, for its seeding (one way to build the registry for both benches)."""
    spec = importlib.util.spec_from_file_location("bench_registry", REPO / "bench" / "registry.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


def measure(url: str, services: int, versions: int, queries: int) -> dict[str, float]:
    rng = random.Random(7)
    sample = [rng.randrange(services) for _ in range(queries)]
    newest = f"1.{versions - 1}"
    with httpx.Client(base_url=f"{url}/api/v1", timeout=60, trust_env=False) as client:

        def ask(index: int) -> dict[str, object]:
            params = {"service": f"svc{index:05d}", "version": newest, "environment": "env0"}
            answer = client.get("/can-i-deploy", params=params)
            answer.raise_for_status()
            result: dict[str, object] = answer.json()
            return result

        for index in set(sample):  # warm the static-compatibility cache on the server
            assert ask(index)["deployable"] is True
        timings = []
        for index in sample:
            started = time.perf_counter()
            ask(index)
            timings.append(time.perf_counter() - started)
    timings.sort()
    return {
        "p50_ms": statistics.median(timings) * 1000,
        "p99_ms": timings[max(int(len(timings) * 0.99) - 1, 0)] * 1000,
    }


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
    args = parser.parse_args(argv)
    # A terminated run still stops its servers and removes its temporary files.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    local = _in_process_bench()
    os.environ.setdefault("NO_COLOR", "1")
    print("backend   services  versions  pairs  seed s  http p50  http p99", flush=True)
    for size in (int(s) for s in args.services.split(",")):
        with local.backend(args.backend, size) as location:
            started = time.perf_counter()
            local.seed(
                location, size, args.versions, args.providers, args.environments, args.threads
            )
            seeded = time.perf_counter() - started
            server, url = serve(location, args.workers)
            try:
                figures = measure(url, size, args.versions, args.queries)
            finally:
                server.terminate()
                server.wait(timeout=30)
        print(
            f"{args.backend:<9} {size:>8}  {args.versions:>8}  {size * args.providers:>5}"
            f"  {seeded:>6.0f}  {figures['p50_ms']:>5.1f} ms  {figures['p99_ms']:>5.1f} ms",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Fleet map benchmark: graph.json server time and the map's time to ready in headless Chromium.

Seeds a registry with N services in T teams, each holding pacts with K providers (N*K
consumer -> provider pairs, 1,000 x 5 = 5,000 by default), every service deployed to
production, and a verdict stored for each pair (static-compatibility evidence written directly,
as can-i-deploy would store it: every 50th pair broken, every 7th other one left unverified),
then measures:

- `build_fleet_map` in-process (the server's own work for graph.json), best and median of R;
- `GET /ui/map/graph.json` and `GET /ui/map` through `apigov registry serve` (127.0.0.1);
- headless Chromium (/usr/bin/chromium): navigation to `/ui/map` until fleet-map.js sets
  `document.body.dataset.mapReady` (the first frame), with its own layout time
  (`mapLayoutMs`), until every edge is in (`mapComplete`: a big map adds its compatible
  edges after the first frame), and a search that centres one service.

    .venv/bin/python bench/registry_map.py --services 1000 --providers 5
    .venv/bin/python bench/registry_map.py --services 100,1000 --repeat 5

No assertions; figures go to docs/registry-web.md by hand.
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import httpx  # noqa: E402

from apigov.registry.compat import StaticChecker  # noqa: E402
from apigov.registry.domain import ContractFile, Role, ServiceMetadata, spec_digest  # noqa: E402
from apigov.registry.sql import SqlRegistry  # noqa: E402
from helpers import item_pact, item_spec  # noqa: E402

BROKEN_EVERY = 50
UNVERIFIED_EVERY = 7
ENVIRONMENT = "production"


def service_name(index: int) -> str:
    return f"svc{index:05d}"


def team_name(index: int, teams: int) -> str:
    return f"team{index % teams:02d}"


def pair_verdict(pair: int) -> str:
    """The verdict seeded for the pair numbered `pair` (consumer index * K + step - 1)."""
    if pair % BROKEN_EVERY == 0:
        return "broken"
    if pair % UNVERIFIED_EVERY == 0:
        return "unverified"
    return "compatible"


def seed_map_fleet(location: str, services: int, providers: int = 5, teams: int = 40) -> None:
    """Publish `services` services (1.0.0, in `teams` teams), each holding pacts with the next
    `providers` services (wrapping round), deploy all to production and store a verdict for
    every pair (see `pair_verdict`). Every service's spec differs (its own name in a comment),
    so each pair has its own (pact, spec) evidence key, as in a real fleet."""
    registry = SqlRegistry(location)
    try:
        checker = StaticChecker(registry).name
        digests: dict[str, str] = {}
        for index in range(services):
            name = service_name(index)
            spec = ContractFile("openapi.yaml", Role.SPEC, item_spec(revision=name))
            files = [spec]
            for step in range(1, providers + 1):
                provider = service_name((index + step) % services)
                files.append(
                    ContractFile(
                        f"pacts/{name}-{provider}.json",
                        Role.PACT,
                        item_pact(name, provider),
                        provider,
                    )
                )
            registry.publish(
                name, "1.0.0", files, metadata=ServiceMetadata(team=team_name(index, teams))
            )
            digest = spec_digest([spec])
            assert digest is not None
            digests[name] = digest
        for index in range(services):
            registry.record_deployment(service_name(index), "1.0.0", ENVIRONMENT)
        for index in range(services):
            name = service_name(index)
            for step in range(1, providers + 1):
                verdict = pair_verdict(index * providers + step - 1)
                if verdict == "unverified":
                    continue
                provider = service_name((index + step) % services)
                pact = ContractFile("p", Role.PACT, item_pact(name, provider), provider)
                findings = []
                if verdict == "broken":
                    findings = [
                        {
                            "id": "compat-response-field-missing",
                            "level": "error",
                            "message": f"{name} relies on /id, which {provider} no longer returns",
                            "location": None,
                            "service": name,
                            "operation": "GET /items/{id}",
                            "consumers": [],
                        }
                    ]
                registry.store_static_result(
                    pact.sha256,
                    digests[provider],
                    checker,
                    verdict == "compatible",
                    json.dumps(findings),
                )
    finally:
        registry.close()


def _timed(
    action: Callable[[], object], repeat: int, clock: Callable[[], float] = time.perf_counter
) -> list[float]:
    timings = []
    for _ in range(repeat):
        started = clock()
        action()
        timings.append((clock() - started) * 1000)
    return timings


def _summary(timings: list[float]) -> str:
    return f"best {min(timings):7.1f} ms  median {statistics.median(timings):7.1f} ms"


def measure_in_process(location: str, repeat: int) -> dict[str, list[float]]:
    from apigov.registry.web.fleet_map import build_fleet_map

    registry = SqlRegistry(location)
    try:
        checker = StaticChecker(registry).name
        return {
            "build_fleet_map (latest)": _timed(
                lambda: build_fleet_map(registry.engine, checker), repeat
            ),
            # SQLite runs in this process: its CPU time is the map's whole cost, whatever the
            # machine's load.
            "build_fleet_map CPU (latest)": _timed(
                lambda: build_fleet_map(registry.engine, checker), repeat, time.process_time
            ),
            f"build_fleet_map (env={ENVIRONMENT})": _timed(
                lambda: build_fleet_map(registry.engine, checker, environment=ENVIRONMENT), repeat
            ),
        }
    finally:
        registry.close()


def measure_pages_cpu(location: str, repeat: int) -> dict[str, list[float]]:
    """CPU time of whole requests served in this process (the app on a TestClient)."""
    with warnings.catch_warnings():
        # Starlette's notice about its test client's HTTP library is not a figure.
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from apigov.registry.server.app import create_app

    found: dict[str, list[float]] = {}
    with TestClient(create_app(location, auth_required=False)) as client:
        for path in ("/ui/map/graph.json", "/ui/map"):

            def get(path: str = path) -> None:
                client.get(path).raise_for_status()

            get()
            found[f"GET {path} CPU (in-process)"] = _timed(get, repeat, time.process_time)
    return found


def measure_http(url: str, repeat: int) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    with httpx.Client(base_url=url, timeout=120, trust_env=False) as client:
        for path in ("/ui/map/graph.json", "/ui/map"):

            def get(path: str = path) -> None:
                client.get(path).raise_for_status()

            get()  # the first request pays for imports and template compilation
            found[f"GET {path}"] = _timed(get, repeat)
        found["graph.json bytes"] = [float(len(client.get("/ui/map/graph.json").content))]
        found["page bytes"] = [float(len(client.get("/ui/map").content))]
    return found


def _thread_time(devtools: Any) -> float:
    """Milliseconds of CPU the page's main thread has used (Chrome's ThreadTime metric)."""
    metrics = devtools.send("Performance.getMetrics")["metrics"]
    return float(next(m["value"] for m in metrics if m["name"] == "ThreadTime")) * 1000


def measure_browser(url: str, repeat: int, services: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    found: dict[str, list[float]] = {
        "navigation -> ready": [],
        "layout (fleet-map.js)": [],
        "navigation -> every edge in": [],
        "main-thread CPU to ready": [],
        "main-thread CPU to every edge in": [],
        "search -> centred": [],
    }
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"]
        )
        try:
            for _ in range(repeat):
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                # CPU time of the page's main thread: on a shared machine, wall time measures
                # the neighbours as much as the map.
                devtools = page.context.new_cdp_session(page)
                devtools.send("Performance.enable")
                cpu_before = _thread_time(devtools)
                page.goto(f"{url}/ui/map")
                page.wait_for_function("document.body.dataset.mapReady === '1'", timeout=120_000)
                found["main-thread CPU to ready"].append(_thread_time(devtools) - cpu_before)
                marks = page.evaluate("({...document.body.dataset})")
                found["navigation -> ready"].append(float(marks["mapReadyMs"]))
                found["layout (fleet-map.js)"].append(float(marks["mapLayoutMs"]))
                # A big map adds its compatible edges after the first frame.
                page.wait_for_function("document.body.dataset.mapComplete === '1'")
                completed = page.evaluate("document.body.dataset.mapCompleteMs")
                found["navigation -> every edge in"].append(float(completed))
                found["main-thread CPU to every edge in"].append(
                    _thread_time(devtools) - cpu_before
                )
                target = service_name(services // 2)
                started = time.perf_counter()
                page.fill("#map-search-input", target)
                page.click("#map-search button[type=submit]")
                page.wait_for_function(
                    f"document.getElementById('fleet-map-frame').dataset.found === '{target}'"
                )
                found["search -> centred"].append((time.perf_counter() - started) * 1000)
                page.close()
        finally:
            browser.close()
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", default="1000", help="comma-separated sizes")
    parser.add_argument("--providers", type=int, default=5, help="pacts held per service")
    parser.add_argument("--teams", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args(argv)
    # A terminated run still stops its server and removes its temporary files.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    from registry_http import serve

    for size in (int(s) for s in args.services.split(",")):
        with tempfile.TemporaryDirectory(prefix="apigov-bench-map-") as folder:
            location = str(Path(folder) / "registry.db")
            started = time.perf_counter()
            seed_map_fleet(location, size, args.providers, args.teams)
            print(
                f"{size} services, {size * args.providers} pairs, {args.teams} teams: "
                f"seeded in {time.perf_counter() - started:.1f} s",
                flush=True,
            )
            figures = measure_in_process(location, args.repeat)
            figures.update(measure_pages_cpu(location, args.repeat))
            server, url = serve(location, 1)
            try:
                figures.update(measure_http(url, args.repeat))
                if not args.no_browser:
                    figures.update(measure_browser(url, args.repeat, size))
            finally:
                server.terminate()
                server.wait(timeout=30)
            for name, timings in figures.items():
                if name.endswith("bytes"):
                    print(f"  {name:<32} {timings[0] / 1024:8.0f} KiB")
                else:
                    print(f"  {name:<32} {_summary(timings)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

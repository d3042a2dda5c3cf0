"""Benchmark: ``apigov check`` over a generated fleet, cold (empty cache) and warm (unchanged).

    python bench/check.py [--services 200] [--runs 3] [--keep DIR]

The fleet is derived from the corpus: service ``i`` publishes one of the corpus's OpenAPI
documents (the OpenAPI Initiative's 3.0 examples, and every 20th service a large Adyen spec),
renamed and served under ``/v1``, and holds pacts with up to two services of lower index (a
DAG, like a real fleet's layering), each calling up to three of that provider's operations with
their path parameters filled in. Each run is a fresh ``apigov check`` process: *cold* with the
cache folder deleted first, *warm* right after a run that filled it. The issue's goals: cold
under 60 s, warm under 3 s on two cores. Results go to ``bench/results/check-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import INSTALLED_BYTECODE, machine_info, timestamp

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
CORPUS = REPO.parent / "shared" / "corpus" / "specs"
SMALL = [
    "oai-examples/examples/v3.0/petstore-expanded.json",
    "oai-examples/examples/v3.0/uspto.json",
    "oai-examples/examples/v3.0/link-example.json",
    "oai-examples/examples/v3.0/api-with-examples.json",
    "oai-examples/examples/v3.0/petstore.json",
    "oai-examples/examples/v3.0/callback-example.json",
]
LARGE = ["adyen/TransferService-v4.json", "adyen/PaymentService-v68.json"]
METHODS = ("get", "post", "put", "patch", "delete")


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _source_spec(index: int) -> dict[str, Any]:
    name = LARGE[(index // 20) % len(LARGE)] if index % 20 == 19 else SMALL[index % len(SMALL)]
    document: dict[str, Any] = json.loads((CORPUS / name).read_text(encoding="utf-8"))
    return document


def _operations(document: dict[str, Any], limit: int) -> list[tuple[str, str, int]]:
    """(METHOD, concrete /v1 path, expected status) for up to `limit` operations."""
    found: list[tuple[str, str, int]] = []
    for template, item in sorted(document.get("paths", {}).items()):
        if not isinstance(item, dict):
            continue
        for method in METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            codes = [c for c in operation.get("responses", {}) if str(c).startswith("2")]
            status = int(codes[0]) if codes and str(codes[0]).isdigit() else 200
            path = "/".join("1" if p.startswith("{") else p for p in template.split("/"))
            found.append((method.upper(), "/v1" + path, status))
            if len(found) == limit:
                return found
    return found


def _pact(consumer: str, provider: str, calls: list[tuple[str, str, int]]) -> dict[str, Any]:
    return {
        "consumer": {"name": consumer},
        "provider": {"name": provider},
        "interactions": [
            {
                "description": f"{consumer} calls {method} {path}",
                "request": {"method": method, "path": path},
                "response": {"status": status},
            }
            for method, path, status in calls
        ],
        "metadata": {"pactSpecification": {"version": "3.0.0"}},
    }


def generate_fleet(folder: Path, services: int) -> None:
    specs = [_source_spec(i) for i in range(services)]
    for index, document in enumerate(specs):
        name = f"svc-{index:03d}"
        home = folder / name
        (home / "pacts").mkdir(parents=True, exist_ok=True)
        document = {**document, "servers": [{"url": f"https://{name}.example.com/v1"}]}
        document["info"] = {**document.get("info", {}), "title": name}
        (home / "openapi.json").write_text(json.dumps(document), encoding="utf-8")
        service = {"name": name, "owner": f"{name}@example.com", "team": f"team-{index % 17}"}
        (home / "service.yaml").write_text(json.dumps(service), encoding="utf-8")
        for provider_index in sorted({index - 1, index // 2} - {index}):
            if provider_index < 0:
                continue
            provider = f"svc-{provider_index:03d}"
            calls = _operations(specs[provider_index], 3)
            pact = _pact(name, provider, calls)
            (home / "pacts" / f"{name}-{provider}.json").write_text(
                json.dumps(pact, indent=1), encoding="utf-8"
            )


def _environment() -> dict[str, str]:
    """The caller's environment, but with bytecode caching on: a CI runner keeps apigov's
    compiled modules between invocations, and recompiling them every run would be measured as
    part of every warm run."""
    return {**os.environ, **INSTALLED_BYTECODE, "NO_COLOR": "1"}


def _run(fleet: Path, cwd: Path) -> tuple[float, int]:
    started = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "apigov",
            "check",
            str(fleet),
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
        cwd=cwd,
        capture_output=True,
        timeout=900,
        check=False,
        env=_environment(),
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"apigov check failed ({result.returncode}): {result.stderr.decode()}")
    return seconds, len(json.loads(result.stdout)["findings"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="Generate the fleet here and keep it.")
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="apigov-bench-check-"))
    fleet = work / "contracts"
    if fleet.exists():
        shutil.rmtree(fleet)
    generate_fleet(fleet, args.services)
    files = sum(1 for p in fleet.rglob("*") if p.is_file())
    say(f"fleet: {args.services} services, {files} files in {fleet}")
    cache = work / ".apigov"
    cold: list[float] = []
    warm: list[float] = []
    findings = 0
    for run in range(args.runs):
        shutil.rmtree(cache, ignore_errors=True)
        seconds, findings = _run(fleet, work)
        cold.append(seconds)
        seconds_warm, warm_findings = _run(fleet, work)
        warm.append(seconds_warm)
        if warm_findings != findings:
            raise SystemExit(f"warm run found {warm_findings} findings, cold {findings}")
        say(f"run {run + 1}: cold {seconds:.2f} s, warm {seconds_warm:.2f} s")
    summary = {
        "name": "check",
        "timestamp": timestamp(),
        "machine": machine_info(),
        "services": args.services,
        "files": files,
        "findings": findings,
        "cold_seconds": cold,
        "warm_seconds": warm,
        "cold_median": statistics.median(cold),
        "warm_median": statistics.median(warm),
    }
    results = BENCH_DIR / "results"
    results.mkdir(parents=True, exist_ok=True)
    out = results / f"check-{summary['timestamp']}.json"
    out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    say(
        f"cold median {summary['cold_median']:.2f} s (goal < 60), "
        f"warm median {summary['warm_median']:.2f} s (goal < 3); {out}"
    )
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

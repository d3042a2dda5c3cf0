"""Benchmark: ``apigov fuzz`` against plain ``schemathesis run``, same service, same budget.

    python bench/fuzz.py [--runs N] [--max-time S] [--seed N]

Starts the fixture service with planted defects (tests/fuzz/fuzz_service.py ``defects``) on
127.0.0.1, then runs both tools round-robin through bench/harness.py with the same spec, token,
time budget and seed. Two figures per tool, each the median over the measured runs:

- **requests sent**: counted by the service itself (every HTTP request it received during the
  run), so both tools are measured the same way;
- **distinct failures**: (operation, check, failure type) keys: from apigov's JSON report, and
  from the failures in schemathesis's NDJSON report.

The issue's goal: apigov sends at least 95% as many requests and finds at least as many distinct
failures. Results go to ``bench/results/fuzz-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import INSTALLED_BYTECODE, Tool, format_table, run_benchmark, save_results

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
SPEC = REPO / "tests" / "fuzz" / "specs" / "defects.yaml"
SERVICE = REPO / "tests" / "fuzz" / "fuzz_service.py"
TOKEN = "fuzz-test-token"


def requests_so_far(base_url: str) -> int:
    with urllib.request.urlopen(f"{base_url}/__requests", timeout=10) as response:
        return int(json.load(response)["requests"])


def apigov_failures(stdout: bytes, report: Path) -> set[tuple[str, str, str]]:
    findings = json.loads(stdout)["findings"]
    # The failure type is the first [bracketed] word of the message.
    return {
        (f["operation"], f["id"], f["message"].split("[", 1)[1].split("]", 1)[0])
        for f in findings
        if f["id"] != "fuzz/interrupted"
    }


def schemathesis_failures(stdout: bytes, report: Path) -> set[tuple[str, str, str]]:
    found: set[tuple[str, str, str]] = set()
    if not report.exists():
        return found
    with report.open(encoding="utf-8") as lines:
        for line in lines:
            event = json.loads(line)
            finished = event.get("ScenarioFinished")
            if finished is None:
                continue
            recorder = finished.get("recorder", {})
            for checks in recorder.get("checks", {}).values():
                for check in checks:
                    info = check.get("failure_info")
                    if info:
                        failure = info["failure"]
                        kind = failure.get("code") or failure.get("title", "")
                        found.add((failure.get("operation") or "", check["name"], kind))
    return found


class Counting:
    """Reads the service's request counter and the failures after every run of one tool."""

    def __init__(
        self,
        base_url: str,
        report: Path,
        failures: Callable[[bytes, Path], set[tuple[str, str, str]]],
        state: dict[str, int],
    ) -> None:
        self.base_url = base_url
        self.report = report
        self.failures = failures
        self.state = state
        self.requests: list[int] = []
        self.distinct: list[int] = []

    def __call__(self, code: int, stdout: bytes, stderr: bytes) -> str | None:
        now = requests_so_far(self.base_url)
        self.requests.append(now - self.state["last"])
        self.state["last"] = now
        try:
            self.distinct.append(len(self.failures(stdout, self.report)))
        except (ValueError, KeyError, IndexError) as exc:
            return f"unreadable report: {exc}"
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-time", type=int, default=20, help="budget per run, seconds")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    service = subprocess.Popen(
        [sys.executable, str(SERVICE), "defects"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert service.stdout is not None
        base_url = service.stdout.readline().strip()
        with tempfile.TemporaryDirectory(prefix="apigov-bench-fuzz-") as tmp:
            st_report = Path(tmp) / "schemathesis.ndjson"
            # Both tools run in this folder: schemathesis keeps no crash cache between runs
            # (each run starts as a fresh CI job would) and the repository stays clean.
            (Path(tmp) / "schemathesis.toml").write_text("[cache]\nenabled = false\n")
            state = {"last": requests_so_far(base_url)}
            apigov = Counting(base_url, Path(tmp) / "none", apigov_failures, state)
            plain = Counting(base_url, st_report, schemathesis_failures, state)
            common = ["--max-time", str(args.max_time), "--seed", str(args.seed)]
            budget = args.max_time * 3 + 60
            tools = [
                Tool(
                    name="apigov",
                    argv=[
                        sys.executable,
                        "-m",
                        "apigov",
                        "fuzz",
                        str(SPEC),
                        "--base-url",
                        base_url,
                        "--bearer-env",
                        "BENCH_TOKEN",
                        "--format",
                        "json",
                        "--fail-on",
                        "never",
                        *common,
                    ],
                    timeout=budget,
                    check=apigov,
                    env={**INSTALLED_BYTECODE, "BENCH_TOKEN": TOKEN, "CI": "true"},
                ),
                Tool(
                    name="schemathesis",
                    argv=[
                        str(Path(sys.executable).parent / "schemathesis"),
                        "run",
                        str(SPEC),
                        "--url",
                        base_url,
                        "-H",
                        f"Authorization: Bearer {TOKEN}",
                        "--report",
                        "ndjson",
                        "--report-ndjson-path",
                        str(st_report),
                        "--no-color",
                        "--generation-database",
                        "none",
                        *common,
                    ],
                    timeout=budget,
                    ok_exit_codes=frozenset({0, 1}),
                    check=plain,
                    env={"CI": "true"},
                ),
            ]
            bench = run_benchmark(
                "fuzz",
                tools,
                runs=args.runs,
                input_label=f"{SPEC.relative_to(REPO)}, {args.max_time} s budget",
                cwd=Path(tmp),
                progress=lambda msg: print(msg, file=sys.stderr, flush=True),
            )
    finally:
        service.terminate()
        service.wait(timeout=30)

    # The first entry of each list is the warm-up run: not counted.
    figures: dict[str, Any] = {}
    for name, counted in (("apigov", apigov), ("schemathesis", plain)):
        figures[name] = {
            "requests": counted.requests[1:],
            "distinct_failures": counted.distinct[1:],
            "median_requests": statistics.median(counted.requests[1:] or [0]),
            "median_distinct_failures": statistics.median(counted.distinct[1:] or [0]),
        }
    mine, theirs = figures["apigov"], figures["schemathesis"]
    share = mine["median_requests"] / theirs["median_requests"] if theirs["median_requests"] else 0
    print(format_table(bench))
    for name, data in figures.items():
        print(
            f"{name}: median {data['median_requests']:,} requests, "
            f"{data['median_distinct_failures']} distinct failures "
            f"(runs: {data['requests']}, {data['distinct_failures']})"
        )
    print(f"apigov sent {share:.0%} of schemathesis's requests (goal: >= 95%)")
    path = save_results("fuzz", [bench], extra={"fuzz": figures, "request_share": share})
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("NO_COLOR", "1")
    sys.exit(main())

"""Benchmark: ``apigov lint`` against Spectral and ``redocly lint`` (on demand, not in CI).

    python bench/lint.py [--runs N] [--docs openai adyen ...] [--peer-timeout S] [--no-install]

Every case lints one corpus document with the OpenAPI ruleset: apigov with
``--ruleset spectral:oas`` (its re-implementation of Spectral's rules), Spectral with a ruleset
file that says ``extends: ['spectral:oas']`` (the same, recommended set), and Redocly with its
default (recommended) rules. Runs are round-robin after one warm-up (bench/harness.py); ratios are
peer median / apigov median (> 1: apigov is faster). Each table also gives the median CPU seconds
(user + system of the command and the processes it waited for) and the CPU ratio, peer / apigov:
on a large document apigov forks a helper process (src/apigov/lint/helper.py) that cuts its wall
time but adds to its CPU time, which only the CPU columns show. Peak RSS is measured per child
process (with a helper, the larger of the two processes' peaks, not their sum), and each case
also reports apigov's peak as a share of each peer's (the issue's memory goal: under 25% of
Spectral's), printed below its table and saved under ``memory`` in the results.
Results go to ``bench/results/lint-<timestamp>.json``.

Peers are npm packages installed on demand into bench/.peers/npm (the same prefix as
bench/peers.py's swagger-cli); a peer that cannot be installed is reported and skipped.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from harness import (
    DEFAULT_RUNS,
    INSTALLED_BYTECODE,
    BenchResult,
    Tool,
    format_table,
    run_benchmark,
    save_results,
)
from peers import NPM_PREFIX, Peer, npm_install

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
CORPUS = REPO.parent / "shared" / "corpus" / "specs"
CASES: dict[str, Path] = {
    "openai": CORPUS / "openai" / "openapi.yaml",
    "adyen": CORPUS / "adyen" / "ManagementService-v3.json",
}
SPECTRAL = ("@stoplight/spectral-cli@6.16.3", "spectral")
REDOCLY = ("@redocly/cli@2.77.0", "redocly")
LINTER_EXIT_CODES = frozenset({0, 1})  # 1: findings at the failing level; still an answer
MEMORY_GOAL = 0.25  # apigov's peak RSS as a share of Spectral's (issue 4)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def npm_peer(package: str, binary: str, *, install: bool) -> Peer:
    """An npm command-line tool from bench/.peers/npm, installed when missing."""
    executable = NPM_PREFIX / "node_modules" / ".bin" / binary
    name = package.rsplit("@", 1)[0]
    if not executable.exists() and install:
        failed = npm_install(NPM_PREFIX, package)
        if failed is not None:
            return Peer(name, (), skipped=failed)
    if not executable.exists():
        return Peer(name, (), skipped=f"{executable} not found")
    return Peer(name, (str(executable),), version=package.rsplit("@", 1)[1])


def tools_for(
    document: Path, spectral: Peer, redocly: Peer, ruleset: Path, args: argparse.Namespace
) -> list[Tool]:
    apigov = [
        sys.executable,
        "-m",
        "apigov",
        "lint",
        str(document),
        "--ruleset",
        "spectral:oas",
        "--format",
        "json",
        "--fail-on",
        "never",
    ]
    tools = [
        Tool(
            "apigov",
            apigov,
            timeout=args.timeout,
            check=_json_output,
            env=INSTALLED_BYTECODE,
        )
    ]
    tools.append(
        Tool(
            "spectral",
            [*spectral.argv_prefix, "lint", "-r", str(ruleset), "-f", "json", "-q", str(document)]
            if not spectral.skipped
            else [],
            timeout=args.peer_timeout,
            ok_exit_codes=LINTER_EXIT_CODES,
            skipped=spectral.skipped,
            version=spectral.version,
        )
    )
    tools.append(
        Tool(
            "redocly",
            [*redocly.argv_prefix, "lint", str(document), "--format", "json"]
            if not redocly.skipped
            else [],
            timeout=args.peer_timeout,
            ok_exit_codes=LINTER_EXIT_CODES,
            skipped=redocly.skipped,
            version=redocly.version,
            env={"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"},
        )
    )
    return tools


def _json_output(code: int, stdout: bytes, stderr: bytes) -> str | None:
    try:
        json.loads(stdout)
    except ValueError:
        return f"apigov printed no JSON report (exit {code}): {stderr[-300:]!r}"
    return None


def memory_shares(bench: BenchResult) -> dict[str, dict[str, float | bool | None]]:
    """apigov's peak RSS as a share of each peer's that finished, from the same round-robin.

    A share is `None` when either peak is only known as the harness's own footprint (an upper
    bound, `peak_rss_is_upper_bound`): no honest ratio can be made of it.
    """
    apigov = bench.result("apigov")
    shares: dict[str, dict[str, float | bool | None]] = {}
    if apigov is None or not apigov.ok or apigov.peak_rss_mb is None:
        return shares
    for peer in bench.results:
        if peer is apigov or peer.peak_rss_mb is None or not peer.ok:
            continue
        known = not (apigov.rss_is_floor or peer.rss_is_floor)
        share = apigov.peak_rss_mb / peer.peak_rss_mb if known and peer.peak_rss_mb else None
        shares[peer.tool.name] = {
            "apigov_peak_mb": round(apigov.peak_rss_mb, 1),
            "peer_peak_mb": round(peer.peak_rss_mb, 1),
            "share": None if share is None else round(share, 3),
        }
        if peer.tool.name == "spectral":
            shares[peer.tool.name]["meets_goal"] = None if share is None else share < MEMORY_GOAL
    return shares


def format_memory(bench: BenchResult) -> str:
    """One line per peer: `memory: apigov 52.0 MB = 22.5% of spectral's 231.0 MB (goal < 25%)`."""
    lines = []
    for name, entry in memory_shares(bench).items():
        share = entry["share"]
        shown = "unknown (a peak at the harness floor)" if share is None else f"{share:.1%}"
        goal = f" (goal < {MEMORY_GOAL:.0%})" if name == "spectral" else ""
        lines.append(
            f"memory: apigov {entry['apigov_peak_mb']:.1f} MB = {shown} of {name}'s "
            f"{entry['peer_peak_mb']:.1f} MB{goal}"
        )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", nargs="*", default=list(CASES), choices=list(CASES))
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--peer-timeout", type=float, default=600.0)
    parser.add_argument("--no-install", action="store_true")
    parser.add_argument("--no-save", action="store_true")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    spectral = npm_peer(*SPECTRAL, install=not args.no_install)
    redocly = npm_peer(*REDOCLY, install=not args.no_install)
    for peer in (spectral, redocly):
        if peer.skipped:
            say(f"peer {peer.name} skipped: {peer.skipped}")
    benches: list[BenchResult] = []
    with tempfile.TemporaryDirectory(prefix="apigov-lint-bench-") as tmp:
        ruleset = Path(tmp) / "spectral-oas.yaml"
        ruleset.write_text("extends: ['spectral:oas']\n", encoding="utf-8")
        for name in args.docs:
            document = CASES[name]
            if not document.is_file():
                say(f"{name}: {document} not found, skipped")
                continue
            label = f"{document.relative_to(CORPUS)} ({document.stat().st_size / 1e6:.1f} MB)"
            say(f"== {name}: {label}")
            bench = run_benchmark(
                name,
                tools_for(document, spectral, redocly, ruleset, args),
                runs=args.runs,
                input_label=label,
                cwd=REPO,
                progress=say,
            )
            bench.extra["memory"] = memory_shares(bench)
            print(format_table(bench), flush=True)
            memory = format_memory(bench)
            if memory:
                print(memory, flush=True)
            benches.append(bench)
    if not args.no_save and benches:
        extra = {
            "peers": {
                p.name: {"version": p.version, "skipped": p.skipped} for p in (spectral, redocly)
            }
        }
        print(f"results: {save_results('lint', benches, extra=extra)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

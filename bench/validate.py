"""Benchmark: ``apigov validate`` against openapi-spec-validator and swagger-cli.

    python bench/validate.py [--runs N] [--docs NAME|PATH ...] [--peer-timeout S]

Cases (``--docs`` picks among them; default: all):

- ``openai``, ``adyen``, ``github``, ``digitalocean``: the largest document of each kind in the
  shared corpus (``<repo>/../shared/corpus/specs``); any other path to a document also works;
- ``generated``: a generated legal OpenAPI 3.0 document with ``--generated-paths`` paths (6,000);
- ``scaling``: apigov alone on generated documents of 500 … 8,000 paths, to show that its time
  grows linearly with the number of paths (time per path, marginal time per path, a linear fit).

Every case times ``apigov validate FILE --format json`` against each peer in the same run,
round-robin after one warm-up each; ratios are peer median / apigov median (> 1: apigov is
faster). Results go to ``bench/results/validate-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness import (
    CHECK_BYTES,
    DEFAULT_RUNS,
    DEFAULT_TIMEOUT,
    INSTALLED_BYTECODE,
    BenchResult,
    Tool,
    format_table,
    run_benchmark,
    save_results,
)
from peers import Peer, all_peers

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus" / "specs"

CORPUS_DOCS: dict[str, Path] = {
    "openai": CORPUS / "openai" / "openapi.yaml",
    "adyen": CORPUS / "adyen" / "CheckoutService-v71.json",
    "github": CORPUS / "github" / "api.github.com.json",
    "digitalocean": CORPUS / "digitalocean" / "specification" / "DigitalOcean-public.v2.yaml",
}
SPECIAL_CASES = ("generated", "scaling")
DEFAULT_CASES = (*CORPUS_DOCS, *SPECIAL_CASES)
DEFAULT_PEER_TIMEOUT = 60.0
DEFAULT_GENERATED_PATHS = 6000
DEFAULT_SCALING_SIZES = (500, 1000, 2000, 4000, 8000)
VALIDATOR_EXIT_CODES = frozenset({0, 1})  # 0 valid, 1 invalid document: both are answers


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- the contenders


def apigov_argv(document: Path) -> list[str]:
    """The venv's ``apigov`` console script next to the interpreter, else ``python -m apigov``."""
    script = Path(sys.executable).parent / "apigov"
    prefix = [str(script)] if script.exists() else [sys.executable, "-m", "apigov"]
    return [*prefix, "validate", str(document), "--format", "json"]


def check_apigov_output(code: int, stdout: bytes, stderr: bytes) -> str | None:
    """Exit 0/1 only count when stdout is the JSON report (a traceback also exits 1).

    A cheap look at the head of stdout (``harness.CHECK_BYTES``), not a parse: parsing a large
    report here would grow the harness process, whose footprint is every child's RSS floor.
    """
    head = stdout.lstrip()
    if not head.startswith(b"{"):
        return f"exit {code} without a JSON report on stdout"
    if b'"findings"' not in head and len(stdout) < CHECK_BYTES:
        return f"exit {code}: stdout JSON is not an apigov report"
    return None


def check_no_traceback(code: int, stdout: bytes, stderr: bytes) -> str | None:
    """A Python peer that crashes exits 1 like an invalid document: tell them apart."""
    if b"Traceback (most recent call last)" in stderr:
        return f"exit {code} with a Python traceback"
    return None


def apigov_tool(document: Path, timeout: float, name: str = "apigov") -> Tool:
    return Tool(
        name=name,
        argv=apigov_argv(document),
        timeout=timeout,
        ok_exit_codes=VALIDATOR_EXIT_CODES,
        check=check_apigov_output,
        env=INSTALLED_BYTECODE,
    )


def peer_tool(peer: Peer, document: Path, timeout: float) -> Tool:
    return Tool(
        name=peer.name,
        argv=peer.argv(document) if peer.skipped is None else [],
        timeout=timeout,
        ok_exit_codes=VALIDATOR_EXIT_CODES,
        check=check_no_traceback if peer.name == "openapi-spec-validator" else None,
        skipped=peer.skipped,
        version=peer.version,
    )


# --------------------------------------------------------------------------- cases


def describe(document: Path) -> str:
    try:
        label = str(document.relative_to(CORPUS))
    except ValueError:
        label = document.name
    try:
        size = document.stat().st_size / 1e6
    except OSError:
        return label
    return f"{label} ({size:.1f} MB)"


def compare(
    name: str,
    document: Path,
    peers: Sequence[Peer],
    args: argparse.Namespace,
    label: str | None = None,
) -> BenchResult:
    tools = [apigov_tool(document, args.timeout)]
    tools += [peer_tool(p, document, args.peer_timeout) for p in peers]
    say(f"== {name}: {label or describe(document)}")
    bench = run_benchmark(
        name,
        tools,
        runs=args.runs,
        input_label=label or describe(document),
        cwd=REPO,
        log_dir=args.log_dir / name if args.log_dir else None,
        progress=say,
    )
    print(format_table(bench), flush=True)
    print(flush=True)
    return bench


def generate(n_paths: int, path: Path) -> Path:
    """Write a generated document in a subprocess, keeping this (the harness) process small."""
    if not path.exists():
        subprocess.run(
            [sys.executable, str(BENCH_DIR / "generate.py"), str(n_paths), str(path)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return path


def linear_fit(xs: Sequence[float], ys: Sequence[float]) -> dict[str, float]:
    """Least squares ``y = intercept + slope * x`` and its R²."""
    slope, intercept = statistics.linear_regression(xs, ys)
    mean = statistics.fmean(ys)
    total = sum((y - mean) ** 2 for y in ys)
    residual = sum((y - (intercept + slope * x)) ** 2 for x, y in zip(xs, ys, strict=True))
    r2 = 1.0 - residual / total if total > 0 else 1.0
    return {"intercept_s": intercept, "slope_s_per_path": slope, "r2": r2}


def scaling(sizes: Sequence[int], workdir: Path, args: argparse.Namespace) -> BenchResult:
    """apigov alone on generated documents of several sizes, alternating between the sizes."""
    tools: list[Tool] = []
    for n in sizes:
        path = generate(n, workdir / f"generated-{n}.yaml")
        tools.append(apigov_tool(path, args.timeout, name=f"apigov-{n}"))
    say(f"== scaling: apigov on {', '.join(map(str, sizes))} paths")
    bench = run_benchmark(
        "scaling",
        tools,
        runs=args.runs,
        baseline=tools[0].name,
        input_label=f"generated OpenAPI 3.0, {'/'.join(map(str, sizes))} paths",
        cwd=REPO,
        log_dir=args.log_dir / "scaling" if args.log_dir else None,
        progress=say,
    )
    print(format_table(bench))
    rows: list[dict[str, Any]] = []
    previous: tuple[int, float] | None = None
    ok: list[tuple[int, float]] = []
    header = f"{'paths':>6}  {'median s':>9}  {'ms/path':>8}  {'marginal ms/path':>16}"
    lines = [header]
    for n, result in zip(sizes, bench.results, strict=True):
        stats = result.stats
        if stats is None or not result.ok:
            lines.append(f"{n:>6}  {'-':>9}  {'-':>8}  {'-':>16}  {result.status}")
            rows.append({"paths": n, "status": result.status})
            previous = None
            continue
        per_path = stats.median / n * 1000
        marginal = None
        if previous is not None:
            marginal = (stats.median - previous[1]) / (n - previous[0]) * 1000
        marginal_text = "-" if marginal is None else f"{marginal:.3f}"
        lines.append(f"{n:>6}  {stats.median:>9.3f}  {per_path:>8.3f}  {marginal_text:>16}")
        rows.append(
            {"paths": n, "median_s": stats.median, "ms_per_path": per_path, "marginal": marginal}
        )
        previous = (n, stats.median)
        ok.append(previous)
    print("\n".join(lines))
    fit: dict[str, float] | None = None
    if len(ok) >= 2:
        fit = linear_fit([float(n) for n, _ in ok], [t for _, t in ok])
        print(
            f"linear fit: time = {fit['intercept_s']:.3f} s + "
            f"{fit['slope_s_per_path'] * 1000:.3f} ms × paths  (R² = {fit['r2']:.4f})"
        )
    print(flush=True)
    bench.extra["scaling"] = {"rows": rows, "fit": fit}
    return bench


# --------------------------------------------------------------------------- summary


def _median_text(bench: BenchResult, tool: str) -> str:
    result = bench.result(tool)
    if result is None:
        return "-"
    if result.tool.skipped is not None:
        return "skipped"
    stats = result.stats
    if stats is None:
        return "-"
    if stats.lower_bound:
        return f"> {result.tool.timeout:g} s"
    suffix = "" if result.ok else f" ({result.status})"
    return f"{stats.median:.2f} s{suffix}"


def _ratio_text(bench: BenchResult, tool: str) -> str:
    result, base = bench.result(tool), bench.result(bench.baseline)
    if result is None:
        return "-"
    r = result.ratio_to(base)
    if r is None:
        return "n/a"
    stats = result.stats
    return f"> {r:.1f}×" if stats is not None and stats.lower_bound else f"{r:.1f}×"


def summary(benches: Sequence[BenchResult], peer_names: Sequence[str]) -> str:
    """A Markdown table, one row per compared case: medians and ratios (peer / apigov)."""
    header = ["case", "apigov", *peer_names, *(f"{p} / apigov" for p in peer_names)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for bench in benches:
        if bench.name == "scaling":
            continue
        cells = [f"{bench.name}: {bench.input}", _median_text(bench, "apigov")]
        cells += [_median_text(bench, p) for p in peer_names]
        cells += [_ratio_text(bench, p) for p in peer_names]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def resolve_cases(names: Sequence[str]) -> list[tuple[str, Path | None]]:
    """Case names (``openai``, ``generated``, …) or document paths → (name, path or None)."""
    cases: list[tuple[str, Path | None]] = []
    for item in names:
        if item in CORPUS_DOCS:
            cases.append((item, CORPUS_DOCS[item]))
        elif item in SPECIAL_CASES:
            cases.append((item, None))
        elif Path(item).is_file():
            cases.append((Path(item).stem, Path(item).resolve()))
        else:
            choices = ", ".join(DEFAULT_CASES)
            raise SystemExit(f"--docs: {item!r} is neither a file nor one of: {choices}")
    return cases


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time apigov validate against openapi-spec-validator and swagger-cli."
    )
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS, help="measured runs per tool")
    parser.add_argument(
        "--docs",
        nargs="+",
        default=list(DEFAULT_CASES),
        metavar="NAME|PATH",
        help=f"cases to run: {', '.join(DEFAULT_CASES)} or document paths (default: all)",
    )
    parser.add_argument(
        "--peer-timeout",
        type=float,
        default=DEFAULT_PEER_TIMEOUT,
        help="per-run timeout of each peer, s (default %(default)g)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help="per-run timeout of apigov, s (default %(default)g)",
    )
    parser.add_argument("--generated-paths", type=int, default=DEFAULT_GENERATED_PATHS)
    parser.add_argument(
        "--scaling-sizes",
        type=lambda s: tuple(int(x) for x in s.split(",")),
        default=DEFAULT_SCALING_SIZES,
        help="comma-separated path counts (default %(default)s)",
    )
    parser.add_argument("--no-install", action="store_true", help="do not npm-install peers")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    parser.add_argument(
        "--log-dir", type=Path, default=None, help="keep each tool's last stdout/stderr here"
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    cases = resolve_cases(args.docs)
    needs_peers = any(name != "scaling" for name, _ in cases)
    peers = all_peers(install=not args.no_install) if needs_peers else []
    benches: list[BenchResult] = []
    with tempfile.TemporaryDirectory(prefix="apigov-bench-") as tmp:
        workdir = Path(tmp)
        for name, path in cases:
            if name == "scaling":
                benches.append(scaling(args.scaling_sizes, workdir, args))
                continue
            if name == "generated":
                n = args.generated_paths
                start = time.perf_counter()
                path = generate(n, workdir / f"generated-{n}.yaml")
                size = path.stat().st_size / 1e6
                say(f"generated {n} paths, {size:.1f} MB in {time.perf_counter() - start:.1f} s")
                label = f"generated OpenAPI 3.0, {n} paths ({size:.1f} MB YAML)"
                benches.append(compare(name, path, peers, args, label=label))
                continue
            assert path is not None
            if not path.is_file():
                say(f"{name}: {path} not found, skipped")
                continue
            benches.append(compare(name, path, peers, args))

    peer_names = [p.name for p in peers]
    if any(b.name != "scaling" for b in benches):
        print("Summary (ratio = peer median / apigov median; > 1 means apigov is faster)")
        print(summary(benches, peer_names))
    if not args.no_save and benches:
        extra = {
            "peers": {p.name: {"version": p.version, "skipped": p.skipped} for p in peers},
            "options": {
                "runs": args.runs,
                "peer_timeout": args.peer_timeout,
                "timeout": args.timeout,
                "generated_paths": args.generated_paths,
                "scaling_sizes": list(args.scaling_sizes),
            },
        }
        print(f"results: {save_results('validate', benches, extra=extra)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

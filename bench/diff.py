"""Benchmark: ``apigov diff`` against ``redocly diff`` on large real specs and generated variants.

    python bench/diff.py [--runs N] [--cases openai adyen scaling] [--peer-timeout S]

Cases:

- ``openai``: the corpus's ``openai/openapi.yaml`` (3 MB YAML) against a variant made by
  ``--make-variant`` (paths removed, required parameters added, properties removed, bounds
  tightened, enum values added: a few hundred changes), written as YAML like the original;
- ``adyen``: the corpus's Adyen Checkout v71 (0.9 MB JSON) against a variant of it (the corpus
  has no v70);
- ``one-change``: apigov alone, openai against a copy with one edit (a typical pull request);
- ``scaling``: apigov alone on generated documents of 1,000 … 8,000 paths against a variant of
  each, to show that the comparison grows linearly with the number of paths.

Peers are installed on demand into ``bench/.peers/`` (git-ignored): ``@redocly/cli`` with npm.
Every case runs in the same harness round (``bench/harness.py``): ratios are peer median /
apigov median (> 1: apigov is faster). The engine's own time (load excluded, best of three)
is measured in a child process (``engine_seconds``), with peak RSS and the traced Python
heap. Variants are written with PyYAML (installed with the project's dependencies). Results
go to ``bench/results/diff-<timestamp>.json``.

The run ends with a summary per peer case: both medians, redocly / apigov, and apigov's memory
per byte of input, ``(peak RSS - start-up peak RSS) / bytes of both inputs``, where the
start-up peak is that of ``apigov diff`` on two tiny documents (the interpreter and the
imports, which do not grow with the input), beside the issue's goals (5x, under 10x), and
the least CPU time of three more runs of each tool (what a run costs on a busy machine).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness import (
    DEFAULT_RUNS,
    INSTALLED_BYTECODE,
    BenchResult,
    Tool,
    format_table,
    run_benchmark,
    run_once,
    save_results,
)
from peers import npm_install

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
CORPUS = REPO.parent / "shared" / "corpus" / "specs"
PEERS = BENCH_DIR / ".peers"
REDOCLY_PREFIX = PEERS / "redocly"
REDOCLY_PACKAGE = "@redocly/cli@2.77.0"
WORK = PEERS / "diff-inputs"
CASES: dict[str, Path] = {
    "openai": CORPUS / "openai" / "openapi.yaml",
    "adyen": CORPUS / "adyen" / "CheckoutService-v71.json",
}
DIFF_EXIT_CODES = frozenset({0, 1})  # 1: breaking changes found, an answer like 0
SCALING_SIZES = (1000, 2000, 4000, 8000)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- inputs


def make_variant(data: dict[str, Any]) -> dict[str, Any]:
    """A deterministic set of edits of every kind the engine reports, spread over the document."""
    paths = data.get("paths") or {}
    for index, path in enumerate(list(paths)):
        if index % 50 == 49:
            del paths[path]
            continue
        item = paths[path]
        for method, op in item.items():
            if isinstance(op, dict) and index % 10 == 3 and method in ("get", "post"):
                op.setdefault("parameters", []).append(
                    {
                        "name": "benchFilter",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                )
    schemas = (data.get("components") or {}).get("schemas") or data.get("definitions") or {}
    for index, name in enumerate(list(schemas)):
        schema = schemas[name]
        if not isinstance(schema, dict):
            continue
        properties = schema.get("properties")
        if isinstance(properties, dict) and properties:
            if index % 15 == 0:
                properties.pop(list(properties)[-1])
            elif index % 15 == 7:
                for prop in properties.values():
                    if isinstance(prop, dict) and prop.get("type") == "string":
                        prop["maxLength"] = 64
        if isinstance(schema.get("enum"), list) and index % 5 == 0:
            schema["enum"] = [*schema["enum"], "bench_value"]
    info = data.setdefault("info", {})
    info["version"] = str(info.get("version", "1")) + "-bench"
    return data


def generated(n_paths: int) -> dict[str, Any]:
    """A legal 3.0 document: n paths, each with a GET returning its own schema."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for i in range(n_paths):
        schemas[f"Item{i}"] = {
            "type": "object",
            "required": ["id"],
            "properties": {
                "id": {"type": "string"},
                "name": {"type": "string", "maxLength": 100},
                "tags": {"type": "array", "items": {"type": "string"}},
                "owner": {"$ref": "#/components/schemas/Owner"},
            },
        }
        paths[f"/items{i}/{{id}}"] = {
            "get": {
                "operationId": f"get{i}",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": f"#/components/schemas/Item{i}"}
                            }
                        },
                    }
                },
            }
        }
    schemas["Owner"] = {"type": "object", "properties": {"name": {"type": "string"}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "generated", "version": "1.0.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def write_document(data: dict[str, Any], path: Path) -> None:
    if path.suffix == ".json":
        path.write_text(json.dumps(data), encoding="utf-8")
    else:
        import yaml

        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def read_document(path: Path) -> dict[str, Any]:
    if path.suffix == ".json":
        return dict(json.loads(path.read_text(encoding="utf-8")))
    import yaml

    return dict(yaml.safe_load(path.read_text(encoding="utf-8")))


def prepare_pair(name: str, source: Path | None, n_paths: int = 0) -> tuple[Path, Path]:
    """Base and head files for a case, made in a subprocess so the harness stays small."""
    WORK.mkdir(parents=True, exist_ok=True)
    suffix = source.suffix if source is not None else ".json"
    base = WORK / f"{name}-base{suffix}"
    head = WORK / f"{name}-head{suffix}"
    if not head.exists():
        argv = [
            sys.executable,
            __file__,
            "--make-pair",
            str(source or ""),
            str(n_paths),
            str(base),
            str(head),
        ]
        subprocess.run(argv, check=True)
    return base, head


def _make_pair(source: str, n_paths: int, base: Path, head: Path) -> None:
    if source:
        shutil.copyfile(source, base)
        write_document(make_variant(read_document(Path(source))), head)
    else:
        write_document(generated(n_paths), base)
        write_document(make_variant(generated(n_paths)), head)


# --------------------------------------------------------------------------- tools


def apigov_prefix() -> list[str]:
    script = Path(sys.executable).parent / "apigov"
    return [str(script)] if script.exists() else [sys.executable, "-m", "apigov"]


def redocly() -> tuple[list[str] | None, str | None]:
    """The redocly binary (installed on demand) or why it is not available."""
    binary = REDOCLY_PREFIX / "node_modules" / ".bin" / "redocly"
    if not binary.exists():
        failed = npm_install(REDOCLY_PREFIX, REDOCLY_PACKAGE)
        if failed is not None:
            return None, failed
        if not binary.exists():
            return None, f"{binary} not found after npm install"
    return [str(binary)], None


def tools_for(base: Path, head: Path, timeout: float) -> list[Tool]:
    tools = [
        Tool(
            "apigov",
            [*apigov_prefix(), "diff", str(base), str(head), "--format", "json"],
            timeout=timeout,
            ok_exit_codes=DIFF_EXIT_CODES,
            env=INSTALLED_BYTECODE,
        )
    ]
    prefix, why = redocly()
    tools.append(
        Tool(
            "redocly",
            [*(prefix or []), "diff", str(base), str(head)],
            timeout=timeout,
            ok_exit_codes=DIFF_EXIT_CODES,
            skipped=why,
            env={"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"},
        )
    )
    return tools


ENGINE_CODE = """
import json, os, resource, sys, time, tracemalloc
from apigov.spec.loader import Loader
from apigov.diff import diff_specs
base_path, head_path = sys.argv[1], sys.argv[2]
imported_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
t0 = time.perf_counter(); loader = Loader()
base = loader.load(base_path); head = loader.load(head_path)
t1 = time.perf_counter(); best = 1e9
for _ in range(3):
    s = time.perf_counter(); result = diff_specs(base, head)
    best = min(best, time.perf_counter() - s)
peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
# The Python heap of load + compare, traced in a second pass (tracing slows it down).
del base, head, result, loader
tracemalloc.start()
loader = Loader(); base = loader.load(base_path); head = loader.load(head_path)
# Retained after load: both documents as Python objects. (The load's own traced peak is not
# reported: reading a file asks for a max-size buffer that is never touched, so it counts
# 64 MB that never becomes resident.)
loaded = tracemalloc.get_traced_memory()[0]
tracemalloc.reset_peak()
result = diff_specs(base, head)
heap_peak = tracemalloc.get_traced_memory()[1]
size = os.path.getsize(base_path) + os.path.getsize(head_path)
print(json.dumps({
    "load": t1 - t0, "compare": best, "changes": len(result.changes),
    "schema_visits": result.schema_visits, "input_mb": size / 1e6,
    "rss_after_imports_mb": imported_rss, "rss_peak_mb": peak_rss,
    "heap_after_load_mb": loaded / 1e6, "heap_peak_mb": heap_peak / 1e6,
}))
"""


def engine_seconds(base: Path, head: Path) -> dict[str, float]:
    """Load and comparison timed apart, in a child process (best of 3 comparisons), with the
    memory they take: peak RSS (the process's, imports included) and the traced Python heap."""
    out = subprocess.run(
        [sys.executable, "-c", ENGINE_CODE, str(base), str(head)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **INSTALLED_BYTECODE},
    )
    return dict(json.loads(out.stdout))


def one_change_pair(source: Path) -> tuple[Path, Path]:
    """`source` against a copy with one edit (the first `maxLength` value): a typical pull
    request, where almost everything is unchanged."""
    WORK.mkdir(parents=True, exist_ok=True)
    head = WORK / f"one-change-{source.name}"
    if not head.exists():
        text = source.read_text(encoding="utf-8")
        at = text.index("maxLength")
        value = text.index(":", at) + 1
        end = min(i for i in (text.find(",", value), text.find("\n", value)) if i >= 0)
        head.write_text(text[:value] + " 7" + text[end:], encoding="utf-8")
    return source, head


# --------------------------------------------------------------------------- summary

TINY_SPEC = 'openapi: 3.0.3\ninfo: {title: tiny, version: "1"}\npaths: {}\n'
START_UP_RUNS = 3
CPU_RUNS = 3
SPEED_GOAL = 5.0  # redocly diff / apigov diff, whole commands (issue 3)
MEMORY_GOAL = 10.0  # (peak RSS - start-up peak RSS) / bytes of both inputs


def start_up_peak_mb() -> float:
    """Peak RSS of `apigov diff` on two tiny documents: the interpreter and the imports a diff
    needs, which do not grow with the input (the lowest of a few runs)."""
    WORK.mkdir(parents=True, exist_ok=True)
    tiny = WORK / "tiny.yaml"
    tiny.write_text(TINY_SPEC, encoding="utf-8")
    argv = [*apigov_prefix(), "diff", str(tiny), str(tiny), "--format", "json"]
    peaks = [
        run_once(argv, 60.0, cwd=REPO, env=INSTALLED_BYTECODE).peak_rss_mb
        for _ in range(START_UP_RUNS)
    ]
    return min(peaks)


def cpu_seconds(tool: Tool, runs: int) -> float | None:
    """The least CPU time (user + system, the child and its own children) of `runs` runs:
    on a machine shared with other work, what a run costs when wall time says little."""
    if tool.skipped is not None:
        return None
    best: float | None = None
    for _ in range(runs):
        child = subprocess.Popen(
            list(tool.argv),
            cwd=REPO,
            env={**os.environ, **(tool.env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(child.pid, 0)
        if os.waitstatus_to_exitcode(status) not in tool.ok_exit_codes:
            return None
        seconds = usage.ru_utime + usage.ru_stime
        best = seconds if best is None else min(best, seconds)
    return best


def summary_rows(
    benches: Sequence[BenchResult],
    inputs: dict[str, float],
    start_up_mb: float,
    cpu: dict[str, dict[str, float | None]],
) -> list[dict[str, Any]]:
    """Per case: both medians, redocly / apigov, CPU times, and apigov's memory per byte of
    input."""
    rows = []
    for bench in benches:
        case = bench.name.removeprefix("diff-")
        ours, peer = bench.result("apigov"), bench.result("redocly")
        ours_stats = ours.stats if ours is not None and ours.ok else None
        peer_stats = peer.stats if peer is not None and peer.ok else None
        peak = ours.peak_rss_mb if ours is not None else None
        rows.append(
            {
                "case": case,
                "apigov_s": ours_stats.median if ours_stats else None,
                "redocly_s": peer_stats.median if peer_stats else None,
                "ratio": peer.ratio_to(ours) if peer is not None else None,
                "apigov_peak_mb": peak,
                "start_up_peak_mb": start_up_mb,
                "input_mb": inputs[case],
                "memory_per_input": (peak - start_up_mb) / inputs[case] if peak else None,
                "apigov_cpu_s": cpu.get(case, {}).get("apigov"),
                "redocly_cpu_s": cpu.get(case, {}).get("redocly"),
            }
        )
    return rows


def format_summary(rows: Sequence[dict[str, Any]]) -> str:
    def number(value: float | None, unit: str = "", digits: int = 2) -> str:
        return "n/a" if value is None else f"{value:.{digits}f}{unit}"

    lines = [
        f"summary (goals: redocly / apigov >= {SPEED_GOAL:.0f}x; "
        f"(peak - start-up peak) / input < {MEMORY_GOAL:.0f}x)",
        "case          apigov s  redocly s   ratio  peak MB  start-up MB  input MB  memory/input"
        "  CPU s (apigov / redocly)",
    ]
    for row in rows:
        lines.append(
            f"{row['case']:<12}  {number(row['apigov_s']):>8}  {number(row['redocly_s']):>9}  "
            f"{number(row['ratio'], 'x'):>6}  {number(row['apigov_peak_mb'], digits=1):>7}  "
            f"{number(row['start_up_peak_mb'], digits=1):>11}  {number(row['input_mb']):>8}  "
            f"{number(row['memory_per_input'], 'x', 1):>12}  "
            f"{number(row['apigov_cpu_s'])} / {number(row['redocly_cpu_s'])}"
        )
    lines.append(
        "ratio: medians of wall time, same round-robin; CPU s: the least user + system time of "
        f"{CPU_RUNS} more runs each (node's redocly uses several threads: CPU above wall)"
    )
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["--make-pair"]:
        _, source, n_paths, base, head = args_list
        _make_pair(source, int(n_paths), Path(base), Path(head))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    parser.add_argument("--cases", nargs="*", default=[*CASES, "one-change", "scaling"])
    parser.add_argument("--peer-timeout", type=float, default=120.0)
    args = parser.parse_args(args_list)
    benches: list[BenchResult] = []
    engine: dict[str, Any] = {}
    inputs: dict[str, float] = {}
    cpu: dict[str, dict[str, float | None]] = {}
    for case in args.cases:
        if case in ("scaling", "one-change"):
            continue
        base, head = prepare_pair(case, CASES[case])
        inputs[case] = (base.stat().st_size + head.stat().st_size) / 1e6
        engine[case] = engine_seconds(base, head)
        say(f"== {case}: engine {engine[case]}")
        bench = run_benchmark(
            f"diff-{case}",
            tools_for(base, head, args.peer_timeout),
            runs=args.runs,
            input_label=f"{CASES[case].name} vs variant",
            cwd=REPO,
            progress=say,
        )
        print(format_table(bench), flush=True)
        benches.append(bench)
        tools = tools_for(base, head, args.peer_timeout)
        cpu[case] = {tool.name: cpu_seconds(tool, CPU_RUNS) for tool in tools}
    if "one-change" in args.cases:
        # No peer run: this case shows what the engine's skipping of unchanged parts buys.
        base, head = one_change_pair(CASES["openai"])
        engine["one-change"] = engine_seconds(base, head)
        say(f"== one-change (openai): engine {engine['one-change']}")
    if "scaling" in args.cases:
        rows = []
        for size in SCALING_SIZES:
            base, head = prepare_pair(f"generated-{size}", None, size)
            started = time.perf_counter()
            figures = engine_seconds(base, head)
            rows.append({"paths": size, **figures, "wall": time.perf_counter() - started})
            say(
                f"scaling {size} paths: compare {figures['compare']:.3f} s, "
                f"load {figures['load']:.3f} s"
            )
        engine["scaling"] = rows
    rows = summary_rows(benches, inputs, start_up_peak_mb(), cpu) if benches else []
    path = save_results("diff", benches, extra={"engine": engine, "summary": rows})
    print(json.dumps(engine, indent=2))
    if rows:
        print(format_summary(rows), flush=True)
    say(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

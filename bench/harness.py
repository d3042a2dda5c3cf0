"""A small benchmark harness: time several command lines on the same input, round-robin.

Every benchmark compares *tools* (named argv lists) measured in the same run, so results are
ratios against peers on the same machine at the same moment, never absolute goals.

How one benchmark runs:

- one warm-up run of each tool, in the order given (not counted);
- then ``runs`` measured rounds, alternating between the tools: A B C A B C ...;
- every run is one child process started with :class:`subprocess.Popen` and reaped with
  :func:`os.wait4`, so the wall time (``time.perf_counter`` around start and reap), the CPU time
  and the peak resident set size (``ru_maxrss``) belong to that child alone -- with one caveat
  for the peak: on Linux a child's ``ru_maxrss`` is never below the harness's own peak RSS when
  it was started (``exec`` folds the memory it replaces, the parent's under ``vfork``, into the
  child's maximum). Keep the harness process small (do heavy work such as generating inputs in
  subprocesses); every run records that floor, and a peak at or under it is reported as
  "<= floor", not as a number;
- the CPU time is user + system time (``ru_utime + ru_stime``) of the child, its threads, and
  every descendant the child (or a descendant) waited for before it ended: a tool that works in
  several processes or threads shows its whole cost there, even when its wall time does not
  (``apigov lint`` forks a helper on large documents and waits for it, so the helper counts).
  A descendant left running or never waited for is not counted, and a run that timed out has
  the CPU time used until it was killed (a lower bound, marked like its wall time);
- a run that exceeds its timeout is killed (its whole process group), counts as the timeout and
  is marked; by default a tool that timed out once gets no further runs in that benchmark, and its
  result is the lower bound "> timeout".

Used as a library by the benchmark scripts (``bench/validate.py``), and as a command line for
ad-hoc comparisons::

    python bench/harness.py --name demo --runs 5 \\
        --tool 'apigov=apigov validate spec.yaml --format json' \\
        --tool 'osv=openapi-spec-validator spec.yaml'
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.util
import json
import os
import platform
import resource
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
DEFAULT_RUNS = 5
DEFAULT_TIMEOUT = 300.0
#: The environment of an apigov run as installed: a pip install compiles apigov's modules once,
#: while PYTHONDONTWRITEBYTECODE (which some shells and this project's machines set) would make
#: every benchmarked run compile them again and count that as apigov's time (0.05-0.15 s). An
#: empty value turns the setting off; the bytecode goes under bench/.peers/, out of the tree.
INSTALLED_BYTECODE = {
    "PYTHONDONTWRITEBYTECODE": "",
    "PYTHONPYCACHEPREFIX": str(BENCH_DIR / ".peers" / "pycache"),
}
RSS_FLOOR_MARGIN_MB = 1.0
#: stdout/stderr bytes handed to an output check (the head of each): checks must stay cheap and
#: must not grow the harness process, whose peak RSS is the floor of every child's.
CHECK_BYTES = 1 << 20

#: ``check(exit_code, stdout, stderr)`` returns a reason when a finished run is not a real result
#: (a crash that happens to exit with an accepted code, output that is not what was asked for).
#: It gets the first ``CHECK_BYTES`` of each stream.
OutputCheck = Callable[[int, bytes, bytes], "str | None"]


@dataclass(frozen=True)
class Tool:
    """One contender: a name, its command line, and what counts as a proper finish."""

    name: str
    argv: Sequence[str]
    timeout: float = DEFAULT_TIMEOUT
    #: exit codes that mean "the tool did its job" (a validator exits 1 on an invalid document).
    ok_exit_codes: frozenset[int] = frozenset({0})
    check: OutputCheck | None = None
    #: set when the tool could not be made available (e.g. a peer failed to install).
    skipped: str | None = None
    version: str | None = None
    env: dict[str, str] | None = None


@dataclass(frozen=True)
class Run:
    """One child process."""

    tool: str
    seq: int  # position in the whole benchmark's run order, 0-based
    warmup: bool
    seconds: float  # wall time; the timeout itself when the run timed out
    peak_rss_mb: float
    exit_code: int | None  # None when the run timed out (it was killed)
    timed_out: bool
    problem: str | None = None  # why this run is not a proper result, if it is not
    rss_floor_mb: float = 0.0  # the harness's own peak RSS when the child started
    #: user + system seconds of the child and the descendants it waited for; None when not
    #: measured (a Run made by hand).
    cpu_seconds: float | None = None

    @property
    def rss_is_floor(self) -> bool:
        """The child's true peak is at most ``rss_floor_mb``; ``peak_rss_mb`` is not its own."""
        return self.peak_rss_mb <= self.rss_floor_mb + RSS_FLOOR_MARGIN_MB

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "warmup": self.warmup,
            "seconds": round(self.seconds, 6),
            "cpu_seconds": None if self.cpu_seconds is None else round(self.cpu_seconds, 6),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "rss_floor_mb": round(self.rss_floor_mb, 1),
            "rss_is_floor": self.rss_is_floor,
            "exit_code": self.exit_code,
            "timed_out": self.timed_out,
            "problem": self.problem,
        }


@dataclass(frozen=True)
class Stats:
    median: float
    minimum: float
    maximum: float
    #: True when at least half of the measured runs timed out: the median is only a lower bound.
    lower_bound: bool


def sibling(name: str) -> ModuleType:
    """Another bench script as a module (bench/ is not a package, and a plain `import registry`
    would be ambiguous beside apigov's own): its seeding data and helpers."""
    path = Path(__file__).resolve().parent / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def compute_stats(seconds: Sequence[float], timed_out: Sequence[bool]) -> Stats:
    """Median, min and max of the measured times (wall: timed-out runs count as the timeout;
    CPU: as what they used until killed)."""
    if not seconds:
        raise ValueError("no runs to summarise")
    if len(seconds) != len(timed_out):
        raise ValueError("seconds and timed_out differ in length")
    return Stats(
        median=statistics.median(seconds),
        minimum=min(seconds),
        maximum=max(seconds),
        lower_bound=sum(timed_out) * 2 >= len(timed_out),
    )


def ratio(peer_median: float, baseline_median: float) -> float | None:
    """How many times slower the peer is than the baseline (apigov): peer / baseline."""
    if baseline_median <= 0:
        return None
    return peer_median / baseline_median


@dataclass
class ToolResult:
    tool: Tool
    runs: list[Run] = field(default_factory=list)
    last_stderr: str = ""

    @property
    def measured(self) -> list[Run]:
        """The runs that count: the measured rounds, or the warm-up alone if it timed out."""
        counted = [r for r in self.runs if not r.warmup]
        if not counted:
            counted = [r for r in self.runs if r.warmup and r.timed_out]
        return counted

    @property
    def stats(self) -> Stats | None:
        runs = self.measured
        if not runs:
            return None
        return compute_stats([r.seconds for r in runs], [r.timed_out for r in runs])

    @property
    def cpu_stats(self) -> Stats | None:
        """Median, min and max CPU seconds of the runs that count; None if one was not measured."""
        runs = self.measured
        cpu = [r.cpu_seconds for r in runs]
        if not runs or any(c is None for c in cpu):
            return None
        return compute_stats([c for c in cpu if c is not None], [r.timed_out for r in runs])

    @property
    def peak_rss_mb(self) -> float | None:
        """The largest peak RSS of a finished run (may be a floor: see ``rss_is_floor``)."""
        values = [r.peak_rss_mb for r in self.runs if not r.timed_out]
        return max(values) if values else None

    @property
    def rss_is_floor(self) -> bool:
        """No finished run rose above the harness's own footprint: only an upper bound is known."""
        finished = [r for r in self.runs if not r.timed_out]
        return bool(finished) and all(r.rss_is_floor for r in finished)

    @property
    def exit_codes(self) -> list[int | None]:
        return [r.exit_code for r in self.measured]

    @property
    def status(self) -> str:
        """``ok``, ``skipped: …``, ``timeout``, or ``failed: …``."""
        if self.tool.skipped is not None:
            return f"skipped: {self.tool.skipped}"
        runs = self.measured
        if not runs:
            return "failed: no runs"
        if any(r.timed_out for r in runs):
            return "timeout"
        problems = [r.problem for r in runs if r.problem]
        if problems:
            return f"failed: {problems[0]}"
        return "ok"

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self, baseline: ToolResult | None) -> dict[str, Any]:
        stats = self.stats
        r = self.ratio_to(baseline)
        cpu = self.cpu_stats
        cpu_r = self.cpu_ratio_to(baseline)
        return {
            "name": self.tool.name,
            "argv": list(self.tool.argv),
            "version": self.tool.version,
            "timeout": self.tool.timeout,
            "status": self.status,
            "median": None if stats is None else round(stats.median, 6),
            "min": None if stats is None else round(stats.minimum, 6),
            "max": None if stats is None else round(stats.maximum, 6),
            "median_is_lower_bound": None if stats is None else stats.lower_bound,
            "cpu_median": None if cpu is None else round(cpu.median, 6),
            "cpu_min": None if cpu is None else round(cpu.minimum, 6),
            "cpu_max": None if cpu is None else round(cpu.maximum, 6),
            "peak_rss_mb": None if self.peak_rss_mb is None else round(self.peak_rss_mb, 1),
            "peak_rss_is_upper_bound": self.rss_is_floor,
            "exit_codes": self.exit_codes,
            "ratio": None if r is None else round(r, 3),
            "cpu_ratio": None if cpu_r is None else round(cpu_r, 3),
            "last_stderr": self.last_stderr if not self.ok else "",
            "runs": [run.to_dict() for run in self.runs],
        }

    def ratio_to(self, baseline: ToolResult | None) -> float | None:
        """peer median / baseline median; None when either side has no proper result."""
        return self._median_ratio(baseline, lambda result: result.stats)

    def cpu_ratio_to(self, baseline: ToolResult | None) -> float | None:
        """peer CPU median / baseline CPU median; None when either side has no proper result."""
        return self._median_ratio(baseline, lambda result: result.cpu_stats)

    def _median_ratio(
        self, baseline: ToolResult | None, stats_of: Callable[[ToolResult], Stats | None]
    ) -> float | None:
        # A peer that timed out still has a ratio (a lower bound); one that failed has none.
        if baseline is None or not baseline.ok:
            return None
        if self.tool.skipped is not None or self.status.startswith("failed"):
            return None
        mine, theirs = stats_of(self), stats_of(baseline)
        if mine is None or theirs is None:
            return None
        return ratio(mine.median, theirs.median)


@dataclass
class BenchResult:
    name: str
    input: str
    runs: int
    baseline: str
    results: list[ToolResult]
    order: list[str]  # tool names in the order they actually ran, warm-ups included
    extra: dict[str, Any] = field(default_factory=dict)

    def result(self, name: str) -> ToolResult | None:
        for r in self.results:
            if r.tool.name == name:
                return r
        return None

    def to_dict(self) -> dict[str, Any]:
        base = self.result(self.baseline)
        return {
            "name": self.name,
            "input": self.input,
            "runs": self.runs,
            "baseline": self.baseline,
            "order": self.order,
            "tools": [r.to_dict(base) for r in self.results],
            **self.extra,
        }


# --------------------------------------------------------------------------- running one child


def _maxrss_mb(ru_maxrss: int) -> float:
    # Linux reports kilobytes, macOS bytes.
    return ru_maxrss / (1024 * 1024) if sys.platform == "darwin" else ru_maxrss / 1024


def self_peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM on Linux; ``ru_maxrss`` of itself elsewhere)."""
    try:
        with Path("/proc/self/status").open(encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return _maxrss_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


@dataclass(frozen=True)
class Measurement:
    """What :func:`run_once` observed of one child."""

    seconds: float  # wall time; the timeout itself when the run timed out
    peak_rss_mb: float  # the child's ru_maxrss from os.wait4
    exit_code: int | None  # None when the run timed out (it was killed)
    timed_out: bool
    rss_floor_mb: float  # the harness's own peak RSS when the child was started
    #: user + system seconds of the child and of the descendants it waited for (see the module's
    #: docstring); for a run that timed out, what it used until it was killed.
    cpu_seconds: float


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def run_once(
    argv: Sequence[str],
    timeout: float,
    *,
    stdout_path: Path | None = None,
    stderr_path: Path | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> Measurement:
    """Run one child and measure its wall time, CPU time, peak RSS and exit code.

    The child gets its own session (process group) so a timeout can kill everything it started.
    It is waited for with ``os.waitid(WNOWAIT)`` first (the pid stays reserved as a zombie, so the
    timeout timer can never signal a recycled pid), then reaped with ``os.wait4`` for its rusage.
    """
    full_env = None if env is None else {**os.environ, **env}
    with (
        (stdout_path or Path(os.devnull)).open("wb") as out,
        (stderr_path or Path(os.devnull)).open("wb") as err,
    ):
        lock = threading.Lock()
        state = {"exited": False, "killed": False}
        floor = self_peak_rss_mb()
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            cwd=cwd,
            env=full_env,
            start_new_session=True,
        )

        def on_timeout() -> None:
            with lock:
                if not state["exited"]:
                    state["killed"] = True
                    _kill_group(proc.pid)

        timer = threading.Timer(timeout, on_timeout)
        timer.daemon = True
        timer.start()
        try:
            while True:
                try:
                    os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
                    break
                except InterruptedError:  # pragma: no cover - PEP 475 retries already
                    continue
            end = time.perf_counter()
            with lock:
                state["exited"] = True
            _, status, rusage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        code = os.waitstatus_to_exitcode(status)
        proc.returncode = code  # keep Popen from trying to reap it again
        # Grandchildren left behind in the group (the child itself is gone) must not linger.
        if state["killed"]:
            _kill_group(proc.pid)
    timed_out = state["killed"]
    return Measurement(
        seconds=timeout if timed_out else end - start,
        peak_rss_mb=_maxrss_mb(rusage.ru_maxrss),
        exit_code=None if timed_out else code,
        timed_out=timed_out,
        rss_floor_mb=floor,
        # wait4 reports the child's own usage plus that of every descendant it reaped (Linux
        # fills it as getrusage's RUSAGE_BOTH of the child).
        cpu_seconds=rusage.ru_utime + rusage.ru_stime,
    )


def _tail(path: Path, limit: int = 2000) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - limit))
            data = fh.read()
    except OSError:
        return ""
    return data.decode("utf-8", "replace").strip()


def _check_run(tool: Tool, code: int | None, timed_out: bool, out: Path, err: Path) -> str | None:
    if timed_out:
        return f"timed out after {tool.timeout:g} s"
    assert code is not None
    if code not in tool.ok_exit_codes:
        return f"exit code {code}"
    if tool.check is not None:
        try:
            with out.open("rb") as fo, err.open("rb") as fe:
                stdout, stderr = fo.read(CHECK_BYTES), fe.read(CHECK_BYTES)
        except OSError as exc:
            return f"output unreadable: {exc}"
        return tool.check(code, stdout, stderr)
    return None


# --------------------------------------------------------------------------- a whole benchmark


def run_benchmark(
    name: str,
    tools: Sequence[Tool],
    *,
    runs: int = DEFAULT_RUNS,
    baseline: str = "apigov",
    input_label: str = "",
    warmup: bool = True,
    stop_after_timeout: bool = True,
    cwd: Path | None = None,
    log_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> BenchResult:
    """Warm up each tool once, then run ``runs`` rounds round-robin (A B C A B C ...).

    ``log_dir`` keeps the last run's stdout/stderr of each tool (``<tool>.stdout``/``.stderr``);
    without it they go to a temporary folder that is removed afterwards.
    """
    if runs < 1:
        raise ValueError("runs must be at least 1")
    names = [t.name for t in tools]
    if len(set(names)) != len(names):
        raise ValueError(f"tool names must be unique: {names}")
    results = {t.name: ToolResult(t) for t in tools}
    order: list[str] = []
    stopped: set[str] = {t.name for t in tools if t.skipped is not None}

    with tempfile.TemporaryDirectory(prefix="apigov-bench-") as tmp:
        logs = log_dir if log_dir is not None else Path(tmp)
        logs.mkdir(parents=True, exist_ok=True)
        rounds: list[bool] = ([True] if warmup else []) + [False] * runs
        for round_index, is_warmup in enumerate(rounds):
            for tool in tools:
                if tool.name in stopped:
                    continue
                safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in tool.name)
                out, err = logs / f"{safe}.stdout", logs / f"{safe}.stderr"
                if progress is not None:
                    label = "warm-up" if is_warmup else f"run {round_index + (not warmup)}/{runs}"
                    progress(f"  {tool.name}: {label} …")
                m = run_once(
                    tool.argv,
                    tool.timeout,
                    stdout_path=out,
                    stderr_path=err,
                    cwd=cwd,
                    env=tool.env,
                )
                problem = _check_run(tool, m.exit_code, m.timed_out, out, err)
                run = Run(
                    tool=tool.name,
                    seq=len(order),
                    warmup=is_warmup,
                    seconds=m.seconds,
                    peak_rss_mb=m.peak_rss_mb,
                    exit_code=m.exit_code,
                    timed_out=m.timed_out,
                    problem=problem,
                    rss_floor_mb=m.rss_floor_mb,
                    cpu_seconds=m.cpu_seconds,
                )
                order.append(tool.name)
                result = results[tool.name]
                result.runs.append(run)
                if problem is not None:
                    result.last_stderr = _tail(err) or _tail(out)
                if m.timed_out and stop_after_timeout:
                    stopped.add(tool.name)

    return BenchResult(
        name=name,
        input=input_label,
        runs=runs,
        baseline=baseline,
        results=[results[t.name] for t in tools],
        order=order,
    )


# --------------------------------------------------------------------------- reporting


def _fmt_seconds(value: float, lower_bound: bool) -> str:
    text = f"{value:.3f}" if value < 100 else f"{value:.1f}"
    return f"> {value:g} s" if lower_bound else text


def _fmt_codes(result: ToolResult) -> str:
    parts: list[str] = []
    for run in result.measured:
        parts.append("T/O" if run.timed_out else str(run.exit_code))
    if not parts:
        return "-"
    unique = sorted(set(parts))
    return unique[0] if len(unique) == 1 else ",".join(parts)


def _fmt_cpu(stats: Stats | None) -> str:
    if stats is None:
        return "-"
    # A run that timed out was killed: the CPU it had used by then is less than its whole cost.
    return ("> " if stats.lower_bound else "") + _fmt_seconds(stats.median, False)


def _fmt_ratio(result: ToolResult, is_baseline: bool, r: float | None, stats: Stats | None) -> str:
    if is_baseline:
        return "1.00" if result.ok and stats is not None else "n/a"
    if r is None:
        return "n/a"
    return f"> {r:.2f}" if stats is not None and stats.lower_bound else f"{r:.2f}"


def format_table(bench: BenchResult) -> str:
    """A plain-text table: tool, median s, min, max (wall), CPU s (median), peak MB, exit codes,
    ratio (wall), CPU ratio, status. A tool that works in parallel (threads, or processes it
    waits for) has more CPU seconds than wall seconds; its CPU ratio shows what it costs."""
    base = bench.result(bench.baseline)
    header = [
        "tool",
        "median s",
        "min",
        "max",
        "cpu s",
        "peak MB",
        "exit",
        "ratio",
        "cpu ratio",
        "status",
    ]
    rows: list[list[str]] = []
    for result in bench.results:
        stats = result.stats
        if stats is None:
            cells = ["-", "-", "-"]
        else:
            cells = [
                _fmt_seconds(stats.median, stats.lower_bound),
                _fmt_seconds(stats.minimum, False),
                _fmt_seconds(stats.maximum, False),
            ]
        cpu = result.cpu_stats
        rss = result.peak_rss_mb
        is_baseline = result.tool.name == bench.baseline
        rows.append(
            [
                result.tool.name,
                *cells,
                _fmt_cpu(cpu),
                "-" if rss is None else (f"<= {rss:.0f}" if result.rss_is_floor else f"{rss:.0f}"),
                _fmt_codes(result),
                _fmt_ratio(result, is_baseline, result.ratio_to(base), stats),
                _fmt_ratio(result, is_baseline, result.cpu_ratio_to(base), cpu),
                result.status,
            ]
        )
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    numeric = {1, 2, 3, 4, 5, 7, 8}

    def line(cells: Sequence[str]) -> str:
        out = []
        for i, cell in enumerate(cells):
            out.append(cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i]))
        return "  ".join(out).rstrip()

    lines = [line(header), line(["-" * w for w in widths])]
    lines.extend(line(row) for row in rows)
    title = f"{bench.name}: {bench.input}" if bench.input else bench.name
    warmed = any(run.warmup for result in bench.results for run in result.runs)
    schedule = "round-robin after 1 warm-up" if warmed else "round-robin, no warm-up"
    lines.insert(0, f"{title}  ({bench.runs} runs each, {schedule})")
    for result in bench.results:
        if not result.ok and result.last_stderr and not result.status.startswith("skipped"):
            last = result.last_stderr.strip().splitlines()[-1]
            lines.append(f"  note: {result.tool.name}: {last[:200]}")
    return "\n".join(lines)


def machine_info() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
    }


def timestamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def save_results(
    name: str,
    benches: Sequence[BenchResult],
    *,
    results_dir: Path = RESULTS_DIR,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``<results_dir>/<name>-<timestamp>.json`` and return its path."""
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = timestamp()
    path = results_dir / f"{name}-{stamp}.json"
    payload = {
        "name": name,
        "timestamp": stamp,
        "machine": machine_info(),
        **(extra or {}),
        "benchmarks": [b.to_dict() for b in benches],
    }
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- command line


def _parse_tool(text: str, timeout: float) -> Tool:
    name, sep, command = text.partition("=")
    if not sep or not name or not command.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=COMMAND, got {text!r}")
    return Tool(name=name.strip(), argv=shlex.split(command), timeout=timeout)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time command lines against each other.")
    parser.add_argument("--name", default="adhoc", help="benchmark name (results file prefix)")
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="per run, s")
    parser.add_argument("--baseline", default=None, help="tool the ratios are against (first)")
    parser.add_argument(
        "--tool", action="append", required=True, metavar="NAME=COMMAND", help="repeatable"
    )
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    args = parser.parse_args(argv)
    try:
        tools = [_parse_tool(t, args.timeout) for t in args.tool]
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))
    bench = run_benchmark(
        args.name,
        tools,
        runs=args.runs,
        baseline=args.baseline or tools[0].name,
        progress=lambda msg: print(msg, file=sys.stderr, flush=True),
    )
    print(format_table(bench))
    if not args.no_save:
        print(f"results: {save_results(args.name, [bench])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

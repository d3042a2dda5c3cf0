"""The benchmark harness's logic (bench/): statistics, ratios, run order, timeouts, generator.

No assertion here is about speed: the only timings checked are the harness's own bookkeeping.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest
import yaml

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402
import harness  # noqa: E402
from harness import Tool  # noqa: E402

PASS = [sys.executable, "-c", "pass"]


def _appender(log: Path, letter: str) -> list[str]:
    """A command that appends ``letter`` to ``log``: the file records the real run order."""
    code = (
        f"import pathlib; p = pathlib.Path({str(log)!r}); p.write_text(p.read_text() + {letter!r})"
    )
    return [sys.executable, "-c", code]


# --------------------------------------------------------------------------- statistics


def test_compute_stats_median_min_max() -> None:
    stats = harness.compute_stats([3.0, 1.0, 2.0], [False, False, False])
    assert (stats.median, stats.minimum, stats.maximum) == (2.0, 1.0, 3.0)
    assert not stats.lower_bound


def test_compute_stats_even_count_takes_mean_of_middle_pair() -> None:
    stats = harness.compute_stats([4.0, 1.0, 2.0, 3.0], [False] * 4)
    assert stats.median == 2.5


def test_compute_stats_lower_bound_when_half_timed_out() -> None:
    assert harness.compute_stats([60.0, 60.0, 1.0], [True, True, False]).lower_bound
    assert not harness.compute_stats([60.0, 1.0, 1.0], [True, False, False]).lower_bound


def test_compute_stats_rejects_empty() -> None:
    with pytest.raises(ValueError):
        harness.compute_stats([], [])


def test_ratio_is_peer_over_baseline() -> None:
    assert harness.ratio(3.0, 1.5) == 2.0
    assert harness.ratio(0.5, 2.0) == 0.25
    assert harness.ratio(1.0, 0.0) is None


def _result(
    name: str, seconds: list[float], *, code: int = 0, timed_out: bool = False
) -> harness.ToolResult:
    result = harness.ToolResult(Tool(name, ["x"], timeout=60.0))
    for i, s in enumerate(seconds):
        result.runs.append(
            harness.Run(
                tool=name,
                seq=i,
                warmup=False,
                seconds=s,
                peak_rss_mb=10.0,
                exit_code=None if timed_out else code,
                timed_out=timed_out,
                problem="timed out after 60 s" if timed_out else None,
            )
        )
    return result


def test_ratio_to_uses_medians_and_ignores_warmup() -> None:
    base = _result("apigov", [1.0, 2.0, 9.0])
    peer = _result("peer", [4.0, 5.0, 6.0])
    peer.runs.insert(
        0, harness.Run("peer", -1, True, 100.0, 10.0, 0, False)
    )  # a slow warm-up must not count
    assert peer.ratio_to(base) == 2.5


def test_ratio_to_is_none_when_baseline_failed() -> None:
    base = _result("apigov", [1.0])
    base.runs[0] = harness.Run("apigov", 0, False, 1.0, 10.0, 2, False, problem="exit code 2")
    assert base.status == "failed: exit code 2"
    assert _result("peer", [2.0]).ratio_to(base) is None


# --------------------------------------------------------------------------- running


def test_run_benchmark_round_robin_order(tmp_path: Path) -> None:
    log = tmp_path / "order.txt"
    log.write_text("")
    tools = [Tool(letter, _appender(log, letter)) for letter in "ABC"]
    bench = harness.run_benchmark("order", tools, runs=3, baseline="A")
    # one warm-up each, then alternating rounds
    assert log.read_text() == "ABC" + "ABC" * 3
    assert bench.order == list("ABC" * 4)
    for result in bench.results:
        assert [r.warmup for r in result.runs] == [True, False, False, False]
        assert len(result.measured) == 3
        assert result.exit_codes == [0, 0, 0]
        assert result.status == "ok"
    seqs = [r.seq for result in bench.results for r in result.runs]
    assert sorted(seqs) == list(range(12))


def test_run_benchmark_records_exit_codes_and_problems() -> None:
    tools = [
        Tool("apigov", PASS),
        Tool("fails", [sys.executable, "-c", "raise SystemExit(3)"]),
        Tool(
            "invalid",
            [sys.executable, "-c", "raise SystemExit(1)"],
            ok_exit_codes=frozenset({0, 1}),
        ),
    ]
    bench = harness.run_benchmark("codes", tools, runs=2)
    fails, invalid = bench.result("fails"), bench.result("invalid")
    assert fails is not None and invalid is not None
    assert fails.exit_codes == [3, 3]
    assert fails.status == "failed: exit code 3"
    assert fails.ratio_to(bench.result("apigov")) is None
    assert invalid.status == "ok"
    assert invalid.ratio_to(bench.result("apigov")) is not None
    table = harness.format_table(bench)
    assert "failed: exit code 3" in table
    for name in ("apigov", "fails", "invalid"):
        assert name in table


def test_output_check_can_reject_a_run() -> None:
    tool = Tool(
        "apigov",
        [sys.executable, "-c", "print('not json')"],
        check=lambda code, out, err: None if out.startswith(b"{") else "no JSON",
    )
    bench = harness.run_benchmark("check", [tool], runs=1)
    assert bench.results[0].status == "failed: no JSON"


def test_skipped_tool_is_not_run() -> None:
    tools = [Tool("apigov", PASS), Tool("peer", [], skipped="npm install failed")]
    bench = harness.run_benchmark("skip", tools, runs=2)
    peer = bench.result("peer")
    assert peer is not None
    assert peer.runs == []
    assert peer.status == "skipped: npm install failed"
    assert bench.order == ["apigov"] * 3
    assert "skipped: npm install failed" in harness.format_table(bench)


def test_run_once_measures_exit_code_and_rss() -> None:
    m = harness.run_once([sys.executable, "-c", "raise SystemExit(4)"], timeout=30)
    assert m.exit_code == 4
    assert not m.timed_out
    assert m.seconds > 0
    assert m.peak_rss_mb > 1  # a Python interpreter needs more than 1 MB
    assert m.rss_floor_mb > 1  # so does the test process itself


def test_run_once_reports_peak_rss_of_the_child_itself() -> None:
    floor = harness.self_peak_rss_mb()
    big = f"b = bytearray({int(floor) + 100} * 1024 * 1024); b[::4096] = b'x' * len(b[::4096])"
    m = harness.run_once([sys.executable, "-c", big], timeout=30)
    assert m.exit_code == 0
    assert m.peak_rss_mb > floor + 90
    run = harness.Run("big", 0, False, m.seconds, m.peak_rss_mb, 0, False, None, m.rss_floor_mb)
    assert not run.rss_is_floor


def test_peak_at_or_under_the_harness_footprint_is_only_an_upper_bound() -> None:
    under = harness.Run("t", 0, False, 1.0, 40.0, 0, False, None, rss_floor_mb=40.0)
    over = harness.Run("t", 1, False, 1.0, 80.0, 0, False, None, rss_floor_mb=40.0)
    assert under.rss_is_floor and not over.rss_is_floor
    result = harness.ToolResult(Tool("t", ["x"]), runs=[under])
    assert result.rss_is_floor
    result.runs.append(over)
    assert not result.rss_is_floor and result.peak_rss_mb == 80.0


def test_run_once_captures_output(tmp_path: Path) -> None:
    out, err = tmp_path / "out", tmp_path / "err"
    harness.run_once(
        [sys.executable, "-c", "import sys; print('hi'); print('oops', file=sys.stderr)"],
        timeout=30,
        stdout_path=out,
        stderr_path=err,
    )
    assert out.read_text().strip() == "hi"
    assert err.read_text().strip() == "oops"


# --------------------------------------------------------------------------- CPU time

#: CPU seconds a grandchild burns (by its own clock, so the test does not depend on speed).
BURN = 0.5


def _forks_a_burner(*, waits: bool) -> list[str]:
    """A child that forks a grandchild burning ``BURN`` CPU seconds, and waits for it or not.
    The child itself only sleeps and waits: nearly all the CPU is the grandchild's."""
    code = (
        "import os, time\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        f"    while time.process_time() < {BURN}: pass\n"
        "    os._exit(0)\n"
        f"{'os.waitpid(pid, 0)' if waits else 'pass'}\n"
    )
    return [sys.executable, "-c", code]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_run_once_counts_the_cpu_of_a_grandchild_the_child_waits_for() -> None:
    # apigov lint's helper process is such a grandchild: its CPU is part of lint's cost.
    m = harness.run_once(_forks_a_burner(waits=True), timeout=60)
    assert m.exit_code == 0
    assert m.cpu_seconds >= BURN


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_run_once_does_not_count_a_grandchild_left_running() -> None:
    # The documented limit: a descendant nobody waited for is not in the child's rusage.
    m = harness.run_once(_forks_a_burner(waits=False), timeout=60)
    assert m.exit_code == 0
    assert m.cpu_seconds < BURN


def test_run_once_cpu_time_leaves_out_sleeping() -> None:
    m = harness.run_once([sys.executable, "-c", "import time; time.sleep(1)"], timeout=30)
    assert m.exit_code == 0
    assert m.cpu_seconds > 0  # starting Python is not free
    # One thread that slept a second: wall time holds its CPU time and the sleep.
    assert m.cpu_seconds < m.seconds - 0.5


def _timed(name: str, wall: list[float], cpu: list[float | None]) -> harness.ToolResult:
    result = harness.ToolResult(Tool(name, ["x"]))
    for i, (seconds, cpu_seconds) in enumerate(zip(wall, cpu, strict=True)):
        result.runs.append(
            harness.Run(name, i, False, seconds, 10.0, 0, False, cpu_seconds=cpu_seconds)
        )
    return result


def _rows(table: str) -> dict[str, list[str]]:
    """The table's rows by tool name, split into cells (no cell of these rows has a space)."""
    lines = table.splitlines()[3:]  # title, header, rule
    return {line.split()[0]: line.split() for line in lines}


def test_cpu_median_and_ratio_are_separate_from_wall_time() -> None:
    base = _timed("apigov", [1.0, 1.0, 1.0], [1.0, 3.0, 2.0])
    peer = _timed("peer", [3.0, 3.0, 3.0], [4.0, 6.0, 5.0])
    peer.runs.insert(0, harness.Run("peer", -1, True, 9.0, 10.0, 0, False, cpu_seconds=99.0))
    cpu = peer.cpu_stats
    assert cpu is not None and (cpu.median, cpu.minimum, cpu.maximum) == (5.0, 4.0, 6.0)
    assert peer.ratio_to(base) == 3.0
    assert peer.cpu_ratio_to(base) == 2.5  # 5.0 / 2.0; the warm-up's 99 s does not count
    saved = peer.to_dict(base)
    assert (saved["cpu_median"], saved["cpu_min"], saved["cpu_max"]) == (5.0, 4.0, 6.0)
    assert saved["cpu_ratio"] == 2.5 and saved["ratio"] == 3.0
    assert [run["cpu_seconds"] for run in saved["runs"]] == [99.0, 4.0, 6.0, 5.0]


def test_table_shows_cpu_median_and_cpu_ratio_beside_the_wall_ratio() -> None:
    base = _timed("apigov", [1.0, 1.0, 1.0], [1.0, 3.0, 2.0])
    peer = _timed("peer", [3.0, 3.0, 3.0], [4.0, 6.0, 5.0])
    bench = harness.BenchResult("t", "", 3, "apigov", [base, peer], order=[])
    table = harness.format_table(bench)
    header = table.splitlines()[1]
    assert header.index("cpu s") < header.index("peak MB")
    assert header.index("ratio") < header.index("cpu ratio") < header.index("status")
    rows = _rows(table)
    # tool, median, min, max, cpu s, peak MB, exit, ratio, cpu ratio, status
    assert rows["apigov"] == ["apigov", *["1.000"] * 3, "2.000", "10", "0", "1.00", "1.00", "ok"]
    assert rows["peer"] == ["peer", *["3.000"] * 3, "5.000", "10", "0", "3.00", "2.50", "ok"]


def test_runs_without_cpu_time_give_no_cpu_figures() -> None:
    # A Run made without cpu_seconds (as before CPU was measured) must not break anything.
    base = _timed("apigov", [1.0, 1.0], [None, None])
    peer = _timed("peer", [2.0, 2.0], [1.0, 1.0])
    assert base.cpu_stats is None
    assert peer.cpu_ratio_to(base) is None and peer.ratio_to(base) == 2.0
    assert base.to_dict(base)["cpu_median"] is None
    rows = _rows(harness.format_table(harness.BenchResult("t", "", 2, "apigov", [base, peer], [])))
    assert rows["apigov"][4] == "-" and rows["apigov"][8] == "n/a"
    assert rows["peer"][4] == "1.000" and rows["peer"][8] == "n/a"


SLEEP = [sys.executable, "-c", "import time; time.sleep(5)"]


def test_run_once_timeout_kills_and_counts_as_timeout() -> None:
    m = harness.run_once(SLEEP, timeout=0.5)
    assert m.timed_out
    assert m.exit_code is None
    assert m.seconds == 0.5


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status  # a zombie is dead, only not yet reaped


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_timeout_kills_grandchildren_too(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    code = (
        "import pathlib, subprocess, sys, time; "
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)']); "
        f"pathlib.Path({str(pid_file)!r}).write_text(str(p.pid)); time.sleep(30)"
    )
    m = harness.run_once([sys.executable, "-c", code], timeout=1.0)
    assert m.timed_out
    grandchild = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild)


def test_timeout_is_marked_and_stops_further_runs() -> None:
    tools = [Tool("apigov", PASS), Tool("slow", SLEEP, timeout=0.5)]
    bench = harness.run_benchmark("timeout", tools, runs=3)
    slow = bench.result("slow")
    assert slow is not None
    assert len(slow.runs) == 1 and slow.runs[0].warmup and slow.runs[0].timed_out
    assert slow.status == "timeout"
    stats = slow.stats
    assert stats is not None
    assert stats.median == 0.5 and stats.lower_bound
    cpu = slow.cpu_stats  # what it used until killed: a lower bound too
    assert cpu is not None and cpu.lower_bound
    assert slow.exit_codes == [None]
    assert bench.order == ["apigov", "slow", "apigov", "apigov", "apigov"]
    table = harness.format_table(bench)
    assert "> 0.5 s" in table
    assert "T/O" in table


def test_timeout_without_stop_keeps_running() -> None:
    tools = [Tool("apigov", PASS), Tool("slow", SLEEP, timeout=0.5)]
    bench = harness.run_benchmark("timeout", tools, runs=1, stop_after_timeout=False)
    slow = bench.result("slow")
    assert slow is not None
    assert [r.timed_out for r in slow.runs] == [True, True]
    assert [r.seconds for r in slow.measured] == [0.5]


def test_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        harness.run_benchmark("x", [Tool("a", PASS)], runs=0)
    with pytest.raises(ValueError):
        harness.run_benchmark("x", [Tool("a", PASS), Tool("a", PASS)], runs=1)


def test_save_results_writes_json(tmp_path: Path) -> None:
    bench = harness.run_benchmark("save", [Tool("apigov", PASS), Tool("peer", PASS)], runs=2)
    path = harness.save_results("demo", [bench], results_dir=tmp_path, extra={"k": 1})
    assert path.parent == tmp_path
    assert path.name.startswith("demo-") and path.suffix == ".json"
    data = json.loads(path.read_text())
    assert data["k"] == 1
    (saved,) = data["benchmarks"]
    assert saved["order"] == ["apigov", "peer"] * 3
    names = [t["name"] for t in saved["tools"]]
    assert names == ["apigov", "peer"]
    for tool in saved["tools"]:
        assert tool["status"] == "ok"
        assert tool["exit_codes"] == [0, 0]
        assert tool["median"] is not None and len(tool["runs"]) == 3
        assert tool["cpu_median"] > 0  # starting Python is not free
        assert all(run["cpu_seconds"] > 0 for run in tool["runs"])
    assert saved["tools"][0]["ratio"] == 1.0
    assert saved["tools"][0]["cpu_ratio"] == 1.0


# --------------------------------------------------------------------------- generator


def test_generated_spec_has_exactly_n_paths() -> None:
    for n in (1, 2, 7, 20, 101):
        assert len(generate.generate_large_spec(n)["paths"]) == n


def test_generated_spec_is_valid_openapi_30(tmp_path: Path) -> None:
    from openapi_spec_validator import validate
    from openapi_spec_validator.readers import read_from_filename

    path = generate.write_spec(generate.generate_large_spec(20), tmp_path / "spec.yaml")
    text = path.read_text()
    assert "&id" not in text and "*id" not in text  # no YAML anchors/aliases
    spec, _ = read_from_filename(str(path))
    assert spec["openapi"].startswith("3.0")
    assert len(spec["paths"]) == 20
    validate(spec)  # raises on an invalid document


def test_generated_spec_refs_resolve_and_ids_are_unique() -> None:
    spec = generate.generate_large_spec(40)
    refs: list[str] = []
    operation_ids: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            if isinstance(node.get("operationId"), str):
                operation_ids.append(node["operationId"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    assert refs and operation_ids
    assert len(operation_ids) == len(set(operation_ids))
    for ref in refs:
        target: object = spec
        for part in ref.removeprefix("#/").split("/"):
            assert isinstance(target, dict) and part in target, ref
            target = target[part]


def test_generated_spec_json_round_trip(tmp_path: Path) -> None:
    spec = generate.generate_large_spec(6)
    json_path = generate.write_spec(spec, tmp_path / "spec.json")
    yaml_path = generate.write_spec(spec, tmp_path / "spec.yaml")
    assert json.loads(json_path.read_text()) == spec
    assert yaml.safe_load(yaml_path.read_text()) == spec

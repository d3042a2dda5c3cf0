"""The quick route: `lint` and `validate` read without typer, to exactly what typer reads."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apigov.cli import lint as lint_declaration
from apigov.cli import validate as validate_declaration
from apigov.cli._quick_table import COMMAND_LINES
from apigov.cli.app import build_app
from apigov.cli.quick import NotQuick, parse
from apigov.cli.quick_table import TABLE, command_lines, render
from apigov.cli.values import FailOn, OutputFormat
from helpers import run_apigov

SPEC = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n"


def test_the_table_is_what_the_typer_declarations_say() -> None:
    # A changed option in lint.py, validate.py or options.py changes this: run
    # `python -m apigov.cli.quick_table` and commit the table with the change.
    assert render(command_lines()) == TABLE.read_text(encoding="utf-8")


@pytest.fixture
def workdir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The working folder: it holds a file `spec.yaml` and a folder `folder`."""
    (tmp_path / "spec.yaml").write_text(SPEC, encoding="utf-8")
    (tmp_path / "folder").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def typer_reads(
    monkeypatch: pytest.MonkeyPatch, workdir: Path
) -> Iterator[Callable[[str, list[str]], dict[str, Any]]]:
    """What typer passes to a command's body for a command line (its usage error if any)."""
    received: list[dict[str, Any]] = []

    def body(**values: Any) -> None:
        received.append(values)

    monkeypatch.setattr(lint_declaration, "run_lint", body)
    monkeypatch.setattr(validate_declaration, "run_validate", body)
    apps = {command: build_app(command) for command in COMMAND_LINES}

    def read(command: str, args: list[str]) -> dict[str, Any]:
        received.clear()
        apps[command](args=[command, *args], prog_name="apigov", standalone_mode=False)
        assert len(received) == 1
        return received[0]

    yield read


def test_common_command_lines_are_read_without_typer(
    typer_reads: Callable[[str, list[str]], dict[str, Any]],
) -> None:
    args = ["spec.yaml", "-r", "spectral:oas", "--format=SARIF", "-o", "out.sarif", "other.yaml"]
    values = parse(COMMAND_LINES["lint"], [*args, "--max-depth", "64", "--debug"])
    # Worked out from the declarations: --format is case-insensitive, -o a path, --max-depth
    # an int, and every option not given takes its declared default.
    assert values == {
        "paths": ["spec.yaml", "other.yaml"],
        "ruleset": "spectral:oas",
        "fmt": OutputFormat.sarif,  # type: ignore[attr-defined]
        "output": Path("out.sarif"),
        "fail_on": None,
        "max_size": "64M",
        "max_depth": 64,
        "allow_remote_refs": False,
        "root": None,
        "config_file": None,
        "debug": True,
    }
    assert typer_reads("lint", [*args, "--max-depth", "64", "--debug"]) == values
    values = parse(COMMAND_LINES["validate"], ["-", "--fail-on", "Warning", "--root", "folder"])
    assert values["paths"] == ["-"]
    assert values["fail_on"] is FailOn.warning
    assert values["root"] == Path("folder")
    assert values["fmt"] is OutputFormat.text  # type: ignore[attr-defined]
    assert typer_reads("validate", ["-", "--fail-on", "Warning", "--root", "folder"]) == values


@pytest.mark.parametrize(
    "args",
    [
        ["spec.yaml", "--help"],
        ["spec.yaml", "--max-depth", "7"],  # below the declared minimum of 8
        ["spec.yaml", "--format", "yaml"],  # not a format
        ["spec.yaml", "-o", "folder"],  # --output takes no folder
        ["spec.yaml", "--root", "spec.yaml"],  # --root takes no file
        ["spec.yaml", "--ruleset"],  # no value
        ["spec.yaml", "--ruleset", "-x"],  # click would take "-x" as the value
        ["spec.yaml", "-r=x"],  # click would read the value "=x"
        ["spec.yaml", "--debug=yes"],
        ["--", "spec.yaml"],
        ["spec.yaml", "--nope"],
        [],  # PATH... is required
    ],
)
def test_what_the_route_is_not_certain_of_is_left_to_typer(workdir: Path, args: list[str]) -> None:
    with pytest.raises(NotQuick):
        parse(COMMAND_LINES["lint"], args)


_WORDS = ["spec.yaml", "folder", "missing.yaml", "-", "", "=x", "HEAD:spec.yaml", "ünï"]
_VALUES = [
    *_WORDS,
    *["json", "JSON", "Sarif", "text", "yaml", "error", "NEVER", "warn"],
    *["8", "7", "10000", "10001", " 12", "+12", "1_0", "0x10", "-5", "64M", "lots"],
    *["-x", "--debug", "--"],
]


@st.composite
def command_lines_of(draw: st.DrawFn, command: str) -> list[str]:
    spellings = [*sorted(COMMAND_LINES[command].options), "--help", "--nope", "-x", "-rX"]
    args: list[str] = []
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["word", "option", "option value", "option=value"]))
        if kind == "word":
            args.append(draw(st.sampled_from(_WORDS)))
        elif kind == "option":
            args.append(draw(st.sampled_from(spellings)))
        elif kind == "option value":
            args += [draw(st.sampled_from(spellings)), draw(st.sampled_from(_VALUES))]
        else:
            args.append(f"{draw(st.sampled_from(spellings))}={draw(st.sampled_from(_VALUES))}")
    return args


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from(sorted(COMMAND_LINES)).flatmap(
        lambda c: st.tuples(st.just(c), command_lines_of(c))
    )
)
def test_the_route_reads_what_typer_reads_or_leaves_it_to_typer(
    typer_reads: Callable[[str, list[str]], dict[str, Any]], case: tuple[str, list[str]]
) -> None:
    command, args = case
    try:
        quick = parse(COMMAND_LINES[command], args)
    except NotQuick:
        return  # typer reads it, as before
    # What the route accepts, typer accepts too, to the same values of the same types.
    expected = typer_reads(command, args)
    assert {k: (type(v), v) for k, v in quick.items()} == {
        k: (type(v), v) for k, v in expected.items()
    }


def test_a_quick_lint_does_not_import_typer(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text(SPEC, encoding="utf-8")
    probe = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('typer' in sys.modules, file=sys.stderr))\n"
        "from apigov.cli.app import main\n"
        "main(['lint', 'spec.yaml', '--format', 'json', '--ruleset', 'spectral:oas'])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("{")
    assert result.stderr == "False\n"


def test_a_size_the_body_refuses_is_reported_by_typer(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text(SPEC, encoding="utf-8")
    result = run_apigov("lint", "spec.yaml", "--max-size", "lots", cwd=tmp_path)
    assert result.code == 2
    assert "Invalid value for --max-size: 'lots' is not a size like 64M" in result.stderr
    assert result.stderr.startswith("Usage: apigov lint [OPTIONS]")
    assert result.stdout == ""


def test_help_and_unknown_options_still_answer_as_typer_does() -> None:
    helped = run_apigov("lint", "--help")
    assert helped.code == 0
    assert "--ruleset" in helped.stdout
    unknown = run_apigov("validate", "contracts", "--nope")
    assert unknown.code == 2
    assert "No such option: --nope" in unknown.stderr

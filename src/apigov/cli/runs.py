"""What `apigov lint` and `apigov validate` do once their arguments are read, without typer.

Each command's typer declaration (`lint.py`, `validate.py`) forwards its parameters here, and
the quick route (`quick.py`) calls these directly, with the same parameters read the same way:
importing typer cost a fifth of a small document's lint. Each body ends with `emit`, which
raises `SystemExit` with the exit code; an `OptionValueError` is raised before anything is read
or written.
"""

from __future__ import annotations

import os
from pathlib import Path

from apigov.cli.collector import without_cycle_collection
from apigov.cli.output import emit
from apigov.cli.values import FailOn, OutputFormat, fail_threshold, make_limits
from apigov.config import load_config
from apigov.spec.loader import Loader

SINGLE_PROCESS = "APIGOV_SINGLE_PROCESS"
"""Set (to anything but the empty string): `lint` makes every call in its own process, never
in a helper (`lint/helper.py`), as on a machine with one processor."""


def run_lint(
    paths: list[str],
    ruleset: str | None,
    fmt: OutputFormat,
    output: Path | None,
    fail_on: FailOn | None,
    max_size: str,
    max_depth: int,
    allow_remote_refs: bool,
    root: Path | None,
    config_file: Path | None,
    debug: bool,
) -> None:
    # The cycle collector is paused for the whole command, the engine's import included (see
    # `without_cycle_collection`): 2-3% of the instructions on a large document.
    with without_cycle_collection():
        # Imported here: the rule engine costs other commands nothing at start-up.
        from apigov.lint.analyze import lint_paths

        config = load_config(config_file)
        loader = Loader(make_limits(max_size, max_depth, allow_remote_refs), root=root)
        helper = not os.environ.get(SINGLE_PROCESS)
        report = lint_paths(paths, loader, ruleset, config, helper=helper)
        emit(report, fmt.value, output, fail_threshold(fail_on, config))


def run_validate(
    paths: list[str],
    fmt: OutputFormat,
    output: Path | None,
    fail_on: FailOn | None,
    max_size: str,
    max_depth: int,
    allow_remote_refs: bool,
    root: Path | None,
    config_file: Path | None,
    debug: bool,
) -> None:
    from apigov.spec.documents import validate_targets

    config = load_config(config_file)
    loader = Loader(make_limits(max_size, max_depth, allow_remote_refs), root=root)
    report = validate_targets(paths, loader)
    emit(report, fmt.value, output, fail_threshold(fail_on, config))

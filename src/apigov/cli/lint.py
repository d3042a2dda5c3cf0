"""`apigov lint PATH... [--ruleset FILE|name]`: governance rules over OpenAPI documents."""

from __future__ import annotations

from typing import Annotated

import typer

from apigov.cli.collector import without_cycle_collection
from apigov.cli.options import (
    ConfigOption,
    ConfiguredFailOnOption,
    DebugOption,
    FormatOption,
    MaxDepthOption,
    MaxSizeOption,
    OutputFormat,
    OutputOption,
    RemoteRefsOption,
    RootOption,
    fail_threshold,
    make_limits,
)
from apigov.cli.output import emit
from apigov.config import load_config
from apigov.spec.loader import Loader


def lint(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Files, folders (contracts layout), '-' for stdin, or REV:path.",
            metavar="PATH...",
            show_default=False,
        ),
    ],
    ruleset: Annotated[
        str | None,
        typer.Option(
            "--ruleset",
            "-r",
            help="A ruleset file (.spectral.yaml format) or a built-in name: apigov:recommended, "
            "apigov:oas, spectral:oas. Default: lint.ruleset in the configuration file, else "
            ".spectral.yaml in the working folder, else apigov:recommended.",
            metavar="FILE|NAME",
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.text,  # type: ignore[attr-defined]
    output: OutputOption = None,
    fail_on: ConfiguredFailOnOption = None,
    max_size: MaxSizeOption = "64M",
    max_depth: MaxDepthOption = 256,
    allow_remote_refs: RemoteRefsOption = False,
    root: RootOption = None,
    config_file: ConfigOption = None,
    debug: DebugOption = False,
) -> None:
    """Check OpenAPI documents against governance rules (Spectral-compatible rulesets)."""
    # The cycle collector is paused for the whole command, the engine's import included (see
    # `without_cycle_collection`): 2-3% of the instructions on a large document.
    with without_cycle_collection():
        # Imported here: the rule engine costs other commands nothing at start-up.
        from apigov.lint.analyze import lint_paths

        config = load_config(config_file)
        loader = Loader(make_limits(max_size, max_depth, allow_remote_refs), root=root)
        report = lint_paths(paths, loader, ruleset, config)
        emit(report, fmt.value, output, fail_threshold(fail_on, config))

"""`apigov lint PATH... [--ruleset FILE|name]`: governance rules over OpenAPI documents."""

from __future__ import annotations

from typing import Annotated

import typer

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
    usage_errors,
)
from apigov.cli.runs import run_lint


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
    with usage_errors():
        run_lint(
            paths=paths,
            ruleset=ruleset,
            fmt=fmt,
            output=output,
            fail_on=fail_on,
            max_size=max_size,
            max_depth=max_depth,
            allow_remote_refs=allow_remote_refs,
            root=root,
            config_file=config_file,
            debug=debug,
        )

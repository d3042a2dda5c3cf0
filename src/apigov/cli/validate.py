"""`apigov validate PATH...`: documents are well-formed and valid."""

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
from apigov.cli.runs import run_validate


def validate(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Files, folders (contracts layout), '-' for stdin, or REV:path.",
            metavar="PATH...",
            show_default=False,
        ),
    ],
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
    """Check that OpenAPI documents, Pact files and service.yaml files are valid.

    Invalid documents are reported as findings (exit 1); documents that cannot be read or
    parsed stop the run with one line naming the file and place (exit 2).
    """
    with usage_errors():
        run_validate(
            paths=paths,
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

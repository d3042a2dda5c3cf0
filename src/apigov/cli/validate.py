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
    fail_threshold,
    make_limits,
)
from apigov.cli.output import emit
from apigov.spec.documents import validate_targets
from apigov.spec.loader import Loader


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
    from apigov.config import load_config

    config = load_config(config_file)
    loader = Loader(make_limits(max_size, max_depth, allow_remote_refs), root=root)
    report = validate_targets(paths, loader)
    emit(report, fmt.value, output, fail_threshold(fail_on, config))

"""Options every reporting command shares, declared once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from apigov.cli import values
from apigov.cli.values import FailOn as FailOn
from apigov.cli.values import OptionValueError
from apigov.cli.values import OutputFormat as OutputFormat
from apigov.cli.values import fail_threshold as fail_threshold
from apigov.spec.limits import Limits

FormatOption = Annotated[
    OutputFormat,
    typer.Option("--format", "-f", help="Output format.", case_sensitive=False),
]
OutputOption = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        help="Write the report to FILE instead of standard output.",
        dir_okay=False,
    ),
]
FailOnOption = Annotated[
    FailOn,
    typer.Option(
        "--fail-on", help="Exit 1 when any finding is at or above this level.", case_sensitive=False
    ),
]
ConfiguredFailOnOption = Annotated[
    FailOn | None,
    typer.Option(
        "--fail-on",
        help="Exit 1 when any finding is at or above this level. Default: fail-on from "
        "apigov.yaml, else error.",
        case_sensitive=False,
        show_default=False,
    ),
]


DebugOption = Annotated[
    bool, typer.Option("--debug", help="Show tracebacks for unexpected errors.")
]
MaxSizeOption = Annotated[
    str,
    typer.Option(
        "--max-size", help="Largest document accepted, e.g. 64M, 500K, 1G.", metavar="SIZE"
    ),
]
MaxDepthOption = Annotated[
    int, typer.Option("--max-depth", min=8, max=10_000, help="Deepest nesting accepted.")
]
RemoteRefsOption = Annotated[
    bool,
    typer.Option("--allow-remote-refs", help="Fetch $ref targets over http(s) (off by default)."),
]
RootOption = Annotated[
    Path | None,
    typer.Option(
        "--root",
        help="Relative $refs may not leave this folder (default: the git "
        "work tree holding the document, else the working directory if it holds the "
        "document, else the document's folder).",
        file_okay=False,
    ),
]


@contextmanager
def usage_errors() -> Iterator[None]:
    """A command body's `OptionValueError`, reported by typer as a bad option value (exit 2)."""
    try:
        yield
    except OptionValueError as error:
        raise typer.BadParameter(str(error), param_hint=error.option) from None


def parse_size(text: str, option: str = "--max-size") -> int:
    with usage_errors():
        return values.parse_size(text, option)


def make_limits(max_size: str, max_depth: int, allow_remote_refs: bool) -> Limits:
    with usage_errors():
        return values.make_limits(max_size, max_depth, allow_remote_refs)


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="The configuration file (default: the nearest apigov.yaml, or pyproject.toml "
        "with [tool.apigov], up to the top of the git work tree).",
        dir_okay=False,
        show_default=False,
    ),
]

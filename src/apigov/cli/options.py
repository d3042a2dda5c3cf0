"""Options every reporting command shares, declared once."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from apigov.report import FORMATS
from apigov.spec.limits import MIB, Limits

if TYPE_CHECKING:
    from apigov.config import Config

OutputFormat = StrEnum("OutputFormat", {name: name for name in FORMATS})  # type: ignore[misc]


class FailOn(StrEnum):
    error = "error"
    warning = "warning"
    info = "info"
    never = "never"


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


def fail_threshold(fail_on: FailOn | None, config: Config) -> str:
    """The command line's --fail-on, else the configuration file's fail-on, else error."""
    if fail_on is not None:
        return fail_on.value
    return config.fail_on or FailOn.error.value


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

_SIZE = re.compile(r"^\s*(\d+)\s*([kKmMgG]?)i?[bB]?\s*$")


def parse_size(text: str) -> int:
    match = _SIZE.match(text)
    if not match:
        raise typer.BadParameter(f"{text!r} is not a size like 64M", param_hint="--max-size")
    factor = {"": 1, "k": 1024, "m": MIB, "g": 1024 * MIB}[match[2].lower()]
    return int(match[1]) * factor


def make_limits(max_size: str, max_depth: int, allow_remote_refs: bool) -> Limits:
    return Limits(
        max_bytes=parse_size(max_size), max_depth=max_depth, allow_remote_refs=allow_remote_refs
    )


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

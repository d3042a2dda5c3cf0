"""`apigov graph [PATH]`: the fleet's dependency graph, coloured by the check's verdicts."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer

from apigov.cli.check import NoCacheOption, TreeArgument
from apigov.cli.options import (
    ConfigOption,
    DebugOption,
    FailOn,
    MaxDepthOption,
    MaxSizeOption,
    OutputOption,
    RemoteRefsOption,
    RootOption,
    make_limits,
)
from apigov.cli.output import write_atomically
from apigov.findings import fails
from apigov.spec.loader import Loader
from apigov.spec.sources import display_name


class GraphFormat(StrEnum):
    mermaid = "mermaid"
    dot = "dot"
    json = "json"
    svg = "svg"


GraphFailOnOption = Annotated[
    FailOn,
    typer.Option(
        "--fail-on",
        help="Also act as the gate: exit 1 when the check behind the colours has findings at or "
        "above this level (default: never, just draw).",
        case_sensitive=False,
    ),
]
GraphFormatOption = Annotated[
    GraphFormat,
    typer.Option("--format", "-f", help="Output format.", case_sensitive=False),
]


def graph(
    path: TreeArgument = None,
    fmt: GraphFormatOption = GraphFormat.mermaid,
    output: OutputOption = None,
    fail_on: GraphFailOnOption = FailOn.never,
    config: ConfigOption = None,
    no_cache: NoCacheOption = False,
    max_size: MaxSizeOption = "64M",
    max_depth: MaxDepthOption = 256,
    allow_remote_refs: RemoteRefsOption = False,
    root: RootOption = None,
    debug: DebugOption = False,
) -> None:
    """Draw which service consumes which (one edge per pact), coloured by whether each pact is
    compatible with its provider's spec (green), broken (red) or unchecked (grey).

    Message-only edges are dashed. Exit 0 whatever the verdicts, unless --fail-on says
    otherwise (one CI step can then draw the picture and gate on the same run).
    """
    from apigov.config import load_config
    from apigov.governance.check import resolve_settings, run_check
    from apigov.governance.render import render_graph

    settings_file = load_config(config)
    loader = Loader(make_limits(max_size, max_depth, allow_remote_refs), root=root)
    settings = resolve_settings(settings_file, loader, use_cache=not no_cache)
    tree = path or display_name(settings_file.contracts)
    result = run_check(tree, loader, settings, replay=False)
    assert result.graph is not None
    text = render_graph(result.graph, result.verdicts, fmt.value)
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_atomically(output, text)
    raise typer.Exit(1 if fails(result.report.findings, fail_on.value) else 0)

"""`apigov check [PATH]`: everything that applies to a contracts tree, in one report, for CI."""

from __future__ import annotations

from pathlib import Path
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
from apigov.cli.registry_options import RegistryOption
from apigov.spec.loader import Loader
from apigov.spec.sources import display_name

TreeArgument = Annotated[
    str | None,
    typer.Argument(
        help="The contracts tree (default: `contracts` from apigov.yaml, else ./contracts).",
        metavar="PATH",
        show_default=False,
    ),
]
RulesetOption = Annotated[
    str | None,
    typer.Option(
        "--ruleset",
        "-r",
        help="Lint ruleset (file or built-in name). Default: lint.ruleset from apigov.yaml, "
        "else .spectral.yaml, else apigov:recommended.",
        metavar="FILE|NAME",
    ),
]
PolicyOption = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        help="Breaking-change policy for --base-ref. Default: diff.policy from apigov.yaml.",
        dir_okay=False,
        exists=True,
    ),
]
BaseRefOption = Annotated[
    str | None,
    typer.Option(
        "--base-ref",
        help="Also report breaking changes of every spec changed since this git revision, "
        "naming the consumers whose pacts use what changed.",
        metavar="REV",
    ),
]
AgainstOption = Annotated[
    list[str] | None,
    typer.Option(
        "--against",
        help="Also report breaking changes against the version of each service live in this "
        "registry environment (repeatable). Default: check.against from apigov.yaml.",
        metavar="ENV",
        show_default=False,
    ),
]
NoCacheOption = Annotated[
    bool,
    typer.Option("--no-cache", help="Analyse every document again (ignore .apigov/cache)."),
]


def check(
    path: TreeArgument = None,
    fmt: FormatOption = OutputFormat.text,  # type: ignore[attr-defined]
    output: OutputOption = None,
    fail_on: ConfiguredFailOnOption = None,
    ruleset: RulesetOption = None,
    policy: PolicyOption = None,
    base_ref: BaseRefOption = None,
    against: AgainstOption = None,
    registry: RegistryOption = None,
    config: ConfigOption = None,
    no_cache: NoCacheOption = False,
    max_size: MaxSizeOption = "64M",
    max_depth: MaxDepthOption = 256,
    allow_remote_refs: RemoteRefsOption = False,
    root: RootOption = None,
    debug: DebugOption = False,
) -> None:
    """Validate, lint, check every pact against its provider, diff against --base-ref and apply
    the fleet rules, over a whole contracts tree, in one report.

    Documents unchanged since the last run are not analysed again (.apigov/cache).
    """
    from apigov.config import load_config
    from apigov.governance.check import resolve_settings, run_check

    settings_file = load_config(config)
    loader = Loader(make_limits(max_size, max_depth, allow_remote_refs), root=root)
    settings = resolve_settings(
        settings_file,
        loader,
        ruleset=ruleset,
        policy=policy,
        base_ref=base_ref,
        use_cache=not no_cache,
        against=tuple(against or ()),
        registry=registry,
    )
    tree = path or display_name(settings_file.contracts)
    result = run_check(tree, loader, settings)
    emit(result.report, fmt.value, output, fail_threshold(fail_on, settings_file))

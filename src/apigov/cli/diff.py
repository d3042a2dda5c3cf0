"""`apigov diff BASE HEAD` (what may break clients), `apigov changelog BASE HEAD` (all)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer

from apigov.cli.options import (
    DebugOption,
    FailOn,
    FailOnOption,
    FormatOption,
    MaxDepthOption,
    MaxSizeOption,
    OutputFormat,
    OutputOption,
    RemoteRefsOption,
    RootOption,
    make_limits,
)
from apigov.cli.output import emit, write_atomically
from apigov.spec.errors import InputError
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec
from apigov.spec.sources import git_top

if TYPE_CHECKING:
    from apigov.diff import Policy

# apigov.diff is imported when a diff runs: building the catalogue should not slow down the
# start of every other command.

SpecArgument = Annotated[
    str | None,
    typer.Argument(
        help="A file, a folder holding one OpenAPI document, '-' for stdin, or REV:path.",
        show_default=False,
    ),
]
PolicyOption = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        help="Breaking-change policy (levels, exceptions, ignores), e.g. rules/breaking.yaml.",
        dir_okay=False,
        exists=True,
    ),
]
IgnoreOption = Annotated[
    Path | None,
    typer.Option(
        "--ignore",
        help="Accepted changes: a file with an ignore: list (id, operation|path, reason, expires).",
        dir_okay=False,
        exists=True,
    ),
]
BaseRefOption = Annotated[
    str | None,
    typer.Option(
        "--base-ref",
        help="Compare every OpenAPI document under BASE (a folder, default contracts/) with "
        "its version at this git revision, e.g. main.",
        metavar="REV",
    ),
]
ListChecksOption = Annotated[
    bool, typer.Option("--list-checks", help="Print the catalogue of change ids and exit.")
]


def _load_spec(loader: Loader, target: str) -> ApiSpec:
    files = loader.expand([target])
    specs = []
    for file in files:
        document = loader.load(file)
        if isinstance(document, ApiSpec):
            specs.append(document)
    if len(specs) != 1:
        raise InputError(
            target,
            f"expected one OpenAPI document, found {len(specs)}; name the file to compare",
        )
    return specs[0]


def _policy(loader: Loader, policy: Path | None, ignore: Path | None) -> Policy | None:
    from apigov.diff import Policy, policy_from_data
    from apigov.diff.policy import ignores_from_data

    if policy is None and ignore is None:
        return None
    result = Policy()
    if policy is not None:
        result = policy_from_data(loader.source(str(policy)).data, str(policy))
    if ignore is not None:
        entries = ignores_from_data(loader.source(str(ignore)).data, str(ignore), prefix="")
        result = result.merged(Policy(ignores=entries))
    return result


def _list_checks(fmt: str, output: Path | None) -> None:
    from apigov.diff import CATALOGUE

    checks = list(CATALOGUE.values())
    if fmt == "json":
        text = orjson.dumps({"checks": [c.to_dict() for c in checks]}).decode() + "\n"
    else:
        width = max(len(c.id) for c in checks)
        text = "".join(f"{c.id.ljust(width)}  {c.level.value.ljust(7)}  {c.doc}\n" for c in checks)
        text += f"\n{len(checks)} checks\n"
    if output is None:
        sys.stdout.write(text)
    else:
        write_atomically(output, text)
    raise typer.Exit(0)


def _pairs_against_revision(loader: Loader, tree: str, revision: str) -> list[tuple[str, str]]:
    """(REV:path, path) for every OpenAPI document under `tree` that exists at `revision`.

    Every document is compared, not only the files git reports as changed: a spec whose
    shared `$ref` file changed is itself unchanged. New documents have nothing to break.
    """
    top = git_top(Path(tree).resolve())
    if top is None:
        raise InputError(tree, "not inside a git repository, cannot compare with --base-ref")
    known = subprocess.run(
        ["git", "-C", str(top), "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    if known.returncode != 0:
        raise InputError(revision, "not a git revision")
    pairs = []
    for file in loader.expand([tree]):
        if not isinstance(loader.load(file), ApiSpec):
            continue
        relative = Path(file).resolve().relative_to(top.resolve()).as_posix()
        exists = subprocess.run(
            ["git", "-C", str(top), "cat-file", "-e", f"{revision}:{relative}"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        if exists.returncode == 0:
            pairs.append((f"{revision}:{relative}", file))
    return pairs


def _run(
    command: str,
    base: str | None,
    head: str | None,
    fmt: OutputFormat,
    output: Path | None,
    fail_on: FailOn,
    policy: Path | None,
    ignore: Path | None,
    max_size: str,
    max_depth: int,
    allow_remote_refs: bool,
    root: Path | None,
    base_ref: str | None = None,
) -> None:
    from apigov.diff import run_diff
    from apigov.findings import Report

    loader = Loader(make_limits(max_size, max_depth, allow_remote_refs), root=root)
    if base_ref is not None:
        if head is not None:
            raise typer.BadParameter("with --base-ref, give one folder (or none)")
        pairs = _pairs_against_revision(loader, base or "contracts", base_ref)
    elif base is None or head is None:
        raise typer.BadParameter("BASE and HEAD are both required", param_hint="BASE HEAD")
    else:
        pairs = [(base, head)]
    rules = _policy(loader, policy, ignore)
    report = Report(command=command)
    for base_target, head_target in pairs:
        one = run_diff(
            _load_spec(loader, base_target),
            _load_spec(loader, head_target),
            command=command,
            policy=rules,
            include_info=command == "changelog",
        )
        report.findings.extend(one.findings)
        report.inputs.extend(one.inputs)
    emit(report, fmt.value, output, fail_on.value)


def diff(
    base: SpecArgument = None,
    head: SpecArgument = None,
    fmt: FormatOption = OutputFormat.text,  # type: ignore[attr-defined]
    output: OutputOption = None,
    fail_on: FailOnOption = FailOn.error,
    policy: PolicyOption = None,
    ignore: IgnoreOption = None,
    base_ref: BaseRefOption = None,
    list_checks: ListChecksOption = False,
    max_size: MaxSizeOption = "64M",
    max_depth: MaxDepthOption = 256,
    allow_remote_refs: RemoteRefsOption = False,
    root: RootOption = None,
    debug: DebugOption = False,
) -> None:
    """Report the changes from BASE to HEAD that may break clients (errors and warnings).

    Exit 1 when a change is at or above --fail-on (default: error, i.e. breaking).
    """
    if list_checks:
        _list_checks(fmt.value, output)
    _run(
        "diff",
        base,
        head,
        fmt,
        output,
        fail_on,
        policy,
        ignore,
        max_size,
        max_depth,
        allow_remote_refs,
        root,
        base_ref,
    )


def changelog(
    base: SpecArgument = None,
    head: SpecArgument = None,
    fmt: FormatOption = OutputFormat.text,  # type: ignore[attr-defined]
    output: OutputOption = None,
    fail_on: FailOnOption = FailOn.error,
    policy: PolicyOption = None,
    ignore: IgnoreOption = None,
    base_ref: BaseRefOption = None,
    max_size: MaxSizeOption = "64M",
    max_depth: MaxDepthOption = 256,
    allow_remote_refs: RemoteRefsOption = False,
    root: RootOption = None,
    debug: DebugOption = False,
) -> None:
    """Report every change from BASE to HEAD, breaking or not."""
    _run(
        "changelog",
        base,
        head,
        fmt,
        output,
        fail_on,
        policy,
        ignore,
        max_size,
        max_depth,
        allow_remote_refs,
        root,
        base_ref,
    )


def register(app: typer.Typer) -> None:
    """Add `diff` and `changelog` to the apigov command line."""
    app.command(name="diff")(diff)
    app.command(name="changelog")(changelog)

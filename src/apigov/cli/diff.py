"""`apigov diff BASE HEAD` (what may break clients), `apigov changelog BASE HEAD` (all)."""

from __future__ import annotations

import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import msgspec.structs
import orjson
import typer

from apigov.cli.collector import without_cycle_collection
from apigov.cli.options import (
    ConfigOption,
    ConfiguredFailOnOption,
    DebugOption,
    FailOn,
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
from apigov.cli.output import emit, write_atomically
from apigov.cli.registry_options import RegistryOption
from apigov.config import Config, load_config
from apigov.findings import Report
from apigov.memory import return_large_frees_to_the_system
from apigov.spec.errors import InputError
from apigov.spec.limits import Limits
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec, PactFile
from apigov.spec.sources import display_name, git_top

if TYPE_CHECKING:
    from apigov.diff import Policy
    from apigov.registry import Registry

# apigov.diff is imported when a diff runs, and the catalogue (its docs and examples) only for
# --list-checks. The registry (and tempfile) are imported only for a registry ref: a diff of
# two files does not pay for them (about 10 ms of every run's start-up).

SpecArgument = Annotated[
    str | None,
    typer.Argument(
        help="A file, a folder holding one OpenAPI document, '-' for stdin, REV:path, or "
        "SERVICE@VERSION / SERVICE@ENVIRONMENT from the registry.",
        show_default=False,
    ),
]
PolicyOption = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        help="Breaking-change policy (levels, exceptions, ignores, consumer-aware), e.g. "
        "rules/breaking.yaml. Default: diff.policy in the configuration file.",
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
ConsumersOption = Annotated[
    list[str] | None,
    typer.Option(
        "--consumers",
        help="Consumer contracts: a contracts tree or pact files (repeatable). Each change "
        "names the consumer interactions that use what it touches.",
        metavar="PATH",
        show_default=False,
    ),
]
ConsumersFromOption = Annotated[
    str | None,
    typer.Option(
        "--consumers-from",
        help="Like --consumers, with the pacts of the consumer versions live in this "
        "environment, read from the registry.",
        metavar="ENVIRONMENT",
        show_default=False,
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


class _Inputs:
    """Loads BASE/HEAD targets: files, folders, stdin, REV:path, and registry refs.

    A registry ref's files are written to a temporary folder that lives as long as the run
    (`stack`) and loaded with that folder as the `$ref` root.
    """

    def __init__(
        self, loader: Loader, limits: Limits, registry: str | None, stack: ExitStack
    ) -> None:
        self.loader = loader
        self.limits = limits
        self.registry_location = registry
        self.stack = stack
        # (folder written, the ref): findings name `orders@production:openapi.yaml`, not a
        # temporary file that is gone once the command ends.
        self.written: list[tuple[str, str]] = []
        self.registry: Registry | None = None

    def spec(self, target: str) -> ApiSpec:
        if "@" not in target:  # every registry ref (SERVICE@VERSION) has one
            return _load_spec(self.loader, target)
        import tempfile

        from apigov.registry.refs import materialise, parse_registry_ref

        if parse_registry_ref(target) is None:
            return _load_spec(self.loader, target)

        registry = self.open_registry()
        folder = Path(self.stack.enter_context(tempfile.TemporaryDirectory(prefix="apigov-")))
        into = folder / target
        root = materialise(target, registry, into)
        self.written.append((display_name(root.parent) + "/", f"{target}:"))
        return _load_spec(Loader(self.limits, root=into), str(root))

    def open_registry(self) -> Registry:
        """The registry, opened on first use (once per run)."""
        if self.registry is not None:
            return self.registry
        from apigov.registry import open_registry
        from apigov.registry.open import registry_location

        location = registry_location(self.registry_location)
        if "://" not in location and not Path(location).is_file():
            # Reading from a registry must not create an empty registry file as a side effect.
            raise InputError(
                location, "no registry here (name one with --registry or APIGOV_REGISTRY)"
            )
        self.registry = open_registry(location)
        self.stack.callback(self.registry.close)
        return self.registry

    def live_pacts(self, environment: str, base: ApiSpec, head: ApiSpec) -> list[PactFile]:
        """The pacts with the compared service held by consumers live in `environment`."""
        import tempfile

        from apigov.registry.refs import materialise_live_pacts

        provider = head.service or base.service
        if provider is None:
            raise InputError(
                head.name,
                "--consumers-from needs to know the service: compare documents of a contracts "
                "tree or registry refs",
            )
        folder = Path(self.stack.enter_context(tempfile.TemporaryDirectory(prefix="apigov-")))
        files = materialise_live_pacts(self.open_registry(), environment, provider, folder)
        loader = Loader(self.limits, root=folder)
        return [p for f in files if isinstance(p := loader.load(str(f)), PactFile)]

    def shown(self, report: Report) -> Report:
        """`report` with the files of registry refs named after the ref."""
        if not self.written:
            return report

        def name(file: str) -> str:
            for folder, label in self.written:
                if file.startswith(folder):
                    return label + file[len(folder) :]
                parent = folder.rsplit("/", 2)[0] + "/"
                if file.startswith(parent):  # a shared file beside the service folder
                    return label + "../" + file[len(parent) :]
            return file

        findings = [
            msgspec.structs.replace(
                f, location=msgspec.structs.replace(f.location, file=name(f.location.file))
            )
            if f.location is not None
            else f
            for f in report.findings
        ]
        return Report(report.command, findings, [name(i) for i in report.inputs])


def _load_pacts(loader: Loader, targets: list[str]) -> list[PactFile]:
    pacts = [
        document
        for file in loader.expand(targets)
        if isinstance(document := loader.load(file), PactFile)
    ]
    if not pacts:
        raise InputError(", ".join(targets), "no pact files found for --consumers")
    return pacts


_DIFF_SETTINGS = frozenset({"policy"})


def _configured_policy(config: Config) -> Path | None:
    """`diff.policy` of the configuration file, relative to the file."""
    section = config.section("diff")
    unknown = sorted(set(section) - _DIFF_SETTINGS)
    if unknown:
        raise InputError(config.name, f"unknown diff setting(s): {', '.join(unknown)}")
    value = section.get("policy")
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(config.name, "diff.policy must be a file path", pointer="/diff/policy")
    path = config.path(value)
    if not path.is_file():
        raise InputError(config.name, f"diff.policy: no such file {value}", pointer="/diff/policy")
    return path


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
    from apigov.diff.catalogue import CATALOGUE

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


_SMALL_INPUT_BYTES = 4 << 20


def _small_files(*targets: str | None) -> bool:
    """True when every target is a file and together they are under 4 MiB: then malloc's
    threshold is left alone. Tuning it costs ctypes' import (1% of a diff of two 0.9 MB
    documents) and saves little there (1.5 MB of that diff's 30 MB peak), where on two 3 MB
    documents it saves 8 MB."""
    total = 0
    for target in targets:
        if target is None or target == "-":
            return False
        path = Path(target)
        try:
            if not path.is_file():  # a folder (a multi-file spec), a git revision, a registry ref
                return False
            total += path.stat().st_size
        except (OSError, ValueError):
            return False
    return total < _SMALL_INPUT_BYTES


def _run(
    command: str,
    *,
    base: str | None,
    head: str | None,
    fmt: OutputFormat,
    output: Path | None,
    fail_on: FailOn | None,
    policy: Path | None,
    ignore: Path | None,
    max_size: str,
    max_depth: int,
    allow_remote_refs: bool,
    root: Path | None,
    base_ref: str | None = None,
    consumers: list[str] | None = None,
    registry: str | None = None,
    config_file: Path | None = None,
    consumers_from: str | None = None,
) -> None:
    # The cycle collector is paused for the whole command, the engine's import included:
    # see `without_cycle_collection`.
    with without_cycle_collection(), ExitStack() as stack:
        from apigov.diff import run_diff

        config = load_config(config_file)
        if policy is None:
            policy = _configured_policy(config)
        registry = registry or config.registry

        limits = make_limits(max_size, max_depth, allow_remote_refs)
        if not _small_files(base, head):
            return_large_frees_to_the_system()
        loader = Loader(limits, root=root)
        if base_ref is not None:
            if head is not None:
                raise typer.BadParameter("with --base-ref, give one folder (or none)")
            pairs = _pairs_against_revision(loader, base or "contracts", base_ref)
        elif base is None or head is None:
            raise typer.BadParameter("BASE and HEAD are both required", param_hint="BASE HEAD")
        else:
            pairs = [(base, head)]
        rules = _policy(loader, policy, ignore)
        pacts = _load_pacts(loader, consumers) if consumers else None
        report = Report(command=command)
        inputs = _Inputs(loader, limits, registry, stack)
        for base_target, head_target in pairs:
            base_spec, head_spec = inputs.spec(base_target), inputs.spec(head_target)
            users = pacts
            if consumers_from is not None:
                live = inputs.live_pacts(consumers_from, base_spec, head_spec)
                users = [*(pacts or []), *live]
            one = inputs.shown(
                run_diff(
                    base_spec,
                    head_spec,
                    command=command,
                    policy=rules,
                    include_info=command == "changelog",
                    consumers=users,
                )
            )
            report.findings.extend(one.findings)
            report.inputs.extend(one.inputs)
        # Still paused: writing the report allocates enough to start full collections, each
        # walking both documents again (40 ms of rendering openai's findings).
        emit(report, fmt.value, output, fail_threshold(fail_on, config))


def diff(
    base: SpecArgument = None,
    head: SpecArgument = None,
    fmt: FormatOption = OutputFormat.text,  # type: ignore[attr-defined]
    output: OutputOption = None,
    fail_on: ConfiguredFailOnOption = None,
    policy: PolicyOption = None,
    ignore: IgnoreOption = None,
    base_ref: BaseRefOption = None,
    consumers: ConsumersOption = None,
    consumers_from: ConsumersFromOption = None,
    registry: RegistryOption = None,
    config_file: ConfigOption = None,
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
        base=base,
        head=head,
        fmt=fmt,
        output=output,
        fail_on=fail_on,
        policy=policy,
        ignore=ignore,
        max_size=max_size,
        max_depth=max_depth,
        allow_remote_refs=allow_remote_refs,
        root=root,
        base_ref=base_ref,
        consumers=consumers,
        registry=registry,
        config_file=config_file,
        consumers_from=consumers_from,
    )


def changelog(
    base: SpecArgument = None,
    head: SpecArgument = None,
    fmt: FormatOption = OutputFormat.text,  # type: ignore[attr-defined]
    output: OutputOption = None,
    fail_on: ConfiguredFailOnOption = None,
    policy: PolicyOption = None,
    ignore: IgnoreOption = None,
    base_ref: BaseRefOption = None,
    consumers: ConsumersOption = None,
    consumers_from: ConsumersFromOption = None,
    registry: RegistryOption = None,
    config_file: ConfigOption = None,
    max_size: MaxSizeOption = "64M",
    max_depth: MaxDepthOption = 256,
    allow_remote_refs: RemoteRefsOption = False,
    root: RootOption = None,
    debug: DebugOption = False,
) -> None:
    """Report every change from BASE to HEAD, breaking or not."""
    _run(
        "changelog",
        base=base,
        head=head,
        fmt=fmt,
        output=output,
        fail_on=fail_on,
        policy=policy,
        ignore=ignore,
        max_size=max_size,
        max_depth=max_depth,
        allow_remote_refs=allow_remote_refs,
        root=root,
        base_ref=base_ref,
        consumers=consumers,
        registry=registry,
        config_file=config_file,
        consumers_from=consumers_from,
    )


def register(app: typer.Typer) -> None:
    """Add `diff` and `changelog` to the apigov command line."""
    app.command(name="diff")(diff)
    app.command(name="changelog")(changelog)

"""`apigov fuzz SPEC --base-url URL`: schemathesis-driven fuzzing of a live service."""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import msgspec.structs
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
from apigov.cli.output import emit, write_atomically
from apigov.cli.registry_options import RegistryOption
from apigov.config import Config, load_config
from apigov.findings import Report
from apigov.fuzz import FuzzSettings, TargetSafety, baseline_text, is_production, load_baseline
from apigov.fuzz.settings import (
    ALL_PHASES,
    DEFAULT_DESTRUCTIVE_METHODS,
    DEFAULT_PRODUCTION_ENVS,
    destructive_methods,
)
from apigov.registry import Registry, VersionRecord, open_registry
from apigov.registry.open import registry_location
from apigov.registry.refs import parse_registry_ref
from apigov.spec.errors import InputError
from apigov.spec.limits import Limits
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec, Document
from apigov.spec.sources import display_name

_HEADER = re.compile(r"^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*:\s*(.*)$")
_RATE = re.compile(r"^\d+/(s|m|h|d)$")


def fuzz(
    spec: Annotated[
        str,
        typer.Argument(
            help="OpenAPI document: a file, the http(s) URL of the live schema, or a registry "
            "ref (SERVICE@VERSION or SERVICE@ENVIRONMENT).",
            metavar="SPEC",
            show_default=False,
        ),
    ],
    base_url: Annotated[
        str, typer.Option("--base-url", help="Where the service under test listens.")
    ],
    max_time: Annotated[
        int, typer.Option("--max-time", min=1, help="Seconds for the whole run.")
    ] = 60,
    max_examples: Annotated[
        int, typer.Option("--max-examples", min=1, help="Test cases per operation and phase.")
    ] = 100,
    max_requests: Annotated[
        int, typer.Option("--max-requests", min=1, help="Stop after about this many requests.")
    ] = 5000,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64)] = 1,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Reproduce a run (its seed is in the report).")
    ] = None,
    include: Annotated[
        list[str] | None,
        typer.Option("--include", help="Only these operations: 'METHOD /path', globs allowed."),
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="Skip these operations (as --include).")
    ] = None,
    phases: Annotated[
        str,
        typer.Option("--phases", help="Comma-separated: examples,coverage,fuzzing,stateful."),
    ] = ",".join(ALL_PHASES),
    rate_limit: Annotated[
        str | None, typer.Option("--rate-limit", help="At most N requests per s|m|h|d: 100/s.")
    ] = None,
    request_timeout: Annotated[
        float, typer.Option("--request-timeout", min=0.1, help="Seconds per request.")
    ] = 10.0,
    header: Annotated[
        list[str] | None,
        typer.Option("--header", "-H", help="'Name: value' sent with every request."),
    ] = None,
    bearer_env: Annotated[
        str | None,
        typer.Option(
            "--bearer-env", help="Environment variable holding a bearer token.", metavar="VAR"
        ),
    ] = None,
    basic: Annotated[
        str | None,
        typer.Option(
            "--basic-env",
            help="Environment variable holding 'user:password' for basic auth.",
            metavar="VAR",
        ),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option("--baseline", help="Accepted failures (JSON/YAML) not to report again."),
    ] = None,
    write_run: Annotated[
        Path | None,
        typer.Option(
            "--write-run",
            help="Write the run as JSON: seed, budgets, counts per operation and check, failures.",
        ),
    ] = None,
    write_baseline: Annotated[
        Path | None,
        typer.Option("--write-baseline", help="Write this run's failures as a baseline file."),
    ] = None,
    safe: Annotated[
        bool,
        typer.Option("--safe", help="Positive data only, no DELETE, rate-limited (10/s)."),
    ] = False,
    env: Annotated[
        str | None,
        typer.Option("--env", help="Name of the target environment, e.g. staging, prod."),
    ] = None,
    env_production: Annotated[
        bool, typer.Option("--env-production", help="The target is production.")
    ] = False,
    production_envs: Annotated[
        str,
        typer.Option(
            "--production-envs",
            envvar="APIGOV_PRODUCTION_ENVS",
            help="Comma-separated --env names that are production.",
        ),
    ] = ",".join(DEFAULT_PRODUCTION_ENVS),
    destructive_method: Annotated[
        list[str] | None,
        typer.Option(
            "--destructive-method",
            help="Methods refused on production (default DELETE; repeat to add PUT, ...).",
        ),
    ] = None,
    allow_destructive: Annotated[
        bool,
        typer.Option("--allow-destructive", help="Send destructive methods to production too."),
    ] = False,
    record: Annotated[
        bool,
        typer.Option(
            "--record",
            help="Store the run in the registry as evidence for --service/--version in --env.",
        ),
    ] = False,
    service: Annotated[
        str | None, typer.Option("--service", help="With --record: the service fuzzed.")
    ] = None,
    version: Annotated[
        str | None, typer.Option("--version", help="With --record: the version fuzzed.")
    ] = None,
    recorded_by: Annotated[
        str | None,
        typer.Option("--recorded-by", help="With --record: who ran it (default: $USER)."),
    ] = None,
    registry: RegistryOption = None,
    config_file: ConfigOption = None,
    fmt: FormatOption = OutputFormat.text,  # type: ignore[attr-defined]
    output: OutputOption = None,
    fail_on: ConfiguredFailOnOption = None,
    max_size: MaxSizeOption = "64M",
    max_depth: MaxDepthOption = 256,
    allow_remote_refs: RemoteRefsOption = False,
    root: RootOption = None,
    debug: DebugOption = False,
) -> None:
    """Fuzz a live service with schemathesis: every phase and check, results as findings.

    Each distinct failure (operation, check, failure type) is one finding with a curl command
    that reproduces it. Exit 1 on findings, 2 on bad input or a refused run, 3 when the
    service cannot be reached. With --record the run (complete or not) is stored in the
    registry as evidence that can-i-deploy policies can require (fuzz@ENV).
    """
    config = load_config(config_file)
    threshold = fail_threshold(fail_on, config)
    limits = make_limits(max_size, max_depth, allow_remote_refs)
    loader = Loader(limits, root=root)
    ref = parse_registry_ref(spec)
    if record:
        # A registry ref names the service, and the version (or the environment running it).
        _require_for_recording(
            service=service or (ref[0] if ref else None),
            version=version or ("(from the ref)" if ref else None),
            env=env,
        )
    settings = FuzzSettings(
        base_url=base_url,
        max_time=max_time,
        max_examples=max_examples,
        max_requests=max_requests,
        workers=workers,
        seed=seed,
        include=tuple(include or ()),
        exclude=tuple(exclude or ()),
        rate_limit=_rate(rate_limit),
        request_timeout=request_timeout,
        headers=_headers(header or [], bearer_env),
        basic_auth=_basic(basic),
        phases=_phases(phases),
        safe=safe,
    )
    accepted = load_baseline(baseline, loader) if baseline is not None else set()
    location = registry or config.registry
    if ref is not None and not _registry_exists(location):
        # Reading a ref must not create an empty registry file as a side effect.
        raise InputError(
            spec,
            f"no registry at {registry_location(location)} "
            "(name one with --registry or APIGOV_REGISTRY)",
        )
    with ExitStack() as stack:
        # The registry is opened only when it has something to say: the spec, where to record,
        # or whether the environment named is marked production there. Never created here,
        # except by --record.
        store: Registry | None = None
        if record or ref is not None or (env and _registry_exists(location)):
            store = open_registry(location)
            stack.callback(store.close)
        shown_as: tuple[str, str] | None = None
        if ref is not None and store is not None:
            document, shown_as, fuzzed = _load_ref(spec, store, limits, stack)
            service, version = service or fuzzed.service, version or fuzzed.number
        else:
            document = _load_spec(loader, spec)
        if record and store is not None and service and version:
            from apigov.registry.evidence import known_version

            known_version(store, service, version)  # before the run, not after it
        safety = TargetSafety(
            production=is_production(env, env_production, production_envs.split(","))
            or _marked_production(env, config, store),
            allow_destructive=allow_destructive,
            destructive_methods=destructive_methods(
                destructive_method or _configured_methods(config), safe
            ),
        )
        # Imported here: schemathesis is slow to import and only this command needs it.
        from apigov.fuzz.analyze import fuzz_spec
        from apigov.fuzz.progress import LiveProgress, wants_live_display

        observer = LiveProgress() if wants_live_display() else None
        outcome = fuzz_spec(document, settings, safety, accepted, observer=observer)
        if shown_as is not None:
            outcome.report = _renamed(outcome.report, *shown_as)
            outcome.run.spec = _renamed_file(outcome.run.spec, *shown_as)
        if observer is None:
            # No live display: still say how to reproduce the run (its seed), on stderr.
            sys.stderr.write(outcome.run.summary() + "\n")
        if write_run is not None:
            write_atomically(write_run, json.dumps(outcome.run.to_dict(), indent=2) + "\n")
        if write_baseline is not None:
            write_atomically(write_baseline, baseline_text(outcome.run.failures))
        if record and store is not None and service and version and env:
            from apigov.registry.evidence import default_actor, record_fuzz_outcome

            stored = record_fuzz_outcome(
                store,
                service,
                version,
                env,
                outcome.run,
                outcome.report.findings,
                threshold,
                baseline_hidden=outcome.baseline_hidden,
                actor=recorded_by or default_actor(),
            )
            state = "incomplete" if not stored.complete else "passed" if stored.passed else "failed"
            sys.stderr.write(
                f"Recorded fuzz run #{stored.id} of {service}@{version} in {env}: {state}.\n"
            )
    emit(outcome.report, fmt.value, output, threshold)


def _load_ref(
    ref: str, store: Registry, limits: Limits, stack: ExitStack
) -> tuple[ApiSpec, tuple[str, str], VersionRecord]:
    """The spec a registry ref names, written to a temporary folder that lives as long as the
    run; findings and the recorded run name it `orders@1.2.0:openapi.yaml`, not that folder."""
    from apigov.registry.refs import materialise, resolve_version

    record = resolve_version(ref, store)
    into = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="apigov-fuzz-"))) / "ref"
    spec_path = materialise(ref, store, into)
    document = _load_spec(Loader(limits, root=into), str(spec_path))
    return document, (display_name(spec_path.parent) + "/", f"{ref}:"), record


def _renamed_file(file: str, folder: str, label: str) -> str:
    return label + file[len(folder) :] if file.startswith(folder) else file


def _renamed(report: Report, folder: str, label: str) -> Report:
    findings = [
        msgspec.structs.replace(
            f,
            location=msgspec.structs.replace(
                f.location, file=_renamed_file(f.location.file, folder, label)
            ),
        )
        if f.location is not None
        else f
        for f in report.findings
    ]
    inputs = [_renamed_file(i, folder, label) for i in report.inputs]
    return Report(report.command, findings, inputs, report.rules)


def _require_for_recording(**values: str | None) -> None:
    for name, value in values.items():
        if not value:
            raise typer.BadParameter(
                "--record needs --service, --version and --env", param_hint=f"--{name}"
            )


def _registry_exists(location: str | None) -> bool:
    """A database URL, or a registry file that is already there (option, APIGOV_REGISTRY,
    configuration, else the default): asking a registry must not create one."""
    where = registry_location(location)
    return "://" in where or Path(where).is_file()


def _marked_production(env: str | None, config: Config, store: Registry | None) -> bool:
    """The environment is production in the configuration or in the registry."""
    if env is None:
        return False
    if config.is_production(env):
        return True
    return store is not None and store.is_production_environment(env)


def _configured_methods(config: Config) -> list[str]:
    """`fuzz.destructive-methods` in the configuration, else DELETE."""
    configured = config.section("fuzz").get("destructive-methods")
    if configured is None:
        return sorted(DEFAULT_DESTRUCTIVE_METHODS)
    if not isinstance(configured, list) or not all(isinstance(m, str) for m in configured):
        raise InputError(config.name, "fuzz.destructive-methods: must be a list of HTTP methods")
    return configured


def _load_spec(loader: Loader, target: str) -> ApiSpec:
    document: Document = loader.load(target)  # a path, `-`, `REV:path` or an http(s) URL
    if not isinstance(document, ApiSpec):
        raise InputError(document.name, "apigov fuzz needs an OpenAPI document")
    return document


def _headers(values: list[str], bearer_env: str | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    for value in values:
        match = _HEADER.match(value)
        if match is None:
            raise typer.BadParameter(f"{value!r} is not 'Name: value'", param_hint="--header")
        headers[match[1]] = match[2].strip()
    if bearer_env is not None:
        token = os.environ.get(bearer_env, "").strip()
        if not token:
            raise typer.BadParameter(f"${bearer_env} is empty or unset", param_hint="--bearer-env")
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _basic(variable: str | None) -> tuple[str, str] | None:
    if variable is None:
        return None
    user, sep, password = os.environ.get(variable, "").partition(":")
    if not sep or not user:
        raise typer.BadParameter(f"${variable} must hold 'user:password'", param_hint="--basic-env")
    return user, password


def _phases(text: str) -> tuple[str, ...]:
    chosen = tuple(p.strip().lower() for p in text.split(",") if p.strip())
    unknown = [p for p in chosen if p not in ALL_PHASES]
    if unknown or not chosen:
        raise typer.BadParameter(
            f"{text!r}: choose from {', '.join(ALL_PHASES)}", param_hint="--phases"
        )
    return chosen


def _rate(text: str | None) -> str | None:
    if text is None:
        return None
    if not _RATE.match(text.strip()):
        raise typer.BadParameter(f"{text!r} is not like 100/s", param_hint="--rate-limit")
    return text.strip()

"""`apigov fuzz SPEC --base-url URL`: schemathesis-driven fuzzing of a live service."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Annotated

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
from apigov.fuzz import FuzzSettings, TargetSafety, baseline_text, is_production, load_baseline
from apigov.fuzz.settings import ALL_PHASES, DEFAULT_DESTRUCTIVE_METHODS, DEFAULT_PRODUCTION_ENVS
from apigov.spec.errors import InputError
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec, Document

_HEADER = re.compile(r"^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*:\s*(.*)$")
_RATE = re.compile(r"^\d+/(s|m|h|d)$")


def fuzz(
    spec: Annotated[
        str,
        typer.Argument(
            help="OpenAPI document: a file, or the http(s) URL of the live schema.",
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
    fmt: FormatOption = OutputFormat.text,  # type: ignore[attr-defined]
    output: OutputOption = None,
    fail_on: FailOnOption = FailOn.error,
    max_size: MaxSizeOption = "64M",
    max_depth: MaxDepthOption = 256,
    allow_remote_refs: RemoteRefsOption = False,
    root: RootOption = None,
    debug: DebugOption = False,
) -> None:
    """Fuzz a live service with schemathesis: every phase and check, results as findings.

    Each distinct failure (operation, check, failure type) is one finding with a curl command
    that reproduces it. Exit 1 on findings, 2 on bad input or a refused run, 3 when the
    service cannot be reached.
    """
    loader = Loader(make_limits(max_size, max_depth, allow_remote_refs), root=root)
    document = _load_spec(loader, spec)
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
    methods = (
        frozenset(m.strip().upper() for m in destructive_method)
        if destructive_method
        else DEFAULT_DESTRUCTIVE_METHODS
    )
    safety = TargetSafety(
        production=is_production(env, env_production, production_envs.split(",")),
        allow_destructive=allow_destructive,
        destructive_methods=methods,
    )
    accepted = load_baseline(baseline, loader) if baseline is not None else set()
    # Imported here: schemathesis is slow to import and only this command needs it.
    from apigov.fuzz.analyze import fuzz_spec
    from apigov.fuzz.progress import LiveProgress, wants_live_display

    observer = LiveProgress() if wants_live_display() else None
    outcome = fuzz_spec(document, settings, safety, accepted, observer=observer)
    if observer is None:
        # No live display: still say how to reproduce the run (its seed), on stderr.
        sys.stderr.write(outcome.run.summary() + "\n")
    if write_run is not None:
        write_atomically(write_run, json.dumps(outcome.run.to_dict(), indent=2) + "\n")
    if write_baseline is not None:
        write_atomically(write_baseline, baseline_text(outcome.run.failures))
    emit(outcome.report, fmt.value, output, fail_on.value)


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

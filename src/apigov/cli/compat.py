"""`apigov compat PACT... --spec SPEC [--spec SPEC]`: consumer contracts against a provider's
OpenAPI and/or AsyncAPI document, statically."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from apigov.cli.collector import without_cycle_collection
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
from apigov.findings import Report
from apigov.spec.errors import InputError
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec, AsyncApiSpec, PactFile


def compat(
    pacts: Annotated[
        list[str],
        typer.Argument(
            help="Pact files (V1 to V4), folders holding pacts/ (contracts layout), or REV:path.",
            metavar="PACT...",
            show_default=False,
        ),
    ],
    spec_targets: Annotated[
        list[str],
        typer.Option(
            "--spec",
            "-s",
            help="The provider's OpenAPI document (2.0, 3.0, 3.1) for HTTP interactions and/or "
            "its AsyncAPI document (2.x, 3.x) for message interactions (repeat --spec to give "
            "both).",
            metavar="SPEC",
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
    """Check that every interaction of each pact is one the provider's spec allows.

    Requests must be ones the spec accepts; expected responses must be ones it can produce,
    read with Pact's subset semantics (fields the consumer leaves out are fine, every field it
    names must be documented with a compatible type). HTTP interactions are checked against
    the OpenAPI document, message interactions against the AsyncAPI document.
    """
    from apigov.config import load_config

    threshold = fail_threshold(fail_on, load_config(config_file))
    with without_cycle_collection():
        limits = make_limits(max_size, max_depth, allow_remote_refs)
        _run(pacts, spec_targets, fmt, output, threshold, Loader(limits, root=root))


def _run(
    pacts: list[str],
    spec_targets: list[str],
    fmt: OutputFormat,
    output: Path | None,
    threshold: str,
    loader: Loader,
) -> None:
    # Imported on use: every other command would otherwise pay for the pact engine's import.
    from apigov.pact.asyncapi import check_pact

    spec, events = _documents(spec_targets, loader)
    given = [d for d in (spec, events) if d is not None]
    report = Report(command="compat", inputs=[d.name for d in given])
    service = next((d.service for d in given if d.service), None)
    named = set(pacts)
    for target in loader.expand(pacts):
        document = loader.load(target)
        if not isinstance(document, PactFile):
            continue  # a contracts folder also holds specs and service.yaml files
        if target not in named and service and document.provider != service:
            continue  # from a folder, only the pacts with this spec's service as provider
        report.inputs.append(document.name)
        report.findings.extend(check_pact(document, spec, events))
    if len(report.inputs) == len(given):
        raise InputError(", ".join(pacts), "no pact files among the arguments")
    emit(report, fmt.value, output, threshold)


def _documents(targets: list[str], loader: Loader) -> tuple[ApiSpec | None, AsyncApiSpec | None]:
    """The provider's OpenAPI document and AsyncAPI document, at most one of each."""
    spec: ApiSpec | None = None
    events: AsyncApiSpec | None = None
    for target in targets:
        document = loader.load(target)
        if isinstance(document, ApiSpec) and spec is None:
            spec = document
        elif isinstance(document, AsyncApiSpec) and events is None:
            events = document
        elif isinstance(document, ApiSpec | AsyncApiSpec):
            kind = "OpenAPI" if isinstance(document, ApiSpec) else "AsyncAPI"
            raise InputError(
                document.name,
                f"a second {kind} document: give one OpenAPI and one AsyncAPI at most",
            )
        else:
            raise InputError(document.name, "--spec must name an OpenAPI or AsyncAPI document")
    return spec, events

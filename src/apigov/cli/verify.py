"""`apigov verify --provider S --base-url URL`: replay consumer pacts against a live provider."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from apigov.cli.options import (
    ConfigOption,
    DebugOption,
    FailOn,
    FailOnOption,
    FormatOption,
    OutputFormat,
    OutputOption,
)
from apigov.cli.output import emit
from apigov.config import load_config
from apigov.findings import Report
from apigov.spec.errors import InputError
from apigov.spec.loader import Loader
from apigov.spec.model import PactFile
from apigov.spec.sources import display_name

if TYPE_CHECKING:
    from apigov.pact.verify import VerificationRun


def _header(text: str) -> tuple[str, str]:
    name, colon, value = text.partition(":")
    if not colon or not name.strip():
        raise typer.BadParameter(f"{text!r} is not 'Name: value'", param_hint="--header")
    return name.strip(), value.strip()


def verify(
    provider: Annotated[
        str,
        typer.Option(
            "--provider", help="The provider verified: pacts naming it are replayed.", metavar="S"
        ),
    ],
    base_url: Annotated[
        str,
        typer.Option("--base-url", help="Where the provider runs, e.g. http://127.0.0.1:8000."),
    ],
    pacts: Annotated[
        list[str] | None,
        typer.Option(
            "--pact",
            help="A pact file or a folder (contracts layout); repeatable. Default: the "
            "configured contracts folder (contracts/).",
            metavar="FILE|FOLDER",
            show_default=False,
        ),
    ] = None,
    state_change_url: Annotated[
        str | None,
        typer.Option(
            "--state-change-url",
            help="The provider's state set-up endpoint; receives POST {state, params, action}.",
            metavar="URL",
        ),
    ] = None,
    teardown: Annotated[
        bool,
        typer.Option(
            "--state-change-teardown", help="Also call it with action 'teardown' after each."
        ),
    ] = False,
    headers: Annotated[
        list[str] | None,
        typer.Option(
            "--header",
            "-H",
            help="'Name: value' added to every replayed request (e.g. credentials); repeatable.",
            metavar="HEADER",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option("--timeout", min=0.1, max=600, help="Seconds each request may take."),
    ] = 10.0,
    record: Annotated[
        bool,
        typer.Option("--record", help="Store each pact's result in the registry (evidence)."),
    ] = False,
    version: Annotated[
        str | None,
        typer.Option(
            "--version", help="The provider version verified (needed by --record).", metavar="V"
        ),
    ] = None,
    registry: Annotated[
        str | None,
        typer.Option(
            "--registry",
            envvar="APIGOV_REGISTRY",
            help="Where --record stores results: a registry file path or database URL. "
            "Default: the configured registry, else .apigov/registry.db",
            metavar="LOCATION",
            show_default=False,
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.text,  # type: ignore[attr-defined]
    output: OutputOption = None,
    fail_on: FailOnOption = FailOn.error,
    config_file: ConfigOption = None,
    debug: DebugOption = False,
) -> None:
    """Replay every consumer pact for a provider against the running provider.

    Each HTTP interaction's request is sent to the provider (after its provider states are set
    up through --state-change-url) and the response is matched under the pact's matching rules
    by Pact's own verifier. Every failing interaction is an error naming what differed;
    passing ones are info. Exit 3 when the provider cannot be reached.
    """
    if record and not version:
        raise typer.BadParameter("--record needs --version (the provider version verified)")
    parsed_headers = tuple(_header(h) for h in headers or ())
    config = load_config(config_file)
    targets = pacts or [str(config.contracts)]
    selected = _provider_pacts(targets, provider, named=set(pacts or ()))

    # Imported on use: the Pact FFI costs every other command nothing.
    from apigov.pact.verify import VerifySettings, verify_pacts

    _quiet_pact_logging(debug)
    settings = VerifySettings(
        provider=provider,
        base_url=base_url,
        headers=parsed_headers,
        timeout=timeout,
        state_change_url=state_change_url,
        teardown=teardown,
    )
    run = verify_pacts(selected, settings)
    report = Report(command="verify", inputs=[p.name for p in selected])
    report.findings.extend(run.findings())
    if record:
        assert version is not None
        _record(run, version, registry or config.registry)
    emit(report, fmt.value, output, fail_on.value)


def _provider_pacts(targets: list[str], provider: str, named: set[str]) -> list[PactFile]:
    from apigov.pact.verify import select_pacts

    loader = Loader()
    documents: list[tuple[PactFile, bool]] = []
    for target in loader.expand(targets):
        document = loader.load(target)
        if isinstance(document, PactFile):
            documents.append((document, target in named))
        elif target in named:
            raise InputError(document.name, "--pact must name Pact files or folders holding them")
    selected = select_pacts(documents, provider)
    if not selected:
        shown = ", ".join(display_name(Path(t)) for t in targets)
        raise InputError(shown, f"no pacts with provider {provider!r}")
    return selected


def _quiet_pact_logging(debug: bool) -> None:
    """pact-python re-emits the Rust core's log through `logging`; with no handler set up,
    Python would print its warnings to stderr next to the report. --debug shows them."""
    pact_logger = logging.getLogger("pact")
    if debug:
        logging.basicConfig(level=logging.DEBUG)
    else:
        pact_logger.addHandler(logging.NullHandler())
        pact_logger.propagate = False


def _record(run: VerificationRun, version: str, registry: str | None) -> None:
    """One verification result per (consumer pact, provider version), keyed by the pact's
    exact content (its SHA-256), as `apigov record-verification` stores it."""
    from apigov.registry import open_registry

    provider = run.settings.provider
    store = open_registry(registry)
    try:
        for outcome in run.pacts:
            pact_file = outcome.pact.file
            store.record_verification(
                provider, version, pact_file.consumer, pact_file.source.sha256, outcome.passed
            )
            # What was stored goes to stderr: stdout is the report, in the format asked for.
            typer.echo(
                f"Recorded verification of {pact_file.consumer}'s pact ({pact_file.name}) "
                f"against {provider}@{version}: {'passed' if outcome.passed else 'failed'}.",
                err=True,
            )
    finally:
        store.close()

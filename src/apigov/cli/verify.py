"""`apigov verify --provider S --base-url URL`: replay consumer pacts against a live provider."""

from __future__ import annotations

import logging
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import msgspec.structs
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
from apigov.findings import Finding, Report
from apigov.registry.refs import parse_registry_ref
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
    pacts: Annotated[
        list[str] | None,
        typer.Option(
            "--pact",
            help="A pact file, a folder (contracts layout), or a consumer version in the "
            "registry (CONSUMER@VERSION or CONSUMER@ENVIRONMENT); repeatable. Default: the "
            "configured contracts folder (contracts/).",
            metavar="FILE|FOLDER|REF",
            show_default=False,
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="Where the provider answers HTTP, e.g. http://127.0.0.1:8000 (required unless "
            "it only publishes messages: --message-url).",
            metavar="URL",
        ),
    ] = None,
    consumers_from: Annotated[
        str | None,
        typer.Option(
            "--consumers-from",
            help="Verify the pacts with the provider held by every consumer version live in "
            "this environment, taken from the registry (instead of --pact).",
            metavar="ENVIRONMENT",
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
    message_url: Annotated[
        str | None,
        typer.Option(
            "--message-url",
            help="The provider's message endpoint: receives POST {description, providerStates} "
            "(plus the request message as 'request' for a synchronous message) and answers "
            "with the message (metadata in Pact-Message-Metadata, base64 JSON).",
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
    by Pact's own verifier. With --message-url, each message interaction's message (for a
    synchronous message, the reply to its request message) is asked of the provider and matched
    by apigov's matching engine. Every failing interaction is an error
    naming what differed; passing ones are info. Exit 3 when the provider cannot be reached.
    """
    if record and not version:
        raise typer.BadParameter("--record needs --version (the provider version verified)")
    if base_url is None and message_url is None:
        raise typer.BadParameter(
            "--base-url is required (or --message-url for a provider that only publishes messages)",
            param_hint="--base-url",
        )
    if consumers_from is not None and pacts:
        raise typer.BadParameter("give --pact or --consumers-from, not both")
    parsed_headers = tuple(_header(h) for h in headers or ())
    config = load_config(config_file)
    refs = [target for target in pacts or () if parse_registry_ref(target) is not None]
    with ExitStack() as stack:
        written: list[tuple[str, str]] = []
        selected: list[PactFile] = []
        if consumers_from is not None or refs:
            from_registry = _RegistryPacts(registry or config.registry, stack)
            files: list[Path] = []
            if consumers_from is not None:
                files.extend(from_registry.live(consumers_from, provider))
            for ref in refs:
                files.extend(from_registry.of_version(ref, provider))
            selected.extend(from_registry.load(files, provider))
            written = from_registry.written
        paths = [target for target in pacts or () if target not in refs]
        if paths or not selected:
            targets = paths or [str(config.contracts)]
            selected.extend(_provider_pacts(targets, provider, named=set(paths)))
        _verify(
            selected,
            provider,
            base_url or "",
            parsed_headers,
            timeout,
            written,
            debug,
            fmt,
            output,
            fail_on,
            state_change_url=state_change_url,
            teardown=teardown,
            message_url=message_url,
            record_version=version if record else None,
            registry=registry or config.registry,
        )


def _verify(
    selected: list[PactFile],
    provider: str,
    base_url: str,
    parsed_headers: tuple[tuple[str, str], ...],
    timeout: float,
    written: list[tuple[str, str]],
    debug: bool,
    fmt: OutputFormat,
    output: Path | None,
    fail_on: FailOn,
    *,
    state_change_url: str | None,
    teardown: bool,
    message_url: str | None,
    record_version: str | None,
    registry: str | None,
) -> None:
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
        message_url=message_url,
    )
    run = verify_pacts(selected, settings)
    report = Report(command="verify", inputs=[_shown(p.name, written) for p in selected])
    report.findings.extend(_renamed(f, written) for f in run.findings())
    if record_version is not None:
        _record(run, record_version, registry, written)
    emit(report, fmt.value, output, fail_on.value)


class _RegistryPacts:
    """Pacts taken from the registry, written byte for byte as published to a temporary folder
    that lives as long as the run, so `--record` stores results under the very SHA-256 the
    registry knows them by. Findings name them `consumer@version:path` (`written`)."""

    def __init__(self, location: str | None, stack: ExitStack) -> None:
        from apigov.registry import open_registry
        from apigov.registry.open import registry_location

        self.where = registry_location(location)
        if "://" not in self.where and not Path(self.where).is_file():
            # Reading from a registry must not create an empty registry file as a side effect.
            raise InputError(
                self.where, "no registry here (name one with --registry or APIGOV_REGISTRY)"
            )
        self.store = open_registry(self.where)
        stack.callback(self.store.close)
        self.folder = Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="apigov-verify-"))
        ).resolve()
        self.written: list[tuple[str, str]] = []

    def live(self, environment: str, provider: str) -> list[Path]:
        """The pacts with `provider` of every consumer version live in `environment`."""
        from apigov.registry.domain import RegistryError
        from apigov.registry.refs import materialise_live_pacts

        try:
            files = materialise_live_pacts(self.store, environment, provider, self.folder)
        except RegistryError as error:
            raise InputError(self.where, str(error)) from None
        if not files:
            raise InputError(
                self.where,
                f"no consumer version live in {environment} holds a pact with {provider!r}",
            )
        self._name_folders(files)
        return files

    def of_version(self, ref: str, provider: str) -> list[Path]:
        """The pacts with `provider` of the consumer version `ref` names (CONSUMER@VERSION, or
        CONSUMER@ENVIRONMENT for the version live there)."""
        from apigov.registry.domain import RegistryError
        from apigov.registry.refs import materialise_pacts, resolve_version

        try:
            record = resolve_version(ref, self.store)
            files = materialise_pacts(self.store, [record], provider, self.folder)
        except RegistryError as error:
            raise InputError(self.where, str(error)) from None
        if not files:
            raise InputError(ref, f"{record.label} holds no pact with provider {provider!r}")
        self._name_folders(files)
        return files

    def _name_folders(self, files: list[Path]) -> None:
        for file in files:
            version_folder = self.folder / file.resolve().relative_to(self.folder).parts[0]
            entry = (display_name(version_folder) + "/", version_folder.name + ":")
            if entry not in self.written:
                self.written.append(entry)

    def load(self, files: list[Path], provider: str) -> list[PactFile]:
        from apigov.pact.verify import select_pacts

        loader = Loader(root=self.folder)
        documents = [(d, True) for f in files if isinstance(d := loader.load(str(f)), PactFile)]
        return select_pacts(documents, provider)


def _shown(file: str, written: list[tuple[str, str]]) -> str:
    for folder, label in written:
        if file.startswith(folder):
            return label + file[len(folder) :]
    return file


def _renamed(finding: Finding, written: list[tuple[str, str]]) -> Finding:
    if finding.location is None or not written:
        return finding
    shown = _shown(finding.location.file, written)
    return msgspec.structs.replace(
        finding, location=msgspec.structs.replace(finding.location, file=shown)
    )


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


def _record(
    run: VerificationRun, version: str, registry: str | None, written: list[tuple[str, str]]
) -> None:
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
                f"Recorded verification of {pact_file.consumer}'s pact "
                f"({_shown(pact_file.name, written)}) "
                f"against {provider}@{version}: {'passed' if outcome.passed else 'failed'}.",
                err=True,
            )
    finally:
        store.close()

"""Registry commands: publish, record-deployment, record-undeployment, record-release,
can-i-deploy, and the `registry` group (migrate). Each is thin: options -> registry -> report."""

from __future__ import annotations

import posixpath
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from apigov.cli.options import (
    ConfigOption,
    DebugOption,
    FailOn,
    FailOnOption,
    FormatOption,
    OutputFormat,
    OutputOption,
    RootOption,
)
from apigov.cli.output import emit
from apigov.cli.registry_options import RegistryOption
from apigov.config import load_config
from apigov.findings import Finding, Level, Report, fails
from apigov.registry import open_registry
from apigov.registry.client import answer_can_i_deploy
from apigov.registry.domain import VersionConflictError
from apigov.registry.evidence import pact_between
from apigov.registry.gate import Decision, choose_policy, decide_with_retries, decision_report
from apigov.registry.publishing import collect_service_folder
from apigov.spec.loader import Loader
from apigov.spec.sources import display_name

TargetOption = Annotated[
    str,
    typer.Option("--target", help="Where in the environment (a cluster, a region, an instance)."),
]


def publish(
    path: Annotated[Path, typer.Argument(help="A service folder of the contracts layout.")],
    service: Annotated[str, typer.Option("--service", help="The service publishing.")],
    version: Annotated[str, typer.Option("--version", help="The version being published.")],
    branch: Annotated[str | None, typer.Option("--branch", help="The version's branch.")] = None,
    commit: Annotated[str | None, typer.Option("--commit", help="The version's commit.")] = None,
    tags: Annotated[
        list[str] | None,
        typer.Option(
            "--tag",
            help="Tag the version (repeatable; consumer version selectors pick by tag). "
            "Republishing the same content may add tags.",
            metavar="TAG",
        ),
    ] = None,
    root: RootOption = None,
    registry: RegistryOption = None,
    fmt: FormatOption = OutputFormat.text,  # type: ignore[attr-defined]
    output: OutputOption = None,
    fail_on: FailOnOption = FailOn.error,
    debug: DebugOption = False,
) -> None:
    """Put a service folder's contracts (spec, pacts, service.yaml) into the registry.

    One transaction: all of the version or none of it. Republishing the same content is a
    no-op; republishing a version with other content is refused (exit 1).
    """
    collected = collect_service_folder(path, service, Loader(root=root))
    report = Report(command="publish", inputs=[display_name(path)])
    # Documents with problems at or above --fail-on are not published (errors always stop it).
    refused = collected.refused or (
        Report("publish", collected.warnings) if fails(collected.warnings, fail_on.value) else None
    )
    if refused is not None:
        report.findings.extend(refused.findings)
        report.findings.append(
            Finding(
                "registry-publish-refused",
                Level.ERROR,
                f"{service}@{version} was not published: its documents have problems",
                service=service,
            )
        )
        emit(report, fmt.value, output, fail_on.value)
        return
    # Problems below --fail-on do not stop a publish, and are still reported.
    report.findings.extend(collected.warnings)
    folder = display_name(path)
    report.inputs = [posixpath.normpath(f"{folder}/{f.path}") for f in collected.files]
    store = open_registry(registry)
    try:
        result = store.publish(
            service,
            version,
            collected.files,
            branch=branch,
            commit=commit,
            metadata=collected.metadata,
            tags=tags or (),
        )
    except VersionConflictError as conflict:
        report.findings.append(
            Finding("registry-version-conflict", Level.ERROR, str(conflict), service=service)
        )
    else:
        # What was stored goes to stderr: stdout is the report, in the format asked for.
        if result.created:
            typer.echo(
                f"Published {service}@{version}: {len(result.files)} files, "
                f"{len(result.new_contents)} new contents.",
                err=True,
            )
        else:
            typer.echo(f"{service}@{version} was already published with this content.", err=True)
    finally:
        store.close()
    emit(report, fmt.value, output, fail_on.value)


def record_deployment(
    service: Annotated[str, typer.Argument(help="The service deployed.")],
    version: Annotated[str, typer.Argument(help="The version deployed.")],
    environment: Annotated[str, typer.Option("--env", help="The environment deployed to.")],
    target: TargetOption = "",
    production: Annotated[
        bool,
        typer.Option(
            "--production",
            help="Create the environment marked production (destructive fuzzing is refused).",
        ),
    ] = False,
    registry: RegistryOption = None,
    config_file: ConfigOption = None,
    debug: DebugOption = False,
) -> None:
    """Record that SERVICE VERSION now runs in an environment (retires the version before it)."""
    config = load_config(config_file)
    # The production flag is set when the environment is created: by --production, or by the
    # configuration's `environments: [{name: ..., production: true}]`.
    production = production or config.is_production(environment)
    store = open_registry(registry or config.registry)
    try:
        created = not store.has_environment(environment)
        if production and created:
            store.ensure_environment(environment, production=True)
        retired = store.record_deployment(service, version, environment, target=target)
        if production and not created and not store.is_production_environment(environment):
            typer.echo(
                f"note: environment {environment} already exists and is not marked production; "
                "the flag is only set when an environment is created",
                err=True,
            )
    finally:
        store.close()
    where = f"{environment} (target {target})" if target else environment
    replaced = f", replacing {service}@{', '.join(retired)}" if retired else ""
    typer.echo(f"Recorded {service}@{version} as deployed to {where}{replaced}.")


def record_undeployment(
    service: Annotated[str, typer.Argument(help="The service no longer running.")],
    environment: Annotated[str, typer.Option("--env", help="The environment it left.")],
    target: TargetOption = "",
    registry: RegistryOption = None,
    debug: DebugOption = False,
) -> None:
    """Record that SERVICE no longer runs in an environment (and target)."""
    store = open_registry(registry)
    try:
        versions = store.record_undeployment(service, environment, target=target)
    finally:
        store.close()
    where = f"{environment} (target {target})" if target else environment
    typer.echo(f"Recorded {service}@{', '.join(versions)} as undeployed from {where}.")


def record_release(
    service: Annotated[str, typer.Argument(help="The service released.")],
    version: Annotated[str, typer.Argument(help="The version released.")],
    environment: Annotated[str, typer.Option("--env", help="The environment released to.")],
    registry: RegistryOption = None,
    debug: DebugOption = False,
) -> None:
    """Record a release: it stays live next to other versions (nothing is retired)."""
    store = open_registry(registry)
    try:
        new = store.record_release(service, version, environment)
    finally:
        store.close()
    already = "" if new else " (already recorded)"
    typer.echo(f"Recorded {service}@{version} as released to {environment}{already}.")


class Outcome(StrEnum):
    passed = "passed"
    failed = "failed"


def record_verification(
    provider: Annotated[str, typer.Argument(help="The provider verified.")],
    version: Annotated[str, typer.Argument(help="The provider version verified.")],
    consumer: Annotated[str, typer.Option("--consumer", help="Whose pact was replayed.")],
    consumer_version: Annotated[
        str, typer.Option("--consumer-version", help="The consumer version holding the pact.")
    ],
    result: Annotated[Outcome, typer.Option("--result", help="How the verification ended.")],
    registry: RegistryOption = None,
    debug: DebugOption = False,
) -> None:
    """Record a live verification of a consumer's pact against a provider version (evidence)."""
    store = open_registry(registry)
    try:
        pact = pact_between(store, consumer, consumer_version, provider)
        store.record_verification(
            provider, version, consumer, pact.sha256, result is Outcome.passed
        )
    finally:
        store.close()
    typer.echo(
        f"Recorded verification of {consumer}@{consumer_version}'s pact ({pact.path}) "
        f"against {provider}@{version}: {result.value}."
    )


def can_i_deploy_command(
    service: Annotated[str, typer.Argument(help="The service to deploy.")],
    version: Annotated[str, typer.Argument(help="The version to deploy.")],
    environment: Annotated[
        str | None, typer.Option("--to", help="The environment to deploy to.")
    ] = None,
    to_tag: Annotated[
        str | None,
        typer.Option(
            "--to-tag",
            help="Instead of an environment: check against the latest version of each "
            "counterpart carrying this tag (the Pact Broker's --to TAG).",
            metavar="TAG",
        ),
    ] = None,
    require_verification: Annotated[
        bool,
        typer.Option(
            "--require-verification",
            help="Each pair also needs a green live verification of that exact pact "
            "(the same as --require verification).",
        ),
    ] = False,
    require: Annotated[
        list[str] | None,
        typer.Option(
            "--require",
            help="Evidence each answer needs beyond static compatibility (repeatable): "
            "verification, fuzz@ENV, fuzz; 'static' alone for none. Replaces the "
            "configuration's can-i-deploy.require.",
            metavar="EVIDENCE",
        ),
    ] = None,
    max_age: Annotated[
        str | None,
        typer.Option(
            "--max-age",
            help="Older evidence is stale, e.g. 12h, 7d (default: can-i-deploy.max-age).",
            metavar="AGE",
        ),
    ] = None,
    retry_while_unknown: Annotated[
        int,
        typer.Option(
            "--retry-while-unknown",
            min=0,
            max=1000,
            help="Ask again up to N times while the answer is unknown (evidence missing).",
        ),
    ] = 0,
    retry_interval: Annotated[
        float, typer.Option("--retry-interval", min=0, max=3600, help="Seconds between asks.")
    ] = 10,
    registry: RegistryOption = None,
    config_file: ConfigOption = None,
    fmt: FormatOption = OutputFormat.text,  # type: ignore[attr-defined]
    output: OutputOption = None,
    fail_on: FailOnOption = FailOn.error,
    debug: DebugOption = False,
) -> None:
    """May SERVICE VERSION be deployed to an environment? Exit 0 yes, 1 no, 3 unreachable.

    Lists every consumer/provider pair considered, and why each passed or failed, and every
    other piece of evidence the policy requires (a fuzz run). Missing or stale evidence makes
    the answer "unknown" (exit 1), which --retry-while-unknown waits on.
    """
    if (environment is None) == (to_tag is None):
        raise typer.BadParameter("give the environment (--to ENV) or a tag (--to-tag TAG)")
    config = load_config(config_file)
    policy = choose_policy(require or [], max_age, config, verification=require_verification)
    location = registry or config.registry

    def waiting(decision: Decision, retry: int) -> None:
        sys.stderr.write(
            f"can-i-deploy: unknown (required evidence missing); asking again in "
            f"{retry_interval:g} s ({retry}/{retry_while_unknown})\n"
        )
        sys.stderr.flush()

    store = open_registry(location)
    try:
        decision = decide_with_retries(
            lambda: answer_can_i_deploy(
                store, service, version, environment or "", policy, tag=to_tag
            ),
            retry_while_unknown,
            retry_interval,
            on_wait=waiting,
        )
    finally:
        store.close()
    emit(decision_report(decision), fmt.value, output, fail_on.value)


registry_app = typer.Typer(
    name="registry",
    help="Manage the registry itself.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@registry_app.command(name="migrate")
def migrate_command(registry: RegistryOption = None, debug: DebugOption = False) -> None:
    """Create or upgrade the registry's tables to the newest schema."""
    from apigov.registry import migrate
    from apigov.registry.sql import SqlRegistry

    store = SqlRegistry(registry or _default(), migrate_schema=False)
    try:
        before = migrate.current_revision(store.engine)
        migrate.upgrade(store.engine)
        after = migrate.current_revision(store.engine)
    finally:
        store.close()
    if before == after:
        typer.echo(f"Registry schema is up to date (revision {after}).")
    else:
        typer.echo(f"Registry schema migrated from {before or 'empty'} to revision {after}.")


service_app = typer.Typer(
    name="service", help="Settings of one service.", no_args_is_help=True, rich_markup_mode=None
)


@service_app.command(name="set")
def service_set(
    service: Annotated[str, typer.Argument(help="The service.")],
    main_branch: Annotated[
        str | None,
        typer.Option(
            "--main-branch",
            help="The branch the Pact Broker's mainBranch selector means for this service.",
            metavar="BRANCH",
        ),
    ] = None,
    registry: RegistryOption = None,
    debug: DebugOption = False,
) -> None:
    """Change a service's settings (now: its main branch; default main or master)."""
    if main_branch is None:
        raise typer.BadParameter("nothing to set: give --main-branch BRANCH")
    store = open_registry(registry)
    try:
        store.set_main_branch(service, main_branch)
    finally:
        store.close()
    typer.echo(f"Set the main branch of {service} to {main_branch}.")


registry_app.add_typer(service_app)


def _default() -> str:
    from apigov.registry.open import registry_location

    return registry_location(None)


def register(app: typer.Typer) -> None:
    """Add every registry command to the `apigov` app."""
    app.command(name="publish")(publish)
    app.command(name="record-deployment")(record_deployment)
    app.command(name="record-undeployment")(record_undeployment)
    app.command(name="record-release")(record_release)
    app.command(name="record-verification")(record_verification)
    app.command(name="can-i-deploy")(can_i_deploy_command)
    from apigov.cli.registry_server import attach  # here: it imports this module's options

    attach(registry_app)
    app.add_typer(registry_app)

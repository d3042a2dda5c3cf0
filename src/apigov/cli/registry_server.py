"""`apigov registry serve|token|export|import`: running and administering a shared registry.

Thin, like every command: options -> the registry (or its server) -> one line of output.
FastAPI and uvicorn are imported only when `serve` runs.
"""

from __future__ import annotations

import io
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from apigov.cli.options import ConfigOption, DebugOption
from apigov.cli.registry_options import RegistryOption
from apigov.spec.errors import InputError


class TokenScope(StrEnum):
    read = "read"
    publish = "publish"
    admin = "admin"


def _database_location(option: str | None) -> str:
    """Tokens, export and import work on the database itself, not through a server."""
    from apigov.registry.open import registry_location

    where = registry_location(option)
    if where.startswith(("http://", "https://")):
        raise InputError(
            where, "this command works on the registry's database: give its path or URL"
        )
    return where


def serve(
    registry: RegistryOption = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port.")] = 8080,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Server processes.")] = 1,
    no_auth: Annotated[
        bool,
        typer.Option("--no-auth", help="No tokens at all: reads and writes are open (local use)."),
    ] = False,
    auth_reads: Annotated[
        bool, typer.Option("--auth-reads", help="Reads need a token too (writes always do).")
    ] = False,
    max_body_size: Annotated[
        str,
        typer.Option("--max-body-size", help="Largest request body accepted.", metavar="SIZE"),
    ] = "32M",
    broker_require: Annotated[
        list[str] | None,
        typer.Option(
            "--broker-require",
            help="Evidence the Pact Broker routes' can-i-deploy requires beyond static "
            "compatibility (repeatable: verification, fuzz@ENV, fuzz; default: the "
            "configuration's can-i-deploy.require).",
            metavar="EVIDENCE",
        ),
    ] = None,
    broker_max_age: Annotated[
        str | None,
        typer.Option(
            "--broker-max-age",
            help="Older evidence is stale for the Pact Broker routes "
            "(default: can-i-deploy.max-age).",
            metavar="AGE",
        ),
    ] = None,
    config_file: ConfigOption = None,
    debug: DebugOption = False,
) -> None:
    """Serve the registry over HTTP: apigov's JSON API and the Pact Broker API subset."""
    import uvicorn

    from apigov.cli.options import parse_size
    from apigov.config import load_config
    from apigov.registry.gate import choose_policy, describe_age
    from apigov.registry.server import app as server

    if no_auth and auth_reads:
        raise typer.BadParameter("--no-auth and --auth-reads contradict each other")
    # Pact clients cannot name a policy: the server's is checked here, before anything starts.
    policy = choose_policy(
        broker_require or [],
        broker_max_age,
        load_config(config_file),
        options=("--broker-require", "--broker-max-age"),
    )
    location = _database_location(registry)
    # uvicorn builds the app in each worker process from these settings (app_from_environment).
    os.environ[server.ENV_LOCATION] = location
    os.environ[server.ENV_AUTH] = "off" if no_auth else "all" if auth_reads else "writes"
    os.environ[server.ENV_MAX_BODY] = str(parse_size(max_body_size, "--max-body-size"))
    os.environ[server.ENV_BROKER_REQUIRE] = " ".join(policy.names)
    os.environ[server.ENV_BROKER_MAX_AGE] = describe_age(policy.max_age) if policy.max_age else ""
    # Open (and migrate) the registry once before the workers start, so they do not race to.
    from apigov.registry.sql import SqlRegistry

    SqlRegistry(location).close()
    uvicorn.run(
        "apigov.registry.server.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )


token_app = typer.Typer(
    name="token", help="API tokens of the registry server.", no_args_is_help=True
)


@token_app.command(name="create")
def token_create(
    name: Annotated[str, typer.Option("--name", help="Who or what the token is for.")],
    scope: Annotated[
        TokenScope, typer.Option("--scope", help="read < publish < admin (each includes less).")
    ],
    registry: RegistryOption = None,
    debug: DebugOption = False,
) -> None:
    """Create a token and print it (once: only its hash is stored)."""
    from apigov.registry.server.auth import Scope, TokenStore
    from apigov.registry.sql import SqlRegistry

    store = SqlRegistry(_database_location(registry))
    try:
        token = TokenStore(store.engine).create(name, Scope(scope.value))
    finally:
        store.close()
    typer.echo(token)
    typer.echo(
        f"Created token {name!r} with the {scope.value} scope; it is shown only this once.",
        err=True,
    )


@token_app.command(name="list")
def token_list(registry: RegistryOption = None, debug: DebugOption = False) -> None:
    """List tokens: name, scope, created, revoked (never the tokens themselves)."""
    from apigov.registry.server.auth import TokenStore
    from apigov.registry.sql import SqlRegistry

    store = SqlRegistry(_database_location(registry))
    try:
        tokens = TokenStore(store.engine).list()
    finally:
        store.close()
    for token in tokens:
        revoked = f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "live"
        typer.echo(
            f"{token.name}\t{token.scope.value}\tcreated {token.created_at:%Y-%m-%d %H:%M}\t"
            f"{revoked}"
        )


@token_app.command(name="revoke")
def token_revoke(
    name: Annotated[str, typer.Option("--name", help="The token(s) to revoke, by name.")],
    registry: RegistryOption = None,
    debug: DebugOption = False,
) -> None:
    """Revoke every live token with this name."""
    from apigov.registry.server.auth import TokenStore
    from apigov.registry.sql import SqlRegistry

    store = SqlRegistry(_database_location(registry))
    try:
        count = TokenStore(store.engine).revoke(name)
    finally:
        store.close()
    if count == 0:
        raise InputError(name, "no live token has this name")
    typer.echo(f"Revoked {count} token(s) named {name!r}.")


def export_command(
    file: Annotated[Path, typer.Argument(help="Where to write the dump ('-': standard output).")],
    registry: RegistryOption = None,
    debug: DebugOption = False,
) -> None:
    """Write everything in the registry to FILE as JSON lines (see `registry import`)."""
    from apigov.cli.output import write_atomically
    from apigov.registry.server.transfer import export_registry
    from apigov.registry.sql import SqlRegistry

    store = SqlRegistry(_database_location(registry))
    try:
        buffer = io.StringIO()
        counts = export_registry(store.engine, buffer)
    finally:
        store.close()
    if str(file) == "-":
        sys.stdout.write(buffer.getvalue())
    else:
        write_atomically(file, buffer.getvalue())
    typer.echo(f"Exported {_counted(counts)}.", err=True)


def import_command(
    file: Annotated[
        Path, typer.Argument(help="A dump written by `registry export`.", dir_okay=False)
    ],
    registry: RegistryOption = None,
    debug: DebugOption = False,
) -> None:
    """Load a dump into an empty registry, in one transaction (all of it or nothing)."""
    from apigov.registry.server.transfer import import_registry
    from apigov.registry.sql import SqlRegistry
    from apigov.spec.sources import display_name

    name = display_name(file)
    try:
        stream = file.open(encoding="utf-8")
    except OSError as error:
        raise InputError(name, error.strerror or "cannot be read") from None
    store = SqlRegistry(_database_location(registry))
    try:
        with stream:
            counts = import_registry(store.engine, stream, name)
    finally:
        store.close()
    typer.echo(f"Imported {_counted(counts)}.")


def _counted(counts: dict[str, int]) -> str:
    nouns = {"evidence": "evidence record", "audit": "audit entry"}

    def noun(kind: str, n: int) -> str:
        word = nouns.get(kind, kind)
        if n == 1:
            return word
        return word[:-1] + "ies" if word.endswith("y") else word + "s"

    shown = [f"{n} {noun(kind, n)}" for kind, n in counts.items() if kind != "header"]
    return ", ".join(shown) or "nothing"


def attach(group: typer.Typer) -> None:
    """Add serve, token, export and import to the `apigov registry` group."""
    group.command(name="serve")(serve)
    group.add_typer(token_app)
    group.command(name="export")(export_command)
    group.command(name="import")(import_command)


__all__ = ["attach"]

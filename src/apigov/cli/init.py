"""`apigov init`: write a commented starter apigov.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from apigov.cli.output import write_atomically
from apigov.spec.errors import InputError
from apigov.spec.sources import display_name

STARTER = """\
# apigov configuration. Every key is optional; the values below are the defaults, written out
# so you can see what there is to change. Relative paths are relative to this file's folder.
# Reference: docs/configuration.md.

# The contracts tree: one folder per service with service.yaml, openapi.yaml and pacts/.
contracts: {contracts}

# Exit 1 when a finding is at or above this level: error | warning | info | never.
# A command's --fail-on wins over this.
fail-on: error

# Where published contracts, deployments and verification results live: a path, a database
# URL (sqlite:///..., postgresql://...) or the URL of an `apigov registry serve`.
# registry: .apigov/registry.db

# The environments the fleet deploys to, in promotion order. `production: true` makes
# destructive fuzzing refuse to run against it.
environments:
  - staging
  - name: production
    production: true

lint:
  # A built-in ruleset (apigov:recommended, apigov:oas, spectral:oas) or a ruleset file.
  ruleset: apigov:recommended

# diff:
#   # The breaking-change policy: levels per change id, exceptions, accepted changes.
#   policy: rules/breaking.yaml

fleet:
  # Fleet rules: levels per rule id (error | warning | info | off) and limits.
  # rules: rules/fleet.yaml
  limits:
    fan-in: 10    # consumers one provider may have before apigov warns
    fan-out: 8    # providers one service may call before apigov warns

# can-i-deploy:
#   # Evidence every consumer/provider pair needs besides static compatibility.
#   require: [verification]
"""


def starter_config(contracts: str = "contracts") -> str:
    """The text `apigov init` writes."""
    return STARTER.format(contracts=contracts)


def init(
    path: Annotated[
        Path,
        typer.Argument(help="Where to write the configuration.", dir_okay=False),
    ] = Path("apigov.yaml"),
    contracts: Annotated[
        str,
        typer.Option("--contracts", help="The contracts folder to write into the file."),
    ] = "contracts",
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Write a commented starter apigov.yaml (refuses to replace one without --force)."""
    if path.exists() and not force:
        raise InputError(display_name(path), "already exists; pass --force to replace it")
    write_atomically(path, starter_config(contracts))
    typer.echo(f"wrote {display_name(path)}")

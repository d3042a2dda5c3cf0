"""`--registry` and `--registry-token`: the options of every command that reads or writes a
registry, declared once. Light on purpose (typer only): commands outside the registry's own
(check, fuzz, diff, verify) and the command line's start-up import it without the registry."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperOption

RegistryOption = Annotated[
    str | None,
    typer.Option(
        "--registry",
        envvar="APIGOV_REGISTRY",
        help="A registry file path, or a database URL (sqlite:///..., postgresql://...). "
        "Default: .apigov/registry.db",
        metavar="LOCATION",
        show_default=False,
    ),
]
REGISTRY_TOKEN_OPTION = "--registry-token"


def _remember_registry_token(_: typer.Context, __: Any, value: str | None) -> None:
    # Called on every parse, given or not, so one process running several commands (tests,
    # the pytest plugin) never carries a token from one into the next. Without a token and with
    # the registry never opened there is nothing to reset: the registry is not imported for it.
    if value is None and "apigov.registry.open" not in sys.modules:
        return
    from apigov.registry.open import option_token

    option_token.set(value)


class RegistryTokenCommand(TyperCommand):
    """A command that takes `--registry` also takes `--registry-token`, right after it.

    Declared here once instead of as a parameter of every command: the option is handed to
    `open_registry` through `apigov.registry.open.option_token`, so command functions (in this
    file and others) need no parameter for it. `offer_registry_token` gives every command this
    class.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = [getattr(p, "opts", []) for p in self.params]
        at = next((i for i, opts in enumerate(names) if "--registry" in opts), None)
        if at is None or any(REGISTRY_TOKEN_OPTION in opts for opts in names):
            return
        self.params.insert(
            at + 1,
            TyperOption(
                param_decls=[REGISTRY_TOKEN_OPTION],
                type=str,
                envvar="APIGOV_REGISTRY_TOKEN",
                expose_value=False,
                callback=_remember_registry_token,
                metavar="TOKEN",
                help="Bearer token for a registry served over http(s); wins over "
                "APIGOV_REGISTRY_TOKEN.",
                show_envvar=False,
            ),
        )


def offer_registry_token(app: typer.Typer) -> None:
    """Give every command of `app` (and of its groups) `--registry-token` if it takes
    `--registry`. Commands with a class of their own keep it (a test checks none lacks the
    option)."""
    for command in app.registered_commands:
        if command.cls in (None, TyperCommand):
            command.cls = RegistryTokenCommand
    for group in app.registered_groups:
        if group.typer_instance is not None:
            offer_registry_token(group.typer_instance)

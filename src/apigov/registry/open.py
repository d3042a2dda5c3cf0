"""Pick the registry implementation from `--registry` / `APIGOV_REGISTRY`."""

from __future__ import annotations

import os

from apigov.registry.domain import Registry

DEFAULT_LOCATION = ".apigov/registry.db"
ENVIRONMENT_VARIABLE = "APIGOV_REGISTRY"


class _OptionToken:
    """The command line's `--registry-token`, set while the option is parsed, so every command
    that takes `--registry` passes it on without a parameter of its own
    (see cli/registry_options.py).

    A plain holder, not a context variable: a command may open the registry on a worker thread,
    which would not see a context variable set on the main one.
    """

    def __init__(self) -> None:
        self._value: str | None = None

    def set(self, value: str | None) -> None:
        self._value = value

    def get(self) -> str | None:
        return self._value


option_token = _OptionToken()


def registry_location(option: str | None) -> str:
    """The option wins, then the environment variable, then the embedded default."""
    return option or os.environ.get(ENVIRONMENT_VARIABLE) or DEFAULT_LOCATION


def open_registry(
    location: str | None = None, *, migrate_schema: bool = True, token: str | None = None
) -> Registry:
    """The registry at `location`: a served one for http(s) URLs (`token`, else the command
    line's --registry-token, else the APIGOV_REGISTRY_TOKEN variable, authenticates), else the
    SQL store."""
    where = registry_location(location)
    if where.startswith(("http://", "https://")):
        from apigov.registry.client import HttpRegistry

        return HttpRegistry(where, token=token if token is not None else option_token.get())
    from apigov.registry.sql import SqlRegistry

    return SqlRegistry(where, migrate_schema=migrate_schema)

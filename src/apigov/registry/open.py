"""Pick the registry implementation from `--registry` / `APIGOV_REGISTRY`."""

from __future__ import annotations

import os

from apigov.registry.domain import Registry

DEFAULT_LOCATION = ".apigov/registry.db"
ENVIRONMENT_VARIABLE = "APIGOV_REGISTRY"


def registry_location(option: str | None) -> str:
    """The option wins, then the environment variable, then the embedded default."""
    return option or os.environ.get(ENVIRONMENT_VARIABLE) or DEFAULT_LOCATION


def open_registry(
    location: str | None = None, *, migrate_schema: bool = True, token: str | None = None
) -> Registry:
    """The registry at `location`: a served one for http(s) URLs (`token`, else the
    APIGOV_REGISTRY_TOKEN variable, authenticates), else the SQL store."""
    where = registry_location(location)
    if where.startswith(("http://", "https://")):
        from apigov.registry.client import HttpRegistry

        return HttpRegistry(where, token=token)
    from apigov.registry.sql import SqlRegistry

    return SqlRegistry(where, migrate_schema=migrate_schema)

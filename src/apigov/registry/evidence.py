"""Evidence lookups shared by the commands that record it."""

from __future__ import annotations

from apigov.registry.domain import Registry, RegistryError, StoredFile


def pact_between(registry: Registry, consumer: str, version: str, provider: str) -> StoredFile:
    """The pact `consumer@version` holds with `provider` (the exact content a result is for)."""
    record = registry.version(consumer, version)
    if record is None:
        raise RegistryError(
            registry.location, f"{consumer}@{version} is not in the registry (publish it first)"
        )
    for pact in record.pacts:
        if pact.provider == provider:
            return pact
    raise RegistryError(registry.location, f"{consumer}@{version} holds no pact with {provider}")

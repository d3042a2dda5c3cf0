"""The registry: services, versions, contracts, environments, deployments, evidence.

`open_registry(location)` returns a `Registry` for a path, a SQLAlchemy URL or (later) a server.
"""

from __future__ import annotations

from apigov.registry.domain import (
    ContractFile,
    LiveVersion,
    PublishResult,
    Registry,
    RegistryError,
    Role,
    ServiceMetadata,
    StoredFile,
    VersionConflictError,
    VersionRecord,
)
from apigov.registry.open import DEFAULT_LOCATION, open_registry

__all__ = [
    "DEFAULT_LOCATION",
    "ContractFile",
    "LiveVersion",
    "PublishResult",
    "Registry",
    "RegistryError",
    "Role",
    "ServiceMetadata",
    "StoredFile",
    "VersionConflictError",
    "VersionRecord",
    "open_registry",
]

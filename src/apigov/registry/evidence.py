"""Evidence: lookups shared by the commands that record it, and recording fuzz runs."""

from __future__ import annotations

import getpass
import os
from collections.abc import Sequence

from apigov.findings import Finding, Level, fails
from apigov.fuzz.results import FuzzRun
from apigov.registry.domain import (
    FuzzRunRecord,
    Registry,
    RegistryError,
    StoredFile,
    VersionRecord,
)


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


def known_version(registry: Registry, service: str, version: str) -> VersionRecord:
    """The version evidence is about; asked before a run so a typo fails in seconds, not after
    a whole fuzz run."""
    record = registry.version(service, version)
    if record is None:
        raise RegistryError(
            registry.location, f"{service}@{version} is not in the registry (publish it first)"
        )
    return record


def default_actor() -> str | None:
    """Who records evidence unless told: the login name ($USER, then the account's name)."""
    user = os.environ.get("USER", "").strip()
    if user:
        return user
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user with no passwd entry
        return None


def record_fuzz_outcome(
    registry: Registry,
    service: str,
    version: str,
    environment: str,
    run: FuzzRun,
    findings: Sequence[Finding],
    fail_on: str,
    *,
    baseline_hidden: int = 0,
    actor: str | None = None,
) -> FuzzRunRecord:
    """Store a fuzz run as evidence: passed when the run's own exit code would be 0 (nothing at
    or above `fail_on` that the baseline does not accept), complete unless interrupted.

    Only a complete, passed run is green: a run cut short by Ctrl-C saw only part of the
    service, so it can never satisfy a policy, whatever it found.
    """
    summary = {level.value: 0 for level in Level}
    for finding in findings:
        summary[finding.level.value] += 1
    details = {
        **run.to_dict(),
        "fail_on": fail_on,
        "reported": summary,
        "baseline_hidden": baseline_hidden,
    }
    return registry.record_fuzz_run(
        service,
        version,
        environment,
        passed=not fails(findings, fail_on),
        complete=not run.interrupted,
        run=details,
        actor=actor,
    )

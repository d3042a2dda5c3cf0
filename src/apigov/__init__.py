"""apigov: contract testing and API governance for fleets of microservices."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apigov.findings import Finding, Level, Location, Report

__version__ = "0.1.0"

__all__ = ["Finding", "Level", "Location", "Report", "__version__"]

_FINDINGS = frozenset({"Finding", "Level", "Location", "Report"})


def __getattr__(name: str) -> Any:
    # The result types are imported on first use, so that `apigov`'s command can pause the
    # cycle collector before anything heavy is imported (see `apigov.cli.app.main`).
    if name in _FINDINGS:
        from apigov import findings

        return getattr(findings, name)
    raise AttributeError(f"module 'apigov' has no attribute {name!r}")

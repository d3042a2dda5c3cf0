"""Shared helpers of the lint tests (a uniquely named module: `conftest` is ambiguous when
several test folders without `__init__.py` each have one)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from apigov.findings import Finding
from helpers import REPO, npm_tool

LintText = Callable[[str, str], list[Finding]]

SPECTRAL_PACKAGE = "@stoplight/spectral-cli@6.16.3"
NPM_PREFIX = REPO / ".cache" / "npm-peers"


def install_spectral() -> Path:
    """Spectral's command, installed with npm into the git-ignored .cache/ on first use."""
    return npm_tool(NPM_PREFIX, SPECTRAL_PACKAGE, "spectral")


def ids_and_pointers(findings: list[Finding]) -> set[tuple[str, str]]:
    return {(f.id, f.location.pointer if f.location else "") for f in findings}

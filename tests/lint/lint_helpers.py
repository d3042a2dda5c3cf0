"""Shared helpers of the lint tests (a uniquely named module: `conftest` is ambiguous when
several test folders without `__init__.py` each have one)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from apigov.findings import Finding
from helpers import REPO, npm_tool, write

LintText = Callable[[str, str], list[Finding]]

SPECTRAL_PACKAGE = "@stoplight/spectral-cli@6.16.3"
NPM_PREFIX = REPO / ".cache" / "npm-peers"


def install_spectral() -> Path:
    """Spectral's command, installed with npm into the git-ignored .cache/ on first use."""
    return npm_tool(NPM_PREFIX, SPECTRAL_PACKAGE, "spectral")


def ids_and_pointers(findings: list[Finding]) -> set[tuple[str, str]]:
    return {(f.id, f.location.pointer if f.location else "") for f in findings}


def media_example(code: int, schema: str, example: str) -> str:
    """A response `code` of a YAML operation, with a JSON media type's `schema` and `example`."""
    return (
        f"        '{code}':\n"
        f"          description: r\n"
        f"          content:\n"
        f"            application/json:\n"
        f"              schema: {schema}\n"
        f"              example: {example}\n"
    )


def spectral_results(spectral: Path, folder: Path, document: str) -> list[dict[str, Any]]:
    """Spectral's JSON results for `document` (YAML) with the `spectral:oas` ruleset."""
    spec_file = write(folder, "openapi.yaml", document)
    ruleset = write(folder, "ruleset.yaml", "extends: ['spectral:oas']\n")
    report = folder / "spectral.json"
    completed = subprocess.run(
        [
            *(str(spectral), "lint", "-r", str(ruleset), "-f", "json", "-o", str(report)),
            *("-q", "--fail-severity", "hint", str(spec_file)),
        ],
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode in (0, 1), completed.stderr.decode(errors="replace")
    results: list[dict[str, Any]] = json.loads(report.read_text(encoding="utf-8"))
    return results

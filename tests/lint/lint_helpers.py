"""Shared helpers of the lint tests (a uniquely named module: `conftest` is ambiguous when
several test folders without `__init__.py` each have one)."""

from __future__ import annotations

from collections.abc import Callable

from apigov.findings import Finding

LintText = Callable[[str, str], list[Finding]]


def ids_and_pointers(findings: list[Finding]) -> set[tuple[str, str]]:
    return {(f.id, f.location.pointer if f.location else "") for f in findings}

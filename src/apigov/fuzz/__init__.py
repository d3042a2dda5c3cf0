"""`apigov fuzz`: schemathesis-driven fuzzing of live services, results as findings.

Public API: `fuzz_spec` (the analyzer) and `FuzzOutcome`, `FuzzSettings` and `TargetSafety`
(what a run may do), `FuzzRun` (the typed result, the seam for recording runs as registry
evidence), `FailureKey` and the baseline helpers.

`fuzz_spec` is imported on first use: schemathesis takes a few hundred milliseconds to import,
and every other apigov command would pay for it at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from apigov.fuzz.baseline import baseline_text, load_baseline
from apigov.fuzz.results import FailureKey, FuzzFailure, FuzzRun
from apigov.fuzz.settings import FuzzSettings, TargetSafety, is_production

if TYPE_CHECKING:
    from apigov.fuzz.analyze import FuzzOutcome, fuzz_spec

_LAZY = frozenset({"FuzzOutcome", "fuzz_spec"})


def __getattr__(name: str) -> object:
    if name in _LAZY:
        from apigov.fuzz import analyze

        return getattr(analyze, name)
    raise AttributeError(f"module 'apigov.fuzz' has no attribute {name!r}")


__all__ = [
    "FailureKey",
    "FuzzFailure",
    "FuzzOutcome",
    "FuzzRun",
    "FuzzSettings",
    "TargetSafety",
    "baseline_text",
    "fuzz_spec",
    "is_production",
    "load_baseline",
]

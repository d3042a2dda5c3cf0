"""The fuzz analyzer: a loaded spec and settings in, a `Report` and the typed `FuzzRun` out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from apigov.findings import Finding, Level, Location, Report
from apigov.fuzz.driver import FuzzObserver, check_reachable, run_fuzz
from apigov.fuzz.results import FailureKey, FuzzRun, run_findings
from apigov.fuzz.settings import (
    FuzzSettings,
    TargetSafety,
    destructive_operations,
    operations_of,
    select_operations,
)
from apigov.spec import pointer as jp
from apigov.spec.errors import InputError
from apigov.spec.model import ApiSpec


@dataclass
class FuzzOutcome:
    """What `fuzz_spec` hands back: the report for the reporters and the run for the registry."""

    report: Report
    run: FuzzRun
    baseline_hidden: int = 0


def fuzz_spec(
    spec: ApiSpec,
    settings: FuzzSettings,
    safety: TargetSafety = TargetSafety(),  # noqa: B008 - frozen, so sharing it is safe
    accepted: Iterable[FailureKey] = (),
    *,
    observer: FuzzObserver | None = None,
) -> FuzzOutcome:
    """Refuse what the target does not allow, fuzz the rest, turn failures into findings."""
    declared = operations_of(spec.document)
    chosen = select_operations(declared, settings)
    refused = destructive_operations(chosen, safety)
    if refused:
        methods = ", ".join(sorted(safety.destructive_methods))
        raise InputError(
            spec.name,
            f"refusing to send {methods} requests to a production target "
            f"({', '.join(refused)}); pass --safe or --exclude them, or --allow-destructive",
        )
    if (settings.include or settings.exclude) and not chosen:
        raise InputError(spec.name, "--include/--exclude leave no operation to fuzz")
    check_reachable(settings.base_url)
    run = run_fuzz(spec.document, spec.name, settings, chosen, observer=observer)

    def locate(operation: str) -> Location | None:
        method, _, path = operation.partition(" ")
        if f"{method} {path}" not in declared:
            return None
        return spec.locate(jp.join(("paths", path, method.lower())))

    findings, hidden = run_findings(run, locate, accepted)
    if not chosen:
        findings.append(
            Finding(id="fuzz/no-operations", level=Level.WARNING, message="no operation to fuzz")
        )
    report = Report(command="fuzz", findings=findings, inputs=[spec.name])
    return FuzzOutcome(report=report, run=run, baseline_hidden=hidden)

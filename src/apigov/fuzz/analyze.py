"""The fuzz analyzer: a loaded spec and settings in, a `Report` and the typed `FuzzRun` out."""

from __future__ import annotations

from collections.abc import Iterable

from msgspec import Struct

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
from apigov.spec.bundle import bundle
from apigov.spec.errors import InputError
from apigov.spec.model import ApiSpec


class FuzzOutcome(Struct):
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
        methods = ", ".join(sorted({op.split(" ", 1)[0] for op in refused}))
        # --safe already drops DELETE; what it refuses on top (writes) can only be excluded.
        remedy = "--exclude them" if settings.safe else "pass --safe or --exclude them"
        raise InputError(
            spec.name,
            f"refusing to send {methods} requests to a production target "
            f"({', '.join(refused)}); {remedy}, or --allow-destructive",
        )
    if (settings.include or settings.exclude) and not chosen:
        raise InputError(spec.name, "--include/--exclude leave no operation to fuzz")
    check_reachable(settings.base_url)
    # schemathesis reads a document, not files: references to other files are made local.
    run = run_fuzz(bundle(spec), spec.name, settings, chosen, observer=observer)

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

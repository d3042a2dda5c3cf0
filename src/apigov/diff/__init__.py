"""The breaking-change engine: `diff_specs` (changes), `run_diff` (a `Report`), the catalogue."""

from __future__ import annotations

import datetime as dt

from apigov.diff.catalogue import CATALOGUE, Check
from apigov.diff.changes import Change, Place
from apigov.diff.engine import DiffResult, diff_specs
from apigov.diff.policy import Policy, policy_from_data
from apigov.findings import Level, Location, Report
from apigov.spec.model import ApiSpec

__all__ = [
    "CATALOGUE",
    "Change",
    "Check",
    "DiffResult",
    "Place",
    "Policy",
    "diff_specs",
    "policy_from_data",
    "run_diff",
]


_NOT_BUMPED = "api-version-not-bumped-for-breaking-change"


def run_diff(
    base: ApiSpec,
    head: ApiSpec,
    *,
    command: str = "diff",
    policy: Policy | None = None,
    today: dt.date | None = None,
    include_info: bool = False,
) -> Report:
    """Compare two specs and report their changes as findings.

    `diff` reports what may break clients (error and warning); `changelog` (include_info)
    reports every change.
    """
    day = today or dt.datetime.now(dt.UTC).date()
    changes = diff_specs(base, head, today=day).changes
    if policy is not None:
        changes = policy.apply(changes, day)
        # The version check counts breaking changes: only those the policy still reports.
        if not any(c.level is Level.ERROR and c.id != _NOT_BUMPED for c in changes):
            changes = [c for c in changes if c.id != _NOT_BUMPED]
    if not include_info:
        changes = [c for c in changes if c.level is not Level.INFO]
    locations: dict[tuple[bool, str, int], Location] = {}
    findings = [change.to_finding(base, head, locations) for change in changes]
    return Report(command=command, findings=findings, inputs=[base.name, head.name])

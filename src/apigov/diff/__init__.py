"""The breaking-change engine: `diff_specs` (changes), `run_diff` (a `Report`).

The catalogue of change ids, with a doc and an example each, is `apigov.diff.catalogue`; a run
needs only the ids' levels (`apigov.diff.levels`, generated from it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import msgspec.structs

from apigov.diff.changes import Change, Place
from apigov.diff.engine import DiffResult, diff_specs
from apigov.diff.policy import Policy, policy_from_data
from apigov.findings import Level, Location, Report
from apigov.spec.model import ApiSpec, PactFile

__all__ = [
    "Change",
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
    consumers: Sequence[PactFile] | None = None,
) -> Report:
    """Compare two specs and report their changes as findings.

    `diff` reports what may break clients (error and warning); `changelog` (include_info)
    reports every change. With `consumers` (pact files), each change names the consumer
    interactions using what it touches, and a `consumer-aware` policy makes a breaking change
    that none uses a warning.
    """
    day = today or dt.datetime.now(dt.UTC).date()
    notice = policy.sunset_notice if policy is not None else None
    changes = diff_specs(base, head, today=day, notice=notice).changes
    if policy is not None:
        changes = policy.apply(changes, day)
    if consumers is not None:
        changes = _with_consumers(
            changes, base, head, consumers, policy is not None and policy.consumer_aware
        )
    # The version check counts breaking changes: only those still reported as breaking.
    if (policy is not None or consumers is not None) and not any(
        c.level is Level.ERROR and c.id != _NOT_BUMPED for c in changes
    ):
        changes = [c for c in changes if c.id != _NOT_BUMPED]
    if not include_info:
        changes = [c for c in changes if c.level is not Level.INFO]
    locations: dict[tuple[bool, str, int], Location] = {}
    findings = [change.to_finding(base, head, locations) for change in changes]
    return Report(command=command, findings=findings, inputs=[base.name, head.name])


def _with_consumers(
    changes: list[Change],
    base: ApiSpec,
    head: ApiSpec,
    pacts: Sequence[PactFile],
    consumer_aware: bool,
) -> list[Change]:
    # Imported here: reading pacts and compat's route table is only needed with --consumers.
    from apigov.pact.usage import ConsumerUsage

    providers = {name for name in (base.service, head.service) if name}
    # Pacts with another provider are not about this API; without a known service (a spec
    # outside a contracts tree) every pact given is taken to be about it.
    relevant = [p for p in pacts if not providers or p.provider in providers]
    usage = ConsumerUsage(relevant, base, head)
    result: list[Change] = []
    for change in changes:
        users = usage.users(change.id, change.touched)
        used_by = tuple(dict.fromkeys((use.consumer, use.description) for use in users))
        change = msgspec.structs.replace(change, used_by=used_by)
        # Only operations under /paths are what pacts describe: a webhook or callback change
        # has receivers no pact names, so nobody "using" it proves nothing.
        if (
            consumer_aware
            and change.level is Level.ERROR
            and not used_by
            and change.touched[:1] != ()
            and change.touched[0].startswith("/paths/")
        ):
            change = msgspec.structs.replace(
                change,
                level=Level.WARNING,
                message=f"{change.message} (no consumer uses it)",
            )
        result.append(change)
    return result

"""The typed result of a fuzz run (`FuzzRun`) and how it becomes findings.

`FuzzRun` is the seam for recording runs as registry evidence: it carries the seed, budgets,
counts per operation and check, and the folded failures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from msgspec import Struct, field

from apigov.findings import Finding, Level, Location

BODY_EXCERPT_CHARS = 200
NETWORK_CHECK = "network_error"
"""The check name given to requests that got no HTTP answer (timeouts, resets, refused)."""


class FailureKey(Struct, frozen=True):
    """What makes two failures the same: stable across seeds, so baselines can use it."""

    operation: str
    check: str
    failure: str

    def to_dict(self) -> dict[str, str]:
        return {"operation": self.operation, "check": self.check, "failure": self.failure}


class FuzzFailure(Struct):
    """One distinct failure: the smallest reproduction seen and how often it was seen."""

    key: FailureKey
    title: str
    detail: str
    curl: str
    status: int | None = None
    body_excerpt: str = ""
    occurrences: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.key.to_dict(),
            "title": self.title,
            "detail": self.detail,
            "curl": self.curl,
            "status": self.status,
            "body_excerpt": self.body_excerpt,
            "occurrences": self.occurrences,
        }


class FuzzRun(Struct):
    """Everything one `apigov fuzz` run observed (the future registry evidence)."""

    spec: str
    base_url: str
    seed: int | None
    max_time: int
    max_examples: int
    max_requests: int
    phases: tuple[str, ...]
    operations: list[str] = field(default_factory=list)
    requests: int = 0
    """Requests sent, including those of a scenario cut short by a stop."""
    requests_per_operation: Counter[str] = field(default_factory=Counter)
    """Requests of completed scenarios, by operation."""
    checks_per_operation: dict[str, Counter[str]] = field(default_factory=dict)
    """operation -> check name -> how many times it ran."""
    failures: dict[FailureKey, FuzzFailure] = field(default_factory=dict)
    stop_reason: str = "completed"
    seconds: float = 0.0
    interrupted: bool = False

    def add_failure(self, failure: FuzzFailure) -> None:
        """Fold duplicates: keep the shortest reproduction, count every occurrence."""
        known = self.failures.get(failure.key)
        if known is None:
            self.failures[failure.key] = failure
            return
        known.occurrences += failure.occurrences
        if len(failure.curl) < len(known.curl):
            failure.occurrences = known.occurrences
            self.failures[failure.key] = failure

    def summary(self) -> str:
        """One line with what it takes to reproduce the run: the seed."""
        hidden = "" if self.stop_reason == "completed" else f", stopped: {self.stop_reason}"
        return (
            f"fuzz: {self.requests:,} requests to {len(self.operations)} operations, "
            f"{len(self.failures)} distinct failures in {self.seconds:.1f} s "
            f"(seed {self.seed}{hidden})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "spec": self.spec,
            "base_url": self.base_url,
            "seed": self.seed,
            "max_time": self.max_time,
            "max_examples": self.max_examples,
            "max_requests": self.max_requests,
            "phases": list(self.phases),
            "operations": self.operations,
            "requests": self.requests,
            "requests_per_operation": dict(self.requests_per_operation),
            "checks_per_operation": {op: dict(c) for op, c in self.checks_per_operation.items()},
            "failures": [f.to_dict() for f in self.failures.values()],
            "stop_reason": self.stop_reason,
            "seconds": round(self.seconds, 3),
            "interrupted": self.interrupted,
        }


def body_excerpt(
    content: bytes | None, size: int | None = None, limit: int = BODY_EXCERPT_CHARS
) -> str:
    """The start of a response body as one printable line (bodies may be 5 MB of anything).

    `size` is the body's full size when `content` is a truncated copy of it.
    """
    if not content:
        return ""
    total = max(size or 0, len(content))
    text = content[: limit * 4].decode("utf-8", "replace")
    text = " ".join(text.split())
    text = "".join(ch if ch.isprintable() else "\ufffd" for ch in text)
    if len(text) > limit or total > limit * 4:
        return text[:limit] + f"… ({total:,} bytes)"
    return text


Locator = Callable[[str], Location | None]
"""Operation (`METHOD /path`) -> where it is declared, when the spec is a file."""


def run_findings(
    run: FuzzRun, locate: Locator, accepted: Iterable[FailureKey] = ()
) -> tuple[list[Finding], int]:
    """Findings for the failures not accepted by the baseline, and how many were hidden."""
    hidden = set(accepted)
    findings: list[Finding] = []
    suppressed = 0
    for failure in run.failures.values():
        if failure.key in hidden:
            suppressed += 1
            continue
        findings.append(_finding(failure, locate(failure.key.operation)))
    if run.interrupted:
        findings.append(
            Finding(
                id="fuzz/interrupted",
                level=Level.WARNING,
                message=f"run interrupted after {run.requests:,} requests: the report is partial",
            )
        )
    return findings, suppressed


def one_line(text: str, limit: int = 300) -> str:
    """Collapse whitespace; findings are one line in every report format."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "…"


def _finding(failure: FuzzFailure, location: Location | None) -> Finding:
    parts = [f"{failure.title} [{failure.key.failure}]"]
    if failure.detail:
        parts.append(one_line(failure.detail))
    if failure.status is not None:
        response = f"response {failure.status}"
        if failure.body_excerpt:
            response += f": {failure.body_excerpt}"
        parts.append(response)
    if failure.occurrences > 1:
        parts.append(f"seen {failure.occurrences} times")
    parts.append(f"reproduce: {failure.curl}")
    return Finding(
        id=f"fuzz/{failure.key.check}",
        level=Level.ERROR,
        message="; ".join(parts),
        location=location,
        operation=failure.key.operation,
    )

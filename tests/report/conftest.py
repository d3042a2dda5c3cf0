"""Small hand-built reports shared by the reporter tests.

`sample` has three findings in two files, deliberately out of order:
- an error with line, column, pointer, service, operation and two consumers (head.yaml:57:9),
- a warning with a pointer but no line (base.yaml),
- an info with line and column and an operation (head.yaml:12:7).
Sorted, they come base.yaml warning, head.yaml:12:7 info, head.yaml:57:9 error.
"""

from __future__ import annotations

import pytest

from apigov.findings import Finding, Level, Location, Report

REMOVED = Finding(
    id="response-property-removed",
    level=Level.ERROR,
    message="Property total was removed",
    location=Location(
        file="specs/head.yaml",
        pointer="/components/schemas/Order/properties/total",
        line=57,
        column=9,
    ),
    service="orders",
    operation="GET /orders/{orderId}",
    consumers=("billing", "shipping"),
)
NO_DESCRIPTION = Finding(
    id="operation-description",
    level=Level.WARNING,
    message="Operation has no description",
    location=Location(file="specs/base.yaml", pointer="/paths/~1orders/get"),
)
ADDED = Finding(
    id="response-added",
    level=Level.INFO,
    message="Response 201 was added",
    location=Location(
        file="specs/head.yaml", pointer="/paths/~1orders/post/responses/201", line=12, column=7
    ),
    operation="POST /orders",
)

# A message with everything the formats must escape: | , : % and line breaks (LF and CRLF).
TRICKY_MESSAGE = "Expected a | b, got 100%: c\nsecond line\r\nthird <b>*x*</b>"
TRICKY = Finding(
    id="rule:one,two",
    level=Level.ERROR,
    message=TRICKY_MESSAGE,
    location=Location(file="my specs/a,b:c.yaml", pointer="/x", line=3, column=1),
)
UNLOCATED = Finding(id="gate-closed", level=Level.WARNING, message="No deployment recorded")


@pytest.fixture
def sample() -> Report:
    return Report(
        command="diff",
        findings=[REMOVED, NO_DESCRIPTION, ADDED],
        inputs=["specs/base.yaml", "specs/head.yaml", "specs/other.yaml"],
    )


@pytest.fixture
def sample_lint(sample: Report) -> Report:
    """The same findings from a command that is not a diff: text and markdown keep the
    per-file layout (a diff report is grouped by operation, see test_report_changes.py)."""
    return Report(command="lint", findings=list(sample.findings), inputs=list(sample.inputs))


@pytest.fixture
def empty() -> Report:
    return Report(command="lint", findings=[], inputs=["a.yaml", "b.yaml"])


@pytest.fixture
def tricky_message() -> str:
    return TRICKY_MESSAGE


@pytest.fixture
def tricky() -> Report:
    return Report(command="lint", findings=[TRICKY], inputs=["my specs/a,b:c.yaml"])


@pytest.fixture
def unlocated() -> Report:
    return Report(command="can-i-deploy", findings=[UNLOCATED], inputs=["contracts/orders"])

"""Text and markdown of change reports (`diff`, `changelog`): grouped by operation."""

from __future__ import annotations

import re

from test_report_markdown import table_rows

from apigov.findings import Finding, Level, Location, Report
from apigov.report import markdown, text

ANSI = re.compile(r"\x1b\[[0-9;]*m")

# The `sample` report (a diff): the error's operation first, then the API-wide warning (it
# has no operation), then the info. Columns: level (7), location (35, the pointer one), id (25).
SAMPLE_DIFF_TEXT = (
    "GET /orders/{orderId}  consumers: billing, shipping\n"
    "  error    specs/head.yaml:57:9" + " " * 15 + "  response-property-removed  "
    "Property total was removed\n"
    "\n"
    "API-wide changes\n"
    "  warning  specs/base.yaml#/paths/~1orders/get  operation-description      "
    "Operation has no description\n"
    "\n"
    "POST /orders\n"
    "  info     specs/head.yaml:12:7" + " " * 15 + "  response-added             "
    "Response 201 was added\n"
    "\n"
    "1 breaking, 1 warning, 1 other change in 2 operations\n"
)


def change(change_id: str, level: Level, operation: str | None, line: int) -> Finding:
    return Finding(change_id, level, "m", Location("head.yaml", "", line, 1), operation=operation)


def test_text_groups_a_diff_by_operation_breaking_first(sample: Report) -> None:
    assert text.render(sample) == SAMPLE_DIFF_TEXT
    assert ANSI.sub("", text.render(sample, color=True)) == SAMPLE_DIFF_TEXT


def test_text_orders_operations_by_worst_level_then_count_then_name() -> None:
    findings = [
        change("a", Level.INFO, "GET /a", 1),
        change("b", Level.ERROR, "GET /b", 2),
        change("c1", Level.ERROR, "GET /c", 3),
        change("c2", Level.ERROR, "GET /c", 4),
        change("d", Level.WARNING, "GET /d", 5),
        change("e", Level.ERROR, "DELETE /e", 6),
        change("c3", Level.INFO, "GET /c", 7),
    ]
    out = text.render(Report("changelog", findings, ["base.yaml", "head.yaml"]))
    headings = [line for line in out.splitlines() if line and not line.startswith(" ")]
    # GET /c has two errors; DELETE /e and GET /b one each (by name); then warning, info.
    assert headings == [
        "GET /c",
        "DELETE /e",
        "GET /b",
        "GET /d",
        "GET /a",
        "4 breaking, 1 warning, 2 other changes in 5 operations",
    ]
    # Within an operation, errors come before the info.
    lines = out.splitlines()
    start = lines.index("GET /c")
    assert [line.split()[0] for line in lines[start + 1 : start + 4]] == ["error"] * 2 + ["info"]


def test_other_commands_keep_the_per_file_layout(sample_lint: Report) -> None:
    assert not text.render(sample_lint).startswith("GET")
    assert text.render(sample_lint).endswith("1 error, 1 warning, 1 info in 3 documents\n")


def test_markdown_shows_breaking_operations_and_folds_the_rest(sample: Report) -> None:
    document = markdown.render(sample)
    assert document.startswith(
        "## apigov diff\n\n1 breaking, 1 warning, 1 other change in 2 operations.\n\n"
        "### `GET /orders/{orderId}`\n"
    )
    opened, _, folded = document.partition("<details>")
    assert table_rows(opened) == [
        ["Level", "Change", "Message", "Consumers", "Location"],
        [
            "error",
            "response-property-removed",
            "Property total was removed",
            "billing, shipping",
            "specs/head.yaml:57:9",
        ],
    ]
    assert folded.startswith(
        "\n<summary>1 more operation and API-wide changes (1 warning, 1 info)</summary>\n"
    )
    assert "### API-wide changes" in folded
    assert "### `POST /orders`" in folded
    assert folded.endswith("\n</details>\n")


def test_markdown_without_breaking_changes_shows_the_worst_level_open() -> None:
    findings = [change("w", Level.WARNING, "GET /w", 1), change("i", Level.INFO, "GET /i", 2)]
    document = markdown.render(Report("changelog", findings, ["head.yaml"]))
    opened, _, folded = document.partition("<details>")
    assert "### `GET /w`" in opened
    assert "<summary>1 more operation (1 info)</summary>" in folded


def test_markdown_folds_breaking_operations_beyond_ten() -> None:
    findings = [change(f"e{n}", Level.ERROR, f"GET /e{n:02}", n) for n in range(12)]
    document = markdown.render(Report("diff", findings, ["head.yaml"]))
    opened, _, folded = document.partition("<details>")
    assert opened.count("### ") == 10
    assert "<summary>2 more operations (2 errors)</summary>" in folded


def test_changes_of_several_services_are_grouped_per_service() -> None:
    # `diff --base-ref main` over a contracts tree: two services may share an operation label.
    findings = [
        Finding("a", Level.ERROR, "m", Location("o.yaml", "", 1, 1), "orders", "GET /health"),
        Finding("b", Level.ERROR, "m", Location("p.yaml", "", 1, 1), "payments", "GET /health"),
        Finding("c", Level.WARNING, "m", Location("p.yaml", "", 2, 1), "payments", None),
    ]
    out = text.render(Report("diff", findings, ["o.yaml", "p.yaml"]))
    headings = [line for line in out.splitlines() if line and not line.startswith(" ")]
    assert headings[:3] == [
        "orders: GET /health",
        "payments: GET /health",
        "payments: API-wide changes",
    ]
    document = markdown.render(Report("diff", findings, ["o.yaml", "p.yaml"]))
    assert "### orders: `GET /health`" in document
    assert "### payments: API-wide changes" in document

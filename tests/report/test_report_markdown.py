from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.token import Token

from apigov.findings import Finding, Level, Location, Report
from apigov.report import markdown

SAMPLE_MARKDOWN = """\
## apigov lint

1 error, 1 warning, 1 info in 3 documents.

| Level | Id | Location | Message | Operation | Consumers |
| --- | --- | --- | --- | --- | --- |
| **error** | `response-property-removed` | `specs/head.yaml:57:9` | Property total was removed \
| `GET /orders/{orderId}` | billing, shipping |
| warning | `operation-description` | `specs/base.yaml#/paths/~1orders/get` \
| Operation has no description |  |  |
| info | `response-added` | `specs/head.yaml:12:7` | Response 201 was added \
| `POST /orders` |  |
"""


def table_rows(source: str) -> list[list[str]]:
    """The table's rows as rendered plain text per cell (`<br>` read back as a newline)."""
    tokens = MarkdownIt("commonmark").enable("table").parse(source)
    rows: list[list[str]] = []
    for token in tokens:
        if token.type == "tr_open":
            rows.append([])
        elif token.type == "inline" and rows and token.level > 0:
            rows[-1].append(_text(token.children or []))
    return rows


def _text(children: list[Token]) -> str:
    parts = []
    for child in children:
        if child.type == "html_inline":
            assert child.content == "<br>", child.content
            parts.append("\n")
        elif child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("strong_open", "strong_close"):
            pass
        else:
            raise AssertionError(f"unexpected markup {child.type}: {child.content!r}")
    return "".join(parts)


def test_sample_document(sample_lint: Report) -> None:
    assert markdown.render(sample_lint) == SAMPLE_MARKDOWN


def test_sample_table_parses_with_errors_first(sample_lint: Report) -> None:
    assert table_rows(markdown.render(sample_lint)) == [
        ["Level", "Id", "Location", "Message", "Operation", "Consumers"],
        [
            "error",
            "response-property-removed",
            "specs/head.yaml:57:9",
            "Property total was removed",
            "GET /orders/{orderId}",
            "billing, shipping",
        ],
        [
            "warning",
            "operation-description",
            "specs/base.yaml#/paths/~1orders/get",
            "Operation has no description",
            "",
            "",
        ],
        [
            "info",
            "response-added",
            "specs/head.yaml:12:7",
            "Response 201 was added",
            "POST /orders",
            "",
        ],
    ]


def test_empty_report(empty: Report) -> None:
    assert markdown.render(empty) == "## apigov lint\n\nNo problems found in 2 documents.\n"


def test_pipes_newlines_and_markup_in_cells_are_escaped(
    tricky: Report, tricky_message: str
) -> None:
    out = markdown.render(tricky)
    row = out.splitlines()[-1]
    assert row == (
        "| **error** | `rule:one,two` | `my specs/a,b:c.yaml:3:1` "
        "| Expected a \\| b, got 100%: c<br>second line<br>third \\<b\\>\\*x\\*\\</b\\> |  |  |"
    )
    rows = table_rows(out)
    assert len(rows) == 2
    assert all(len(r) == 6 for r in rows)
    # Read back, the message cell is the message, line breaks normalised to "\n".
    assert rows[1][3] == "\n".join(tricky_message.splitlines())


def test_pipes_in_code_cells_and_backticks() -> None:
    finding = Finding(
        "a|b", Level.WARNING, "m", Location("x.yaml", "", 1, 1), operation="GET /a`b|c"
    )
    rows = table_rows(markdown.render(Report("lint", [finding], ["x.yaml"])))
    assert rows[1] == ["warning", "a|b", "x.yaml:1:1", "m", "GET /a`b|c", ""]


def test_levels_grouped_but_sorted_order_kept_within_a_level() -> None:
    findings = [
        Finding("i1", Level.INFO, "m", Location("a.yaml", "", 1, 1)),
        Finding("e2", Level.ERROR, "m", Location("b.yaml", "", 5, 1)),
        Finding("w1", Level.WARNING, "m", Location("a.yaml", "", 2, 1)),
        Finding("e1", Level.ERROR, "m", Location("a.yaml", "", 9, 1)),
    ]
    rows = table_rows(markdown.render(Report("lint", findings, ["a.yaml", "b.yaml"])))
    assert [row[1] for row in rows[1:]] == ["e1", "e2", "w1", "i1"]


def test_finding_without_location(unlocated: Report) -> None:
    rows = table_rows(markdown.render(unlocated))
    assert rows[1] == ["warning", "gate-closed", "", "No deployment recorded", "", ""]

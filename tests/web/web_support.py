"""Reading the pages' HTML in tests: tables as rows of cell texts, elements by id."""

from __future__ import annotations

from html.parser import HTMLParser


class _Tables(HTMLParser):
    """Collects the text of every cell (th and td) of the table with the given id."""

    def __init__(self, table_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.table_id = table_id
        self.depth = 0  # > 0 while inside the wanted table (nested tables count)
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None
        self.cell_classes: list[list[str]] = []
        self.row_classes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "table":
            if self.depth or attributes.get("id") == self.table_id:
                self.depth += 1
            return
        if not self.depth:
            return
        if tag == "tr":
            self.rows.append([])
            self.cell_classes.append([])
        elif tag in ("td", "th"):
            self.cell = []
            self.cell_classes[-1].append(attributes.get("class") or "")

    def handle_endtag(self, tag: str) -> None:
        if not self.depth:
            return
        if tag == "table":
            self.depth -= 1
        elif tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.depth and self.cell is not None:
            self.cell.append(data)


def table(html: str, table_id: str) -> list[list[str]]:
    """The rows of `<table id=table_id>` (header row included), each a list of cell texts."""
    parser = _Tables(table_id)
    parser.feed(html)
    assert parser.rows, f"no table with id {table_id!r} on the page"
    return parser.rows


def cell_classes(html: str, table_id: str) -> list[list[str]]:
    """The class attribute of every cell, row by row (matching `table`)."""
    parser = _Tables(table_id)
    parser.feed(html)
    return parser.cell_classes


def column(rows: list[list[str]], name: str) -> list[str]:
    """One column's cells by its header text (the first row)."""
    index = rows[0].index(name)
    return [row[index] for row in rows[1:]]

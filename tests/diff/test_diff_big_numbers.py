"""Numbers beyond 64 bits in YAML documents (read as Python ints): compared and shown, never a
failure of the run."""

from __future__ import annotations

from pathlib import Path

from diff_support import changes_between

BIG = 123456789012345678901234567890
DOCUMENT = """\
openapi: 3.0.3
info: {{title: t, version: "1"}}
paths:
  /a:
    get:
      parameters:
        - {{name: q, in: query, schema: {{type: integer, default: {big}, enum: [{enum}]{extra}}}}}
      responses: {{"200": {{description: ok}}}}
"""


def document(enum: str, extra: str = "") -> str:
    return DOCUMENT.format(big=BIG, enum=enum, extra=extra)


def test_a_big_integer_in_enum_and_default_is_compared_like_any_value(tmp_path: Path) -> None:
    base = document(str(BIG))
    head = document(f"{BIG}, 2", ", maximum: 5")
    found = {(c.id, c.message) for c in changes_between(tmp_path, base, head)}
    assert found == {
        ("request-parameter-max-added", "query parameter 'q': maximum 5 added"),
        ("request-parameter-enum-value-added", "query parameter 'q': enum value(s) 2 added"),
    }


def test_the_same_big_integer_on_both_sides_is_no_change(tmp_path: Path) -> None:
    assert changes_between(tmp_path, document(str(BIG)), document(str(BIG))) == []


def test_a_removed_big_enum_value_is_shown_as_written(tmp_path: Path) -> None:
    base = document(f"{BIG}, 2")
    head = document("2")
    messages = [c.message for c in changes_between(tmp_path, base, head)]
    assert messages == [f"query parameter 'q': enum value(s) {BIG} removed"]

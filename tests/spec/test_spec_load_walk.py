"""The load path's single walk and its line numbers, on the shapes its fast paths special-case.

Expected values are worked out by hand from the documents written here.
"""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from apigov.spec.errors import InputError
from apigov.spec.limits import Limits
from apigov.spec.lines import LineMap
from apigov.spec.parse import _no_key_hidden, parse_bytes
from apigov.spec.sources import read_file

# A mapping whose first key is text, then a key YAML reads as an int, then text again: the
# walk meets the int key after it has already queued the first child.
MIXED_KEYS = b"""\
a:
  x: {$ref: '#/c/x'}
  200: {$ref: '#/c/y'}
  z: {$ref: '#/c/z'}
c: {x: 1, y: 2, z: 3}
"""


def test_yaml_keys_that_are_not_text_are_spelled_as_text_and_refs_below_them_found() -> None:
    parsed = parse_bytes(MIXED_KEYS, "mixed.yaml", Limits())
    assert list(parsed.data["a"]) == ["x", "200", "z"]
    # The walk pops the last child first; each $ref is listed once, under the text key.
    assert parsed.refs == [
        (("a", "z"), "#/c/z"),
        (("a", "200"), "#/c/y"),
        (("a", "x"), "#/c/x"),
    ]


def test_every_scalar_key_kind_becomes_the_text_yaml_would_print() -> None:
    # (Not `1` and `true` together: the parser holds them as equal Python keys, a duplicate.)
    raw = b"m:\n  2: int\n  1.5: float\n  true: bool\n  null: none\n  s: text\n"
    parsed = parse_bytes(raw, "keys.yaml", Limits())
    assert parsed.data == {
        "m": {"2": "int", "1.5": "float", "true": "bool", "null": "none", "s": "text"}
    }


def test_a_key_and_its_text_twin_keep_the_later_value_in_the_first_place() -> None:
    parsed = parse_bytes(b"m: {1: first, '1': second, k: {$ref: '#/m'}}\n", "twin.yaml", Limits())
    assert parsed.data == {"m": {"1": "second", "k": {"$ref": "#/m"}}}
    assert parsed.refs == [(("m", "k"), "#/m")]


def test_refs_inside_example_values_are_data_unless_the_key_names_a_member() -> None:
    raw = b"""\
s:
  example: {$ref: '#/not-a-ref'}
  properties:
    example: {$ref: '#/p'}
  200:
    default: {$ref: '#/not-either'}
"""
    parsed = parse_bytes(raw, "data.yaml", Limits())
    assert parsed.refs == [(("s", "properties", "example"), "#/p")]


def test_lines_far_apart_asked_out_of_order() -> None:
    # Line n (1-based) holds key k<n-1>; every line is 12 bytes, so the document spans many
    # of the newline table's blocks and the lookups jump back and forth across them.
    raw = b"".join(b"k%05d: %03d\n" % (i, i % 1000) for i in range(20000))
    assert len(raw) == 240000
    lines = LineMap(raw)
    assert lines.position(["k15000"]) == (15001, 1)
    assert lines.position(["k00010"]) == (11, 1)
    assert lines.position(["k19999"]) == (20000, 1)
    assert lines.position(["k01366"]) == (1367, 1)  # offset 16392: just past the first block
    assert lines.position(["k01365"]) == (1366, 1)  # offset 16380: at the end of the first
    assert lines.offset_position(240000) == (20001, 1)  # the end of the document


def test_a_file_is_read_whole_even_when_its_size_said_less(tmp_path: Path) -> None:
    # Files under /proc say 0 bytes and hold more: the read goes on past the size fstat gave.
    status = Path("/proc/self/status")
    if not status.exists():
        pytest.skip("needs Linux's /proc")
    assert status.stat().st_size == 0
    assert read_file(status, Limits()).startswith(b"Name:")
    small = tmp_path / "small.yaml"
    small.write_bytes(b"a: 1\n")
    assert read_file(small, Limits()) == b"a: 1\n"


def test_json_strings_holding_quote_colon_pairs_are_no_duplicate_keys() -> None:
    # Three `":` pairs inside strings (an escaped quote, a value that is only a colon, a key
    # ending in an escaped quote) beside two real keys of one name in different objects.
    raw = b'{"openapi": "3.1.0", "x": "{\\"a\\": 1}", "y": ":", "k\\"": {"k\\"": ":"}}'
    parsed = parse_bytes(raw, "colons.json", Limits())
    assert parsed.data == {"openapi": "3.1.0", "x": '{"a": 1}', "y": ":", 'k"': {'k"': ":"}}


_KEY_TEXT = st.text(alphabet='ab:"\\ {}', max_size=6)


@st.composite
def _json_text(draw: st.DrawFn, depth: int = 0) -> str:
    """JSON object text in a random layout; keys drawn from a tiny alphabet often repeat."""
    space = st.sampled_from(["", " ", "  ", "\n", "\t "])
    members = []
    for _ in range(draw(st.integers(0, 3))):
        key = json.dumps(draw(_KEY_TEXT))
        if depth < 2 and draw(st.booleans()):
            value = draw(_json_text(depth + 1))
        else:
            value = json.dumps(draw(_KEY_TEXT))
            if draw(st.booleans()):
                value = value.replace(":", draw(st.sampled_from(["\\u003a", "\\u003A"])))
        members.append(f"{key}{draw(space)}:{draw(space)}{value}")
    return "{" + ("," + draw(space)).join(members) + "}"


def _has_duplicate_keys(text: str) -> bool:
    found = False

    def pairs(items: list[tuple[str, object]]) -> dict[str, object]:
        nonlocal found
        found = found or len({key for key, _ in items}) < len(items)
        return dict(items)

    json.loads(text, object_pairs_hook=pairs)
    return found


@given(_json_text())
def test_the_colon_count_never_misses_a_hidden_key(text: str) -> None:
    # Keys and values full of quotes, backslashes and colons (some written as escapes), in
    # any layout, with keys that often repeat: the quick check that spares the exact scan
    # must never pass a text in which a key hid another, and must pass every text without
    # one that writes no colon as an escape.
    raw = text.encode()
    quick = _no_key_hidden(raw, orjson.loads(raw))
    if _has_duplicate_keys(text):
        assert not quick
    elif "\\u003" not in text:
        assert quick


def test_a_key_hidden_behind_colons_in_strings_is_still_found() -> None:
    # The second "a" hides the first; the strings dropped with it hold colons too.
    raw = b'{"a": "x:y", "b": 1, "a": "z"}'
    with pytest.raises(InputError, match="duplicate mapping key 'a'"):
        parse_bytes(raw, "dup.json", Limits())
    # The value kept holds a colon written as an escape, which the writing spells as a colon:
    # the counts are equal (3 and 3), and only the exact scan can tell.
    raw = b'{"a": "z", "b": 1, "a": "x\\u003ay"}'
    with pytest.raises(InputError, match="duplicate mapping key 'a'"):
        parse_bytes(raw, "dup-escaped.json", Limits())

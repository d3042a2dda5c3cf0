"""Skipping containers in JSON of any layout (`_ScannedJson._skip`, `_container_end`): msgspec
reads each container passed over and says where it ends; the C scanner skips what msgspec
refuses.

The layouts below would fool a check that trusts the layout (a closing bracket at the start of
a line indented as the opening one) or counts brackets without reading strings. Expected lines
and columns are counted by hand; every pointer is also compared with the rapidyaml tree's
answer.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_spec_load_json_layouts import JACKSON, ODD
from test_spec_load_positions import every_pointer

from apigov.spec import lines as lines_module
from apigov.spec.lines import LineMap, _container_end

# Containers closed mid-line: "a" opens at the end of a line indented two spaces, and the
# first line below it indented two spaces and starting with `}` closes "c", not "a".
MID_LINE = b"""{
  "a" : {
    "x" : 1 }, "b" : {
    "y" : [ 2,
  3 ] },
  "c" : {
  },
  "d" : 4
}
"""

# A misleading indent: the inner object closes at the indent of `"a"`'s line.
MISLEADING = rb"""{
  "a" : {
    "x" : {
  },
    "y" : [ "}", "\\" ]
  },
  "b" : 2
}
"""

# Strings that hold what a skip could stop at: brackets, escaped quotes after runs of
# backslashes, a string ending in a backslash, `\n   }` written as an escape (JSON strings
# hold no line break), and keys that are escaped or made of brackets.
TRICKY = rb"""{
   "s" : {
      "q" : "a \"} ]\" b",
      "bs" : "ends in a backslash \\",
      "run" : "\\\\\" }",
      "nl" : "\n   }",
      "}" : [ "[", "{", "]" ],
      "k\"]" : { "\u007d" : "\\" }
   },
   "t" : [
      {
         "u" : "}"
      }
   ],
   "\u0076" : [
   ],
   "w\\" : {
   },
   "z" : true,
   "e" : { }
}
"""

# One line: every container closes mid-line, with brackets and escapes in strings.
ONE_LINE = (
    rb'{"a": {"b": ["}", "\\\"]"], "c": {}}, "d": [[], {"e": "]"}], "k\"}": {"]": 1},'
    rb' "f": [{"g": [1, -2.5e3, true, null]}], "h": 1}'
)

# Jackson's `[ {` nested, closed by `} ]` lines and mid-line `} ] ]`.
JACKSON_NESTED = b"""{
  "m" : [ [ {
    "a" : [ {
      "b" : 1
    } ]
  } ], [ ] ],
  "n" : [ {
    "c" : "} ]"
  } ],
  "o" : 1
}
"""

# Characters of several bytes before and inside skipped containers: skips count bytes,
# columns count characters.
WIDE = '{"é": {"x": "€ }", "y": ["😀", "]"]}, "ü": [{"€": "{"}], "z": "é"}'.encode()

LAYOUTS = {
    "mid-line": MID_LINE,
    "misleading": MISLEADING,
    "tricky": TRICKY,
    "tricky-crlf": TRICKY.replace(b"\n", b"\r\n"),
    "one-line": ONE_LINE,
    "jackson": JACKSON,
    "jackson-nested": JACKSON_NESTED,
    "odd": ODD,
    "wide": WIDE,
}


def agrees_with_the_tree(raw: bytes) -> LineMap:
    data = orjson.loads(raw.removeprefix(b"\xef\xbb\xbf"))
    text, tree = LineMap(raw), LineMap(raw, scan=False)
    for tokens in every_pointer(data):
        assert text.position(tokens) == tree.position(tokens), (raw[:30], tokens)
    assert text._tree is None and text._scanned is not None
    return text


@pytest.mark.parametrize("name", LAYOUTS)
def test_every_layout_is_skipped_by_msgspec_and_agrees_with_the_tree(name: str) -> None:
    lines = agrees_with_the_tree(LAYOUTS[name])
    assert lines._scanned is not None
    assert lines._scanned._text is None  # msgspec skipped every container: no C scanner


def test_containers_closed_mid_line_are_skipped_to_their_own_end() -> None:
    lines = LineMap(MID_LINE)
    assert lines.position(["b"]) == (3, 16)  # after "a", which closes mid-line
    assert lines.position(["b", "y", "1"]) == (5, 3)
    assert lines.position(["d"]) == (8, 3)  # after "c", which closes where "a" seemed to


def test_a_misleading_indent_does_not_end_a_skip() -> None:
    lines = LineMap(MISLEADING)
    assert lines.position(["b"]) == (7, 3)
    assert lines.position(["a", "y", "1"]) == (5, 18)


def test_strings_and_keys_that_hold_brackets_and_escapes_do_not_end_a_skip() -> None:
    lines = LineMap(TRICKY)
    assert lines.position(["z"]) == (19, 4)
    assert lines.position(["v"]) == (15, 4)  # written `"\u0076"`
    assert lines.position(["w\\"]) == (17, 4)
    assert lines.position(["s", 'k"]', "}"]) == (8, 18)
    assert lines.position(["e"]) == (20, 4)


def test_one_line_json_is_skipped_mid_line() -> None:
    lines = LineMap(ONE_LINE)
    assert lines.position(["h"]) == (1, ONE_LINE.index(b'"h"') + 1)
    assert lines.position(["f", "0", "g", "3"]) == (1, ONE_LINE.index(b"null") + 1)
    assert lines.position(['k"}', "]"]) == (1, ONE_LINE.index(b'{"]"') + 2)


def test_nested_jackson_arrays_are_skipped_to_their_end() -> None:
    lines = LineMap(JACKSON_NESTED)
    assert lines.position(["n"]) == (7, 3)
    assert lines.position(["o"]) == (10, 3)


def test_columns_count_characters_after_skipping_bytes() -> None:
    lines = LineMap(WIDE)
    text = WIDE.decode()
    assert lines.position(["z"]) == (1, text.index('"z"') + 1)
    assert lines.position(["ü", "0", "€"]) == (1, text.index('"€": "{"') + 1)


@pytest.mark.parametrize(
    ("raw", "opening", "following"),
    [
        (b'{"a": {"x": "}\\"]", "y": [1, {"z": "{"}]} , "b": 2}', b'{"x"', b', "b"'),
        (b"[[1, [2]], [3]]", b"[1", b", [3]"),
        (b'{"a": [\n  "]"\n]\r\n\t}', b"[\n", b"}"),
        (b'{"a": {}}', b"{}", b"}"),
        (b'{"a": {"\\\\": "\\\\\\""}  ,"b":1}', b'{"\\\\"', b',"b"'),
    ],
)
def test_a_container_ends_at_the_first_byte_after_it_that_is_not_a_space(
    raw: bytes, opening: bytes, following: bytes
) -> None:
    # `following` is the last of its kind in `raw`: the byte after the container and its spaces
    assert _container_end(raw, raw.index(opening)) == raw.rindex(following)


def test_what_msgspec_refuses_is_left_to_the_c_scanner() -> None:
    # NaN and a lone surrogate: Python's scanner reads them, msgspec does not; nor does it
    # read a container that runs to the end of the text.
    raw = b'{"a": [NaN, {"b": "}"}], "c": {"d": "\\ud800 ]"}, "e": 1}'
    assert _container_end(raw, raw.index(b"[NaN")) is None
    assert _container_end(raw, raw.index(b'{"d"')) is None
    assert _container_end(raw, 0) is None
    lines = LineMap(raw)
    assert lines.position(["e"]) == (1, raw.index(b'"e"') + 1)
    assert lines._scanned is not None and lines._scanned._text is not None
    tree = LineMap(raw, scan=False)
    for tokens in (["a", "1", "b"], ["c", "d"], ["e"]):
        assert lines.position(tokens) == tree.position(tokens)


def test_yaml_flow_style_inside_a_skipped_container_falls_back_to_the_tree() -> None:
    raw = b'{"a": {b: [1, "}"]}, "c": 2}\n'
    lines = LineMap(raw)
    assert lines.position(["c"]) == (1, 22)
    assert not lines._scan and lines._tree is not None


def test_the_c_scanner_gives_the_same_answers_if_msgspec_numbers_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert lines_module._skipping_decoder() is not None  # this msgspec numbers as expected
    expected = {name: agrees_with_the_tree(raw) for name, raw in LAYOUTS.items()}
    monkeypatch.setattr(lines_module, "_skipping_decoder", lambda: None)
    for name, raw in LAYOUTS.items():
        lines = LineMap(raw)
        for tokens in every_pointer(orjson.loads(raw.removeprefix(b"\xef\xbb\xbf"))):
            assert lines.position(tokens) == expected[name].position(tokens), (name, tokens)
        assert lines._scanned is not None and lines._scanned._text is not None


def nested(depth: int) -> dict[str, Any]:
    """Objects and arrays nested `depth` deep, each level with members before and after."""
    node: dict[str, Any] = {"leaf": "]}"}
    for level in range(depth):
        node = {"before": [level, {}], "k": [node, []], "after": {"n": level}}
    return node


def test_deep_nesting_agrees_with_the_tree_in_every_layout() -> None:
    data = nested(40)
    for raw in (
        json.dumps(data, indent=3, separators=(",", " : ")).encode(),
        json.dumps(data, indent="\t").encode(),
        json.dumps(data).encode(),
    ):
        lines = agrees_with_the_tree(raw)
        assert lines._scanned is not None and lines._scanned._text is None


# Random documents in random layouts: text with what could end a skip early or late.
_TEXT = st.text(alphabet=st.sampled_from('ab{}[]",:\\ \n\t/é€'), max_size=6)
_SCALARS = st.none() | st.booleans() | st.integers(-1000, 1000) | _TEXT
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=25,
)
_LAYOUT = st.sampled_from(
    [
        {"indent": None},
        {"indent": None, "separators": (",", ":")},
        {"indent": 0},
        {"indent": 3, "separators": (",", " : ")},
        {"indent": "\t", "ensure_ascii": False},
        {"indent": 1, "separators": (" ,", ": ")},
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_TEXT, _VALUES, min_size=1, max_size=5), _LAYOUT)
def test_random_documents_agree_with_the_tree(data: dict[str, Any], layout: Any) -> None:
    raw = json.dumps(data, **layout).encode()
    lines = agrees_with_the_tree(raw)
    assert lines._scanned is not None and lines._scanned._text is None

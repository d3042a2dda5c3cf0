"""Skipping containers in JSON of another layout (`_ScannedJson._skip`): read to their end by
msgspec whatever the layout, without building them.

Expected lines and columns are counted by hand from the documents below; every pointer is
also compared with the rapidyaml tree's answer.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from test_spec_load_json_layouts import JACKSON
from test_spec_load_positions import every_pointer

from apigov.spec.lines import LineMap

# Three-space indent, `"key" : value` (Adyen's layout), with strings that hold what a skip
# could stop at: brackets, escaped quotes after runs of backslashes, a string ending in a
# backslash, and `\n   }` written as an escape (JSON strings hold no line break).
TRICKY = rb"""{
   "s" : {
      "q" : "a \"} ]\" b",
      "bs" : "ends in a backslash \\",
      "run" : "\\\\\" }",
      "nl" : "\n   }",
      "br" : [ "[", "{", "]" ]
   },
   "t" : [
      {
         "u" : "}"
      }
   ],
   "f" : [
   ],
   "g" : {
   },
   "z" : true,
   "e" : { }
}
"""

# A layout that misleads the guess: the inner object closes at the indent of `"a"`'s line,
# so the first `\n  }` after `"a" : {` closes "x", not "a".
MISLEADING = rb"""{
  "a" : {
    "x" : {
  },
    "y" : [ "}", "\\" ]
  },
  "b" : 2
}
"""


def nested(depth: int) -> dict[str, Any]:
    """Objects and arrays nested `depth` deep, each level with members before and after."""
    node: dict[str, Any] = {"leaf": "]}"}
    for level in range(depth):
        node = {"before": [level, {}], "k": [node, []], "after": {"n": level}}
    return node


def agrees_with_the_tree(raw: bytes) -> LineMap:
    data = orjson.loads(raw)
    text, tree = LineMap(raw), LineMap(raw, scan=False)
    for tokens in every_pointer(data):
        assert text.position(tokens) == tree.position(tokens), (raw[:30], tokens)
    assert text._tree is None and text._scanned is not None
    return text


def test_strings_that_hold_brackets_and_escapes_do_not_end_a_skip() -> None:
    lines = LineMap(TRICKY)
    assert lines.position(["z"]) == (18, 4)
    assert lines.position(["s", "br", "2"]) == (7, 26)
    scanned = lines._scanned
    assert scanned is not None
    assert scanned._text is None  # the C scanner never ran: msgspec skipped "s", "t", "f", "g"
    assert lines.position(["e"]) == (19, 4)  # an empty object: its key
    agrees_with_the_tree(TRICKY)
    agrees_with_the_tree(TRICKY.replace(b"\n", b"\r\n"))


def test_a_misleading_layout_is_read_as_json() -> None:
    # No closing line is guessed from the layout: msgspec reads "a" to its end.
    lines = LineMap(MISLEADING)
    assert lines.position(["b"]) == (7, 3)
    assert lines.position(["a", "y", "1"]) == (5, 18)
    assert lines._scanned is not None
    assert lines._scanned._text is None
    agrees_with_the_tree(MISLEADING)


def test_jackson_arrays_of_objects_are_skipped_to_their_closing_line() -> None:
    # `"servers" : [ {` closes with `  } ]`: skipped by msgspec to reach "tags".
    lines = LineMap(JACKSON)
    assert lines.position(["tags"]) == (7, 3)
    assert lines._scanned is not None
    assert lines._scanned._text is None


def test_deep_nesting_agrees_with_the_tree_in_every_layout() -> None:
    data = nested(40)
    for raw in (
        json.dumps(data, indent=3).encode(),
        json.dumps(data, indent="\t", separators=(",", " : ")).encode(),
        json.dumps(data).encode(),  # one line
    ):
        lines = agrees_with_the_tree(raw)
        assert lines._scanned is not None and lines._scanned._text is None


def test_one_line_json_is_skipped_by_msgspec_too() -> None:
    raw = b'{"a": {"b": ["}", "\\\\"], "c": {}}, "d": [[], {"e": "]"}], "f": 1}'
    lines = LineMap(raw)
    assert lines.position(["f"]) == (1, 59)
    assert lines._scanned is not None
    assert lines._scanned._text is None
    agrees_with_the_tree(raw)

"""Finding positions in JSON of any layout by scanning its text (`_ScannedJson`).

Expected lines and columns are counted by hand from the documents below; every pointer of
each layout is also compared with the rapidyaml tree's answer.
"""

from __future__ import annotations

from pathlib import Path

import orjson
from test_spec_load_positions import every_pointer

from apigov.spec.lines import _UNKNOWN, LineMap
from apigov.spec.loader import Loader
from helpers import write

# As Jackson's pretty printer writes it with a three-space indent (the Adyen documents):
# a space before each colon, short arrays and objects on one line, empty ones as `[ ]`.
SPACED = b"""\
{
   "openapi" : "3.1.0",
   "paths" : {
      "/pets" : {
         "get" : {
            "tags" : [ "pets", "read" ],
            "responses" : {
               "200" : { "description" : "ok" }
            }
         }
      }
   },
   "empty" : [ ],
   "nested" : [ [ ], [ 1, "" ] ]
}
"""

# The same data as `json.dumps` writes it by default: one line, a space after `,` and `:`.
ONE_LINE = orjson.dumps(orjson.loads(SPACED)).replace(b'":', b'": ').replace(b",", b", ")

# Jackson's default: arrays of objects opened on their key's line, `}, {` between items.
JACKSON = b"""\
{
  "servers" : [ {
    "url" : "https://a.example"
  }, {
    "url" : "https://b.example"
  } ],
  "tags" : [ ]
}
"""

# Tabs, CRLF line ends, commas first, several members on a line, a byte-order mark.
ODD = (
    b'\xef\xbb\xbf{\r\n\t"a" :1 , "b":\r\n\t\t{ "c" : [\r\n\t\t\t true\r\n\t\t\t, null ] }\r\n'
    b'\t, "": 2\r\n\t, "d\\"e" : {"f": -1.50e3}\r\n}\r\n'
)


def test_a_spaced_layout_is_located_by_hand_counted_positions() -> None:
    lines = LineMap(SPACED)
    get = ["paths", "/pets", "get"]
    expected = {
        (): (2, 4),  # the root: its first key
        ("paths",): (3, 4),
        (*get, "tags", "1"): (6, 32),  # the second item of a one-line array: its quote
        (*get, "responses", "200", "description"): (8, 26),  # inside a one-line object
        ("empty", "0"): (13, 4),  # a missing item of an empty array: the array's key
        ("nested", "0"): (14, 4),  # an empty array item has no text: the member's key
        ("nested", "1"): (14, 24),  # an array item: its first descendant
        ("nested", "1", "1"): (14, 24),  # an empty string: the array holding it
        (*get, "post"): (5, 10),  # what does not exist: the deepest node that does
    }
    for tokens, position in expected.items():
        assert lines.position(list(tokens)) == position, tokens
    assert lines._tree is None  # the text answered, no tree was built


def test_one_line_json_is_located_by_column() -> None:
    assert ONE_LINE.startswith(b'{"openapi": "3.1.0", "paths": {"/pets": {"get": {"tags": [')
    lines = LineMap(ONE_LINE)
    tags = ["paths", "/pets", "get", "tags"]
    assert lines.position(["paths"]) == (1, 22)
    assert lines.position(tags) == (1, 50)
    assert lines.position([*tags, "0"]) == (1, 59)
    assert lines.position([*tags, "1"]) == (1, 67)


def test_columns_count_characters_and_escaped_keys_are_found() -> None:
    raw = '{"d": "é", "k": 1, "a\\"b": {"c": 1}}'.encode()
    lines = LineMap(raw)
    assert lines.position(["k"]) == (1, 12)  # é is two bytes, one character
    assert lines.position(['a"b']) == (1, 20)
    assert lines.position(['a"b', "c"]) == (1, 29)


def test_every_pointer_of_every_layout_agrees_with_the_tree() -> None:
    for raw in (SPACED, ONE_LINE, JACKSON, ODD):
        data = orjson.loads(raw.removeprefix(b"\xef\xbb\xbf"))
        text, tree = LineMap(raw), LineMap(raw, scan=False)
        for tokens in every_pointer(data):
            assert text.position(tokens) == tree.position(tokens), (raw[:20], tokens)
        assert text._tree is None and text._scanned is not None
        # Keys the document does not have, and array indexes that are not numbers.
        for tokens in (["zz"], ["tags", "x"], ["servers", "99", "url"], ["b", "c", "-1"]):
            assert text.position(tokens) == tree.position(tokens), (raw[:20], tokens)


def test_yaml_flow_style_falls_back_to_the_tree() -> None:
    raw = b"{a: 1, b: [x, y]}\n"
    lines = LineMap(raw)
    assert lines.position(["b", "1"]) == (1, 15)
    assert not lines._scan  # the scan gave up on the unquoted key; the tree answered
    assert lines._tree is not None


def test_loading_json_of_another_layout_builds_no_tree(tmp_path: Path) -> None:
    source = Loader().source(str(write(tmp_path, "servers.json", JACKSON)))
    assert source.parsed.layout is None  # not orjson's layout
    assert source.locate("/servers/1/url").line == 5
    assert source.position("/tags/0") == (7, 3)  # an empty array: its key
    assert source._lines is not None
    assert source._lines._tree is None
    assert source._lines._scanned is not None


def test_the_text_scan_never_answers_unknown() -> None:
    # Every shape is answered by the scan itself: the tree is only for text that is not JSON.
    lines = LineMap(ODD)
    for tokens in every_pointer(orjson.loads(ODD.removeprefix(b"\xef\xbb\xbf"))):
        lines.position(tokens)
        assert lines._scanned is not None
        assert lines._scanned.offset(tokens) != _UNKNOWN

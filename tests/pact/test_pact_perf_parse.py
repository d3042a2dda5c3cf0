"""The parse path's shortcuts for large JSON keep its guarantees.

A JSON text that is exactly orjson's output for its data skips the duplicate-key scan (and,
when pretty-printed without `$ref`s, the walk); JSON is parsed without decoding it to text
first. Duplicate keys, the depth limit, `$ref` collection and UTF-8 errors must not notice.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from apigov.spec.errors import InputError
from apigov.spec.limits import Limits
from apigov.spec.parse import parse_bytes

LIMITS = Limits(max_depth=16)


def nested(levels: int) -> Any:
    """`levels` objects, each the only member of the one above it: {"a": {"a": ... 1}}."""
    node: Any = 1
    for _ in range(levels):
        node = {"a": node}
    return node


def test_duplicate_keys_in_pretty_printed_json_are_still_refused() -> None:
    text = b'{\n  "a": 1,\n  "b": {\n    "c": 2,\n    "c": 3\n  }\n}'
    with pytest.raises(InputError) as caught:
        parse_bytes(text, "pact.json", LIMITS)
    assert caught.value.message == "duplicate mapping key 'c' (first at line 4)"
    assert caught.value.line == 5


def test_duplicate_keys_in_compact_json_are_still_refused() -> None:
    with pytest.raises(InputError, match="duplicate mapping key 'a'"):
        parse_bytes(b'{"a":1,"a":2}', "pact.json", LIMITS)


@pytest.mark.parametrize("option", [orjson.OPT_INDENT_2, 0], ids=["indent2", "compact"])
def test_the_depth_limit_holds_for_recognised_layouts(option: int) -> None:
    # The root is at depth 0: 17 objects put the deepest at depth 16, the limit; 18 exceed it.
    at_limit = orjson.dumps(nested(17), option=option)
    assert parse_bytes(at_limit, "deep.json", LIMITS).data == nested(17)
    too_deep = orjson.dumps(nested(18), option=option)
    with pytest.raises(InputError, match="nesting deeper than the limit of 16"):
        parse_bytes(too_deep, "deep.json", LIMITS)


def test_refs_are_still_collected_from_pretty_printed_json() -> None:
    document = {"openapi": "3.1.0", "a": {"b": {"$ref": "#/c"}}, "c": {"type": "string"}}
    parsed = parse_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2), "x.json", LIMITS)
    assert parsed.layout == "indent2"
    assert parsed.refs == [(("a", "b"), "#/c")]


def test_invalid_utf8_in_json_is_still_explained_with_its_place() -> None:
    text = b'{\n  "a": "caf\xe9"\n}'
    with pytest.raises(InputError) as caught:
        parse_bytes(text, "pact.json", LIMITS)
    assert caught.value.message == "not valid UTF-8 (byte 0xe9)"
    # Line 2 is `  "a": "caf` then the byte: 2 spaces, `"a": "` (6) and `caf` (3) before it.
    assert (caught.value.line, caught.value.column) == (2, 12)


def test_a_yaml_flow_mapping_is_still_yaml() -> None:
    parsed = parse_bytes(b"{a: 1, b: [x, y]}\n", "flow.yaml", LIMITS)
    assert parsed.data == {"a": 1, "b": ["x", "y"]}
    assert parsed.layout is None

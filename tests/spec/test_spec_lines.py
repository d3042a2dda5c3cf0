"""Line map: JSON pointers to 1-based (line, column), counted by hand."""

from __future__ import annotations

import json
from typing import Any

import pytest

from apigov.spec import lines as lines_module
from apigov.spec.lines import LineMap, find_duplicate_key, find_tag

JSON = '{"a": [1, 2, {"b": "éx", "c": 3}]}'.encode()

YAML = b"""\
openapi: 3.0.3
paths:
  /pets/{id}:
    get:
      parameters:
        - name: id
          in: path
        - name: "x-trace"
          in: header
"""


def test_json_positions_count_characters_and_point_at_quotes() -> None:
    lines = LineMap(JSON)
    assert lines.position(["a", "1"]) == (1, 11)
    assert lines.position(["a", "2", "c"]) == (1, 26)  # "é" is one column, not two bytes
    assert lines.position(["a", "5"]) == (1, 2)  # missing index: the deepest node that exists


def test_yaml_positions() -> None:
    lines = LineMap(YAML)
    assert lines.position(["paths", "/pets/{id}", "get"]) == (4, 5)
    assert lines.position(["paths", "/pets/{id}", "get", "parameters", "1", "name"]) == (8, 11)
    assert lines.position(["paths", "/pets/{id}", "get", "parameters", "1"]) == (8, 11)
    assert lines.position(["paths", "/nope"]) == (2, 1)
    assert lines.position([]) == (1, 1)


def test_long_arrays_are_indexed_once() -> None:
    raw = ("[" + ",".join(f'{{"n": {i}}}' for i in range(5000)) + "]").encode()
    lines = LineMap(b'{"items": ' + raw + b"}")
    # Each element is `{"n": i}` plus a comma: 9 characters for i < 10, then 10, 11, 12.
    assert lines.position(["items", "0", "n"]) == (1, 13)
    assert lines.position(["items", "3", "n"]) == (1, 13 + 3 * 9)


def test_duplicate_keys_and_tags_are_found_with_lines() -> None:
    assert find_duplicate_key(b"a: 1\nb:\n  c: 1\n  c: 2\n") == ("c", 3, 4)
    assert find_duplicate_key(b"a: 1\nb: 2\n") is None
    assert find_tag(b"a: 1\nb: !!binary aGk=\n") == ("!!binary", 2)
    assert find_tag(b"a: 1\n") is None


def _large(count: int) -> dict[str, Any]:
    return {"items": [{"name": f"n{i}", "tags": ["a", "b"]} for i in range(count)]}


def test_freed_memory_is_given_back_only_before_a_tree_is_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    released: list[bool] = []
    monkeypatch.setattr(lines_module, "release_freed_memory", lambda: released.append(True))
    data = _large(4000)
    # JSON in Python's layout is located by scanning its text: no tree, nothing given back.
    scanned = json.dumps(data, indent=1).encode()
    assert len(scanned) > 100_000
    assert LineMap(scanned).position(["items", "3999", "tags", "1"]) is not None
    assert released == []
    # The same data in YAML's flow style is located with a tree: given back once, before it.
    flow = json.dumps(data).replace('"', "").replace(",", ", ").encode()
    assert len(flow) > 100_000
    located = LineMap(flow)
    assert located.position(["items", "3999", "name"]) == (1, flow.index(b"name: n3999,") + 1)
    assert located.position(["items", "0", "name"]) == (1, flow.index(b"name: n0,") + 1)
    assert released == [True]
    # A small text's tree is too small to matter.
    LineMap(b"{a: [1, 2]}").position(["a", "1"])
    assert released == [True]

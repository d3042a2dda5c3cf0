"""Finding positions in large pretty-printed pacts, computed without a second parse.

The fast path (`spec/lines.py::_PrettyJson`) must answer exactly what the rapidyaml tree
answers; these tests pin its answers to lines counted by hand and cross-check it against the
tree on documents with every awkward shape.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from apigov.spec.limits import DEFAULT_LIMITS
from apigov.spec.lines import LineMap
from apigov.spec.parse import parse_bytes
from helpers import run_apigov, write

SPEC = """\
openapi: 3.1.0
info: {title: Pets, version: 1.0.0}
paths:
  /pets/{petId}:
    get:
      parameters:
        - {name: petId, in: path, required: true, schema: {type: integer}}
      responses:
        "200":
          description: a pet
          content:
            application/json:
              schema:
                type: object
                required: [id]
                properties:
                  id: {type: integer}
"""

INTERACTIONS = 10_000


def pet_interaction(number: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": f"pet {number}",
        "request": {"method": "GET", "path": f"/pets/{number}"},
        "response": {"status": 200, "body": body},
    }


def test_a_finding_in_interaction_9999_points_at_its_own_line(tmp_path: Path) -> None:
    interactions = [pet_interaction(n, {"id": n}) for n in range(INTERACTIONS)]
    interactions[0]["response"]["body"] = {"id": "zero"}  # wrong type
    interactions[-1]["response"]["body"] = {"id": 9999, "colour": "red"}  # undefined field
    pact = {
        "consumer": {"name": "shop"},
        "provider": {"name": "pets"},
        "interactions": interactions,
    }
    # json.dumps(indent=2) writes what pact libraries write: one member per line.
    path = write(tmp_path, "pact.json", json.dumps(pact, indent=2) + "\n")
    write(tmp_path, "openapi.yaml", SPEC)

    result = run_apigov(
        "compat", "pact.json", "--spec", "openapi.yaml", "--format", "json", cwd=tmp_path
    )

    assert result.code == 1, result.stderr
    found = {
        (f["id"], f["location"]["pointer"], f["location"]["line"], f["location"]["column"])
        for f in json.loads(result.stdout)["findings"]
    }
    # Lines 1-8 hold `{`, consumer (3 lines), provider (3 lines) and `"interactions": [`;
    # every interaction then takes 13 lines ({, description, request (4), response (6), },),
    # so interaction N starts at line 9 + 13 N and its body's first field is 9 lines further,
    # indented 10 spaces (column 11).
    assert found == {
        ("compat-response-body-incompatible", "/interactions/0/response/body/id", 18, 11),
        (
            "compat-response-field-undefined",
            "/interactions/9999/response/body/colour",
            9 + 13 * 9999 + 10,
            11,
        ),
    }
    assert parse_bytes(path.read_bytes(), "pact.json", DEFAULT_LIMITS).layout == "indent2"


def every_pointer(node: Any, path: list[str]) -> list[list[str]]:
    """Every node's tokens, plus one missing member or index below each container."""
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(every_pointer(value, [*path, key]))
        found.append([*path, "no-such-member"])
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(every_pointer(value, [*path, str(index)]))
        found.append([*path, str(len(node))])
    return found


AWKWARD: dict[str, Any] = {
    "consumer": {"name": "shop"},
    "interactions": [
        {"description": "empty things", "request": {}, "list": [], "text": ""},
        {"": "an empty key", "deep": [[{"a": [1, [], {}]}], [""], [[["x"]]]]},
        {"unicode": "é ü ✓", 'escaped "quote"': "line\nbreak", "nulls": [None, True, 1.5]},
        {f"field{n}": {"n": n} for n in range(40)},  # more members than the direct search
        {"strings": ["a", "", "b", "response", "response:"], "response": {"status": 200}},
    ],
    "metadata": {"pactSpecification": {"version": "3.0.0"}},
}


@pytest.mark.parametrize(
    "text",
    [
        orjson.dumps(AWKWARD, option=orjson.OPT_INDENT_2),
        json.dumps(AWKWARD, indent=2, ensure_ascii=False).encode() + b"\n",
        b"\xef\xbb\xbf" + orjson.dumps(AWKWARD, option=orjson.OPT_INDENT_2),  # a BOM
    ],
    ids=["orjson", "json-dumps", "bom"],
)
def test_pretty_positions_agree_with_the_rapidyaml_tree(text: bytes) -> None:
    parsed = parse_bytes(text, "pact.json", DEFAULT_LIMITS)
    assert parsed.layout == "indent2"
    fast = LineMap(text, parsed.data)
    tree = LineMap(text, scan=False)  # every position comes from the rapidyaml tree
    pointers = every_pointer(parsed.data, [])
    assert len(pointers) > 150
    differ = [p for p in pointers if fast.position(p) != tree.position(p)]
    assert differ == []


def test_pretty_positions_by_hand() -> None:
    text = orjson.dumps(AWKWARD, option=orjson.OPT_INDENT_2)
    lines = LineMap(text, parse_bytes(text, "pact.json", DEFAULT_LIMITS).data)
    # 1 {, 2 "consumer": {, 3 name, 4 }, 5 "interactions": [, 6 {, 7 "description"...
    assert lines.position([]) == (2, 3)
    assert lines.position(["interactions"]) == (5, 3)
    assert lines.position(["interactions", "0"]) == (7, 7)  # its first member
    assert lines.position(["interactions", "0", "request"]) == (8, 7)
    assert lines.position(["interactions", "0", "list", "0"]) == (9, 7)  # no such item
    # 8 "request": {}, 9 "list": [], 10 "text": "", 11 }, 12 { (interaction 1), 13 "": ...,
    # 14 "deep": [, 15 [, 16 {, 17 "a": [, 18 1: an array's first item is its first leaf.
    assert lines.position(["interactions", "1", "deep", "0"]) == (17, 13)
    assert lines.position(["interactions", "1", "deep", "0", "0", "a", "0"]) == (18, 15)


@pytest.mark.parametrize(
    ("text", "layout"),
    [
        (orjson.dumps(AWKWARD, option=orjson.OPT_INDENT_2), "indent2"),
        (orjson.dumps(AWKWARD), "compact"),
        (json.dumps(AWKWARD, indent=4, ensure_ascii=False).encode(), None),
        (orjson.dumps(AWKWARD, option=orjson.OPT_INDENT_2).replace(b"\n", b"\r\n"), None),
        (json.dumps(AWKWARD, indent=2).encode(), None),  # é written as \u00e9
    ],
    ids=["indent2", "compact", "indent4", "crlf", "ascii-escapes"],
)
def test_layout_is_recognised_only_when_exact(text: bytes, layout: str | None) -> None:
    parsed = parse_bytes(text, "pact.json", DEFAULT_LIMITS)
    assert parsed.layout == layout
    assert parsed.data == AWKWARD


def test_other_layouts_are_still_located_by_the_tree() -> None:
    text = json.dumps(AWKWARD, indent=4).encode()
    parsed = parse_bytes(text, "pact.json", DEFAULT_LIMITS)
    # 1 {, 2 "consumer": {, 3 "name", 4 }, 5 "interactions": [, 6 {, 7 "description"
    assert LineMap(text).position(["interactions", "0", "description"]) == (7, 13)
    assert parsed.layout is None

"""Finding positions in block-style YAML from the parsed data and the text (`_BlockYaml`).

Expected lines and columns are counted by hand from the documents below; the last tests
compare every pointer of the repository's YAML documents with the rapidyaml tree's answers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from apigov.spec.limits import Limits
from apigov.spec.lines import _UNKNOWN, LineMap
from apigov.spec.loader import Loader
from apigov.spec.parse import parse_bytes
from helpers import CONTRACTS, CORPUS, REPO, write

BLOCK = b"""\
# a comment before the first key
openapi: 3.0.3
paths:
  /pets:
    get:
      parameters:
        - name: limit
          in: query
        - "quoted item"
        # a comment between items
        - plain item
      responses:
        200:
          description: |
            ok:
            a block scalar holding a line that looks like a member
        'default':
          description: error
  /pets/{id}:
    tags:
    - compact
    - sequence
    summary: one pet
"""


def located(raw: bytes, tokens: list[str]) -> tuple[Any, tuple[int, int] | None]:
    """What the text answers (or `_UNKNOWN`), and the position LineMap gives."""
    data = parse_bytes(raw, "doc.yaml", Limits()).data
    lines = LineMap(raw, block=data)
    assert lines._block is not None
    return lines._block.offset(tokens), lines.position(tokens)


def test_members_items_and_quoted_keys_are_located_from_the_text() -> None:
    expected = {
        (): (2, 1),  # the root: its first key, after the comment
        ("paths",): (3, 1),
        ("paths", "/pets", "get", "parameters"): (6, 7),
        ("paths", "/pets", "get", "parameters", "0"): (7, 11),  # an item: its first key
        ("paths", "/pets", "get", "parameters", "0", "in"): (8, 11),
        ("paths", "/pets", "get", "parameters", "1"): (9, 11),  # a quoted item: its quote
        ("paths", "/pets", "get", "parameters", "2"): (11, 11),
        ("paths", "/pets", "get", "responses", "200", "description"): (14, 11),
        ("paths", "/pets", "get", "responses", "default"): (17, 9),  # at the quote
        ("paths", "/pets/{id}", "tags", "1"): (22, 7),  # a sequence at its key's indentation
        ("paths", "/pets/{id}", "summary"): (23, 5),
        # What does not exist: the deepest node that does.
        ("paths", "/pets", "post"): (4, 3),
        ("paths", "/pets", "get", "parameters", "7"): (6, 7),
        ("paths", "/pets/{id}", "summary", "deeper"): (23, 5),
    }
    for tokens, position in expected.items():
        answer, found = located(BLOCK, list(tokens))
        assert answer != _UNKNOWN, tokens
        assert found == position, tokens


def test_the_text_answers_what_the_tree_answers() -> None:
    data = parse_bytes(BLOCK, "doc.yaml", Limits()).data
    for tokens in every_pointer(data):
        assert LineMap(BLOCK, block=data).position(tokens) == LineMap(BLOCK).position(tokens)


def test_what_the_text_cannot_answer_is_left_to_the_tree() -> None:
    raw = b"""\
flow: {a: 1, b: [x, y]}
anchored: &base
  k: v
alias: *base
0x1F: hex key, 31 in the data
items:
  - [nested, flow]
  - &item
    k: v
"""
    for tokens in (
        ["flow", "b", "1"],  # flow style
        ["anchored", "k"],  # an anchor after the key
        ["alias", "k"],  # an alias
        ["31"],  # a key the data spells otherwise: the root's keys do not agree
        ["items", "0", "1"],
    ):
        answer, found = located(raw, tokens)
        assert answer == _UNKNOWN, tokens
        assert found == LineMap(raw).position(tokens), tokens


def test_an_explicit_key_is_left_to_the_tree_and_its_siblings_are_not() -> None:
    # `? b` / `: 1` is member b written as an explicit key: no line starts with `b:`.
    raw = b"a:\n  ? b\n  : 1\n  c: 1\n"
    answer, found = located(raw, ["a", "b"])
    assert answer == _UNKNOWN
    assert found == LineMap(raw).position(["a", "b"])
    answer, found = located(raw, ["a", "c"])
    assert answer != _UNKNOWN
    assert found == (4, 3)


def test_locating_yaml_findings_builds_no_tree(tmp_path: Path) -> None:
    spec = Loader().load(str(write(tmp_path, "openapi.yaml", BLOCK.decode())))
    assert spec.source.locate("/paths/~1pets~1{id}/summary").line == 23
    assert spec.source._lines is not None
    assert spec.source._lines._tree is None  # no rapidyaml tree kept in memory


def every_pointer(data: Any) -> list[list[str]]:
    found: list[list[str]] = [[]]
    stack: list[tuple[Any, list[str]]] = [(data, [])]
    while stack:
        node, path = stack.pop()
        pairs = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in pairs:
            found.append([*path, str(key)])
            found.append([*path, str(key), "missing"])
            if isinstance(value, dict | list):
                stack.append((value, [*path, str(key)]))
    return found


def test_every_pointer_of_the_repository_yaml_documents_agrees_with_the_tree() -> None:
    files = sorted(CONTRACTS.rglob("*.yaml")) + sorted((REPO / "rules").glob("*.yaml"))
    assert len(files) >= 10
    answered = 0
    for path in files:
        raw = path.read_bytes()
        data = parse_bytes(raw, path.name, Limits()).data
        text, tree = LineMap(raw, block=data), LineMap(raw)
        for tokens in every_pointer(data):
            assert text.position(tokens) == tree.position(tokens), (path, tokens)
            answered += text._block is not None and text._block.offset(tokens) != _UNKNOWN
    assert answered > 1000  # the text answered, not only the tree


def test_keys_merged_by_the_parser_leave_the_whole_document_to_the_tree(tmp_path: Path) -> None:
    # `200` (an int) and `'200'` (a text) are two keys to the YAML parser and one once spelled
    # as text: the data keeps the later value, the text holds both, so a search for the key
    # could find the wrong one.
    raw = "responses:\n  200: {description: int}\n  '200': {description: text}\nz: 1\n"
    parsed = parse_bytes(raw.encode(), "merged.yaml", Limits())
    assert parsed.keys_merged
    assert parsed.data["responses"] == {"200": {"description": "text"}}
    source = Loader().source(str(write(tmp_path, "merged.yaml", raw)))
    assert source.position("/z") == (4, 1)
    assert source._lines is not None
    assert source._lines._block is None


def test_every_pointer_of_the_adyen_json_documents_agrees_with_the_tree() -> None:
    # Written with a space before each colon, three- or two-space indents and Jackson's
    # `[ {` arrays: not orjson's layout, so the text scan (`_ScannedJson`) answers.
    files = sorted((CORPUS / "adyen").glob("*.json"))
    assert len(files) == 5
    for path in files:
        raw = path.read_bytes()
        data = parse_bytes(raw, path.name, Limits()).data
        text, tree = LineMap(raw), LineMap(raw, scan=False)
        for tokens in every_pointer(data):
            assert text.position(tokens) == tree.position(tokens), (path.name, tokens)
        assert text._tree is None and text._scanned is not None


def test_a_hand_counted_position_in_an_adyen_document() -> None:
    path = CORPUS / "adyen" / "ManagementService-v3.json"
    source = Loader().source(str(path))
    # `   "servers" : [` then `      {` then `         "url" : ...` (line 5, nine spaces).
    assert source.position("/servers/0/url") == (5, 10)
    assert source.position("/servers/0") == (5, 10)  # an item: its first key
    assert source._lines is not None and source._lines._tree is None

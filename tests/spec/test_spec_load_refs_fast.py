"""The JSON load path that finds `$ref`s without the full walk, and the pointer lookups after it.

A JSON document orjson can write (nested within the limit) with no key hiding another skips
data values (examples, defaults) entirely; everything the full walk guarantees must still
hold. Expected values are worked out by hand from the documents written here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apigov.spec import pointer as jp
from apigov.spec.errors import InputError
from apigov.spec.limits import Limits
from apigov.spec.loader import Loader
from apigov.spec.parse import parse_bytes

# Every `$ref` below is named by its place; the ones named "data" must never be collected.
DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "paths": {
        "/a": {
            "get": {
                "parameters": [{"$ref": "#/p0"}, {"name": "q"}, {"$ref": "#/p2"}],
                "responses": {"default": {"$ref": "#/r-default"}},
            }
        }
    },
    "components": {
        "schemas": {
            "example": {"$ref": "#/s-example"},
            "S": {
                "example": {"$ref": "#/data1", "inner": [{"$ref": "#/data2"}]},
                "default": [{"properties": {"x": {"$ref": "#/data3"}}}],
                "enum": [{"$ref": "#/data4"}],
                "const": {"$ref": "#/data5"},
                "properties": {"default": {"$ref": "#/prop-default"}},
                "items": {"$ref": "#/items"},
            },
        }
    },
}
# The walk takes a mapping's children last first, and a sequence's last item first.
EXPECTED_REFS = [
    (("components", "schemas", "S", "items"), "#/items"),
    (("components", "schemas", "S", "properties", "default"), "#/prop-default"),
    (("components", "schemas", "example"), "#/s-example"),
    (("paths", "/a", "get", "responses", "default"), "#/r-default"),
    (("paths", "/a", "get", "parameters", "2"), "#/p2"),
    (("paths", "/a", "get", "parameters", "0"), "#/p0"),
]


def _layouts(data: Any) -> dict[str, bytes]:
    """The same data as orjson (both ways), Jackson and Python's json module write it."""
    return {
        "indent2": orjson.dumps(data, option=orjson.OPT_INDENT_2),
        "compact": orjson.dumps(data),
        "jackson": json.dumps(data, indent=3, separators=(",", " : ")).encode(),
        "python": json.dumps(data).encode(),
    }


@pytest.mark.parametrize("layout", ["indent2", "compact", "jackson", "python"])
def test_refs_in_every_layout_skip_data_values_and_keep_the_walk_order(layout: str) -> None:
    raw = _layouts(DOCUMENT)[layout]
    parsed = parse_bytes(raw, "doc.json", Limits())
    assert parsed.refs == EXPECTED_REFS
    assert parsed.data == DOCUMENT


def _nested(depth: int, kind: str) -> Any:
    """A container whose innermost (empty) container sits `depth` levels below it."""
    node: Any = {} if kind == "dict" else []
    for _ in range(depth):
        node = {"a": node} if kind == "dict" else [node]
    return node


def _jackson(data: Any) -> bytes:
    return json.dumps(data, indent=1, separators=(",", " : ")).encode()


@pytest.mark.parametrize("kind", ["dict", "list"])
def test_nesting_past_the_limit_inside_an_example_is_refused(kind: str) -> None:
    # The example value sits at depth 4 (components/schemas/S/example); its innermost
    # container 253 levels further down, at 257: one past the limit of 256.
    document: dict[str, Any] = {"openapi": "3.1.0", "components": {"schemas": {"S": {}}}}
    document["components"]["schemas"]["S"]["example"] = _nested(253, kind)
    with pytest.raises(InputError) as caught:
        parse_bytes(_jackson(document), "deep.json", Limits())
    assert caught.value.message == "nesting deeper than the limit of 256"
    # The pointer names the first 256 steps of the path to the node past the limit.
    step = "/a" if kind == "dict" else "/0"
    assert caught.value.pointer == "/components/schemas/S/example" + step * 252


@pytest.mark.parametrize("kind", ["dict", "list"])
def test_nesting_at_the_limit_loads_and_its_refs_are_found(kind: str) -> None:
    # The innermost container at depth 256 exactly: deeper than orjson writes, within the
    # limit. A `$ref` beside the deep value is still found.
    document = {
        "openapi": "3.1.0",
        "deep": _nested(255, kind),
        "x": {"$ref": "#/openapi"},
    }
    parsed = parse_bytes(_jackson(document), "deep.json", Limits())
    assert parsed.refs == [(("x",), "#/openapi")]


def test_a_limit_orjson_writes_past_is_checked_by_the_walk() -> None:
    # A limit of 5: orjson writes deeper data without complaint, so it proves nothing. The
    # innermost list sits at depth 6 (a, example, then four more).
    document: dict[str, Any] = {"openapi": "3.1.0", "a": {"example": _nested(4, "list")}}
    with pytest.raises(InputError) as caught:
        parse_bytes(_jackson(document), "deep.json", Limits(max_depth=5))
    assert caught.value.pointer == "/a/example/0/0/0"
    document["a"]["example"] = _nested(3, "list")  # innermost at 5: within the limit
    assert parse_bytes(_jackson(document), "ok.json", Limits(max_depth=5)).refs == []


def test_a_limit_past_orjsons_own_is_still_enforced() -> None:
    # A limit of 300: data orjson will not write (past its own limit) takes the walk.
    within = {"openapi": "3.1.0", "d": _nested(299, "dict"), "r": {"$ref": "#/d"}}
    parsed = parse_bytes(_jackson(within), "within.json", Limits(max_depth=300))
    assert parsed.refs == [(("r",), "#/d")]
    past = {"openapi": "3.1.0", "d": _nested(300, "dict")}
    with pytest.raises(InputError, match="nesting deeper than the limit of 300"):
        parse_bytes(_jackson(past), "past.json", Limits(max_depth=300))


def test_a_duplicate_key_beside_refs_is_still_refused() -> None:
    raw = b'{"openapi": "3.1.0", "a": {"$ref": "#/b"}, "b": {}, "a": {"$ref": "#/b"}}'
    with pytest.raises(InputError, match="duplicate mapping key 'a'"):
        parse_bytes(raw, "dup.json", Limits())


# ---- random documents against a reference written here ----------------------------------

_KEYS = ["$ref", "example", "default", "enum", "const", "properties", "schemas", "items", "k"]
_NAME_MAPS = {"properties", "schemas"}  # the name maps among the keys above
_DATA_KEYS = {"example", "default", "enum", "const"}


def _reference_refs(data: Any) -> list[tuple[tuple[str, ...], str]]:
    """Depth first, last child first; data values (unless the key names a member) skipped."""
    found: list[tuple[tuple[str, ...], str]] = []

    def visit(node: Any, path: tuple[str, ...]) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                found.append((path, node["$ref"]))
            names = bool(path) and path[-1] in _NAME_MAPS
            for key in reversed(list(node)):
                if isinstance(node[key], dict | list) and (names or key not in _DATA_KEYS):
                    visit(node[key], (*path, key))
        else:
            for index in reversed(range(len(node))):
                if isinstance(node[index], dict | list):
                    visit(node[index], (*path, str(index)))

    visit(data, ())
    return found


# Mostly reference-like text, and `$ref` drawn about one key in three, so that most documents
# hold references at several depths, in sequences, and inside data values.
_SCALARS = st.sampled_from(["#/a", "x", "#/b/0", None, 1])
_REF_HEAVY_KEYS = st.one_of(st.just("$ref"), st.sampled_from(_KEYS))
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(_REF_HEAVY_KEYS, inner, max_size=4),
    ),
    max_leaves=40,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_REF_HEAVY_KEYS, _VALUES, max_size=5))
def test_random_documents_give_the_references_refs_in_every_layout(data: dict[str, Any]) -> None:
    expected = _reference_refs(data)
    for layout, raw in _layouts(data).items():
        assert parse_bytes(raw, f"{layout}.json", Limits()).refs == expected, layout


# ---- pointers ------------------------------------------------------------------------------


def test_pointers_resolve_escaped_tokens_indexes_and_the_root() -> None:
    document = {"paths": {"/a~b": [10, {"c": 2}]}, "": {"": 3}}
    assert jp.resolve(document, "") is document
    assert jp.resolve(document, "/paths/~1a~0b/1/c") == 2
    assert jp.resolve(document, "/paths/~1a~0b/0") == 10
    assert jp.resolve(document, "//") == 3  # the empty key, twice


@pytest.mark.parametrize(
    ("pointer", "message"),
    [
        ("/paths/~1a~0b/2", "no index '2' at /paths/~1a~0b"),
        ("/paths/~1a~0b/x", "no index 'x' at /paths/~1a~0b"),
        ("/paths/nope", "no 'nope' at /paths"),
        ("/nope/deeper", "no 'nope' at /"),
        ("/paths/~1a~0b/0/c", "/paths/~1a~0b/0 is a scalar, cannot take 'c'"),
    ],
)
def test_pointers_that_name_nothing_say_where_they_stop(pointer: str, message: str) -> None:
    document = {"paths": {"/a~b": [10, {"c": 2}]}}
    with pytest.raises(jp.PointerError) as caught:
        jp.resolve(document, pointer)
    assert str(caught.value) == message


def test_a_pointer_without_its_slash_is_refused() -> None:
    with pytest.raises(ValueError, match="not a JSON pointer"):
        jp.resolve({"a": 1}, "a")


# ---- files reached through $ref ------------------------------------------------------------


def test_files_of_one_folder_naming_one_file_alike_share_it(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "paths").mkdir()
    (tmp_path / "shared" / "error.yaml").write_text("description: failed\n")
    (tmp_path / "real.yaml").write_text("description: linked\n")
    (tmp_path / "shared" / "link.yaml").symlink_to(tmp_path / "real.yaml")
    for name in ("one", "two"):
        (tmp_path / "paths" / f"{name}.yaml").write_text(
            "get:\n  responses:\n"
            "    '500': {$ref: '../shared/error.yaml'}\n"
            "    '404': {$ref: '../shared/link.yaml'}\n"
        )
    (tmp_path / "openapi.yaml").write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n"
        "  /one: {$ref: 'paths/one.yaml'}\n  /two: {$ref: 'paths/two.yaml'}\n"
    )
    spec = Loader(root=tmp_path).load(str(tmp_path / "openapi.yaml"))
    real = tmp_path.resolve()
    # The symlink is followed to the file it names; each file is loaded once.
    names = ("openapi.yaml", "paths/one.yaml", "paths/two.yaml", "shared/error.yaml", "real.yaml")
    assert sorted(spec.files) == sorted(str(real / name) for name in names)

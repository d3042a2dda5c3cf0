"""Skipping unchanged parts must never hide a change reached through `$ref`s."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from diff_support import TODAY, load_pair

from apigov.diff import diff_specs
from apigov.diff.unchanged import Unchanged


def chain_document() -> dict[str, Any]:
    """GET /a returns A, which refers to B, which refers to C; GET /d returns D alone."""

    def get(schema: str) -> dict[str, Any]:
        content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}
        return {"get": {"responses": {"200": {"description": "ok", "content": content}}}}

    return {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1.0.0"},
        "paths": {"/a": get("A"), "/d": get("D")},
        "components": {
            "schemas": {
                "A": {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"}}},
                "B": {"type": "object", "properties": {"c": {"$ref": "#/components/schemas/C"}}},
                "C": {"type": "object", "properties": {"name": {"type": "string"}}},
                "D": {"type": "object", "properties": {"id": {"type": "string"}}},
            }
        },
    }


def test_diff_change_two_refs_away_is_found_and_the_rest_is_clean(tmp_path: Path) -> None:
    base = chain_document()
    head = copy.deepcopy(base)
    head["components"]["schemas"]["C"]["properties"]["name"]["maxLength"] = 5
    base_spec, head_spec = load_pair(tmp_path, base, head)

    unchanged = Unchanged(base_spec, head_spec)
    assert unchanged.enabled
    # C changed; B and A refer to it (B directly, A through B); D does not.
    assert not unchanged.component("/components/schemas/C")
    assert not unchanged.component("/components/schemas/B")
    assert not unchanged.component("/components/schemas/A")
    assert unchanged.component("/components/schemas/D")
    # /a's node is equal in both versions, but what it refers to is not.
    assert not unchanged.container(("paths", "/a"))
    assert unchanged.container(("paths", "/d"))

    changes = diff_specs(base_spec, head_spec, today=TODAY).changes
    assert [(c.id, c.operation) for c in changes] == [
        ("response-property-max-length-added", "GET /a")
    ]
    assert "property 'b.c.name'" in changes[0].message


def test_diff_recursive_components_are_clean_only_when_unchanged(tmp_path: Path) -> None:
    base = chain_document()
    schemas = base["components"]["schemas"]
    schemas["C"]["properties"]["back"] = {"$ref": "#/components/schemas/A"}  # A -> B -> C -> A
    head = copy.deepcopy(base)
    base_spec, head_spec = load_pair(tmp_path, base, head)
    assert Unchanged(base_spec, head_spec).component("/components/schemas/A")

    head["components"]["schemas"]["A"]["required"] = ["b"]
    base_spec, head_spec = load_pair(tmp_path / "changed", base, head)
    unchanged = Unchanged(base_spec, head_spec)
    for name in "ABC":
        assert not unchanged.component(f"/components/schemas/{name}")
    changes = diff_specs(base_spec, head_spec, today=TODAY).changes
    assert {c.id for c in changes} == {"response-property-became-required"}


def test_diff_removed_component_makes_its_referrers_dirty(tmp_path: Path) -> None:
    base = chain_document()
    head = copy.deepcopy(base)
    del head["components"]["schemas"]["D"]
    head["paths"]["/d"] = copy.deepcopy(head["paths"]["/a"])  # /d now returns A
    base_spec, head_spec = load_pair(tmp_path, base, head)
    unchanged = Unchanged(base_spec, head_spec)
    assert not unchanged.component("/components/schemas/D")
    assert not unchanged.container(("paths", "/d"))
    assert unchanged.container(("paths", "/a"))


def test_diff_swagger2_documents_are_never_skipped(tmp_path: Path) -> None:
    swagger = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"/a": {"get": {"responses": {"200": {"description": "ok"}}}}},
    }
    base_spec, head_spec = load_pair(tmp_path, swagger, copy.deepcopy(swagger))
    unchanged = Unchanged(base_spec, head_spec)
    assert not unchanged.enabled
    assert not unchanged.container(("paths", "/a"))

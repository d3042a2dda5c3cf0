"""Property-based checks: a document never differs from itself, and changes reverse cleanly."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

from diff_support import changes_between
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apigov.diff.catalogue import ok_response, one_operation, operation

NAMES = st.sampled_from(["id", "name", "size", "tags", "owner", "kind"])


@st.composite
def leaf_schemas(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["string", "integer", "number", "boolean", "array"]))
    schema: dict[str, Any] = {"type": kind}
    if kind == "string":
        if draw(st.booleans()):
            schema["maxLength"] = draw(st.integers(1, 50))
        if draw(st.booleans()):
            schema["enum"] = draw(st.lists(st.sampled_from("abcdef"), min_size=1, unique=True))
        if draw(st.booleans()):
            schema["format"] = draw(st.sampled_from(["uuid", "email", "date"]))
    elif kind in ("integer", "number"):
        if draw(st.booleans()):
            schema["minimum"] = draw(st.integers(0, 10))
        if draw(st.booleans()):
            schema["maximum"] = draw(st.integers(11, 100))
    elif kind == "array":
        schema["items"] = {"type": draw(st.sampled_from(["string", "integer"]))}
        if draw(st.booleans()):
            schema["maxItems"] = draw(st.integers(1, 20))
    if draw(st.booleans()):
        schema["nullable"] = True
    return schema


@st.composite
def object_schemas(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(NAMES, min_size=1, max_size=5, unique=True))
    properties = {name: draw(leaf_schemas()) for name in names}
    required = [n for n in names if draw(st.booleans())]
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def api(schema: dict[str, Any]) -> dict[str, Any]:
    # The schema in a JSON body, a JSON response and a query parameter (`?filter[id]=1`), where
    # values travel as text and are compared as such.
    filter_param = {
        "name": "filter",
        "in": "query",
        "style": "deepObject",
        "explode": True,
        "schema": copy.deepcopy(schema),
    }
    op = operation(
        parameters=[filter_param],
        requestBody={"content": {"application/json": {"schema": copy.deepcopy(schema)}}},
        responses={"200": ok_response(copy.deepcopy(schema))},
    )
    return one_operation(op)


@st.composite
def mutated(draw: st.DrawFn, schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with exactly one keyword of one property changed, added or removed."""
    changed = copy.deepcopy(schema)
    properties = changed["properties"]
    name = draw(st.sampled_from(sorted(properties)))
    target = properties[name]
    choice = draw(
        st.sampled_from(["required", "drop", "add", "nullable", "bound", "type", "enum", "format"])
    )
    if choice in ("enum", "format") and target["type"] != "string":
        choice = "nullable"  # enum values and formats here are strings'
    if choice == "required":
        required = set(changed.get("required", []))
        required ^= {name}
        changed["required"] = sorted(required)
        if not changed["required"]:
            del changed["required"]
    elif choice == "drop":
        del properties[name]
        if name in changed.get("required", []):
            changed["required"].remove(name)
            if not changed["required"]:
                del changed["required"]
    elif choice == "add":
        fresh = f"extra_{draw(st.integers(0, 3))}"
        properties[fresh] = {"type": "string"}
    elif choice == "enum":
        values = target.get("enum")
        if values is None:
            target["enum"] = ["a", "b"]
        elif len(values) > 1:
            values.pop()
        else:
            values.append("z" if values[0] != "z" else "y")
    elif choice == "format":
        if target.pop("format", None) is None:
            target["format"] = "uuid"
    elif choice == "nullable":
        if target.pop("nullable", None) is None:
            target["nullable"] = True
    elif choice == "bound":
        key = {"string": "maxLength", "array": "maxItems"}.get(target["type"], "maximum")
        if key in target:
            target[key] = target[key] + draw(st.sampled_from([-1, 1, 5]))
        else:
            target[key] = 7
    else:
        target["type"] = "boolean" if target["type"] != "boolean" else "string"
        for key in list(target):
            if key not in ("type", "nullable"):
                del target[key]
    return changed


_OPPOSITE = [
    ("-added", "-removed"),
    ("-increased", "-decreased"),
    ("became-required", "became-optional"),
    ("became-nullable", "became-not-nullable"),
    ("type-widened", "type-narrowed"),
    ("became-exclusive", "became-inclusive"),
]


def reverse(change_id: str) -> str:
    """The id of the same change undone, worked out from the naming scheme alone."""
    for one, other in _OPPOSITE:
        if one in change_id:
            return change_id.replace(one, other)
        if other in change_id:
            return change_id.replace(other, one)
    return change_id  # "-changed" ids read the same both ways


def relevant_ids(base: dict[str, Any], head: dict[str, Any]) -> list[str]:
    with tempfile.TemporaryDirectory() as folder:
        changes = changes_between(Path(folder), base, head)
    return sorted(c.id for c in changes)


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(object_schemas())
def test_diff_a_document_against_itself_is_empty(schema: dict[str, Any]) -> None:
    assert relevant_ids(api(schema), api(copy.deepcopy(schema))) == []


@SETTINGS
@given(st.data())
def test_diff_adding_then_removing_a_change_gives_reversed_ids(data: st.DataObject) -> None:
    schema = data.draw(object_schemas())
    changed = data.draw(mutated(schema))
    forward = relevant_ids(api(schema), api(changed))
    backward = relevant_ids(api(changed), api(schema))
    assert sorted(reverse(i) for i in forward) == backward

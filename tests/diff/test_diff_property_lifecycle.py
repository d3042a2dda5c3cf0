"""Lifecycle of properties: `x-stability-level` moves and `x-sunset` changes of a property that
was deprecated already.

Stability levels rank as operations' do: stable > beta > alpha > draft. A move towards draft
takes guarantees away from clients (an error, as oasdiff's `...-property-stability-decreased`);
towards stable is news (info). A level added, removed or not a level is no move between levels.

A property deprecated on both sides whose `x-sunset` changes to something that is not a date
gives clients no date: `...-property-sunset-invalid`, as for operations and parameters.
The date of the change is 2026-06-01 (`diff_support.TODAY`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from diff_support import changes_between, ids

from apigov.diff import Change
from apigov.diff.catalogue import ok_response, one_operation, operation
from apigov.findings import Level

S: dict[str, Any] = {"type": "string"}


def obj(**prop: Any) -> dict[str, Any]:
    """An object with a plain property `a` and a property `b` carrying `prop`."""
    return {"type": "object", "properties": {"a": S, "b": {**S, **prop}}}


def response_doc(schema: dict[str, Any]) -> dict[str, Any]:
    return one_operation(operation(responses={"200": ok_response(schema)}))


def request_doc(schema: dict[str, Any]) -> dict[str, Any]:
    body = {"content": {"application/json": {"schema": schema}}}
    return one_operation(operation(requestBody=body))


def about(changes: list[Change], word: str) -> list[str]:
    return sorted(c.id for c in changes if word in c.id)


# ---- stability ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("was", "now"),
    [("stable", "beta"), ("beta", "alpha"), ("alpha", "draft"), ("stable", "draft")],
)
def test_diff_property_stability_towards_draft_is_an_error(
    tmp_path: Path, was: str, now: str
) -> None:
    changes = changes_between(
        tmp_path,
        response_doc(obj(**{"x-stability-level": was})),
        response_doc(obj(**{"x-stability-level": now})),
    )
    assert ids(changes) == ["response-property-stability-decreased"]
    (change,) = changes
    assert change.level is Level.ERROR
    assert "property 'b'" in change.message
    assert f"stability changed from {was} to {now}" in change.message


def test_diff_request_property_stability_decreased(tmp_path: Path) -> None:
    changes = changes_between(
        tmp_path,
        request_doc(obj(**{"x-stability-level": "beta"})),
        request_doc(obj(**{"x-stability-level": "alpha"})),
    )
    assert [(c.id, c.level) for c in changes] == [
        ("request-property-stability-decreased", Level.ERROR)
    ]


@pytest.mark.parametrize(("was", "now"), [("beta", "stable"), ("draft", "alpha")])
def test_diff_property_stability_towards_stable_is_info(tmp_path: Path, was: str, now: str) -> None:
    changes = changes_between(
        tmp_path,
        request_doc(obj(**{"x-stability-level": was})),
        request_doc(obj(**{"x-stability-level": now})),
    )
    assert [(c.id, c.level) for c in changes] == [
        ("request-property-stability-increased", Level.INFO)
    ]


@pytest.mark.parametrize(
    ("was", "now"),
    [
        (None, "beta"),  # a level added: nothing it moved from
        ("stable", None),  # a level removed
        ("stable", "ga"),  # not a level (operations have an id for that; properties do not)
        ("experimental", "draft"),
        ("beta", "beta"),
    ],
)
def test_diff_property_stability_outside_the_ranks_is_no_move(
    tmp_path: Path, was: str | None, now: str | None
) -> None:
    base = obj() if was is None else obj(**{"x-stability-level": was})
    head = obj() if now is None else obj(**{"x-stability-level": now})
    changes = changes_between(tmp_path, response_doc(base), response_doc(head))
    assert about(changes, "stability") == []


def test_diff_body_schema_stability_is_not_a_property_change(tmp_path: Path) -> None:
    # The level of the body schema as a whole: no property moved.
    base = {**obj(), "x-stability-level": "stable"}
    head = {**obj(), "x-stability-level": "draft"}
    assert about(changes_between(tmp_path, response_doc(base), response_doc(head)), "stab") == []


def test_diff_nested_property_stability_through_a_ref(tmp_path: Path) -> None:
    def doc(level: str) -> dict[str, Any]:
        item = {"type": "object", "properties": {"sku": {**S, "x-stability-level": level}}}
        schema = {"type": "object", "properties": {"item": {"$ref": "#/components/schemas/Item"}}}
        return one_operation(
            operation(responses={"200": ok_response(schema)}),
            components={"schemas": {"Item": item}},
        )

    changes = changes_between(tmp_path, doc("beta"), doc("draft"))
    assert ids(changes) == ["response-property-stability-decreased"]
    assert "property 'item.sku'" in changes[0].message


def test_diff_property_stability_and_operation_stability_are_apart(tmp_path: Path) -> None:
    def doc(op_level: str, prop_level: str) -> dict[str, Any]:
        schema = obj(**{"x-stability-level": prop_level})
        return one_operation(
            operation(responses={"200": ok_response(schema)}, **{"x-stability-level": op_level})
        )

    changes = changes_between(tmp_path, doc("stable", "alpha"), doc("beta", "beta"))
    assert ids(changes) == [
        "operation-stability-decreased",
        "response-property-stability-increased",
    ]


# ---- sunset changed to one that is not a date ---------------------------------------------------


@pytest.mark.parametrize(
    ("was", "shown"),
    [("2027-01-01", "2027-01-01"), (None, "none"), ("soon", "soon")],
)
def test_diff_deprecated_property_sunset_changed_to_no_date(
    tmp_path: Path, was: str | None, shown: str
) -> None:
    base = obj(deprecated=True) if was is None else obj(deprecated=True, **{"x-sunset": was})
    head = obj(deprecated=True, **{"x-sunset": "later"})
    changes = changes_between(tmp_path, response_doc(base), response_doc(head))
    assert ids(changes) == ["response-property-sunset-invalid"]
    (change,) = changes
    assert change.level is Level.ERROR
    assert "property 'b'" in change.message
    assert f"sunset changed from {shown}" in change.message
    assert "'later' is not a date" in change.message


def test_diff_deprecated_request_property_sunset_invalid(tmp_path: Path) -> None:
    base = obj(deprecated=True, **{"x-sunset": "2027-01-01"})
    head = obj(deprecated=True, **{"x-sunset": "2027-02-30"})
    changes = changes_between(tmp_path, request_doc(base), request_doc(head))
    assert [(c.id, c.level) for c in changes] == [("request-property-sunset-invalid", Level.ERROR)]
    assert "'2027-02-30' is not a date" in changes[0].message


def test_diff_yaml_date_sunset_changed_to_no_date(tmp_path: Path) -> None:
    # YAML may read an unquoted date as a date: still a date that became none.
    def doc(sunset: str) -> str:
        return (
            "openapi: 3.0.3\n"
            "info: {title: t, version: '1'}\n"
            "paths:\n"
            "  /items:\n"
            "    get:\n"
            "      responses:\n"
            "        '200':\n"
            "          description: ok\n"
            "          content:\n"
            "            application/json:\n"
            "              schema:\n"
            "                type: object\n"
            "                properties:\n"
            "                  b:\n"
            "                    type: string\n"
            "                    deprecated: true\n"
            f"                    x-sunset: {sunset}\n"
        )

    changes = changes_between(tmp_path, doc("2027-01-01"), doc("soon"))
    assert ids(changes) == ["response-property-sunset-invalid"]
    assert "sunset changed from 2027-01-01" in changes[0].message


@pytest.mark.parametrize(
    ("was", "now"),
    [
        ("soon", "soon"),  # the same unreadable value: no change of this diff's making
        ("2027-01-01", None),  # the date taken away: no value that is not a date
    ],
)
def test_diff_deprecated_property_sunset_not_reported(
    tmp_path: Path, was: str, now: str | None
) -> None:
    base = obj(deprecated=True, **{"x-sunset": was})
    head = obj(deprecated=True) if now is None else obj(deprecated=True, **{"x-sunset": now})
    changes = changes_between(tmp_path, response_doc(base), response_doc(head))
    assert about(changes, "sunset") == []


def test_diff_newly_deprecated_property_with_no_date_still_says_deprecated(
    tmp_path: Path,
) -> None:
    changes = changes_between(
        tmp_path, response_doc(obj()), response_doc(obj(deprecated=True, **{"x-sunset": "soon"}))
    )
    assert ids(changes) == ["response-property-sunset-invalid"]
    assert "deprecated: x-sunset 'soon' is not a date" in changes[0].message


def test_diff_body_schema_sunset_changed_to_no_date_is_not_a_property(tmp_path: Path) -> None:
    base = {**obj(), "deprecated": True, "x-sunset": "2027-01-01"}
    head = {**obj(), "deprecated": True, "x-sunset": "soon"}
    changes = changes_between(tmp_path, response_doc(base), response_doc(head))
    assert about(changes, "sunset") == []

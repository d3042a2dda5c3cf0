"""Deprecation dates nobody can read, and stability levels that are not levels.

An `x-sunset` that is not a date (`soon`, `2026-02-30`, a number) gives clients no date, like a
deprecation without one, but the author meant to give one: an error (oasdiff:
`api-deprecated-sunset-parse`, `...-sunset-invalid`), naming the value. An `x-stability-level`
other than draft, alpha, beta or stable is an error too (oasdiff: `api-invalid-stability-level`).
Only values the change wrote are reported: the same unreadable value on both sides is not news.

The date of the change is 2026-06-01. Notice counted by hand: June has 30 days, so 2026-07-01 is
30 days away and 2026-07-02 is 31; to 2026-12-01 is 30+31+31+30+31+30 = 183 days, and
2027-01-01 is 183+31 = 214 days away.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from diff_support import load_pair

from apigov.diff import Change, diff_specs
from apigov.diff.catalogue import document, ok_response, one_operation, operation
from apigov.findings import Level
from apigov.spec.deprecation import sunset_of, unreadable_sunset

TODAY = dt.date(2026, 6, 1)
S: dict[str, Any] = {"type": "string"}
QUERY: dict[str, Any] = {"name": "q", "in": "query", "schema": S}


def changes(tmp_path: Path, base: Any, head: Any) -> list[Change]:
    base_spec, head_spec = load_pair(tmp_path, base, head)
    return diff_specs(base_spec, head_spec, today=TODAY).changes


def found(tmp_path: Path, base: Any, head: Any) -> set[tuple[str, Level]]:
    return {(c.id, c.level) for c in changes(tmp_path, base, head)}


def only(tmp_path: Path, base: Any, head: Any, change_id: str) -> Change:
    matching = [c for c in changes(tmp_path, base, head) if c.id == change_id]
    assert len(matching) == 1, matching
    return matching[0]


def op_doc(**fields: Any) -> dict[str, Any]:
    return one_operation(operation(**fields))


# ---- reading x-sunset ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("node", "date", "unreadable"),
    [
        ({}, None, None),
        ({"x-sunset": None}, None, None),
        ({"x-sunset": "2027-01-01"}, dt.date(2027, 1, 1), None),
        ({"x-sunset": "2027-01-01T00:00:00Z"}, dt.date(2027, 1, 1), None),
        ({"x-sunset": dt.date(2027, 1, 1)}, dt.date(2027, 1, 1), None),
        ({"x-sunset": "soon"}, None, "soon"),
        ({"x-sunset": "2026-02-30"}, None, "2026-02-30"),
        ({"x-sunset": "01/01/2027"}, None, "01/01/2027"),
        ({"x-sunset": 2027}, None, "2027"),
        ({"x-sunset": True}, None, "true"),
    ],
)
def test_diff_sunset_is_a_date_or_unreadable_never_both(
    node: dict[str, Any], date: dt.date | None, unreadable: str | None
) -> None:
    # `sunset_of` keeps reading an unreadable value as no date (the fleet graph relies on it).
    assert sunset_of(node) == date
    assert unreadable_sunset(node) == unreadable


# ---- operations ---------------------------------------------------------------------------------


@pytest.mark.parametrize("sunset", ["soon", "2026-02-30", 2027])
def test_diff_an_operation_deprecated_with_an_unreadable_sunset_is_an_error(
    tmp_path: Path, sunset: Any
) -> None:
    head = op_doc(deprecated=True, **{"x-sunset": sunset})
    # Instead of `operation-deprecated-without-sunset` (a warning), not beside it.
    assert found(tmp_path, op_doc(), head) == {("operation-sunset-invalid", Level.ERROR)}


def test_diff_the_unreadable_sunset_message_names_the_value(tmp_path: Path) -> None:
    head = op_doc(deprecated=True, **{"x-sunset": "next spring"})
    change = only(tmp_path, op_doc(), head, "operation-sunset-invalid")
    assert change.message == (
        "POST /items deprecated: x-sunset 'next spring' is not a date (YYYY-MM-DD)"
    )
    assert change.operation == "POST /items"


def test_diff_a_date_time_sunset_is_readable(tmp_path: Path) -> None:
    # 2027-01-01 is 214 days after 2026-06-01: more than stable's 180.
    head = op_doc(deprecated=True, **{"x-sunset": "2027-01-01T00:00:00Z"})
    assert found(tmp_path, op_doc(), head) == {("operation-deprecated", Level.INFO)}


def test_diff_a_sunset_changed_to_an_unreadable_value_is_an_error(tmp_path: Path) -> None:
    base = op_doc(deprecated=True, **{"x-sunset": "2027-01-01"})
    head = op_doc(deprecated=True, **{"x-sunset": "soon"})
    change = only(tmp_path, base, head, "operation-sunset-invalid")
    assert change.level is Level.ERROR
    assert change.message == (
        "POST /items sunset changed from 2027-01-01: x-sunset 'soon' is not a date (YYYY-MM-DD)"
    )
    # Not also reported as a date changed to "None".
    assert found(tmp_path / "again", base, head) == {("operation-sunset-invalid", Level.ERROR)}


def test_diff_an_unreadable_sunset_given_to_a_deprecation_without_one_is_an_error(
    tmp_path: Path,
) -> None:
    base = op_doc(deprecated=True)
    head = op_doc(deprecated=True, **{"x-sunset": "soon"})
    assert found(tmp_path, base, head) == {("operation-sunset-invalid", Level.ERROR)}


def test_diff_an_unreadable_sunset_left_as_it_was_is_not_reported(tmp_path: Path) -> None:
    base = op_doc(deprecated=True, summary="a", **{"x-sunset": "soon"})
    head = op_doc(deprecated=True, summary="b", **{"x-sunset": "soon"})
    assert found(tmp_path, base, head) == {("operation-summary-changed", Level.INFO)}


def test_diff_an_unreadable_sunset_replaced_by_a_date_is_not_an_error(tmp_path: Path) -> None:
    base = op_doc(deprecated=True, **{"x-sunset": "soon"})
    head = op_doc(deprecated=True, **{"x-sunset": "2027-01-01"})
    # A first readable date, 214 days away: enough notice, nothing to report (as for a
    # deprecation that had no date and got one).
    assert found(tmp_path, base, head) == set()


def test_diff_an_unreadable_sunset_without_deprecation_is_not_read(tmp_path: Path) -> None:
    # `x-sunset` means something only on a deprecated element.
    assert found(tmp_path, op_doc(), op_doc(**{"x-sunset": "soon"})) == set()


def test_diff_an_operation_removed_with_an_unreadable_sunset_is_removed_before_it(
    tmp_path: Path,
) -> None:
    def doc(post: dict[str, Any] | None) -> dict[str, Any]:
        item: dict[str, Any] = {"get": operation()}
        if post is not None:
            item["post"] = post
        return document({"/items": item})

    base = doc(operation(deprecated=True, **{"x-sunset": "soon"}))
    change = only(tmp_path, base, doc(None), "operation-removed")
    assert change.level is Level.ERROR
    assert change.message == (
        "POST /items removed before a readable sunset: "
        "its x-sunset 'soon' is not a date (YYYY-MM-DD)"
    )


# ---- parameters ---------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["query", "header", "cookie"])
def test_diff_a_parameter_deprecated_with_an_unreadable_sunset_is_an_error(
    tmp_path: Path, where: str
) -> None:
    param = {"name": "q", "in": where, "schema": S}
    head_param = {**param, "deprecated": True, "x-sunset": "soon"}
    base, head = op_doc(parameters=[param]), op_doc(parameters=[head_param])
    change = only(tmp_path, base, head, "request-parameter-sunset-invalid")
    assert change.level is Level.ERROR
    assert change.message == (
        f"{where} parameter 'q' deprecated: x-sunset 'soon' is not a date (YYYY-MM-DD)"
    )
    assert found(tmp_path / "ids", base, head) == {
        ("request-parameter-sunset-invalid", Level.ERROR)
    }


def test_diff_a_parameter_sunset_changed_to_an_unreadable_value_is_an_error(
    tmp_path: Path,
) -> None:
    base = op_doc(parameters=[{**QUERY, "deprecated": True, "x-sunset": "2027-01-01"}])
    head = op_doc(parameters=[{**QUERY, "deprecated": True, "x-sunset": "2027-13-01"}])
    change = only(tmp_path, base, head, "request-parameter-sunset-invalid")
    assert change.message == (
        "query parameter 'q' sunset changed from 2027-01-01: "
        "x-sunset '2027-13-01' is not a date (YYYY-MM-DD)"
    )


def test_diff_a_path_parameter_deprecation_is_still_not_read(tmp_path: Path) -> None:
    param = {"name": "id", "in": "path", "required": True, "schema": S}

    def doc(p: dict[str, Any]) -> dict[str, Any]:
        return one_operation(operation(parameters=[p]), path="/items/{id}")

    head = doc({**param, "deprecated": True, "x-sunset": "soon"})
    assert found(tmp_path, doc(param), head) == set()


def test_diff_a_parameter_removed_with_an_unreadable_sunset_says_so(tmp_path: Path) -> None:
    base = op_doc(parameters=[{**QUERY, "deprecated": True, "x-sunset": "soon"}])
    change = only(tmp_path, base, op_doc(), "request-query-parameter-removed")
    # The level of removing a query parameter before its sunset (a warning), not info.
    assert change.level is Level.WARNING
    assert change.message == (
        "query parameter 'q' removed before a readable sunset: "
        "its x-sunset 'soon' is not a date (YYYY-MM-DD)"
    )


# ---- properties ---------------------------------------------------------------------------------


def with_property(email: dict[str, Any]) -> dict[str, Any]:
    schema = {"type": "object", "properties": {"id": S, "email": email}}
    return op_doc(
        requestBody={"content": {"application/json": {"schema": schema}}},
        responses={"200": ok_response(schema)},
    )


def test_diff_a_property_deprecated_with_an_unreadable_sunset_is_an_error(
    tmp_path: Path,
) -> None:
    head = with_property({**S, "deprecated": True, "x-sunset": "soon"})
    assert found(tmp_path, with_property(S), head) == {
        ("request-property-sunset-invalid", Level.ERROR),
        ("response-property-sunset-invalid", Level.ERROR),
    }
    messages = {c.message for c in changes(tmp_path / "messages", with_property(S), head)}
    assert messages == {
        "request body property 'email': deprecated: x-sunset 'soon' is not a date (YYYY-MM-DD)",
        "response 200 property 'email': deprecated: x-sunset 'soon' is not a date (YYYY-MM-DD)",
    }


def test_diff_a_property_in_another_file_is_read_from_that_file(tmp_path: Path) -> None:
    """The property's node is looked up where it is written, not in the root document."""

    def doc(common: str) -> dict[str, Any]:
        ref = {"$ref": f"{common}#/Customer"}
        return one_operation(operation(responses={"200": ok_response(ref)}), method="get")

    tmp_path.mkdir(parents=True, exist_ok=True)
    for name, email in (("old", S), ("new", {**S, "deprecated": True, "x-sunset": "soon"})):
        customer = {"type": "object", "properties": {"id": S, "email": email}}
        (tmp_path / f"{name}.json").write_text(json.dumps({"Customer": customer}))
    assert found(tmp_path, doc("old.json"), doc("new.json")) == {
        ("response-property-sunset-invalid", Level.ERROR)
    }


def test_diff_a_webhook_property_with_an_unreadable_sunset_is_an_error(tmp_path: Path) -> None:
    # Webhooks take their levels from the receiving side; both sides rate this an error.
    def doc(email: dict[str, Any]) -> dict[str, Any]:
        schema = {"type": "object", "properties": {"id": S, "email": email}}
        hook = operation(requestBody={"content": {"application/json": {"schema": schema}}})
        return {
            "openapi": "3.1.0",
            "info": {"title": "Example", "version": "1.0.0"},
            "webhooks": {"orderCreated": {"post": hook}},
        }

    head = doc({**S, "deprecated": True, "x-sunset": "soon"})
    assert found(tmp_path, doc(S), head) == {("request-property-sunset-invalid", Level.ERROR)}


# ---- stability levels ---------------------------------------------------------------------------


def level(value: Any, **fields: Any) -> dict[str, Any]:
    return op_doc(**{"x-stability-level": value}, **fields)


@pytest.mark.parametrize(("value", "shown"), [("ga", "'ga'"), ("Stable", "'Stable'"), (2, "2")])
def test_diff_an_unknown_stability_level_is_an_error(
    tmp_path: Path, value: Any, shown: str
) -> None:
    change = only(tmp_path, op_doc(), level(value), "operation-stability-level-invalid")
    assert change.level is Level.ERROR
    assert change.message == (
        f"POST /items x-stability-level {shown} is not one of draft, alpha, beta, stable "
        "(sunset notice counts it as stable)"
    )


def test_diff_a_level_changed_to_an_unknown_one_is_not_a_decrease(tmp_path: Path) -> None:
    assert found(tmp_path, level("beta"), level("ga")) == {
        ("operation-stability-level-invalid", Level.ERROR)
    }


def test_diff_an_unknown_level_fixed_is_not_reported(tmp_path: Path) -> None:
    assert found(tmp_path, level("ga"), level("beta")) == set()


def test_diff_an_unknown_level_left_as_it_was_is_not_reported(tmp_path: Path) -> None:
    base, head = level("ga", summary="a"), level("ga", summary="b")
    assert found(tmp_path, base, head) == {("operation-summary-changed", Level.INFO)}


def test_diff_an_added_operation_with_an_unknown_level_is_reported(tmp_path: Path) -> None:
    base = document({"/items": {"get": operation()}})
    head = document(
        {
            "/items": {"get": operation(), "post": operation(**{"x-stability-level": "ga"})},
            "/other": {"get": operation(**{"x-stability-level": "experimental"})},
        }
    )
    assert {(c.operation, c.id) for c in changes(tmp_path, base, head)} == {
        ("POST /items", "operation-added"),
        ("POST /items", "operation-stability-level-invalid"),
        ("GET /other", "path-added"),
        ("GET /other", "operation-stability-level-invalid"),
    }


def test_diff_an_unknown_level_is_held_to_stable_notice(tmp_path: Path) -> None:
    # 2026-07-02 is 31 days away: enough for beta, not for stable (180), nor for "ga".
    sunset = {"deprecated": True, "x-sunset": "2026-07-02"}
    assert found(tmp_path / "beta", level("beta"), level("beta", **sunset)) == {
        ("operation-deprecated", Level.INFO)
    }
    assert found(tmp_path / "ga", level("ga"), level("ga", **sunset)) == {
        ("operation-sunset-too-soon", Level.ERROR)
    }


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ("stable", "beta", "operation-stability-decreased"),
        ("stable", "draft", "operation-stability-decreased"),
        ("alpha", "draft", "operation-stability-decreased"),
        ("draft", "stable", "operation-stability-increased"),
        ("beta", "stable", "operation-stability-increased"),
    ],
)
def test_diff_stability_moves_one_way_or_the_other(
    tmp_path: Path, before: str, after: str, expected: str
) -> None:
    """oasdiff's `api-stability-decreased` (error) and `...-increased` (info)."""
    wanted = Level.ERROR if expected.endswith("decreased") else Level.INFO
    assert found(tmp_path, level(before), level(after)) == {(expected, wanted)}

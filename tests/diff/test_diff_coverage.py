"""The issue's coverage list, item by item, where a catalogue example alone does not show it.

Each expectation is worked out by hand from what a client sends or receives on each side.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from diff_support import TODAY, changes_between

from apigov.diff.catalogue import ok_response, one_operation, operation
from apigov.findings import Level

S: dict[str, Any] = {"type": "string"}


def found(tmp_path: Path, base: Any, head: Any) -> set[tuple[str, Level]]:
    return {(c.id, c.level) for c in changes_between(tmp_path, base, head)}


def with_query_operation(max_length: int | None) -> str:
    """An OpenAPI 3.2 document; `max_length` None: no QUERY operation at all."""
    query = (
        ""
        if max_length is None
        else f"""
    query:
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              properties:
                text: {{type: string, maxLength: {max_length}}}
      responses:
        "200": {{description: ok}}"""
    )
    return f"""openapi: 3.2.0
info: {{title: search, version: 1.0.0}}
paths:
  /search:
    get:
      responses:
        "200": {{description: ok}}{query}
"""


def test_diff_the_query_method_of_openapi_3_2_is_an_operation(tmp_path: Path) -> None:
    changes = changes_between(tmp_path, with_query_operation(None), with_query_operation(10))
    assert [(c.id, c.operation) for c in changes] == [("operation-added", "QUERY /search")]
    # Its request body is compared like any other: shorter text rejects what was sent.
    tighter = changes_between(tmp_path / "2", with_query_operation(10), with_query_operation(5))
    assert [(c.id, c.level, c.operation) for c in tighter] == [
        ("request-property-max-length-decreased", Level.ERROR, "QUERY /search")
    ]


def deprecated_query_parameter(sunset: str | None) -> dict[str, Any]:
    param: dict[str, Any] = {"name": "q", "in": "query", "schema": S, "deprecated": True}
    if sunset is not None:
        param["x-sunset"] = sunset
    return one_operation(operation(parameters=[param]))


def test_diff_a_parameter_removed_after_its_sunset_is_expected(tmp_path: Path) -> None:
    bare = one_operation(operation())
    # The tests' today is 2026-06-01: a day after the sunset, the announced removal is due.
    assert TODAY.isoformat() == "2026-06-01"
    assert found(tmp_path, deprecated_query_parameter("2026-05-31"), bare) == {
        ("request-parameter-removed-after-sunset", Level.INFO)
    }
    # Before its sunset (or without one) clients may still send it.
    assert found(tmp_path / "early", deprecated_query_parameter("2026-06-02"), bare) == {
        ("request-query-parameter-removed", Level.WARNING)
    }
    assert found(tmp_path / "none", deprecated_query_parameter(None), bare) == {
        ("request-query-parameter-removed", Level.WARNING)
    }


def test_diff_a_media_type_without_schema_accepts_anything(tmp_path: Path) -> None:
    def doc(media: dict[str, Any]) -> dict[str, Any]:
        return one_operation(
            operation(
                requestBody={"content": {"application/json": media}},
                responses={"200": {"description": "ok", "content": {"application/json": media}}},
            )
        )

    # A request body that took any JSON now takes only strings; a response that could hold
    # anything now says it holds a string.
    assert found(tmp_path, doc({}), doc({"schema": S})) == {
        ("request-body-media-type-schema-added", Level.ERROR),
        ("response-media-type-schema-added", Level.INFO),
    }
    assert found(tmp_path / "back", doc({"schema": S}), doc({})) == {
        ("request-body-media-type-schema-removed", Level.INFO),
        ("response-media-type-schema-removed", Level.WARNING),
    }


def oauth(scopes: dict[str, str], required: list[str]) -> dict[str, Any]:
    flows = {"clientCredentials": {"tokenUrl": "https://auth.example.test/t", "scopes": scopes}}
    doc = one_operation(operation(security=[{"oauth": required}]))
    doc["components"] = {"securitySchemes": {"oauth": {"type": "oauth2", "flows": flows}}}
    return doc


def test_diff_oauth_scopes_defined_and_required(tmp_path: Path) -> None:
    base = oauth({"read": "r", "write": "w"}, ["read"])
    # The scheme drops "write" (clients asking for it get no token) and the operation now
    # needs "write"... which no longer exists: both are reported.
    head = oauth({"read": "r"}, ["read", "write"])
    assert found(tmp_path, base, head) == {
        ("security-scheme-oauth-scope-removed", Level.WARNING),
        ("operation-security-scope-added", Level.ERROR),
    }


def test_diff_discriminator_mapping_names_are_compared(tmp_path: Path) -> None:
    cat = {"type": "object", "properties": {"kind": S, "meow": S}}
    dog = {"type": "object", "properties": {"kind": S, "bark": S}}

    def doc(mapping: dict[str, str]) -> dict[str, Any]:
        schema = {
            "oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
            "discriminator": {"propertyName": "kind", "mapping": mapping},
        }
        op = operation(
            requestBody={"content": {"application/json": {"schema": schema}}},
            responses={"200": ok_response(schema)},
        )
        return one_operation(op, components={"schemas": {"Cat": cat, "Dog": dog}})

    base = doc({"cat": "#/components/schemas/Cat"})
    head = doc({"cat": "#/components/schemas/Cat", "dog": "#/components/schemas/Dog"})
    # A new name clients may send (fine) and may receive without knowing it (may break).
    assert found(tmp_path, base, head) == {
        ("request-body-discriminator-mapping-added", Level.INFO),
        ("response-body-discriminator-mapping-added", Level.WARNING),
    }


def test_diff_servers_of_a_path_item_override_the_documents(tmp_path: Path) -> None:
    a, b = {"url": "https://a.example.test"}, {"url": "https://b.example.test"}
    base = one_operation(operation(), method="get", servers=[a])
    head = one_operation(operation(), method="get", servers=[a])
    head["paths"]["/items"]["servers"] = [b]
    # GET /items moved from a (the document's) to b (its path's); the document's list did not
    # change, so nothing is reported API-wide.
    changes = changes_between(tmp_path, base, head)
    assert sorted((c.id, c.level, c.operation, c.message) for c in changes) == [
        (
            "operation-server-added",
            Level.INFO,
            "GET /items",
            "server https://b.example.test added",
        ),
        (
            "operation-server-removed",
            Level.WARNING,
            "GET /items",
            "server https://a.example.test removed",
        ),
    ]


def test_diff_a_property_removed_after_its_sunset_is_expected(tmp_path: Path) -> None:
    def doc(email: dict[str, Any] | None) -> dict[str, Any]:
        properties: dict[str, Any] = {"id": S}
        if email is not None:
            properties["email"] = email
        schema = {"type": "object", "properties": properties}
        return one_operation(operation(responses={"200": ok_response(schema)}), method="get")

    past = {**S, "deprecated": True, "x-sunset": "2026-05-01"}
    assert found(tmp_path, doc(past), doc(None)) == {
        ("response-property-removed-after-sunset", Level.INFO)
    }
    # A month before its sunset, clients may still read it.
    future = {**S, "deprecated": True, "x-sunset": "2026-07-01"}
    assert found(tmp_path / "early", doc(future), doc(None)) == {
        ("response-optional-property-removed", Level.WARNING)
    }

"""The document schema rules check a document first for validity alone and list errors only
for one that fails: a failing document must still give every error, in order, and a passing
one none."""

from __future__ import annotations

from typing import Any

from apigov.lint.context import FunctionContext, Result
from apigov.lint.functions.oas import document_schema


def _check(document: dict[str, Any], formats: set[str]) -> list[Result]:
    context = FunctionContext(document=document, path=(), formats=frozenset(formats))
    return list(document_schema(document, None, context) or [])


def _oas30(paths: dict[str, Any]) -> dict[str, Any]:
    return {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": paths}


def test_a_valid_document_gives_nothing() -> None:
    ok = {"get": {"responses": {"200": {"description": "ok"}}}}
    assert _check(_oas30({"/a": ok}), {"oas3", "oas3_0"}) == []
    swagger = {"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {"/a": ok}}
    assert _check(swagger, {"oas2"}) == []


def test_every_error_of_a_failing_document_in_document_order() -> None:
    paths = {
        # the first error a validity check stops at
        "/a": {"get": {"responses": {"200": {"description": "ok"}}, "x": 1}},
        "/b": {"post": {"description": "no responses"}},
    }
    found = _check(_oas30(paths), {"oas3", "oas3_0"})
    assert [result.path for result in found] == [
        ("paths", "/a", "get", "x"),
        ("paths", "/b", "post"),
    ]
    assert "'x' was unexpected" in found[0].message
    assert found[1].message == '"responses" is a required property'


def test_schema_objects_of_a_31_document_are_checked_when_the_document_passes() -> None:
    document = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "components": {"schemas": {"Bad": {"type": 5}}},
    }
    found = _check(document, {"oas3", "oas3_1"})
    assert [result.path for result in found] == [("components", "schemas", "Bad", "type")]

"""The catalogue of change ids, as data: one `Check` per id, most of them generated in families.

A schema family is one keyword action (e.g. "max-length-decreased") crossed with the places a
schema can sit (request body, request property, request parameter, response body, response
property, response header). The level depends only on the direction: tightening what a client may
send and loosening what a client may receive are the breaking directions. Each entry carries a
minimal base/head example (an OpenAPI 3.0 document pair) that the test suite runs.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from msgspec import Struct

from apigov.diff.keywords import NESTED_SCHEMA_KEYWORDS, OPAQUE_KEYWORDS
from apigov.findings import Level

E, W, I = Level.ERROR, Level.WARNING, Level.INFO  # noqa: E741 - the levels' initials

Json = dict[str, Any]


class Check(Struct, frozen=True):
    """One change id: its default level, what it means, and an example pair that triggers it.

    The example documents are built when asked for (`base`, `head`): a diff run needs only
    the levels, and building some 700 example pairs would add to every run's start-up.
    """

    id: str
    level: Level
    doc: str
    area: str
    example: Callable[[], tuple[Json, Json]]

    @property
    def base(self) -> Json:
        return self.example()[0]

    @property
    def head(self) -> Json:
        return self.example()[1]

    def to_dict(self) -> Json:
        return {"id": self.id, "level": self.level.value, "area": self.area, "doc": self.doc}


# ---- example documents -------------------------------------------------------------------------


def document(paths: Json | None = None, **top: Any) -> Json:
    """A minimal valid OpenAPI 3.0 document with the given paths and top-level keys."""
    doc: Json = {"openapi": "3.0.3", "info": {"title": "Example", "version": "1.0.0"}}
    doc["paths"] = paths if paths is not None else {}
    doc.update(top)
    return doc


def ok_response(schema: Json | None = None, headers: Json | None = None) -> Json:
    response: Json = {"description": "ok"}
    if schema is not None:
        response["content"] = {"application/json": {"schema": schema}}
    if headers is not None:
        response["headers"] = headers
    return response


def operation(**fields: Any) -> Json:
    op: Json = {"responses": {"200": ok_response()}}
    op.update(fields)
    return op


def one_operation(op: Json, path: str = "/items", method: str = "post", **top: Any) -> Json:
    return document({path: {method: op}}, **top)


# Where a schema sits, and how to build an example document with a schema there.
SCHEMA_PLACES: dict[str, str] = {
    "request-body": "request",
    "request-property": "request",
    "request-parameter": "request",
    "response-body": "response",
    "response-property": "response",
    "response-header": "response",
}


def place_schema(place: str, schema: Json) -> Json:
    schema = copy.deepcopy(schema)
    if place.endswith("-property"):
        schema = {"type": "object", "properties": {"value": schema}}
    if place == "request-parameter":
        return one_operation(operation(parameters=[{"name": "q", "in": "query", "schema": schema}]))
    if place == "response-header":
        return one_operation(
            operation(responses={"200": ok_response(headers={"X-Value": {"schema": schema}})})
        )
    if place.startswith("request"):
        body = {"content": {"application/json": {"schema": schema}}}
        return one_operation(operation(requestBody=body))
    return one_operation(operation(responses={"200": ok_response(schema)}))


# ---- schema keyword families -------------------------------------------------------------------


class SchemaAction(Struct, frozen=True):
    """One keyword action: levels per direction and a base/head schema pair showing it."""

    action: str
    request: Level
    response: Level
    doc: str
    base: Json
    head: Json
    places: tuple[str, ...] = tuple(SCHEMA_PLACES)


def _bound_family(keyword: str, name: str, low: int, high: int, upper: bool) -> list[SchemaAction]:
    """min*/max* keywords: added, removed, increased, decreased, each levelled by direction.

    For an upper bound, decreasing or adding tightens; for a lower bound, increasing or adding.
    """
    kind = {"maxLength": "string", "minLength": "string", "maxItems": "array"}.get(keyword)
    if keyword in ("maxContains", "minContains"):
        kind = "array"
    kind = kind or {"minItems": "array", "maxProperties": "object", "minProperties": "object"}.get(
        keyword, "integer"
    )
    base: Json = {"type": kind}
    if kind == "array":
        base["items"] = {"type": "string"}
    tighten, loosen = (f"{name}-decreased", f"{name}-increased")
    if not upper:
        tighten, loosen = loosen, tighten
    tight_value, loose_value = (low, high) if upper else (high, low)
    return [
        SchemaAction(
            f"{name}-added",
            E,
            I,
            f"`{keyword}` was added",
            base,
            {**base, keyword: tight_value},
        ),
        SchemaAction(
            f"{name}-removed",
            I,
            E,
            f"`{keyword}` was removed",
            {**base, keyword: tight_value},
            base,
        ),
        SchemaAction(
            tighten,
            E,
            I,
            f"`{keyword}` was {'decreased' if upper else 'increased'} (narrower range)",
            {**base, keyword: loose_value},
            {**base, keyword: tight_value},
        ),
        SchemaAction(
            loosen,
            I,
            E,
            f"`{keyword}` was {'increased' if upper else 'decreased'} (wider range)",
            {**base, keyword: tight_value},
            {**base, keyword: loose_value},
        ),
    ]


S: Json = {"type": "string"}
OBJ_AB: Json = {"type": "object", "properties": {"a": S, "b": S}}
# Discriminator mappings (name -> schema reference; the examples need not resolve them).
_MAP_X: Json = {"x": "#/components/schemas/X"}
_MAP_XY: Json = {**_MAP_X, "y": "#/components/schemas/Y"}
_MAP_X2: Json = {"x": "#/components/schemas/X2"}

SCHEMA_ACTIONS: list[SchemaAction] = [
    # integer to boolean, not string to boolean: parameters and headers travel as text, where
    # a string accepts the text of a boolean (so that is a narrowing there).
    SchemaAction(
        "type-changed", E, E, "the type changed", {"type": "integer"}, {"type": "boolean"}
    ),
    SchemaAction(
        "type-widened",
        I,
        E,
        "the type accepts more values (e.g. integer to number)",
        {"type": "integer"},
        {"type": "number"},
    ),
    SchemaAction(
        "type-narrowed",
        E,
        I,
        "the type accepts fewer values (e.g. number to integer)",
        {"type": "number"},
        {"type": "integer"},
    ),
    SchemaAction("format-added", E, I, "`format` was added", S, {**S, "format": "uuid"}),
    SchemaAction("format-removed", I, E, "`format` was removed", {**S, "format": "uuid"}, S),
    SchemaAction(
        "format-changed",
        E,
        E,
        "`format` changed",
        {**S, "format": "uuid"},
        {**S, "format": "email"},
    ),
    SchemaAction(
        "became-nullable",
        I,
        E,
        "null became an accepted value",
        S,
        {**S, "nullable": True},
    ),
    SchemaAction(
        "became-not-nullable",
        E,
        I,
        "null is no longer accepted",
        {**S, "nullable": True},
        S,
    ),
    SchemaAction("enum-added", E, I, "an `enum` restriction was added", S, {**S, "enum": ["a"]}),
    SchemaAction(
        "enum-removed", I, E, "the `enum` restriction was removed", {**S, "enum": ["a"]}, S
    ),
    SchemaAction(
        "enum-value-added",
        I,
        W,
        "a value was added to `enum` (clients may not know it)",
        {**S, "enum": ["a"]},
        {**S, "enum": ["a", "b"]},
    ),
    SchemaAction(
        "enum-value-removed",
        E,
        I,
        "a value was removed from `enum`",
        {**S, "enum": ["a", "b"]},
        {**S, "enum": ["a"]},
    ),
    SchemaAction("const-added", E, I, "`const` was added", S, {**S, "const": "a"}),
    SchemaAction("const-removed", I, E, "`const` was removed", {**S, "const": "a"}, S),
    SchemaAction(
        "const-changed", E, E, "`const` changed", {**S, "const": "a"}, {**S, "const": "b"}
    ),
    # Like any other new constraint, a new pattern rejects values that were accepted before.
    SchemaAction("pattern-added", E, I, "`pattern` was added", S, {**S, "pattern": "^[a-z]+$"}),
    SchemaAction("pattern-removed", I, W, "`pattern` was removed", {**S, "pattern": "^[a-z]+$"}, S),
    SchemaAction(
        "pattern-changed",
        W,
        W,
        "`pattern` changed",
        {**S, "pattern": "^[a-z]+$"},
        {**S, "pattern": "^[0-9]+$"},
    ),
    SchemaAction(
        "multiple-of-added",
        E,
        I,
        "`multipleOf` was added",
        {"type": "integer"},
        {"type": "integer", "multipleOf": 2},
    ),
    SchemaAction(
        "multiple-of-removed",
        I,
        E,
        "`multipleOf` was removed",
        {"type": "integer", "multipleOf": 2},
        {"type": "integer"},
    ),
    SchemaAction(
        "multiple-of-changed",
        E,
        E,
        "`multipleOf` changed",
        {"type": "integer", "multipleOf": 2},
        {"type": "integer", "multipleOf": 3},
    ),
    *_bound_family("maximum", "max", 5, 10, upper=True),
    *_bound_family("minimum", "min", 1, 5, upper=False),
    *_bound_family("maxLength", "max-length", 5, 10, upper=True),
    *_bound_family("minLength", "min-length", 1, 5, upper=False),
    *_bound_family("maxItems", "max-items", 5, 10, upper=True),
    *_bound_family("minItems", "min-items", 1, 5, upper=False),
    *_bound_family("maxProperties", "max-properties", 5, 10, upper=True),
    *_bound_family("minProperties", "min-properties", 1, 5, upper=False),
    SchemaAction(
        "max-became-exclusive",
        E,
        I,
        "the maximum itself is no longer allowed",
        {"type": "integer", "maximum": 5},
        {"type": "integer", "maximum": 5, "exclusiveMaximum": True},
    ),
    SchemaAction(
        "max-became-inclusive",
        I,
        E,
        "the maximum itself became allowed",
        {"type": "integer", "maximum": 5, "exclusiveMaximum": True},
        {"type": "integer", "maximum": 5},
    ),
    SchemaAction(
        "min-became-exclusive",
        E,
        I,
        "the minimum itself is no longer allowed",
        {"type": "integer", "minimum": 5},
        {"type": "integer", "minimum": 5, "exclusiveMinimum": True},
    ),
    SchemaAction(
        "min-became-inclusive",
        I,
        E,
        "the minimum itself became allowed",
        {"type": "integer", "minimum": 5, "exclusiveMinimum": True},
        {"type": "integer", "minimum": 5},
    ),
    SchemaAction(
        "unique-items-added",
        E,
        I,
        "`uniqueItems` became true",
        {"type": "array", "items": S},
        {"type": "array", "items": S, "uniqueItems": True},
    ),
    SchemaAction(
        "unique-items-removed",
        I,
        E,
        "`uniqueItems` is no longer true",
        {"type": "array", "items": S, "uniqueItems": True},
        {"type": "array", "items": S},
    ),
    SchemaAction(
        "additional-properties-restricted",
        E,
        I,
        "additional properties are no longer allowed",
        {"type": "object"},
        {"type": "object", "additionalProperties": False},
    ),
    SchemaAction(
        "additional-properties-allowed",
        I,
        W,
        "additional properties became allowed",
        {"type": "object", "additionalProperties": False},
        {"type": "object"},
    ),
    SchemaAction("default-added", I, I, "a `default` was added", S, {**S, "default": "a"}),
    SchemaAction("default-removed", W, I, "the `default` was removed", {**S, "default": "a"}, S),
    SchemaAction(
        "default-changed",
        W,
        I,
        "the `default` changed",
        {**S, "default": "a"},
        {**S, "default": "b"},
    ),
    SchemaAction(
        "one-of-added",
        I,
        E,
        "a `oneOf` alternative was added",
        {"oneOf": [S]},
        {"oneOf": [S, {"type": "integer"}]},
    ),
    SchemaAction(
        "one-of-removed",
        E,
        I,
        "a `oneOf` alternative was removed",
        {"oneOf": [S, {"type": "integer"}]},
        {"oneOf": [S]},
    ),
    SchemaAction(
        "one-of-became-ambiguous",
        E,
        W,
        "a `oneOf` alternative was added that may match the values of another one "
        "(oneOf rejects a value matching two)",
        {"oneOf": [S]},
        {"oneOf": [S, {**S, "maxLength": 5}]},
    ),
    SchemaAction(
        "any-of-added",
        I,
        E,
        "an `anyOf` alternative was added",
        {"anyOf": [S]},
        {"anyOf": [S, {"type": "integer"}]},
    ),
    SchemaAction(
        "any-of-removed",
        E,
        I,
        "an `anyOf` alternative was removed",
        {"anyOf": [S, {"type": "integer"}]},
        {"anyOf": [S]},
    ),
    SchemaAction(
        "discriminator-added",
        W,
        W,
        "a `discriminator` was added",
        {"oneOf": [OBJ_AB]},
        {"oneOf": [OBJ_AB], "discriminator": {"propertyName": "a"}},
    ),
    SchemaAction(
        "discriminator-removed",
        W,
        W,
        "the `discriminator` was removed",
        {"oneOf": [OBJ_AB], "discriminator": {"propertyName": "a"}},
        {"oneOf": [OBJ_AB]},
    ),
    SchemaAction(
        "discriminator-property-changed",
        E,
        E,
        "the discriminator's `propertyName` changed",
        {"oneOf": [OBJ_AB], "discriminator": {"propertyName": "a"}},
        {"oneOf": [OBJ_AB], "discriminator": {"propertyName": "b"}},
    ),
    SchemaAction(
        "discriminator-mapping-added",
        I,
        W,
        "a name was added to the discriminator's `mapping` (clients may not know it)",
        {"oneOf": [OBJ_AB], "discriminator": {"propertyName": "a", "mapping": _MAP_X}},
        {"oneOf": [OBJ_AB], "discriminator": {"propertyName": "a", "mapping": _MAP_XY}},
    ),
    SchemaAction(
        "discriminator-mapping-removed",
        W,
        I,
        "a name was removed from the discriminator's `mapping` (values using it are refused "
        "unless a schema has that name)",
        {"oneOf": [OBJ_AB], "discriminator": {"propertyName": "a", "mapping": _MAP_XY}},
        {"oneOf": [OBJ_AB], "discriminator": {"propertyName": "a", "mapping": _MAP_X}},
    ),
    SchemaAction(
        "discriminator-mapping-changed",
        W,
        W,
        "a discriminator name now maps to another schema (whose differences are reported "
        "with the alternatives)",
        {"oneOf": [OBJ_AB], "discriminator": {"propertyName": "a", "mapping": _MAP_X}},
        {"oneOf": [OBJ_AB], "discriminator": {"propertyName": "a", "mapping": _MAP_X2}},
    ),
    SchemaAction(
        "became-deprecated",
        I,
        I,
        "the schema was marked deprecated",
        S,
        # With a sunset date: a property deprecated without one is reported as such.
        {**S, "deprecated": True, "x-sunset": "2999-01-01"},
    ),
    SchemaAction(
        "deprecation-removed",
        I,
        I,
        "the schema is no longer deprecated",
        {**S, "deprecated": True},
        S,
    ),
]


def _opaque_family(keyword: str, family: str, first: Any, second: Any) -> list[SchemaAction]:
    base: Json = {}
    actions = [
        SchemaAction(f"{family}-added", E, I, f"`{keyword}` was added", base, {keyword: first}),
        SchemaAction(f"{family}-removed", I, E, f"`{keyword}` was removed", {keyword: first}, base),
    ]
    if keyword == "x-extensible-enum":
        # A list of the values known today, open to others: compared value by value.
        return [
            *actions,
            SchemaAction(
                f"{family}-value-added",
                I,
                I,
                f"a value was added to `{keyword}` (clients must accept unknown values anyway)",
                {keyword: second},
                {keyword: first},
            ),
            SchemaAction(
                f"{family}-value-removed",
                E,
                I,
                f"a value was removed from `{keyword}`",
                {keyword: first},
                {keyword: second},
            ),
        ]
    if not (keyword in NESTED_SCHEMA_KEYWORDS and isinstance(first, dict)):
        # `then`/`else` under the same `if` are compared keyword by keyword: they change as a
        # whole when the condition changes too.
        condition: tuple[Json, Json] = (
            ({"if": {"required": ["a"]}}, {"if": {"required": ["x"]}})
            if keyword in ("then", "else")
            else ({}, {})
        )
        actions.append(
            SchemaAction(
                f"{family}-changed",
                E,
                E,
                f"`{keyword}` changed",
                {**condition[0], keyword: first},
                {**condition[1], keyword: second},
            )
        )
    return actions


SCHEMA_ACTIONS.extend(
    action
    for keyword, (family, first, second) in OPAQUE_KEYWORDS.items()
    for action in _opaque_family(keyword, family, first, second)
)
SCHEMA_ACTIONS.extend(
    [
        *_bound_family("maxContains", "max-contains", 2, 4, upper=True),
        *_bound_family("minContains", "min-contains", 1, 3, upper=False),
    ]
)

# Property existence and requiredness: they concern the object holding the property, so they
# exist once per direction ("request-property-...", "response-property-...").
_PROPERTY_ACTIONS: list[tuple[str, Level, Level, str, Json, Json]] = [
    (
        "required-property-added",
        E,
        I,
        "a required property was added",
        {"type": "object", "properties": {"a": S}},
        {"type": "object", "properties": {"a": S, "b": S}, "required": ["b"]},
    ),
    (
        "optional-property-added",
        I,
        I,
        "an optional property was added",
        {"type": "object", "properties": {"a": S}},
        OBJ_AB,
    ),
    (
        "required-property-removed",
        W,
        E,
        "a required property was removed",
        {**OBJ_AB, "required": ["b"]},
        {"type": "object", "properties": {"a": S}},
    ),
    (
        "optional-property-removed",
        W,
        W,
        "an optional property was removed",
        OBJ_AB,
        {"type": "object", "properties": {"a": S}},
    ),
    (
        "property-became-required",
        E,
        I,
        "a property became required",
        OBJ_AB,
        {**OBJ_AB, "required": ["b"]},
    ),
    (
        "property-became-optional",
        I,
        E,
        "a property is no longer required",
        {**OBJ_AB, "required": ["b"]},
        OBJ_AB,
    ),
    (
        "property-removed-after-sunset",
        I,
        I,
        "a deprecated property was removed after its `x-sunset` date",
        {
            "type": "object",
            "properties": {"a": S, "b": {**S, "deprecated": True, "x-sunset": "2000-01-01"}},
        },
        {"type": "object", "properties": {"a": S}},
    ),
    (
        "property-deprecated-without-sunset",
        W,
        W,
        "a property was deprecated without an `x-sunset` date",
        OBJ_AB,
        {"type": "object", "properties": {"a": S, "b": {**S, "deprecated": True}}},
    ),
    (
        "property-sunset-too-soon",
        E,
        E,
        "a property was deprecated (or its `x-sunset` moved earlier) with less notice than the "
        "policy's `sunset-notice` asks for the operation's stability level",
        OBJ_AB,
        {
            "type": "object",
            "properties": {"a": S, "b": {**S, "deprecated": True, "x-sunset": "2000-01-01"}},
        },
    ),
    (
        "property-sunset-invalid",
        E,
        E,
        "a property was deprecated (or its `x-sunset` changed) with an `x-sunset` that is not "
        "a date: clients get no date",
        OBJ_AB,
        {
            "type": "object",
            "properties": {"a": S, "b": {**S, "deprecated": True, "x-sunset": "soon"}},
        },
    ),
    (
        "property-stability-decreased",
        E,
        E,
        "a property's `x-stability-level` moved towards draft (stable -> beta -> alpha -> draft)",
        {"type": "object", "properties": {"a": S, "b": {**S, "x-stability-level": "stable"}}},
        {"type": "object", "properties": {"a": S, "b": {**S, "x-stability-level": "beta"}}},
    ),
    (
        "property-stability-increased",
        I,
        I,
        "a property's `x-stability-level` moved towards stable",
        {"type": "object", "properties": {"a": S, "b": {**S, "x-stability-level": "alpha"}}},
        {"type": "object", "properties": {"a": S, "b": {**S, "x-stability-level": "stable"}}},
    ),
    (
        "property-became-read-only",
        W,
        I,
        "a property became readOnly (clients may no longer send it)",
        OBJ_AB,
        {"type": "object", "properties": {"a": S, "b": {**S, "readOnly": True}}},
    ),
    (
        "property-became-write-only",
        I,
        E,
        "a property became writeOnly (no longer returned)",
        OBJ_AB,
        {"type": "object", "properties": {"a": S, "b": {**S, "writeOnly": True}}},
    ),
]


# readOnly matters only to what clients send, writeOnly only to what they receive.
_ONLY_DIRECTION = {
    "property-became-read-only": "request",
    "property-became-write-only": "response",
}


def schema_id(place: str, action: str) -> str:
    return f"{place}-{action}"


def property_id(direction: str, action: str) -> str:
    return f"{direction}-{action}"


# ---- operation-level checks ---------------------------------------------------------------------

_PARAM: Json = {"name": "q", "in": "query", "schema": S}
_BODY: Json = {"content": {"application/json": {"schema": S}}}


def _op_pair(base: Json, head: Json) -> tuple[Json, Json]:
    return one_operation(operation(**base)), one_operation(operation(**head))


def _structural() -> Iterator[tuple[str, Level, str, str, Json, Json]]:
    """(id, level, area, doc, base, head) for everything that is not a schema keyword."""
    get_op = {"/items": {"get": operation()}}
    two = {"/items": {"get": operation(), "post": operation()}}
    yield ("path-added", I, "paths", "a path was added", document({}), document(get_op))
    yield (
        "path-removed",
        E,
        "paths",
        "a path was removed (with every operation under it)",
        document(get_op),
        document({}),
    )
    yield (
        "operation-added",
        I,
        "operations",
        "an operation was added to an existing path",
        document(get_op),
        document(two),
    )
    yield (
        "operation-removed",
        E,
        "operations",
        "an operation was removed from a path that remains",
        document(two),
        document(get_op),
    )
    deprecated_past = {"deprecated": True, "x-sunset": "2000-01-01"}
    deprecated_future = {"deprecated": True, "x-sunset": "2999-01-01"}
    yield (
        "operation-removed-after-sunset",
        I,
        "operations",
        "a deprecated operation was removed after its sunset date",
        document({"/items": {"get": operation(), "post": operation(**deprecated_past)}}),
        document(get_op),
    )
    yield (
        "operation-removed-before-sunset",
        E,
        "operations",
        "a deprecated operation was removed before its sunset date",
        document({"/items": {"get": operation(), "post": operation(**deprecated_future)}}),
        document(get_op),
    )
    yield (
        "operation-deprecated",
        I,
        "deprecation",
        "an operation was deprecated, with a sunset date",
        *_op_pair({}, deprecated_future),
    )
    yield (
        "operation-deprecated-without-sunset",
        W,
        "deprecation",
        "an operation was deprecated without an `x-sunset` date",
        *_op_pair({}, {"deprecated": True}),
    )
    yield (
        "operation-sunset-too-soon",
        E,
        "deprecation",
        "an operation was deprecated (or its `x-sunset` moved earlier) with less notice than "
        "the policy's `sunset-notice` asks for its stability level",
        *_op_pair({}, deprecated_past),
    )
    yield (
        "operation-sunset-invalid",
        E,
        "deprecation",
        "an operation was deprecated (or its `x-sunset` changed) with an `x-sunset` that is not "
        "a date: clients get no date",
        *_op_pair({}, {"deprecated": True, "x-sunset": "soon"}),
    )
    yield (
        "operation-reactivated",
        I,
        "deprecation",
        "an operation is no longer deprecated",
        *_op_pair({"deprecated": True}, {}),
    )
    yield (
        "operation-sunset-changed",
        W,
        "deprecation",
        "an operation's sunset date changed",
        *_op_pair(deprecated_future, {"deprecated": True, "x-sunset": "2998-01-01"}),
    )
    yield (
        "operation-stability-decreased",
        E,
        "deprecation",
        "`x-stability-level` moved towards draft (stable -> beta -> alpha -> draft)",
        *_op_pair({"x-stability-level": "stable"}, {"x-stability-level": "beta"}),
    )
    yield (
        "operation-stability-level-invalid",
        E,
        "deprecation",
        "`x-stability-level` was set to a value that is not draft, alpha, beta or stable "
        "(the sunset notice then counts it as stable)",
        *_op_pair({}, {"x-stability-level": "ga"}),
    )
    yield (
        "operation-stability-increased",
        I,
        "deprecation",
        "`x-stability-level` moved towards stable",
        *_op_pair({"x-stability-level": "beta"}, {"x-stability-level": "stable"}),
    )
    yield (
        "operation-id-changed",
        W,
        "operations",
        "the operationId changed (generated clients rename the method)",
        *_op_pair({"operationId": "a"}, {"operationId": "b"}),
    )
    yield (
        "operation-id-added",
        I,
        "operations",
        "an operationId was added",
        *_op_pair({}, {"operationId": "a"}),
    )
    yield (
        "operation-id-removed",
        W,
        "operations",
        "the operationId was removed",
        *_op_pair({"operationId": "a"}, {}),
    )
    yield (
        "operation-tag-added",
        I,
        "operations",
        "a tag was added to an operation",
        *_op_pair({}, {"tags": ["a"]}),
    )
    yield (
        "operation-tag-removed",
        I,
        "operations",
        "a tag was removed from an operation",
        *_op_pair({"tags": ["a"]}, {}),
    )
    yield (
        "operation-summary-changed",
        I,
        "operations",
        "the summary changed",
        *_op_pair({"summary": "a"}, {"summary": "b"}),
    )
    yield (
        "operation-description-changed",
        I,
        "operations",
        "the description changed",
        *_op_pair({"description": "a"}, {"description": "b"}),
    )
    # Parameters.
    for where in ("path", "query", "header", "cookie"):
        param: Json = {"name": "p", "in": where, "schema": S}
        if where == "path":
            # Path parameters are always required; adding or removing one changes the path.
            continue
        yield (
            f"new-required-request-{where}-parameter",
            E,
            "parameters",
            f"a required {where} parameter was added",
            *_op_pair({}, {"parameters": [{**param, "required": True}]}),
        )
        yield (
            f"new-optional-request-{where}-parameter",
            I,
            "parameters",
            f"an optional {where} parameter was added",
            *_op_pair({}, {"parameters": [param]}),
        )
        yield (
            f"request-{where}-parameter-removed",
            W,
            "parameters",
            f"a {where} parameter was removed (clients still sending it may be rejected)",
            *_op_pair({"parameters": [param]}, {}),
        )
        yield (
            f"request-{where}-parameter-became-required",
            E,
            "parameters",
            f"a {where} parameter became required",
            *_op_pair({"parameters": [param]}, {"parameters": [{**param, "required": True}]}),
        )
        yield (
            f"request-{where}-parameter-became-optional",
            I,
            "parameters",
            f"a {where} parameter is no longer required",
            *_op_pair({"parameters": [{**param, "required": True}]}, {"parameters": [param]}),
        )
        yield (
            f"request-{where}-parameter-style-changed",
            E,
            "parameters",
            f"a {where} parameter's serialisation `style` changed",
            *_op_pair(
                {"parameters": [{**param, "style": _styles(where)[0]}]},
                {"parameters": [{**param, "style": _styles(where)[1]}]},
            ),
        )
        yield (
            f"request-{where}-parameter-explode-changed",
            E,
            "parameters",
            f"a {where} parameter's `explode` changed",
            *_op_pair(
                {"parameters": [{**param, "explode": True}]},
                {"parameters": [{**param, "explode": False}]},
            ),
        )
        yield (
            f"request-{where}-parameter-deprecated",
            I,
            "deprecation",
            f"a {where} parameter was deprecated, with a sunset date",
            *_op_pair({"parameters": [param]}, {"parameters": [{**param, **deprecated_future}]}),
        )
        yield (
            f"request-{where}-parameter-deprecated-without-sunset",
            W,
            "deprecation",
            f"a {where} parameter was deprecated without an `x-sunset` date",
            *_op_pair({"parameters": [param]}, {"parameters": [{**param, "deprecated": True}]}),
        )
        yield (
            f"request-{where}-parameter-reactivated",
            I,
            "deprecation",
            f"a {where} parameter is no longer deprecated",
            *_op_pair({"parameters": [{**param, "deprecated": True}]}, {"parameters": [param]}),
        )
    yield (
        "request-parameter-sunset-too-soon",
        E,
        "deprecation",
        "a query, header or cookie parameter was deprecated (or its `x-sunset` moved earlier) "
        "with less notice than the policy's `sunset-notice` asks for the operation's stability "
        "level",
        *_op_pair({"parameters": [_PARAM]}, {"parameters": [{**_PARAM, **deprecated_past}]}),
    )
    yield (
        "request-parameter-sunset-invalid",
        E,
        "deprecation",
        "a query, header or cookie parameter was deprecated (or its `x-sunset` changed) with an "
        "`x-sunset` that is not a date: clients get no date",
        *_op_pair(
            {"parameters": [_PARAM]},
            {"parameters": [{**_PARAM, "deprecated": True, "x-sunset": "soon"}]},
        ),
    )
    yield (
        "request-parameter-removed-after-sunset",
        I,
        "deprecation",
        "a deprecated query, header or cookie parameter was removed after its `x-sunset` date",
        *_op_pair({"parameters": [{**_PARAM, **deprecated_past}]}, {}),
    )
    yield (
        "request-path-parameter-removed",
        E,
        "parameters",
        "a path parameter was removed from an operation whose path remains",
        one_operation(
            operation(parameters=[{"name": "p", "in": "path", "required": True, "schema": S}]),
            path="/items/{p}",
        ),
        one_operation(operation(), path="/items/{p}"),
    )
    yield (
        "request-query-parameter-allow-empty-value-removed",
        E,
        "parameters",
        "a query parameter no longer allows an empty value",
        *_op_pair({"parameters": [{**_PARAM, "allowEmptyValue": True}]}, {"parameters": [_PARAM]}),
    )
    yield (
        "request-query-parameter-allow-empty-value-added",
        I,
        "parameters",
        "a query parameter now allows an empty value",
        *_op_pair({"parameters": [_PARAM]}, {"parameters": [{**_PARAM, "allowEmptyValue": True}]}),
    )
    # Request bodies.
    yield (
        "request-body-added-required",
        E,
        "request body",
        "a required request body was added",
        *_op_pair({}, {"requestBody": {**_BODY, "required": True}}),
    )
    yield (
        "request-body-added-optional",
        I,
        "request body",
        "an optional request body was added",
        *_op_pair({}, {"requestBody": _BODY}),
    )
    yield (
        "request-body-removed",
        W,
        "request body",
        "the request body was removed",
        *_op_pair({"requestBody": _BODY}, {}),
    )
    yield (
        "request-body-became-required",
        E,
        "request body",
        "the request body became required",
        *_op_pair({"requestBody": _BODY}, {"requestBody": {**_BODY, "required": True}}),
    )
    yield (
        "request-body-became-optional",
        I,
        "request body",
        "the request body is no longer required",
        *_op_pair({"requestBody": {**_BODY, "required": True}}, {"requestBody": _BODY}),
    )
    xml_body = {"content": {**_BODY["content"], "application/xml": {"schema": S}}}
    yield (
        "request-body-media-type-added",
        I,
        "request body",
        "the request body accepts another media type",
        *_op_pair({"requestBody": _BODY}, {"requestBody": xml_body}),
    )
    yield (
        "request-body-media-type-removed",
        E,
        "request body",
        "the request body no longer accepts a media type",
        *_op_pair({"requestBody": xml_body}, {"requestBody": _BODY}),
    )
    no_schema: Json = {"content": {"application/json": {}}}
    yield (
        "request-body-media-type-schema-added",
        E,
        "request body",
        "a media type of the request body got a schema (it accepted any content before)",
        *_op_pair({"requestBody": no_schema}, {"requestBody": _BODY}),
    )
    yield (
        "request-body-media-type-schema-removed",
        I,
        "request body",
        "a media type of the request body lost its schema (it accepts any content)",
        *_op_pair({"requestBody": _BODY}, {"requestBody": no_schema}),
    )
    # Responses.
    any_ok = {"responses": {"200": {"description": "ok", **no_schema}}}
    yield (
        "response-media-type-schema-added",
        I,
        "responses",
        "a response media type got a schema (clients learn what they receive)",
        *_op_pair(any_ok, {"responses": {"200": ok_response(S)}}),
    )
    yield (
        "response-media-type-schema-removed",
        W,
        "responses",
        "a response media type lost its schema (it may now hold anything)",
        *_op_pair({"responses": {"200": ok_response(S)}}, any_ok),
    )
    for kind, code in (("success", "201"), ("non-success", "404")):
        with_code = {"responses": {"200": ok_response(), code: ok_response()}}
        yield (
            f"response-{kind}-status-added",
            I if kind == "non-success" else W,
            "responses",
            f"a {kind} status code was added (clients may not handle it)",
            *_op_pair({}, with_code),
        )
        yield (
            f"response-{kind}-status-removed",
            E if kind == "success" else W,
            "responses",
            f"a {kind} status code was removed",
            *_op_pair(with_code, {}),
        )
    json_ok = {"responses": {"200": ok_response(S)}}
    both_ok = {
        "responses": {
            "200": {
                "description": "ok",
                "content": {"application/json": {"schema": S}, "application/xml": {"schema": S}},
            }
        }
    }
    yield (
        "response-media-type-added",
        I,
        "responses",
        "a response offers another media type",
        *_op_pair(json_ok, both_ok),
    )
    yield (
        "response-media-type-removed",
        E,
        "responses",
        "a response no longer offers a media type",
        *_op_pair(both_ok, json_ok),
    )
    header = {"X-Rate": {"schema": S}}
    yield (
        "response-header-added",
        I,
        "responses",
        "a response header was added",
        *_op_pair({}, {"responses": {"200": ok_response(headers=header)}}),
    )
    required_header = {"X-Rate": {"schema": S, "required": True}}
    yield (
        "response-required-header-removed",
        E,
        "responses",
        "a required response header was removed",
        *_op_pair({"responses": {"200": ok_response(headers=required_header)}}, {}),
    )
    yield (
        "response-optional-header-removed",
        W,
        "responses",
        "an optional response header was removed",
        *_op_pair({"responses": {"200": ok_response(headers=header)}}, {}),
    )
    yield (
        "response-header-became-optional",
        E,
        "responses",
        "a response header is no longer always sent",
        *_op_pair(
            {"responses": {"200": ok_response(headers=required_header)}},
            {"responses": {"200": ok_response(headers=header)}},
        ),
    )
    yield (
        "response-header-became-required",
        I,
        "responses",
        "a response header is now always sent",
        *_op_pair(
            {"responses": {"200": ok_response(headers=header)}},
            {"responses": {"200": ok_response(headers=required_header)}},
        ),
    )
    # Security.
    schemes: Json = {
        "securitySchemes": {
            "key": {"type": "apiKey", "in": "header", "name": "X-Key"},
            "oauth": {
                "type": "oauth2",
                "flows": {
                    "clientCredentials": {
                        "tokenUrl": "https://example.test/token",
                        "scopes": {"read": "read", "write": "write"},
                    }
                },
            },
        }
    }

    def secured(op_security: Any | None, **top: Any) -> Json:
        op = operation() if op_security is None else operation(security=op_security)
        return one_operation(op, components=copy.deepcopy(schemes), **top)

    yield (
        "operation-security-added",
        E,
        "security",
        "an operation now requires a security scheme",
        secured(None),
        secured([{"key": []}]),
    )
    yield (
        "operation-security-removed",
        I,
        "security",
        "an operation no longer requires a security scheme",
        secured([{"key": []}]),
        secured(None),
    )
    yield (
        "api-security-added",
        E,
        "security",
        "the whole API now requires a security scheme",
        secured(None),
        secured(None, security=[{"key": []}]),
    )
    yield (
        "api-security-removed",
        I,
        "security",
        "the whole API no longer requires a security scheme",
        secured(None, security=[{"key": []}]),
        secured(None),
    )
    for scope, doc_scope in (("api", "the whole API"), ("operation", "an operation")):
        if scope == "api":

            def with_security(requirement: Any) -> Json:
                return secured(None, security=requirement)
        else:

            def with_security(requirement: Any) -> Json:
                return secured(requirement)

        yield (
            f"{scope}-security-alternative-added",
            I,
            "security",
            f"{doc_scope} accepts another way to authenticate",
            with_security([{"key": []}]),
            with_security([{"key": []}, {"oauth": ["read"]}]),
        )
        yield (
            f"{scope}-security-alternative-removed",
            E,
            "security",
            f"{doc_scope} no longer accepts one way to authenticate",
            with_security([{"key": []}, {"oauth": ["read"]}]),
            with_security([{"key": []}]),
        )
        yield (
            f"{scope}-security-scope-added",
            E,
            "security",
            f"{doc_scope} requires another OAuth scope",
            with_security([{"oauth": ["read"]}]),
            with_security([{"oauth": ["read", "write"]}]),
        )
        yield (
            f"{scope}-security-scope-removed",
            I,
            "security",
            f"{doc_scope} requires one OAuth scope fewer",
            with_security([{"oauth": ["read", "write"]}]),
            with_security([{"oauth": ["read"]}]),
        )
    yield (
        "security-scheme-added",
        I,
        "security",
        "a security scheme was added to components",
        document({}),
        document({}, components=copy.deepcopy(schemes)),
    )
    yield (
        "security-scheme-removed",
        I,
        "security",
        "a security scheme was removed from components",
        document({}, components=copy.deepcopy(schemes)),
        document({}),
    )
    changed = copy.deepcopy(schemes)
    changed["securitySchemes"]["key"] = {"type": "http", "scheme": "bearer"}
    yield (
        "security-scheme-type-changed",
        E,
        "security",
        "a security scheme changed type",
        document({}, components=copy.deepcopy(schemes)),
        document({}, components=changed),
    )
    renamed = copy.deepcopy(schemes)
    renamed["securitySchemes"]["key"]["name"] = "X-Api-Key"
    yield (
        "security-scheme-api-key-changed",
        E,
        "security",
        "an API key scheme reads its key from another name or place",
        document({}, components=copy.deepcopy(schemes)),
        document({}, components=renamed),
    )
    moved = copy.deepcopy(schemes)
    moved["securitySchemes"]["oauth"]["flows"]["clientCredentials"]["tokenUrl"] = (
        "https://example.test/token2"
    )
    yield (
        "security-scheme-oauth-url-changed",
        W,
        "security",
        "an OAuth flow's URL changed",
        document({}, components=copy.deepcopy(schemes)),
        document({}, components=moved),
    )
    more_scopes = copy.deepcopy(schemes)
    more_scopes["securitySchemes"]["oauth"]["flows"]["clientCredentials"]["scopes"]["admin"] = "a"
    yield (
        "security-scheme-oauth-scope-added",
        I,
        "security",
        "an OAuth flow defines another scope",
        document({}, components=copy.deepcopy(schemes)),
        document({}, components=more_scopes),
    )
    yield (
        "security-scheme-oauth-scope-removed",
        W,
        "security",
        "an OAuth flow no longer defines a scope (clients asking for it get no token)",
        document({}, components=more_scopes),
        document({}, components=copy.deepcopy(schemes)),
    )
    # Webhooks (3.1) and callbacks.
    hook = {"orderCreated": {"post": operation()}}
    yield (
        "webhook-added",
        I,
        "webhooks",
        "a webhook was added",
        document({}, openapi="3.1.0"),
        document({}, openapi="3.1.0", webhooks=hook),
    )
    yield (
        "webhook-removed",
        E,
        "webhooks",
        "a webhook was removed (subscribers relying on it break)",
        document({}, openapi="3.1.0", webhooks=hook),
        document({}, openapi="3.1.0"),
    )
    callback = {"onDone": {"{$request.body#/url}": {"post": operation()}}}
    yield (
        "callback-added",
        I,
        "callbacks",
        "an operation got a callback",
        *_op_pair({}, {"callbacks": callback}),
    )
    yield (
        "callback-removed",
        E,
        "callbacks",
        "an operation's callback was removed",
        *_op_pair({"callbacks": callback}, {}),
    )
    # Servers and info.
    yield (
        "server-added",
        I,
        "servers",
        "a server URL was added",
        document({}, servers=[{"url": "https://a.example.test"}]),
        document(
            {}, servers=[{"url": "https://a.example.test"}, {"url": "https://b.example.test"}]
        ),
    )
    yield (
        "server-removed",
        W,
        "servers",
        "a server URL was removed (clients using it break)",
        document(
            {}, servers=[{"url": "https://a.example.test"}, {"url": "https://b.example.test"}]
        ),
        document({}, servers=[{"url": "https://a.example.test"}]),
    )
    one_server = [{"url": "https://a.example.test"}]
    two_servers = [*one_server, {"url": "https://b.example.test"}]
    yield (
        "operation-server-added",
        I,
        "servers",
        "an operation (or its path) is served at another server URL",
        *_op_pair({"servers": one_server}, {"servers": two_servers}),
    )
    yield (
        "operation-server-removed",
        W,
        "servers",
        "an operation (or its path) is no longer served at a server URL (clients using it break)",
        *_op_pair({"servers": two_servers}, {"servers": one_server}),
    )
    breaking_pair = _op_pair({}, {"parameters": [{**_PARAM, "required": True}]})
    yield (
        "api-version-not-bumped-for-breaking-change",
        W,
        "info",
        "breaking changes were found but the new `info.version` is not a new major version",
        breaking_pair[0],
        {**breaking_pair[1], "info": {"title": "Example", "version": "1.1.0"}},
    )
    yield (
        "api-version-decreased",
        W,
        "info",
        "`info.version` went down",
        document({}, info={"title": "Example", "version": "2.0.0"}),
        document({}, info={"title": "Example", "version": "1.0.0"}),
    )


def _styles(where: str) -> tuple[str, str]:
    return {
        "query": ("form", "pipeDelimited"),
        "header": ("simple", "form"),
        "cookie": ("form", "simple"),
    }[where]


def _given(base: Json, head: Json) -> Callable[[], tuple[Json, Json]]:
    return lambda: (copy.deepcopy(base), copy.deepcopy(head))


def _placed(place: str, base: Json, head: Json) -> Callable[[], tuple[Json, Json]]:
    return lambda: (place_schema(place, base), place_schema(place, head))


def _build() -> dict[str, Check]:
    checks: dict[str, Check] = {}

    def add(check: Check) -> None:
        if check.id in checks:
            raise AssertionError(f"duplicate change id {check.id}")
        checks[check.id] = check

    for cid, level, area, doc, base, head in _structural():
        add(Check(cid, level, doc, area, _given(base, head)))
    for action in SCHEMA_ACTIONS:
        for place in action.places:
            direction = SCHEMA_PLACES[place]
            level = action.request if direction == "request" else action.response
            where = place.replace("-", " ")
            add(
                Check(
                    schema_id(place, action.action),
                    level,
                    f"{where}: {action.doc}",
                    "schemas",
                    _placed(place, action.base, action.head),
                )
            )
    for name, request_level, response_level, doc, base_schema, head_schema in _PROPERTY_ACTIONS:
        for direction, level in (("request", request_level), ("response", response_level)):
            if _ONLY_DIRECTION.get(name, direction) != direction:
                continue
            place = f"{direction}-body"
            add(
                Check(
                    property_id(direction, name),
                    level,
                    f"{direction}: {doc}",
                    "schemas",
                    _placed(place, base_schema, head_schema),
                )
            )
    return checks


CATALOGUE: Mapping[str, Check] = _build()


def default_level(change_id: str) -> Level:
    return CATALOGUE[change_id].level

"""What the engine treats as the same, as different, and in which direction."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from diff_support import changes_between, ids, load_pair

from apigov.diff import run_diff
from apigov.diff.catalogue import document, ok_response, one_operation, operation
from apigov.findings import Level
from apigov.spec.model import ApiSpec

S: dict[str, Any] = {"type": "string"}


def body_and_response(schema: dict[str, Any], components: dict[str, Any] | None = None) -> Any:
    """POST /items taking `schema` as its body and returning it."""
    op = operation(
        requestBody={"content": {"application/json": {"schema": schema}}},
        responses={"200": ok_response(schema)},
    )
    top = {"components": {"schemas": components}} if components else {}
    return one_operation(op, **top)


def test_diff_moving_inline_schema_into_components_is_no_change(tmp_path: Path) -> None:
    pet = {"type": "object", "required": ["id"], "properties": {"id": S, "tag": S}}
    base = body_and_response(pet)
    head = body_and_response({"$ref": "#/components/schemas/Pet"}, {"Pet": copy.deepcopy(pet)})
    assert changes_between(tmp_path, base, head) == []


def test_diff_recursive_schema_terminates_and_reports_nested_change(tmp_path: Path) -> None:
    def tree(max_length: int) -> Any:
        node = {
            "type": "object",
            "properties": {
                "name": {"type": "string", "maxLength": max_length},
                "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
            },
        }
        return body_and_response({"$ref": "#/components/schemas/Node"}, {"Node": node})

    changes = changes_between(tmp_path, tree(10), tree(5))
    # One shared schema, used once in the request and once in the response: two changes, each
    # at the outermost place the recursion reaches.
    assert ids(changes) == [
        "request-property-max-length-decreased",
        "response-property-max-length-decreased",
    ]
    by_id = {c.id: c for c in changes}
    assert by_id["request-property-max-length-decreased"].level is Level.ERROR
    assert by_id["response-property-max-length-decreased"].level is Level.INFO
    assert "property 'name'" in by_id["request-property-max-length-decreased"].message


def test_diff_direction_decides_the_level(tmp_path: Path) -> None:
    base = body_and_response({"type": "string", "enum": ["a", "b"]})
    head = body_and_response({"type": "string", "enum": ["a"]})
    changes = changes_between(tmp_path, base, head)
    assert {(c.id, c.level) for c in changes} == {
        ("request-body-enum-value-removed", Level.ERROR),
        ("response-body-enum-value-removed", Level.INFO),
    }
    backwards = changes_between(tmp_path / "back", head, base)
    assert {(c.id, c.level) for c in backwards} == {
        ("request-body-enum-value-added", Level.INFO),
        ("response-body-enum-value-added", Level.WARNING),
    }


def test_diff_read_only_and_write_only_count_only_where_they_appear(tmp_path: Path) -> None:
    base = body_and_response({"type": "object", "properties": {"name": S}})
    head = body_and_response(
        {
            "type": "object",
            "required": ["id", "secret"],
            "properties": {
                "name": S,
                "id": {"type": "string", "readOnly": True},
                "secret": {"type": "string", "writeOnly": True},
            },
        }
    )
    changes = changes_between(tmp_path, base, head)
    # id is only returned (a new required response property is safe), secret is only sent (a new
    # required request property breaks every client).
    assert {(c.id, c.message) for c in changes} == {
        (
            "request-required-property-added",
            "request body property 'secret': required property added",
        ),
        ("response-required-property-added", "response 200 property 'id': required property added"),
    }


def test_diff_renamed_path_parameter_is_the_same_path(tmp_path: Path) -> None:
    def pets(name: str) -> Any:
        param = {"name": name, "in": "path", "required": True, "schema": S}
        return document({f"/pets/{{{name}}}": {"get": operation(parameters=[param])}})

    assert changes_between(tmp_path, pets("petId"), pets("id")) == []


def test_diff_renamed_path_parameter_still_compares_its_schema(tmp_path: Path) -> None:
    def pets(name: str, schema: dict[str, Any]) -> Any:
        param = {"name": name, "in": "path", "required": True, "schema": schema}
        return document({f"/pets/{{{name}}}": {"get": operation(parameters=[param])}})

    changes = changes_between(
        tmp_path, pets("petId", S), pets("id", {"type": "string", "format": "uuid"})
    )
    assert ids(changes) == ["request-parameter-format-added"]
    assert changes[0].operation == "GET /pets/{id}"


SWAGGER_BASE = """\
swagger: "2.0"
info: {title: Pets, version: 1.0.0}
paths:
  /pets:
    post:
      consumes: [application/json]
      produces: [application/json]
      parameters:
        - name: limit
          in: query
          type: integer
          maximum: 100
        - name: body
          in: body
          required: true
          schema: {$ref: "#/definitions/Pet"}
      responses:
        "200":
          description: ok
          schema: {$ref: "#/definitions/Pet"}
definitions:
  Pet:
    type: object
    required: [name]
    properties:
      name: {type: string}
      tag: {type: string}
"""

OPENAPI_HEAD = """\
openapi: 3.0.3
info: {title: Pets, version: 1.0.0}
paths:
  /pets:
    post:
      parameters:
        - name: limit
          in: query
          schema: {type: integer, maximum: 50}
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Pet"}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Pet"}
components:
  schemas:
    Pet:
      type: object
      required: [name]
      properties:
        name: {type: string}
"""


def test_diff_swagger2_base_against_openapi3_head(tmp_path: Path) -> None:
    base, head = load_pair(tmp_path, SWAGGER_BASE, OPENAPI_HEAD)
    report = run_diff(base, head, include_info=True)
    found = sorted((f.id, f.level.value) for f in report.findings)
    assert found == [
        ("request-optional-property-removed", "warning"),
        ("request-parameter-max-decreased", "error"),
        ("response-optional-property-removed", "warning"),
    ]
    removed = next(f for f in report.findings if f.id == "response-optional-property-removed")
    # A removal points at the base document, at the line the author wrote (`tag:` is line 27).
    assert removed.location is not None
    assert removed.location.file.endswith("base.yaml")
    assert removed.location.line == 27
    tightened = next(f for f in report.findings if f.id == "request-parameter-max-decreased")
    assert tightened.location is not None
    assert tightened.location.file.endswith("head.yaml")
    assert tightened.location.line == 9
    assert tightened.operation == "POST /pets"


def test_diff_all_of_is_compared_as_merged_constraints(tmp_path: Path) -> None:
    named = {"type": "object", "required": ["name"], "properties": {"name": S}}
    tagged = {"type": "object", "properties": {"tag": {"type": "string", "maxLength": 10}}}
    base = body_and_response({"allOf": [named, tagged]})
    head = body_and_response(
        {
            "type": "object",
            "required": ["name"],
            "properties": {"name": S, "tag": {"type": "string", "maxLength": 10}},
        }
    )
    assert changes_between(tmp_path, base, head) == []


def test_diff_one_of_alternatives_match_by_content_not_position(tmp_path: Path) -> None:
    cat = {"type": "object", "properties": {"meow": S}}
    dog = {"type": "object", "properties": {"bark": S}}
    base = body_and_response({"oneOf": [cat, dog]})
    head = body_and_response({"oneOf": [copy.deepcopy(dog), copy.deepcopy(cat)]})
    assert changes_between(tmp_path, base, head) == []
    fish = {"type": "object", "properties": {"swim": {"type": "boolean"}}}
    grown = body_and_response({"oneOf": [copy.deepcopy(dog), fish, copy.deepcopy(cat)]})
    assert ids(changes_between(tmp_path / "grown", base, grown)) == [
        "request-body-one-of-added",
        "response-body-one-of-added",
    ]


def test_diff_nullable_in_30_equals_null_type_in_31(tmp_path: Path) -> None:
    base = body_and_response({"type": "string", "nullable": True})
    head = body_and_response({"type": ["string", "null"]})
    head["openapi"] = "3.1.0"
    assert changes_between(tmp_path, base, head) == []


def test_diff_removed_operation_respects_its_sunset(tmp_path: Path) -> None:
    def api(post: dict[str, Any] | None) -> Any:
        item: dict[str, Any] = {"get": operation()}
        if post is not None:
            item["post"] = post
        return document({"/items": item})

    gone = api(None)
    # TODAY in the tests is 2026-06-01.
    passed = api(operation(deprecated=True, **{"x-sunset": "2026-05-31"}))
    coming = api(operation(deprecated=True, **{"x-sunset": "2026-06-02"}))
    never = api(operation())
    assert ids(changes_between(tmp_path / "a", passed, gone)) == ["operation-removed-after-sunset"]
    assert ids(changes_between(tmp_path / "b", coming, gone)) == ["operation-removed-before-sunset"]
    assert ids(changes_between(tmp_path / "c", never, gone)) == ["operation-removed"]


def test_diff_changes_carry_the_pointers_they_touch(tmp_path: Path) -> None:
    def api(leaf: dict[str, Any]) -> Any:
        item = {"type": "object", "properties": {"a": leaf}}
        wrapper = {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}
        return body_and_response(wrapper, {"Item": item})

    changes = changes_between(tmp_path, api(S), api({"type": "integer"}))
    request = next(c for c in changes if c.id == "request-property-type-changed")
    # Where it is in the operation's message (through the $ref), then where it is written.
    assert request.touched == (
        "/paths/~1items/post/requestBody/content/application~1json/schema/items/properties/a",
        "/components/schemas/Item/properties/a",
    )


def test_diff_every_family_names_its_element_in_the_operation(tmp_path: Path) -> None:
    """The first touched pointer is logical: parameters by location and name, responses by
    code, whatever `$ref`s lead elsewhere, so a consumer-aware diff can match interactions."""

    def api(version: int) -> Any:
        header = {"schema": {"type": "string", "maxLength": 10 if version == 1 else 5}}
        limit = {"name": "limit", "in": "query", "schema": {"type": "integer"}}
        if version == 2:
            limit["required"] = True
        op = operation(
            parameters=[{"$ref": "#/components/parameters/Limit"}],
            responses={
                "200": {"$ref": "#/components/responses/Ok"},
                **({"404": {"description": "gone"}} if version == 1 else {}),
            },
        )
        media = {"application/json": {"schema": S}}
        if version == 1:
            media["text/plain"] = {"schema": S}
        ok = {"description": "ok", "headers": {"X-Rate": header}, "content": media}
        components = {"parameters": {"Limit": limit}, "responses": {"Ok": ok}}
        return one_operation(op, "/items/{id}", "get", components=components)

    changes = changes_between(tmp_path, api(1), api(2))
    touched = {c.id: c.touched for c in changes}
    at = "/paths/~1items~1{id}/get"
    assert touched["request-query-parameter-became-required"] == (
        f"{at}/parameters/query/limit",
        "/components/parameters/Limit",
    )
    # Written inline: the logical place is where it is written, named once.
    assert touched["response-non-success-status-removed"] == (f"{at}/responses/404",)
    assert touched["response-header-max-length-decreased"] == (
        f"{at}/responses/200/headers/X-Rate/schema",
        "/components/responses/Ok/headers/X-Rate/schema",
    )
    assert touched["response-media-type-removed"] == (
        f"{at}/responses/200/content/text~1plain",
        "/components/responses/Ok/content/text~1plain",
    )


def test_diff_webhook_levels_are_seen_from_the_receiver(tmp_path: Path) -> None:
    def hooks(max_length: int) -> Any:
        schema = {"type": "string", "maxLength": max_length}
        body = {"content": {"application/json": {"schema": schema}}}
        hook = {"orderCreated": {"post": operation(requestBody=body)}}
        return document({}, openapi="3.1.0", webhooks=hook)

    # The API sends a webhook's request: sending shorter strings cannot break a receiver,
    # sending longer ones can (the opposite of the same change in a path's request body).
    narrower = changes_between(tmp_path / "narrower", hooks(10), hooks(5))
    assert [(c.id, c.level, c.operation) for c in narrower] == [
        ("request-body-max-length-decreased", Level.INFO, "POST webhook orderCreated")
    ]
    wider = changes_between(tmp_path / "wider", hooks(5), hooks(10))
    assert [(c.id, c.level) for c in wider] == [("request-body-max-length-increased", Level.ERROR)]


def test_diff_multi_file_spec_follows_refs_into_other_files(tmp_path: Path) -> None:
    """Path items, operations and schemas in other files are compared where they live."""

    def tree(folder: Path, max_length: int) -> Path:
        (folder / "ops").mkdir(parents=True)
        (folder / "openapi.yaml").write_text(
            "openapi: 3.0.3\ninfo: {title: T, version: 1.0.0}\n"
            "paths:\n  /items:\n    post: {$ref: 'ops/create.yaml'}\n",
            encoding="utf-8",
        )
        (folder / "ops" / "create.yaml").write_text(
            "requestBody:\n  content:\n    application/json:\n"
            "      schema: {$ref: 'item.yaml'}\n"
            "responses:\n  '200': {description: ok}\n",
            encoding="utf-8",
        )
        (folder / "ops" / "item.yaml").write_text(
            f"type: object\nproperties:\n  name: {{type: string, maxLength: {max_length}}}\n",
            encoding="utf-8",
        )
        return folder / "openapi.yaml"

    from apigov.spec.loader import Loader

    loader = Loader(root=tmp_path)
    base = loader.load(str(tree(tmp_path / "base", 10)))
    head = loader.load(str(tree(tmp_path / "head", 5)))
    assert isinstance(base, ApiSpec)
    assert isinstance(head, ApiSpec)
    report = run_diff(base, head)
    assert [(f.id, f.operation) for f in report.findings] == [
        ("request-property-max-length-decreased", "POST /items")
    ]
    location = report.findings[0].location
    assert location is not None
    # `name:` is line 3 of head/ops/item.yaml.
    assert (Path(location.file).name, location.line) == ("item.yaml", 3)


def test_diff_same_scheme_listed_twice_with_other_scopes(tmp_path: Path) -> None:
    def api(scopes: list[list[str]]) -> Any:
        schemes = {"oauth": {"type": "oauth2", "flows": {}}}
        op = operation(security=[{"oauth": s} for s in scopes])
        return one_operation(op, components={"securitySchemes": schemes})

    same = api([["a:create"], ["a:update"]])
    assert changes_between(tmp_path / "same", same, copy.deepcopy(same)) == []
    narrowed = changes_between(
        tmp_path / "narrowed", same, api([["a:create", "a:admin"], ["a:update"]])
    )
    assert [(c.id, c.level) for c in narrowed] == [("operation-security-scope-added", Level.ERROR)]


def test_diff_status_range_covers_its_codes(tmp_path: Path) -> None:
    base = one_operation(operation(responses={"200": ok_response(S), "404": ok_response()}))
    head = one_operation(operation(responses={"2XX": ok_response(S), "404": ok_response()}))
    # 200 is still answered (by 2XX), but the range announces other success codes too.
    assert ids(changes_between(tmp_path, base, head)) == ["response-success-status-added"]
    # A range replaced by one code drops the other codes of the range.
    assert ids(changes_between(tmp_path / "back", head, base)) == [
        "response-success-status-removed"
    ]


def test_diff_header_parameter_names_ignore_case(tmp_path: Path) -> None:
    def api(name: str, required: bool) -> Any:
        param = {"name": name, "in": "header", "required": required, "schema": S}
        return one_operation(operation(parameters=[param]))

    assert changes_between(tmp_path, api("X-Request-Id", False), api("x-request-id", False)) == []
    assert ids(
        changes_between(tmp_path / "b", api("X-Request-Id", False), api("x-request-id", True))
    ) == ["request-header-parameter-became-required"]

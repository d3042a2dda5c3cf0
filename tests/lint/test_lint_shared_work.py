"""Work shared within one lint run (prepared example schemas, compiled validators, the resolved
view) must never change a finding: a schema used in several places is prepared once per kind
of place, and every place still gets its own findings."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from lint_helpers import LintText

from apigov.lint.context import FunctionContext
from apigov.lint.engine import CONTEXT_FREE, Linter, LintRun, referenced_targets
from apigov.lint.functions import core
from apigov.lint.ruleset import document_formats, load_ruleset
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec
from helpers import write

MEDIA_EXAMPLE = "oas3-valid-media-example"

# One schema with a required readOnly property, used by a request body and a response of each
# of two operations. A request example may leave `id` out (the server assigns it); a response
# example may not. POST lists its request body first, PUT its responses first, so whichever
# kind of place prepares the shared schema first, the other must not inherit its relaxation.
READ_ONLY_SHARED = """\
openapi: 3.0.3
info: {title: Pets, version: '1'}
paths:
  /pets:
    post:
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Pet'}
            example: {name: Rex}
      responses:
        '201':
          description: created
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Pet'}
              example: {name: Rex}
  /pets/{petId}:
    put:
      parameters:
        - {name: petId, in: path, required: true, schema: {type: string}}
      responses:
        '200':
          description: replaced
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Pet'}
              example: {name: Rex}
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Pet'}
            example: {name: Rex}
components:
  schemas:
    Pet:
      type: object
      required: [id, name]
      properties:
        id: {type: integer, readOnly: true}
        name: {type: string}
"""


def test_a_shared_schema_keeps_read_only_rules_apart_for_requests_and_responses(
    lint_text: LintText,
) -> None:
    findings = [f for f in lint_text(READ_ONLY_SHARED, "spectral:oas") if f.id == MEDIA_EXAMPLE]
    # Only the two response examples lack `id`; both request examples may.
    assert sorted(f.location.pointer for f in findings if f.location) == [
        "/paths/~1pets/post/responses/201/content/application~1json/example",
        "/paths/~1pets~1{petId}/put/responses/200/content/application~1json/example",
    ]


# One schema, three media types using it, two of them with an example it refuses.
SHARED_INVALID = """\
openapi: 3.0.3
info: {title: Ages, version: '1'}
paths:
  /a:
    get:
      responses:
        '200':
          description: ok
          content:
            application/json: {schema: {$ref: '#/components/schemas/Age'}, example: old}
  /b:
    get:
      responses:
        '200':
          description: ok
          content:
            application/json: {schema: {$ref: '#/components/schemas/Age'}, example: 7}
  /c:
    get:
      responses:
        '200':
          description: ok
          content:
            application/json: {schema: {$ref: '#/components/schemas/Age'}, example: -1}
components:
  schemas:
    Age: {type: integer, minimum: 0}
"""


def test_each_place_using_one_schema_gets_its_own_findings(lint_text: LintText) -> None:
    findings = [f for f in lint_text(SHARED_INVALID, "spectral:oas") if f.id == MEDIA_EXAMPLE]
    assert sorted(f.location.pointer for f in findings if f.location) == [
        "/paths/~1a/get/responses/200/content/application~1json/example",
        "/paths/~1c/get/responses/200/content/application~1json/example",
    ]


# A schema refused by its dialect (`nullable` without `type`) is reported at every example
# that uses it, not only at the first, although the verdict is reached once.
NULLABLE_WITHOUT_TYPE = """\
openapi: 3.0.3
info: {title: Notes, version: '1'}
paths:
  /a:
    get:
      responses:
        '200':
          description: ok
          content:
            application/json: {schema: {$ref: '#/components/schemas/Note'}, example: hi}
  /b:
    get:
      responses:
        '200':
          description: ok
          content:
            text/plain: {schema: {$ref: '#/components/schemas/Note'}, example: there}
components:
  schemas:
    Note: {nullable: true}
"""


def test_a_refused_schema_is_reported_at_every_example_using_it(lint_text: LintText) -> None:
    findings = [
        f for f in lint_text(NULLABLE_WITHOUT_TYPE, "spectral:oas") if f.id == MEDIA_EXAMPLE
    ]
    assert sorted((f.location.pointer, f.message) for f in findings if f.location) == [
        (
            "/paths/~1a/get/responses/200/content/application~1json/example",
            '"nullable" cannot be used without "type"',
        ),
        (
            "/paths/~1b/get/responses/200/content/text~1plain/example",
            '"nullable" cannot be used without "type"',
        ),
    ]


RESOLVED = """\
openapi: 3.0.3
info: {title: Shop, version: '1'}
paths: {}
components:
  schemas:
    Order:
      type: object
      properties:
        total: {type: number, minimum: 0}
        buyer: {$ref: '#/components/schemas/Buyer'}
    Buyer:
      type: object
      properties:
        name: {type: string}
"""


def _run(tmp_path: Path, text: str) -> tuple[LintRun, ApiSpec]:
    spec = Loader(root=tmp_path).load(str(write(tmp_path, "openapi.yaml", text)))
    assert isinstance(spec, ApiSpec)
    compiled = Linter(load_ruleset("spectral:oas")).compiled_for(document_formats(spec.version))
    return LintRun(spec, compiled, referenced_targets(spec)), spec


def test_the_resolved_view_copies_only_what_holds_a_ref(tmp_path: Path) -> None:
    run, spec = _run(tmp_path, RESOLVED)
    schemas = spec.source.data["components"]["schemas"]
    order = schemas["Order"]
    view = run.resolved_view(order, spec.source)
    # `buyer` is replaced by Buyer's view: Order and its properties are copies...
    assert view is not order
    assert view["properties"] is not order["properties"]
    assert view["properties"]["buyer"] == schemas["Buyer"]
    # ...and neither the written document nor its ref-free parts were copied or changed.
    assert order["properties"]["buyer"] == {"$ref": "#/components/schemas/Buyer"}
    assert view["properties"]["total"] is order["properties"]["total"]
    assert run.resolved_view(schemas["Buyer"], spec.source) is schemas["Buyer"]
    # Each written node has one view, shared by every rule that asks.
    assert run.resolved_view(order, spec.source) is view


def test_a_run_releases_its_shared_work_before_finding_positions(tmp_path: Path) -> None:
    run, _spec = _run(tmp_path, SHARED_INVALID)
    findings = run.run()
    assert [f.id for f in findings].count(MEDIA_EXAMPLE) == 2
    assert not run._memo
    assert not run._views


# Path items and parameters behind `$ref`s: the document-level rules read them resolved,
# although they no longer resolve the whole document (only the places they read).
BEHIND_REFS = """\
openapi: 3.0.3
info: {title: Pets, version: '1'}
tags: [{name: pets}]
paths:
  /pets/{petId}:
    $ref: '#/x-path-items/pet'
x-path-items:
  pet:
    get:
      operationId: getPet
      tags: [pets, cats]
      parameters: [{$ref: '#/components/parameters/PetId'}]
      responses:
        '200': {$ref: '#/components/responses/Pet'}
components:
  parameters:
    PetId: {name: petId, in: path, schema: {type: string}}
  responses:
    Pet: {description: a pet}
"""


def test_document_level_rules_read_through_refs(lint_text: LintText) -> None:
    findings = lint_text(BEHIND_REFS, "spectral:oas")
    wanted = {"operation-tag-defined", "path-params", "operation-success-response"}
    assert sorted((f.id, f.location.pointer) for f in findings if f.id in wanted) == [
        # `cats` is not a declared tag; the operation is written under x-path-items.
        ("operation-tag-defined", "/x-path-items/pet/get/tags/1"),
        # The path parameter, read through two refs, lacks `required: true`; the finding is
        # placed where the operation lists it (its `$ref`), the last place its path names.
        ("path-params", "/x-path-items/pet/get/parameters/0"),
    ]


def test_a_shaped_view_resolves_only_what_it_names(tmp_path: Path) -> None:
    run, spec = _run(tmp_path, BEHIND_REFS)
    paths = spec.source.data["paths"]
    view = run.resolved_view(paths, spec.source, {"*": {"*": {"operationId": None}}})
    operation = view["/pets/{petId}"]["get"]
    assert operation["operationId"] == "getPet"
    # Not named by the shape: left as written.
    assert operation["responses"]["200"] == {"$ref": "#/components/responses/Pet"}
    # The full view resolves everything.
    full = run.resolved_view(paths, spec.source)
    assert full["/pets/{petId}"]["get"]["responses"]["200"] == {"description": "a pet"}


class _Unreadable:
    """A context that fails the test when a function reads anything from it."""

    def __getattr__(self, name: str) -> None:
        raise AssertionError(f"the function read context.{name}")


def test_functions_sharing_one_context_never_read_it() -> None:
    # Each case fails its check, so the function builds its message: still without a context.
    failing: dict[object, tuple[object, dict[str, object]]] = {
        core.pattern: ("<script>", {"notMatch": "<script"}),
        core.casing: ("Bad_case", {"type": "camel"}),
        core.enumeration: ("x", {"values": ["a"]}),
        core.xor: ({"a": 1, "b": 2}, {"properties": ["a", "b"]}),
        core.or_: ({}, {"properties": ["a"]}),
    }
    assert set(CONTEXT_FREE) == set(failing)
    unreadable = cast(FunctionContext, _Unreadable())
    for function, (target, options) in failing.items():
        assert callable(function)
        assert function(target, options, unreadable)

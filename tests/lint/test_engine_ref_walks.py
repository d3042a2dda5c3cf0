"""A `$ref` target is walked once per resolved state, whichever routes lead to it and where it
is written; its findings are reported once, where it is written."""

from __future__ import annotations

from pathlib import Path

from lint_helpers import ids_and_pointers

from apigov.findings import Finding
from apigov.lint.engine import Linter, LintRun, referenced_targets
from apigov.lint.ruleset import document_formats, load_ruleset
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec
from helpers import write

# `Name` is reached from a parameter, through `Pet` (itself reached from a response and
# written in place), and is written in place.
SEVERAL_ROUTES = """\
openapi: 3.0.3
info: {title: Pets, version: "1"}
paths:
  /pets:
    get:
      parameters:
        - {name: q, in: query, schema: {$ref: "#/components/schemas/Name"}}
      responses:
        "200": {$ref: "#/components/responses/Pets"}
components:
  responses:
    Pets:
      description: pets
      content:
        application/json:
          schema: {$ref: "#/components/schemas/Pet"}
  schemas:
    Pet:
      type: object
      description: a pet
      properties:
        name: {$ref: "#/components/schemas/Name"}
    Name: {type: string}
"""

# `Alias` and `Other` lead on to `Name`: a chain of refs, from a parameter and written in place.
CHAIN = """\
openapi: 3.0.3
info: {title: Pets, version: "1"}
paths:
  /pets:
    get:
      parameters:
        - {name: q, in: query, schema: {$ref: "#/components/schemas/Alias"}}
      responses:
        "200": {description: ok}
components:
  schemas:
    Alias: {$ref: "#/components/schemas/Other"}
    Other: {$ref: "#/components/schemas/Name"}
    Name: {type: string}
"""

RULES = """\
rules:
  strings-described:
    given: $..[?(@.type == 'string')]
    then: {field: description, function: truthy}
  parameter-schemas:
    given: $.paths[*][*].parameters[*].schema
    then: {field: description, function: truthy}
  schemas-described:
    given: $.components.schemas[*]
    then: {field: description, function: truthy}
  schemas-typed:
    resolved: false
    given: $.components.schemas[*]
    then: {field: type, function: truthy}
"""


def _lint(tmp_path: Path, document: str) -> tuple[LintRun, list[Finding]]:
    spec = Loader(root=tmp_path).load(str(write(tmp_path, "openapi.yaml", document)))
    assert isinstance(spec, ApiSpec)
    ruleset = load_ruleset(str(write(tmp_path, "rules.yaml", RULES)))
    compiled = Linter(ruleset).compiled_for(document_formats(spec.version))
    run = LintRun(spec, compiled, referenced_targets(spec))
    return run, run.run()


def _raw(run: LintRun) -> list[tuple[str, str]]:
    return [(raw.rule.name, "/".join(str(token) for token in raw.path)) for raw in run.raw]


def test_a_target_of_several_routes_and_written_in_place_is_checked_once_per_rule(
    tmp_path: Path,
) -> None:
    run, found = _lint(tmp_path, SEVERAL_ROUTES)
    assert ids_and_pointers(found) == {
        ("strings-described", "/components/schemas/Name"),
        ("parameter-schemas", "/components/schemas/Name"),
        ("schemas-described", "/components/schemas/Name"),
    }
    assert len(found) == 3
    # Each rule's function ran on `Name` once: by the first route (the parameter, which also
    # brings `parameter-schemas`); the route through `Pet` and `Name` where it is written
    # brought only states already walked there, except `schemas-described`'s.
    assert _raw(run) == [
        ("strings-described", "paths//pets/get/parameters/0/schema/description"),
        ("parameter-schemas", "paths//pets/get/parameters/0/schema/description"),
        ("schemas-described", "components/schemas/Name/description"),
    ]


def test_a_chain_of_refs_walks_its_last_target_once(tmp_path: Path) -> None:
    run, found = _lint(tmp_path, CHAIN)
    assert ids_and_pointers(found) == {
        ("strings-described", "/components/schemas/Name"),
        ("parameter-schemas", "/components/schemas/Name"),
        ("schemas-described", "/components/schemas/Name"),
        # The unresolved rule sees the chain's `$ref` objects where they are written.
        ("schemas-typed", "/components/schemas/Alias"),
        ("schemas-typed", "/components/schemas/Other"),
    }
    assert len(found) == 5
    # `Alias` written leads to `Name` with `schemas-described`'s state, the only one new there;
    # `Other` and `Name` written bring nothing new for the resolved rules.
    assert _raw(run) == [
        ("strings-described", "paths//pets/get/parameters/0/schema/description"),
        ("parameter-schemas", "paths//pets/get/parameters/0/schema/description"),
        ("schemas-typed", "components/schemas/Alias/type"),
        ("schemas-described", "components/schemas/Alias/description"),
        ("schemas-typed", "components/schemas/Other/type"),
    ]


def test_states_walked_where_a_target_is_written_are_not_walked_again_by_later_refs(
    tmp_path: Path,
) -> None:
    # The same document with `components` first: the written places are walked before the
    # parameter's `$ref` reaches `Name`, which then walks only `parameter-schemas`'s state.
    paths_at = SEVERAL_ROUTES.index("paths:")
    components_at = SEVERAL_ROUTES.index("components:")
    document = (
        SEVERAL_ROUTES[:paths_at]
        + SEVERAL_ROUTES[components_at:]
        + SEVERAL_ROUTES[paths_at:components_at]
    )
    run, found = _lint(tmp_path, document)
    assert [(f.id, f.location.pointer if f.location else "") for f in found] == [
        ("strings-described", "/components/schemas/Name"),
        ("schemas-described", "/components/schemas/Name"),
        ("parameter-schemas", "/components/schemas/Name"),
    ]
    assert _raw(run) == [
        (
            "strings-described",
            "components/responses/Pets/content/application/json/schema/properties/name/description",
        ),
        ("schemas-described", "components/schemas/Name/description"),
        ("parameter-schemas", "paths//pets/get/parameters/0/schema/description"),
    ]

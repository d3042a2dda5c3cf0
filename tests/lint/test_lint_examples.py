"""Example validation: examples nested in properties, items and composition parts (Spectral's
oas3-valid-*-example rules, same places), and examples of recursive schemas (Spectral checks
none; apigov:recommended's recursive-*-example rules follow the recursion)."""

from __future__ import annotations

from pathlib import Path

import pytest

from apigov.findings import Finding
from apigov.lint.engine import Linter
from apigov.lint.ruleset import load_ruleset
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec
from helpers import REPO

EXAMPLES = Path(__file__).resolve().parent / "data" / "examples.yaml"
PETS = "/paths/~1pets/get"
BODY = f"{PETS}/responses/200/content/application~1json"

# Every example planted wrong in data/examples.yaml outside the recursive schemas.
NESTED = {
    ("oas3-valid-schema-example", f"{PETS}/parameters/0/schema/properties/size/example"),
    ("oas3-valid-schema-example", f"{BODY}/schema/properties/name/example"),
    ("oas3-valid-schema-example", f"{BODY}/schema/properties/tags/items/example"),
    ("oas3-valid-schema-example", f"{BODY}/schema/properties/owner/allOf/0/properties/age/example"),
    ("oas3-valid-schema-example", f"{BODY}/schema/properties/extra/additionalProperties/example"),
    ("oas3-valid-media-example", f"{BODY}/example/owner/age"),
    ("oas3-valid-schema-example", "/components/schemas/Owner/properties/email/example"),
    ("oas3-valid-schema-example", "/components/schemas/Owner/properties/nested/example/deep/value"),
    (
        "oas3-valid-schema-example",
        "/components/schemas/Owner/properties/nested/properties/deep/properties/value/example",
    ),
    ("oas3-valid-schema-example", "/components/schemas/Owner/properties/choice/oneOf/0/example"),
    ("oas3-valid-schema-example", "/components/schemas/Owner/properties/notSchema/not/example"),
    ("oas3-valid-schema-example", "/components/schemas/Pet/example/id"),
    ("oas3-valid-schema-example", "/components/schemas/Pet/properties/items/example/1"),
}
# The examples of the recursive schemas that are wrong, at the depth they are wrong.
RECURSIVE = {
    (
        "recursive-media-example",
        "/paths/~1categories/get/responses/200/content/application~1json/example/children/0/"
        "children/0/name",
    ),
    ("recursive-schema-example", "/components/schemas/Category/example/name"),
    ("recursive-schema-example", "/components/schemas/Tree/example/node/next/value"),
}


def _example_findings(ruleset: str) -> list[Finding]:
    spec = Loader(root=REPO).load(str(EXAMPLES))
    assert isinstance(spec, ApiSpec)
    return [f for f in Linter(load_ruleset(ruleset)).lint(spec) if "example" in f.id]


def _keys(findings: list[Finding]) -> set[tuple[str, str]]:
    return {(f.id, f.location.pointer if f.location else "") for f in findings}


def test_oas_rules_find_nested_examples_and_skip_recursive_schemas() -> None:
    assert _keys(_example_findings("apigov:oas")) == NESTED


def test_recommended_adds_examples_of_recursive_schemas() -> None:
    found = _example_findings("apigov:recommended")
    assert _keys(found) == NESTED | RECURSIVE
    messages = {f.location.pointer: f.message for f in found if f.location}
    assert messages["/components/schemas/Category/example/name"] == (
        '"name" property 1 is not of type "string"'
    )


@pytest.mark.parametrize("recursive", ["follow", "skip", "only"])
def test_recursive_option(recursive: str, tmp_path: Path) -> None:
    ruleset = tmp_path / "rules.yaml"
    ruleset.write_text(
        "rules:\n"
        "  schema-examples:\n"
        "    message: '{{error}}'\n"
        "    given: $.components.schemas[*]\n"
        "    then:\n"
        "      function: oasExample\n"
        "      functionOptions: {schemaField: $, oasVersion: 3, type: schema, "
        f"recursive: {recursive}}}\n",
        encoding="utf-8",
    )
    pointers = {pointer for _, pointer in _keys(_example_findings(str(ruleset)))}
    # Among components/schemas, Pet is not recursive; Category and Tree are.
    plain = {"/components/schemas/Pet/example/id"}
    recursive_ones = {
        "/components/schemas/Category/example/name",
        "/components/schemas/Tree/example/node/next/value",
    }
    expected = {"follow": plain | recursive_ones, "skip": plain, "only": recursive_ones}
    assert pointers == expected[recursive]

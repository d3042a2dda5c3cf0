"""The engine: one walk, resolved and unresolved views, fields, messages, dedup, overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
from lint_helpers import LintText, ids_and_pointers

from apigov.findings import Level
from apigov.lint.engine import Linter, LintRun, referenced_targets
from apigov.lint.ruleset import document_formats, load_ruleset
from apigov.spec.errors import InputError
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec
from helpers import write

DOC = """\
openapi: 3.0.3
info: {title: Pets, version: "1"}
paths:
  /pets:
    get:
      operationId: listPets
      responses:
        "200": {$ref: "#/components/responses/Pets"}
    post:
      responses:
        "201": {$ref: "#/components/responses/Pets"}
components:
  responses:
    Pets:
      description: ""
      content:
        application/json:
          schema: {$ref: "#/components/schemas/Pet"}
  schemas:
    Pet:
      type: object
      description: ""
      properties:
        name: {type: string}
"""


def test_resolved_rules_see_targets_and_report_where_they_are_written(
    lint_text: LintText,
) -> None:
    # Both operations' responses lead to one written response: one finding, at the component.
    ruleset = """\
rules:
  response-description:
    given: $.paths[*][*].responses[*]
    then: {field: description, function: truthy}
"""
    found = lint_text(DOC, ruleset)
    assert ids_and_pointers(found) == {
        ("response-description", "/components/responses/Pets/description")
    }
    assert found[0].level is Level.WARNING
    assert found[0].location is not None and found[0].location.line == 15


def test_unresolved_rules_see_the_ref_itself(lint_text: LintText) -> None:
    ruleset = """\
rules:
  responses-are-refs:
    resolved: false
    given: $.paths[*][*].responses[*]
    then: {field: $ref, function: falsy}
"""
    found = lint_text(DOC, ruleset)
    assert ids_and_pointers(found) == {
        ("responses-are-refs", "/paths/~1pets/get/responses/200/$ref"),
        ("responses-are-refs", "/paths/~1pets/post/responses/201/$ref"),
    }


def test_missing_field_reports_the_closest_existing_place(lint_text: LintText) -> None:
    ruleset = """\
rules:
  operation-id:
    severity: error
    message: "{{property}} is missing ({{path}})"
    given: $.paths[*][get,post]
    then: {field: operationId, function: truthy}
"""
    found = lint_text(DOC, ruleset)
    assert ids_and_pointers(found) == {("operation-id", "/paths/~1pets/post")}
    assert found[0].level is Level.ERROR
    assert found[0].message == "post is missing (/paths/~1pets/post)"
    assert found[0].operation == "POST /pets"


def test_key_field_and_several_thens(lint_text: LintText) -> None:
    ruleset = """\
rules:
  keys:
    given: $.components.schemas.Pet.properties
    then:
      - {field: "@key", function: pattern, functionOptions: {match: "^[A-Z]"}}
      - {field: name.type, function: enumeration, functionOptions: {values: [integer]}}
"""
    found = lint_text(DOC, ruleset)
    assert ids_and_pointers(found) == {
        ("keys", "/components/schemas/Pet/properties/name"),
        ("keys", "/components/schemas/Pet/properties/name/type"),
    }


def test_one_walk_for_all_rules(tmp_path: Path) -> None:
    # However many rules there are, each node is entered once per state: here every node
    # carries the same states, so each is entered once, a `$ref` target where the first
    # `$ref` leads (not again where it is written).
    spec_file = write(tmp_path, "openapi.yaml", DOC)
    spec = Loader(root=tmp_path).load(str(spec_file))
    assert isinstance(spec, ApiSpec)
    rules = "\n".join(
        f"  rule-{n}:\n    given: $..[?(@.type == 'string')]\n    then: {{function: truthy}}"
        for n in range(40)
    )
    ruleset = load_ruleset(str(write(tmp_path, "r.yaml", "rules:\n" + rules + "\n")))
    compiled = Linter(ruleset).compiled_for(document_formats(spec.version))
    run = LintRun(spec, compiled, referenced_targets(spec))
    run.run()
    written_nodes = _count_nodes(spec.source.data)
    assert len(compiled.rules) == 40
    # the three `{$ref: ...}` objects (two nodes each) give way to their targets
    assert written_nodes == 31
    assert run.nodes_visited == written_nodes - 6


def _count_nodes(node: object) -> int:
    if isinstance(node, dict):
        return 1 + sum(_count_nodes(v) for v in node.values())
    if isinstance(node, list):
        return 1 + sum(_count_nodes(v) for v in node)
    return 1


def test_aliases_by_format_and_extends_modes(lint_text: LintText) -> None:
    ruleset = """\
extends: [[apigov:oas, off]]
aliases:
  Op:
    targets:
      - formats: [oas2]
        given: ["$.nowhere"]
      - formats: [oas3]
        given: ["$.paths[*][get,post]"]
rules:
  operation-description: warn
  op-summary:
    given: "#Op"
    then: {field: summary, function: defined}
"""
    found = lint_text(DOC, ruleset)
    ids = {finding.id for finding in found}
    # only the rule turned back on and the new one; every other oas rule is off
    assert ids == {"operation-description", "op-summary"}
    assert sum(f.id == "op-summary" for f in found) == 2


def test_overrides_by_glob_and_pointer(lint_text: LintText) -> None:
    ruleset = """\
rules:
  op-summary:
    severity: error
    given: $.paths[*][get,post]
    then: {field: summary, function: defined}
overrides:
  - files: ["openapi.yaml#/paths/~1pets/post"]
    rules: {op-summary: info}
  - files: ["elsewhere/*.yaml"]
    rules: {op-summary: off}
"""
    levels = {f.location.pointer: f.level for f in lint_text(DOC, ruleset) if f.location}
    assert levels == {"/paths/~1pets/get": Level.ERROR, "/paths/~1pets/post": Level.INFO}


def test_custom_python_function(lint_text: LintText, tmp_path: Path) -> None:
    write(
        tmp_path,
        "house_rules.py",
        "from apigov.lint.context import Result\n"
        "def no_post(target, options, context):\n"
        "    if isinstance(target, dict) and 'post' in target:\n"
        "        return [Result(options['say'], (*context.path, 'post'))]\n",
    )
    ruleset = """\
functions: ["house_rules:no_post"]
rules:
  no-post:
    given: $.paths[*]
    then: {function: no_post, functionOptions: {say: read-only API}}
"""
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        found = lint_text(DOC, ruleset)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("house_rules", None)
    assert [(f.id, f.message, f.location.pointer if f.location else "") for f in found] == [
        ("no-post", "read-only API", "/paths/~1pets/post")
    ]


@pytest.mark.parametrize(
    ("ruleset", "complaint"),
    [
        ("rules:\n  r:\n    given: $.a\n    then: {function: nope}\n", "unknown function"),
        ("rules:\n  r:\n    given: $.a\n", "has no 'then'"),
        ("rules:\n  r:\n    given: $.a[\n    then: {function: truthy}\n", "cannot compile"),
        ("rules:\n  r:\n    given: '#Nope'\n    then: {function: truthy}\n", "unknown alias"),
        ("rules:\n  not-defined-anywhere: off\n", "changes a rule no ruleset defines"),
        ("extends: spectral:nothing\n", "unknown built-in ruleset"),
        (
            "rules:\n  r:\n    severity: loud\n    given: $\n    then: {function: truthy}\n",
            "severity",
        ),
    ],
)
def test_broken_rulesets_are_input_errors(
    lint_text: LintText, ruleset: str, complaint: str
) -> None:
    with pytest.raises(InputError, match=complaint):
        lint_text(DOC, ruleset)


def test_findings_in_referenced_files_point_there(tmp_path: Path) -> None:
    write(tmp_path, "shared.yaml", "Pet:\n  type: object\n  title: ''\n")
    spec_file = write(
        tmp_path,
        "openapi.yaml",
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n"
        "components:\n  schemas:\n    Pet: {$ref: 'shared.yaml#/Pet'}\n",
    )
    ruleset = load_ruleset(
        str(
            write(
                tmp_path,
                "r.yaml",
                "rules:\n  titled:\n    given: $.components.schemas[*]\n"
                "    then: {field: title, function: truthy}\n"
                "  keys-of-schemas:\n    given: $.components.schemas[*]~\n"
                "    then: {function: pattern, functionOptions: {match: '^[a-z]'}}\n",
            )
        )
    )
    spec = Loader(root=tmp_path).load(str(spec_file))
    assert isinstance(spec, ApiSpec)
    found = {
        (f.id, Path(f.location.file).name, f.location.pointer, f.location.line)
        for f in Linter(ruleset).lint(spec)
        if f.location
    }
    assert found == {
        # the empty title is written in shared.yaml, line 3
        ("titled", "shared.yaml", "/Pet/title", 3),
        # `~` selects the key "Pet" (not lower-case), which is written in openapi.yaml, line 6
        ("keys-of-schemas", "openapi.yaml", "/components/schemas/Pet", 6),
    }


def test_a_failing_custom_function_names_its_rule(lint_text: LintText, tmp_path: Path) -> None:
    write(tmp_path, "broken_rules.py", "def explode(target, options, context):\n    return 1 / 0\n")
    ruleset = (
        'functions: ["broken_rules:explode"]\n'
        "rules:\n  boom:\n    given: $.info\n    then: {function: explode}\n"
    )
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        with pytest.raises(InputError, match="rule 'boom': function explode failed: ZeroDivision"):
            lint_text(DOC, ruleset)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("broken_rules", None)


def test_json_rulesets_extend_files_relative_to_themselves(tmp_path: Path) -> None:
    write(
        tmp_path,
        "base/strict.yaml",
        "rules:\n  titled:\n    severity: error\n    given: $.info\n"
        "    then: {field: summary, function: truthy}\n",
    )
    top = write(
        tmp_path,
        ".spectral.json",
        '{"extends": ["base/strict.yaml"], "rules": {"titled": "info"}}',
    )
    spec_file = write(tmp_path, "openapi.yaml", DOC)
    spec = Loader(root=tmp_path).load(str(spec_file))
    assert isinstance(spec, ApiSpec)
    found = Linter(load_ruleset(str(top))).lint(spec)
    assert [(f.id, f.level) for f in found] == [("titled", Level.INFO)]

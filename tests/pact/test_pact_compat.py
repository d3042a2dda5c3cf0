"""Static compatibility of pacts with OpenAPI specs: findings, locations, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from apigov.findings import Finding, Level
from apigov.pact.compat import CATALOGUE, check_compatibility
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec, PactFile
from helpers import CONTRACTS, run_apigov, write

SPEC = """\
openapi: 3.1.0
info: {title: Pets, version: 1.0.0}
paths:
  /pets/{petId}:
    get:
      parameters:
        - {name: petId, in: path, required: true, schema: {type: integer}}
      responses:
        "200":
          description: a pet
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Pet"
components:
  schemas:
    Pet:
      type: object
      required: [id, status]
      properties:
        id: {type: integer}
        status: {type: string, enum: [available, sold]}
        nickname: {type: string}
        weight: {type: number, exclusiveMinimum: 0}
"""


def pact(body: dict[str, Any], path: str = "/pets/7", rules: Any = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "status": 200,
        "headers": {"Content-Type": "application/json"},
        "body": body,
    }
    if rules is not None:
        response["matchingRules"] = {"body": rules}
    return {
        "consumer": {"name": "shop"},
        "provider": {"name": "pets"},
        "interactions": [
            {
                "description": "a pet",
                "request": {"method": "GET", "path": path},
                "response": response,
            }
        ],
        "metadata": {"pactSpecification": {"version": "3.0.0"}},
    }


def check(tmp_path: Path, data: dict[str, Any]) -> list[Finding]:
    loader = Loader()
    spec = loader.load(str(write(tmp_path, "openapi.yaml", SPEC)))
    pact_file = loader.load(str(write(tmp_path, "pact.json", json.dumps(data, indent=2))))
    assert isinstance(spec, ApiSpec) and isinstance(pact_file, PactFile)
    return check_compatibility(pact_file, spec)


def ids(findings: list[Finding]) -> list[str]:
    return sorted(f.id for f in findings)


def test_compatible_pact_names_only_required_fields(tmp_path: Path) -> None:
    assert check(tmp_path, pact({"id": 7, "status": "sold"})) == []


def test_undefined_field_is_an_error_at_the_pact_line(tmp_path: Path) -> None:
    (finding,) = check(tmp_path, pact({"id": 7, "status": "sold", "colour": "red"}))
    assert finding.id == "compat-response-field-undefined"
    assert finding.level is Level.ERROR
    assert finding.location is not None
    assert finding.location.file.endswith("pact.json")
    # indent=2 puts "response" on line 15, then status, headers (3 lines), "body" on 20,
    # and its keys id, status, colour on 21 to 23.
    assert finding.location.pointer == "/interactions/0/response/body/colour"
    assert finding.location.line == 23
    assert "response field /colour, which the schema does not define" in finding.message
    # The Pet schema the $ref leads to (line 17 of SPEC), not the reference itself.
    assert "openapi.yaml:17:5 #/components/schemas/Pet)" in finding.message
    assert finding.operation == "GET /pets/{petId}"
    assert finding.consumers == ("shop",)


def test_wrong_type_enum_and_bound(tmp_path: Path) -> None:
    findings = check(tmp_path, pact({"id": "7", "status": "lost", "weight": 0}))
    # Reliance warnings wait until the body fits: one problem at a time.
    assert ids(findings) == ["compat-response-body-incompatible"] * 3
    pointers = sorted(f.location.pointer for f in findings if f.location)
    assert pointers == [
        "/interactions/0/response/body/id",
        "/interactions/0/response/body/status",
        "/interactions/0/response/body/weight",
    ]


def test_relying_on_an_optional_field_warns(tmp_path: Path) -> None:
    (finding,) = check(tmp_path, pact({"id": 7, "status": "sold", "nickname": "Rex"}))
    assert finding.id == "compat-response-field-optional"
    assert finding.level is Level.WARNING
    assert "/nickname" in finding.message


def test_regex_matcher_must_fit_the_enum(tmp_path: Path) -> None:
    rules = {"$.status": {"matchers": [{"match": "regex", "regex": "avail.*|pending"}]}}
    assert check(tmp_path, pact({"id": 7, "status": "available"}, rules=rules)) == []
    rules = {"$.status": {"matchers": [{"match": "regex", "regex": "pending|lost"}]}}
    findings = check(tmp_path, pact({"id": 7, "status": "sold"}, rules=rules))
    assert ids(findings) == ["compat-matcher-unsatisfiable"]
    rules = {"$.id": {"matchers": [{"match": "boolean"}]}}
    findings = check(tmp_path, pact({"id": 7, "status": "sold"}, rules=rules))
    assert ids(findings) == ["compat-matcher-unsatisfiable"]


def test_unknown_path_and_bad_path_parameter(tmp_path: Path) -> None:
    assert ids(check(tmp_path, pact({"id": 7}, path="/cats/7"))) == [
        "compat-request-path-or-method-unknown"
    ]
    assert ids(check(tmp_path, pact({"id": 7}, path="/pets/seven"))) == [
        "compat-request-path-or-method-unknown"
    ]


def test_every_catalogue_entry_is_kebab_case() -> None:
    for rule_id, rule in CATALOGUE.items():
        assert rule_id == rule.id
        assert rule_id.startswith("compat-") and rule_id == rule_id.lower()
        assert " " not in rule_id and "." not in rule_id


PROVIDER_SPECS = {
    "orders": "orders/openapi.yaml",
    "payments": "payments/openapi.yaml",
    "inventory": "inventory/openapi.yaml",
    "shipping": "shipping/openapi.yaml",
}


@pytest.mark.parametrize(
    "pact_path", sorted(CONTRACTS.glob("*/pacts/*.json")), ids=lambda p: p.name
)
def test_example_fleet_is_compatible(pact_path: Path) -> None:
    loader = Loader()
    pact_file = loader.load(str(pact_path))
    assert isinstance(pact_file, PactFile)
    spec = loader.load(str(CONTRACTS / PROVIDER_SPECS[pact_file.provider]))
    assert isinstance(spec, ApiSpec)
    errors = [f for f in check_compatibility(pact_file, spec) if f.level is Level.ERROR]
    assert errors == []


def test_cli_exit_codes_and_json(tmp_path: Path) -> None:
    spec = write(tmp_path, "openapi.yaml", SPEC)
    good = write(tmp_path, "good.json", json.dumps(pact({"id": 7, "status": "sold"})))
    bad = write(tmp_path, "bad.json", json.dumps(pact({"id": 7, "status": "sold", "x": 1})))
    ok = run_apigov("compat", str(good), "--spec", str(spec), cwd=tmp_path)
    assert ok.code == 0, ok.stderr
    failing = run_apigov("compat", str(good), str(bad), "--spec", str(spec), "-f", "json")
    assert failing.code == 1
    report = json.loads(failing.stdout)
    assert report["command"] == "compat"
    assert [f["id"] for f in report["findings"]] == ["compat-response-field-undefined"]
    wrong_spec = run_apigov("compat", str(good), "--spec", str(good))
    assert wrong_spec.code == 2
    assert "--spec must name an OpenAPI or AsyncAPI document" in wrong_spec.stderr


def test_docs_list_every_finding_id() -> None:
    from helpers import REPO

    text = (REPO / "docs" / "pact.md").read_text(encoding="utf-8")
    for rule_id in CATALOGUE:
        assert f"`{rule_id}`" in text, rule_id


def test_cli_folder_checks_the_consumers_of_the_specs_service() -> None:
    result = run_apigov(
        "compat", "contracts", "--spec", "contracts/orders/openapi.yaml", "-f", "json"
    )
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    # orders is the provider of exactly these two pacts in the example fleet.
    assert report["inputs"] == [
        "contracts/orders/openapi.yaml",
        "contracts/notifications/pacts/notifications-orders.json",
        "contracts/shipping/pacts/shipping-orders.json",
    ]

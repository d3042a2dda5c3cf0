"""Verdicts reused across interactions, routes tried by first segment, the paused collector.

`apigov compat` checks each distinct request and body shape once and repeats the verdict for
the interactions that share it; these tests make sure a repeated verdict never crosses over to
an interaction that differs in something the check reads.
"""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from apigov.cli.app import app
from apigov.cli.collector import without_cycle_collection
from apigov.findings import Finding
from apigov.pact.compat import RouteTable, check_compatibility
from apigov.spec.errors import InputError
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec, PactFile
from helpers import write

SPEC = """\
openapi: 3.1.0
info: {title: Pets, version: 1.0.0}
paths:
  /pets/{petId}:
    get:
      parameters:
        - {name: petId, in: path, required: true, schema: {type: integer}}
        - {name: X-Trace, in: header, schema: {type: string, maxLength: 4}}
      responses:
        "200":
          description: a pet
          content:
            application/json:
              schema:
                type: object
                required: [id, status]
                properties:
                  id: {type: integer}
                  status: {type: string, enum: [available, sold]}
  /pets/mine:
    get:
      responses:
        "200": {description: mine}
  /{tenant}/pets:
    get:
      parameters:
        - {name: tenant, in: path, required: true, schema: {type: string}}
      responses:
        "200": {description: the tenant's pets}
"""


def interaction(
    description: str,
    *,
    headers: dict[str, str] | None = None,
    body: Any = None,
    rules: dict[str, Any] | None = None,
) -> dict[str, Any]:
    response: dict[str, Any] = {
        "status": 200,
        "headers": {"Content-Type": "application/json"},
        "body": body if body is not None else {"id": 7, "status": "sold"},
    }
    if rules is not None:
        response["matchingRules"] = {"body": rules}
    return {
        "description": description,
        "request": {"method": "GET", "path": "/pets/7", "headers": headers or {}},
        "response": response,
    }


def check(tmp_path: Path, *interactions: dict[str, Any]) -> list[Finding]:
    loader = Loader()
    spec = loader.load(str(write(tmp_path, "openapi.yaml", SPEC)))
    data = {
        "consumer": {"name": "shop"},
        "provider": {"name": "pets"},
        "interactions": list(interactions),
        "metadata": {"pactSpecification": {"version": "3.0.0"}},
    }
    pact_file = loader.load(str(write(tmp_path, "pact.json", json.dumps(data, indent=2))))
    assert isinstance(spec, ApiSpec) and isinstance(pact_file, PactFile)
    return check_compatibility(pact_file, spec)


def places(findings: list[Finding]) -> list[tuple[str, str]]:
    return sorted((f.id, f.location.pointer if f.location else "") for f in findings)


def test_a_repeated_verdict_is_reported_at_each_interaction(tmp_path: Path) -> None:
    same = {"id": "seven", "status": "sold"}
    findings = check(
        tmp_path, interaction("first", body=same), interaction("second", body=dict(same))
    )
    assert places(findings) == [
        ("compat-response-body-incompatible", "/interactions/0/response/body/id"),
        ("compat-response-body-incompatible", "/interactions/1/response/body/id"),
    ]
    first, second = sorted(findings, key=lambda f: f.location.line if f.location else 0)
    assert first.message == second.message
    assert first.location and second.location
    # Lines 1-8 are the pact's head; interaction 0 opens at line 9 and its body's `id` is
    # line 22 (description, request: 5 lines, response: status, headers: 3, then body).
    # Each interaction takes 18 lines: {, description, request (5), response (10), }.
    assert (first.location.line, second.location.line) == (22, 22 + 18)


def test_a_verdict_is_not_reused_when_a_header_differs(tmp_path: Path) -> None:
    findings = check(
        tmp_path,
        interaction("short trace", headers={"X-Trace": "abcd"}),
        interaction("long trace", headers={"X-Trace": "abcdefgh"}),
        interaction("csv", headers={"X-Trace": "abcd", "Accept": "text/csv"}),
    )
    assert places(findings) == [
        ("compat-request-accept-incompatible", "/interactions/2/request/headers"),
        ("compat-request-header-incompatible", "/interactions/1/request/headers/X-Trace"),
    ]


def test_a_verdict_is_not_reused_when_the_matching_rules_differ(tmp_path: Path) -> None:
    body = {"id": 7, "status": "sold"}
    impossible = {"$.status": {"match": "regex", "regex": "^lost$"}}
    findings = check(
        tmp_path,
        interaction("plain", body=body),
        interaction("with a rule", body=dict(body), rules=impossible),
        interaction("plain again", body=dict(body)),
    )
    assert places(findings) == [
        ("compat-matcher-unsatisfiable", "/interactions/1/response/body/status"),
    ]


def test_bodies_equal_in_python_but_not_in_json_are_checked_apart(tmp_path: Path) -> None:
    # 7 == 7.0 in Python, but 7.0 is not an integer to a JSON Schema validator... and True == 1.
    findings = check(
        tmp_path,
        interaction("int", body={"id": 7, "status": "sold"}),
        interaction("true", body={"id": True, "status": "sold"}),
    )
    assert places(findings) == [
        ("compat-response-body-incompatible", "/interactions/1/response/body/id"),
    ]


def test_routes_are_tried_by_first_segment_in_the_usual_order(tmp_path: Path) -> None:
    spec = Loader().load(str(write(tmp_path, "openapi.yaml", SPEC)))
    assert isinstance(spec, ApiSpec)
    routes = RouteTable(spec)

    def template(path: str) -> str | None:
        found = routes.match("GET", path)
        return found.template if found else None

    assert template("/pets/mine") == "/pets/mine"  # literal before templated
    assert template("/pets/7") == "/pets/{petId}"
    assert template("/acme/pets") == "/{tenant}/pets"  # a templated first segment
    assert template("/pets/pets") == "/{tenant}/pets"  # a tenant called "pets"
    assert template("/pets/lost") is None  # petId must be an integer
    assert template("/orders/7") is None


def test_the_collector_is_paused_only_while_the_command_runs(tmp_path: Path) -> None:
    assert gc.isenabled()
    with without_cycle_collection():
        assert not gc.isenabled()
    assert gc.isenabled()

    write(tmp_path, "openapi.yaml", SPEC)
    write(tmp_path, "pact.json", json.dumps({"consumer": {"name": "shop"}}))
    result = CliRunner().invoke(
        app, ["compat", str(tmp_path / "pact.json"), "--spec", str(tmp_path / "openapi.yaml")]
    )
    # Not a pact: an input error, raised inside the pause (apigov's main turns it into exit 2).
    assert isinstance(result.exception, InputError)
    assert gc.isenabled()


def test_distinct_bodies_past_the_trial_are_still_checked(tmp_path: Path) -> None:
    # 300 different bodies: keys stop being kept after the first few hundred rarely repeat,
    # and every interaction is still checked, the last one included.
    pets = [interaction(f"pet {n}", body={"id": n, "status": "sold"}) for n in range(300)]
    pets[150]["response"]["body"] = {"id": 150, "status": "lost"}
    pets[299]["response"]["body"] = {"id": "last", "status": "sold"}
    findings = check(tmp_path, *pets)
    assert places(findings) == [
        ("compat-response-body-incompatible", "/interactions/150/response/body/status"),
        ("compat-response-body-incompatible", "/interactions/299/response/body/id"),
    ]

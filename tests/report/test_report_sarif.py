from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import msgspec.structs
import pytest

from apigov.findings import Finding, Level, Location, Report, RuleInfo
from apigov.report import sarif

SARIF_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "conformance" / "sarif"
SARIF_SCHEMA = SARIF_DIR / "sarif-schema-2.1.0.json"

# jsonschema checks "uri" and "uri-reference" only with optional packages installed; check
# them here by RFC 3986's character set, so a space or a stray "%" cannot pass unnoticed.
_URI_CHARS = re.compile(r"^(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


def _format_checker() -> jsonschema.FormatChecker:
    checker = jsonschema.FormatChecker()

    @checker.checks("uri")
    def is_uri(value: object) -> bool:
        return not isinstance(value, str) or bool(_URI_CHARS.match(value) and _SCHEME.match(value))

    @checker.checks("uri-reference")
    def is_uri_reference(value: object) -> bool:
        return not isinstance(value, str) or bool(_URI_CHARS.match(value))

    return checker


def validate(log: Any) -> None:
    assert SARIF_SCHEMA.is_file(), f"the SARIF schema belongs at {SARIF_SCHEMA} (<repo>/../shared)"
    schema = json.loads(SARIF_SCHEMA.read_text("utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    assert cls is jsonschema.Draft4Validator  # the schema says draft-04
    cls(schema, format_checker=_format_checker()).validate(log)


def render(report: Report) -> Any:
    out = sarif.render(report, tool_version="9.9.9")
    assert out.endswith("}\n")
    return json.loads(out)


def sha(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def test_sample_log(sample: Report) -> None:
    log = render(sample)
    validate(log)
    assert log["$schema"] == (
        "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    )
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "apigov"
    assert driver["version"] == "9.9.9"
    assert driver["informationUri"].startswith("https://")
    assert driver["rules"] == [
        {"id": "operation-description", "shortDescription": {"text": "Operation description"}},
        {"id": "response-added", "shortDescription": {"text": "Response added"}},
        {
            "id": "response-property-removed",
            "shortDescription": {"text": "Response property removed"},
        },
    ]
    assert run["automationDetails"] == {"id": "apigov/diff/"}
    assert run["results"] == [
        {
            "ruleId": "operation-description",
            "ruleIndex": 0,
            "level": "warning",
            "message": {"text": "Operation has no description"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": "specs/base.yaml", "uriBaseId": "%SRCROOT%"}
                    },
                    "logicalLocations": [{"fullyQualifiedName": "/paths/~1orders/get"}],
                }
            ],
            "partialFingerprints": {
                "apigovFindingHash/v1": sha(
                    "operation-description", "specs/base.yaml", "/paths/~1orders/get"
                )
            },
        },
        {
            "ruleId": "response-added",
            "ruleIndex": 1,
            "level": "note",
            "message": {"text": "Response 201 was added"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": "specs/head.yaml", "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": 12, "startColumn": 7},
                    },
                    "logicalLocations": [
                        {"fullyQualifiedName": "/paths/~1orders/post/responses/201"},
                        {"name": "POST /orders", "kind": "function"},
                    ],
                }
            ],
            "partialFingerprints": {
                "apigovFindingHash/v1": sha(
                    "response-added", "specs/head.yaml", "/paths/~1orders/post/responses/201"
                )
            },
        },
        {
            "ruleId": "response-property-removed",
            "ruleIndex": 2,
            "level": "error",
            "message": {"text": "Property total was removed"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": "specs/head.yaml", "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": 57, "startColumn": 9},
                    },
                    "logicalLocations": [
                        {"fullyQualifiedName": "/components/schemas/Order/properties/total"},
                        {"name": "GET /orders/{orderId}", "kind": "function"},
                    ],
                }
            ],
            "partialFingerprints": {
                "apigovFindingHash/v1": sha(
                    "response-property-removed",
                    "specs/head.yaml",
                    "/components/schemas/Order/properties/total",
                )
            },
            "properties": {"service": "orders", "consumers": ["billing", "shipping"]},
        },
    ]


def test_rule_index_points_at_the_rule(sample: Report) -> None:
    run = render(sample)["runs"][0]
    for result in run["results"]:
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_one_rule_per_distinct_id() -> None:
    findings = [
        Finding("b-rule", Level.ERROR, "m", Location("a.yaml", "/a", 1, 1)),
        Finding("a-rule", Level.INFO, "m", Location("a.yaml", "/b", 2, 1)),
        Finding("b-rule", Level.WARNING, "m", Location("a.yaml", "/c", 3, 1)),
    ]
    run = render(Report("lint", findings, ["a.yaml"]))["runs"][0]
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == ["a-rule", "b-rule"]
    assert [(r["ruleId"], r["ruleIndex"], r["level"]) for r in run["results"]] == [
        ("b-rule", 1, "error"),
        ("a-rule", 0, "note"),
        ("b-rule", 1, "warning"),
    ]


def test_empty_report(empty: Report) -> None:
    log = render(empty)
    validate(log)
    assert log["runs"][0]["results"] == []
    assert log["runs"][0]["tool"]["driver"]["rules"] == []


def test_tricky_paths_and_messages(tricky: Report, tricky_message: str) -> None:
    log = render(tricky)
    validate(log)
    result = log["runs"][0]["results"][0]
    assert result["message"]["text"] == tricky_message
    assert result["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "my%20specs/a,b%3Ac.yaml",
        "uriBaseId": "%SRCROOT%",
    }


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("specs/head.yaml", {"uri": "specs/head.yaml", "uriBaseId": "%SRCROOT%"}),
        ("./specs/head.yaml", {"uri": "specs/head.yaml", "uriBaseId": "%SRCROOT%"}),
        ("specs\\head.yaml", {"uri": "specs/head.yaml", "uriBaseId": "%SRCROOT%"}),
        ("../up/x.yaml", {"uri": "../up/x.yaml", "uriBaseId": "%SRCROOT%"}),
        ("main:openapi.yaml", {"uri": "main%3Aopenapi.yaml", "uriBaseId": "%SRCROOT%"}),
        ("100%/a#b?.yaml", {"uri": "100%25/a%23b%3F.yaml", "uriBaseId": "%SRCROOT%"}),
        ("/abs/my spec.yaml", {"uri": "file:///abs/my%20spec.yaml"}),
        ("C:\\specs\\a.yaml", {"uri": "file:///C:/specs/a.yaml"}),
        ("https://example.com/a.yaml", {"uri": "https://example.com/a.yaml"}),
    ],
)
def test_artifact_locations(path: str, expected: dict[str, str]) -> None:
    assert sarif.artifact_location(path) == expected
    finding = Finding("x", Level.ERROR, "m", Location(path, "", 1, 1))
    validate(render(Report("lint", [finding], [path])))


def test_relative_uris_never_look_like_a_scheme() -> None:
    uri = sarif.artifact_location("main:openapi.yaml")["uri"]
    assert not _SCHEME.match(uri)


def test_region_omitted_without_line_and_column_without_column() -> None:
    findings = [
        Finding("a", Level.ERROR, "m", Location("x.yaml", "/a")),
        Finding("b", Level.ERROR, "m", Location("x.yaml", "/b", 4)),
    ]
    log = render(Report("lint", findings, ["x.yaml"]))
    validate(log)
    first, second = (r["locations"][0]["physicalLocation"] for r in log["runs"][0]["results"])
    assert "region" not in first
    assert second["region"] == {"startLine": 4}


def test_finding_without_file_is_anchored_at_the_first_input(unlocated: Report) -> None:
    log = render(unlocated)
    validate(log)
    result = log["runs"][0]["results"][0]
    assert result["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "contracts/orders", "uriBaseId": "%SRCROOT%"}
            }
        }
    ]
    assert result["partialFingerprints"] == {"apigovFindingHash/v1": sha("gate-closed", "", "")}


def test_finding_without_file_or_inputs_has_no_location_at_all() -> None:
    finding = Finding("gate", Level.ERROR, "no", operation="GET /x")
    log = render(Report("can-i-deploy", [finding], []))
    validate(log)
    assert "locations" not in log["runs"][0]["results"][0]


def test_every_location_is_physical(sample: Report, unlocated: Report) -> None:
    # GitHub code scanning rejects an upload in which a location has logical parts only.
    for report in (sample, unlocated):
        for result in render(report)["runs"][0]["results"]:
            for location in result.get("locations", []):
                assert "uri" in location["physicalLocation"]["artifactLocation"]


def test_fingerprint_is_stable_when_lines_move_and_differs_by_pointer() -> None:
    base = Finding("r", Level.ERROR, "m", Location("./a.yaml", "/p", 10, 2))
    moved = msgspec.structs.replace(base, location=Location("a.yaml", "/p", 99, 1), message="other")
    elsewhere = msgspec.structs.replace(base, location=Location("a.yaml", "/q", 10, 2))
    assert sarif.fingerprint(base) == sarif.fingerprint(moved) == sha("r", "a.yaml", "/p")
    assert sarif.fingerprint(base) != sarif.fingerprint(elsewhere)


def test_properties_only_when_set() -> None:
    findings = [
        Finding("a", Level.ERROR, "m", Location("x.yaml", "", 1, 1), service="orders"),
        Finding("b", Level.ERROR, "m", Location("x.yaml", "", 2, 1), consumers=("c1",)),
        Finding("c", Level.ERROR, "m", Location("x.yaml", "", 3, 1)),
    ]
    results = render(Report("lint", findings, ["x.yaml"]))["runs"][0]["results"]
    assert [r.get("properties") for r in results] == [
        {"service": "orders"},
        {"consumers": ["c1"]},
        None,
    ]


def test_schema_rejects_what_it_should(sample: Report) -> None:
    # The validation above must be able to fail: a wrong level and a bad URI are caught.
    log = render(sample)
    log["runs"][0]["results"][0]["level"] = "info"
    with pytest.raises(jsonschema.ValidationError):
        validate(log)
    log = render(sample)
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    location["artifactLocation"]["uri"] = "my specs/a.yaml"
    with pytest.raises(jsonschema.ValidationError):
        validate(log)


def test_rule_catalogue_describes_rules() -> None:
    findings = [
        Finding("b-rule", Level.WARNING, "m", Location("a.yaml", "/a", 1, 1)),
        Finding("a-rule", Level.INFO, "m", Location("a.yaml", "/b", 2, 1)),
        Finding("c-rule", Level.ERROR, "m", Location("a.yaml", "/c", 3, 1)),
        Finding("d-rule", Level.INFO, "m", Location("a.yaml", "/d", 4, 1)),
    ]
    rules = {
        "b-rule": RuleInfo(
            "b-rule",
            "Servers use https.  Plain http\nleaks tokens.",
            "https://example.org/rules#b-rule",
            Level.ERROR,
        ),
        "c-rule": RuleInfo("c-rule"),
        "d-rule": RuleInfo("d-rule", "No stop at the end", "https://example.org/my rules#d"),
        "unused-rule": RuleInfo("unused-rule", "Never fires here."),
    }
    log = render(Report("lint", findings, ["a.yaml"], rules))
    validate(log)
    run = log["runs"][0]
    assert run["tool"]["driver"]["rules"] == [
        # not in the catalogue: described by its id, as without one
        {"id": "a-rule", "shortDescription": {"text": "A rule"}},
        {
            "id": "b-rule",
            "shortDescription": {"text": "Servers use https."},
            "fullDescription": {"text": "Servers use https. Plain http leaks tokens."},
            "helpUri": "https://example.org/rules#b-rule",
            # the rule's own level (a finding's level may differ: an override changed it)
            "defaultConfiguration": {"level": "error"},
        },
        {
            "id": "c-rule",
            "shortDescription": {"text": "C rule"},
            "fullDescription": {"text": "C rule"},
        },
        {
            "id": "d-rule",
            "shortDescription": {"text": "No stop at the end"},
            "fullDescription": {"text": "No stop at the end"},
            "helpUri": "https://example.org/my%20rules#d",
        },
    ]
    assert [(r["ruleId"], r["ruleIndex"], r["level"]) for r in run["results"]] == [
        ("b-rule", 1, "warning"),
        ("a-rule", 0, "note"),
        ("c-rule", 2, "error"),
        ("d-rule", 3, "note"),
    ]


def test_lint_report_with_its_rule_catalogue_is_valid_sarif() -> None:
    from apigov.lint.analyze import RULES_PAGE, lint_targets
    from apigov.lint.ruleset import load_ruleset
    from apigov.spec.loader import Loader

    repo = Path(__file__).resolve().parents[2]
    shop = repo / "tests" / "lint" / "data" / "shop.yaml"
    report = lint_targets([str(shop)], Loader(root=repo), load_ruleset("apigov:recommended"))
    log = render(report)
    validate(log)
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    # shop.yaml breaks six rules (tests/lint/test_lint_cli.py), all of them built in
    assert len(rules) == 6
    for rule in rules:
        assert rule["helpUri"] == f"{RULES_PAGE}#{rule['id']}"
        assert rule["fullDescription"]["text"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from apigov.findings import Report, finding_from_dict
from apigov.report import json_format

SCHEMA_FILE = (
    Path(__file__).resolve().parents[2]
    / "src"
    / "apigov"
    / "report"
    / "schemas"
    / "report.schema.json"
)


def validator() -> jsonschema.protocols.Validator:
    schema = json_format.schema()
    cls = jsonschema.validators.validator_for(schema)
    assert cls is jsonschema.Draft202012Validator
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def render(report: Report) -> Any:
    return json.loads(json_format.render(report, tool_version="9.9.9"))


def test_shape_matches_the_design(sample: Report) -> None:
    assert render(sample) == {
        "tool": "apigov",
        "version": "9.9.9",
        "command": "diff",
        "summary": {"error": 1, "warning": 1, "info": 1},
        "inputs": ["specs/base.yaml", "specs/head.yaml", "specs/other.yaml"],
        "findings": [
            {
                "id": "operation-description",
                "level": "warning",
                "message": "Operation has no description",
                "operation": None,
                "location": {
                    "file": "specs/base.yaml",
                    "pointer": "/paths/~1orders/get",
                    "line": None,
                    "column": None,
                },
                "service": None,
                "consumers": [],
            },
            {
                "id": "response-added",
                "level": "info",
                "message": "Response 201 was added",
                "operation": "POST /orders",
                "location": {
                    "file": "specs/head.yaml",
                    "pointer": "/paths/~1orders/post/responses/201",
                    "line": 12,
                    "column": 7,
                },
                "service": None,
                "consumers": [],
            },
            {
                "id": "response-property-removed",
                "level": "error",
                "message": "Property total was removed",
                "operation": "GET /orders/{orderId}",
                "location": {
                    "file": "specs/head.yaml",
                    "pointer": "/components/schemas/Order/properties/total",
                    "line": 57,
                    "column": 9,
                },
                "service": "orders",
                "consumers": ["billing", "shipping"],
            },
        ],
    }


def test_key_order_and_indent(sample: Report) -> None:
    out = json_format.render(sample, tool_version="1.0")
    assert out.startswith('{\n  "tool": "apigov",\n  "version": "1.0",\n  "command": "diff",\n')
    assert out.endswith("}\n")
    assert list(json.loads(out)) == ["tool", "version", "command", "summary", "inputs", "findings"]


def test_empty_report(empty: Report) -> None:
    data = render(empty)
    assert data["summary"] == {"error": 0, "warning": 0, "info": 0}
    assert data["findings"] == []
    assert data["inputs"] == ["a.yaml", "b.yaml"]
    validator().validate(data)


def test_findings_read_back_equal(sample: Report, tricky: Report, unlocated: Report) -> None:
    for report in (sample, tricky, unlocated):
        data = render(report)
        assert [finding_from_dict(f) for f in data["findings"]] == report.sorted_findings()


@pytest.mark.parametrize("name", ["sample", "empty", "tricky", "unlocated"])
def test_real_output_validates_against_the_published_schema(
    name: str, request: pytest.FixtureRequest
) -> None:
    report: Report = request.getfixturevalue(name)
    validator().validate(render(report))


def test_schema_resource_is_the_file_in_the_source_tree() -> None:
    assert json_format.schema() == json.loads(SCHEMA_FILE.read_text("utf-8"))
    assert json_format.schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def _mutations() -> list[Any]:
    def level_fatal(d: dict[str, Any]) -> None:
        d["findings"][0]["level"] = "fatal"

    def line_zero(d: dict[str, Any]) -> None:
        d["findings"][2]["location"]["line"] = 0

    def no_summary(d: dict[str, Any]) -> None:
        del d["summary"]

    def extra_top_level(d: dict[str, Any]) -> None:
        d["extra"] = 1

    def other_tool(d: dict[str, Any]) -> None:
        d["tool"] = "oasdiff"

    def summary_negative(d: dict[str, Any]) -> None:
        d["summary"]["info"] = -1

    def consumers_not_strings(d: dict[str, Any]) -> None:
        d["findings"][2]["consumers"] = [1]

    def pointer_not_a_pointer(d: dict[str, Any]) -> None:
        d["findings"][0]["location"]["pointer"] = "paths"

    def missing_operation_key(d: dict[str, Any]) -> None:
        del d["findings"][1]["operation"]

    return [
        pytest.param(f, id=f.__name__)
        for f in (
            level_fatal,
            line_zero,
            no_summary,
            extra_top_level,
            other_tool,
            summary_negative,
            consumers_not_strings,
            pointer_not_a_pointer,
            missing_operation_key,
        )
    ]


@pytest.mark.parametrize("mutate", _mutations())
def test_invalid_objects_fail_the_schema(mutate: Any, sample: Report) -> None:
    data = render(sample)
    validator().validate(data)
    mutate(data)
    with pytest.raises(jsonschema.ValidationError):
        validator().validate(data)

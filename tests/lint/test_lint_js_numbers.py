"""Examples and defaults holding numbers beyond what jsonschema-rs and ajv agree on: integers of
more than 53 (and more than 64) bits, and whole floats. Spectral's ajv sees JavaScript numbers
(doubles), so the expected verdicts are those of doubles: B = 123456789012345678901234567890
is the double 1.2345678901234568e+29, and so is B + 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lint_helpers import LintText, media_example, spectral_results

from apigov.lint.functions.js_numbers import as_js_numbers, may_need_js_numbers
from apigov.spec import pointer as jp
from helpers import CORPUS, run_apigov

B = 123456789012345678901234567890


# (response code, schema, example, whether a double-based validator refuses it)
CASES = [
    (200, "{type: integer}", f"{B}", False),
    (201, "{type: integer, maximum: 10}", f"{B}", True),
    # B + 1 is the same double as B
    (202, f"{{type: integer, maximum: {B}}}", f"{B + 1}", False),
    (203, f"{{type: integer, enum: [{B}, 1]}}", f"{B + 1}", False),
    (204, f"{{type: integer, maximum: {B}, exclusiveMaximum: true}}", f"{B + 1}", True),
    (205, f"{{type: integer, minimum: -{B}}}", f"-{B + 1}", False),
    (206, "{type: array, items: {type: integer}, uniqueItems: true}", f"[{B}, {B + 1}]", True),
    # the DigitalOcean schema: 18446744073709552000 > 2**64, and 2**64 - 1 is the same double
    (207, "{type: integer, maximum: 18446744073709552000}", "18446744073709551615", False),
    # within 64 bits but beyond 53: 2**53 + 1 is the double 2**53
    (208, "{type: integer, maximum: 9007199254740992}", "9007199254740993", False),
    (209, "{type: string}", f"{B}", True),
    # 1.0 is the integer 1 in JavaScript (draft 4 in jsonschema-rs says otherwise)
    (210, "{type: integer}", "1.0", False),
    (211, "{type: object, properties: {n: {type: integer, maximum: 10}}}", f"{{n: {B}}}", True),
]

DOCUMENT = (
    "openapi: 3.0.3\n"
    "info: {title: t, version: '1'}\n"
    "paths:\n"
    "  /a:\n"
    "    get:\n"
    "      responses:\n"
    + "".join(media_example(code, schema, example) for code, schema, example, _ in CASES)
    + "components:\n"
    "  schemas:\n"
    f"    TooBig: {{type: integer, maximum: 10, default: {B}}}\n"
    f"    Fine: {{type: integer, maximum: {B}, default: {B + 1}}}\n"
)


def _media_pointer(code: int) -> str:
    return f"/paths/~1a/get/responses/{code}/content/application~1json/example"


# 211's finding is at the property that breaks the schema
EXPECTED = {
    ("oas3-valid-media-example", _media_pointer(code))
    for code, _, _, refused in CASES
    if refused and code != 211
} | {
    ("oas3-valid-media-example", _media_pointer(211) + "/n"),
    ("oas3-valid-schema-example", "/components/schemas/TooBig/default"),
}


def _example_keys(lint_text: LintText, document: str, ruleset: str) -> set[tuple[str, str]]:
    return {
        (f.id, f.location.pointer if f.location else "")
        for f in lint_text(document, ruleset)
        if "example" in f.id
    }


@pytest.mark.parametrize("ruleset", ["apigov:oas", "apigov:recommended"])
def test_numbers_are_judged_as_javascript_numbers(lint_text: LintText, ruleset: str) -> None:
    assert _example_keys(lint_text, DOCUMENT, ruleset) == EXPECTED


def test_messages_name_the_number_compared(lint_text: LintText) -> None:
    messages = {
        f.location.pointer: f.message
        for f in lint_text(DOCUMENT, "apigov:oas")
        if f.location is not None and "example" in f.id
    }
    # compared as the double, named as JavaScript writes it
    assert "1.2345678901234568e+29" in messages[_media_pointer(201)]
    assert "123456789012345677877719597056" not in messages[_media_pointer(201)]
    # nothing compared: the number as written
    assert str(B) in messages[_media_pointer(209)]


def test_json_document_reads_huge_integers_as_floats(lint_text: LintText) -> None:
    # orjson reads an integer beyond 64 bits from JSON as a float: the same verdicts follow.
    def media(schema: object) -> dict[str, object]:
        return {"description": "r", "content": {"application/json": {"schema": schema}}}

    document = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/a": {
                "get": {
                    "responses": {
                        "200": media({"type": "integer"}),
                        "201": media({"type": "integer", "maximum": 10}),
                        "202": media({"type": "integer", "enum": ["ENUM"]}),
                    }
                }
            }
        },
    }
    text = json.dumps(document)
    for code, value in (("200", B), ("201", B), ("202", B + 1)):
        text = text.replace(
            f'"{code}": {{"description": "r", "content": {{"application/json": {{',
            f'"{code}": {{"description": "r", "content": {{"application/json": '
            f'{{"example": {value}, ',
        )
    text = text.replace('"ENUM"', str(B))
    assert text.count(str(B)) == 3
    assert _example_keys(lint_text, text, "apigov:oas") == {
        ("oas3-valid-media-example", _media_pointer(201))
    }


def test_openapi_31_const(lint_text: LintText) -> None:
    document = (
        "openapi: 3.1.0\n"
        "info: {title: t, version: '1'}\n"
        "paths:\n"
        "  /a:\n"
        "    get:\n"
        "      responses:\n"
        + media_example(200, f"{{type: integer, const: {B}}}", f"{B + 1}")
        + media_example(201, "{type: integer, const: 1}", f"{B}")
    )
    assert _example_keys(lint_text, document, "apigov:oas") == {
        ("oas3-valid-media-example", _media_pointer(201))
    }


def test_conversion_copies_only_what_changes() -> None:
    text = {"description": "ratio:1.0, from (0.0 to 1.0)", "id": "0e+5"}
    assert may_need_js_numbers(text) is True  # looks like a number in orjson's text: walked
    assert as_js_numbers(text) == (text, {})
    assert as_js_numbers(text)[0] is text
    assert may_need_js_numbers({"d": "(0.0 to 1.0)", "n": 1.5, "m": [2**53 - 1]}) is False
    value = {"keep": {"a": 1}, "big": [2**64, 2.0]}
    converted, shown = as_js_numbers(value)
    assert converted == {"keep": {"a": 1}, "big": [2**64, 2]}
    assert converted["keep"] is value["keep"]
    assert type(converted["big"][1]) is int
    assert shown == {str(2**64): "18446744073709551616"}
    assert as_js_numbers(B)[1] == {"123456789012345677877719597056": "1.2345678901234568e+29"}


def test_spectral_agrees(spectral: Path, tmp_path: Path, lint_text: LintText) -> None:
    results = spectral_results(spectral, tmp_path / "spectral", DOCUMENT)
    theirs = {(r["code"], jp.join(r["path"])) for r in results if "example" in r["code"]}
    assert theirs == _example_keys(lint_text, DOCUMENT, "spectral:oas") == EXPECTED


@pytest.mark.corpus
@pytest.mark.parametrize("ruleset", ["apigov:oas", "apigov:recommended"])
def test_digitalocean_lints(ruleset: str) -> None:
    # Its MySQL settings hold `maximum: 18446744073709552000`, beyond 64 bits.
    entry = CORPUS / "digitalocean" / "specification" / "DigitalOcean-public.v2.yaml"
    run = run_apigov("lint", str(entry), "--ruleset", ruleset, "--format", "json")
    assert run.code in (0, 1), run.stderr
    assert json.loads(run.stdout)["summary"]["error"] > 0

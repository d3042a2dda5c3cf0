"""`format` in example checks as Spectral reads it: OpenAPI's int32 and int64 constrain numbers
(ajv's formats: int32 a whole number from -2**31 to 2**31 - 1, int64 any whole number; float
and double anything), string formats constrain strings as before."""

from __future__ import annotations

from pathlib import Path

from lint_helpers import LintText, media_example, spectral_results

from apigov.spec import pointer as jp

# (response code, schema, example, whether Spectral's ajv refuses it); the bounds worked out by
# hand: 2**31 - 1 = 2147483647, -2**31 = -2147483648.
CASES = [
    (200, "{type: integer, format: int32}", "2147483647", False),
    (201, "{type: integer, format: int32}", "2147483648", True),
    (202, "{type: integer, format: int32}", "-2147483648", False),
    (203, "{type: integer, format: int32}", "-2147483649", True),
    (204, "{type: integer, format: int32}", "1099511627776", True),  # 2**40
    (205, "{type: number, format: int32}", "1.5", True),
    (206, "{type: integer, format: int64}", "1099511627776", False),
    (207, "{type: number, format: int64}", "2.5", True),
    (208, "{type: number, format: float}", "1.5", False),
    (209, "{type: number, format: double}", "1e300", False),
    (
        210,
        "{type: string, format: int32}",
        "'not a number'",
        False,
    ),  # a number format: strings pass
    (211, "{type: string, format: uri}", "'no scheme'", True),  # string formats as before
]
DOCUMENT = (
    "openapi: 3.0.3\n"
    "info: {title: t, version: '1'}\n"
    "paths:\n"
    "  /a:\n"
    "    get:\n"
    "      responses:\n"
    + "".join(media_example(code, schema, example) for code, schema, example, _ in CASES)
)


def _pointer(code: int) -> str:
    return f"/paths/~1a/get/responses/{code}/content/application~1json/example"


EXPECTED = {("oas3-valid-media-example", _pointer(code)) for code, *_, refused in CASES if refused}


def _example_findings(lint_text: LintText, ruleset: str) -> dict[tuple[str, str], str]:
    return {
        (f.id, f.location.pointer if f.location else ""): f.message
        for f in lint_text(DOCUMENT, ruleset)
        if "example" in f.id
    }


def test_number_formats_hold_for_numbers_and_string_formats_for_strings(
    lint_text: LintText,
) -> None:
    found = _example_findings(lint_text, "apigov:oas")
    assert set(found) == EXPECTED
    assert found[("oas3-valid-media-example", _pointer(201))] == (
        '"example" property must match format "int32"'
    )
    assert found[("oas3-valid-media-example", _pointer(207))] == (
        '"example" property must match format "int64"'
    )
    # A string format keeps the validator's own wording.
    assert found[("oas3-valid-media-example", _pointer(211))] == (
        '"example" property "no scheme" is not a "uri"'
    )


def test_spectral_agrees(spectral: Path, tmp_path: Path, lint_text: LintText) -> None:
    results = spectral_results(spectral, tmp_path / "spectral", DOCUMENT)
    theirs = {(r["code"], jp.join(r["path"])) for r in results if "example" in r["code"]}
    assert theirs == EXPECTED
    messages = {jp.join(r["path"]): r["message"] for r in results}
    assert messages[_pointer(201)] == '"example" property must match format "int32"'

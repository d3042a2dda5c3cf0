"""Every openapi-pact-comparator fixture (OpenAPI ones) gives apigov PactFlow's verdict.

Compared per fixture: the set of (result code, interaction index) pairs. apigov's own findings
with no comparator code (compat-response-field-optional, ...) are left out of the comparison;
deliberate differences are listed here and in docs/pact.md, each with its reason.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pact_comparator import actual_pairs, expected_pairs

from apigov.spec.errors import InputError
from helpers import SHARED

FIXTURES = SHARED / "conformance" / "openapi-pact-comparator" / "fixtures"
OPENAPI_FIXTURES = [*sorted(FIXTURES.glob("oas/*")), FIXTURES / "oas-allOf-with-references"]

# Documents apigov refuses to analyse at all (exit 2), where the comparator carries on.
REFUSED = {
    # A `$ref` to nothing makes every verdict that depends on it a guess: the loader stops.
    "broken-references": "unresolvable $ref",
    # A file with neither `interactions` nor `messages` is not a pact.
    "pact-missing-interactions": "not an OpenAPI document",
}
# Findings apigov reports that the comparator does not.
EXTRA: dict[str, set[tuple[str, int]]] = {
    # OpenAPI paths are literal: `/wildcards/**` is not a pattern matching `/wildcards/foo`.
    "references": {("request.path-or-method.unknown", 6)},
}


def test_every_fixture_is_collected() -> None:
    assert len(OPENAPI_FIXTURES) == 44
    assert len(list(FIXTURES.glob("asyncapi/*"))) == 30


@pytest.mark.parametrize("fixture", OPENAPI_FIXTURES, ids=[f.name for f in OPENAPI_FIXTURES])
def test_fixture_verdict(fixture: Path) -> None:
    if fixture.name in REFUSED:
        with pytest.raises(InputError, match=re.escape(REFUSED[fixture.name])):
            actual_pairs(fixture)
        return
    expected = set(expected_pairs(fixture)) | EXTRA.get(fixture.name, set())
    assert set(actual_pairs(fixture)) == expected

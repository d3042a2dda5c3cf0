"""Every openapi-pact-comparator fixture (44 OpenAPI, 30 AsyncAPI) gives apigov PactFlow's
verdict.

Compared per fixture: the set of (result code, interaction index) pairs. apigov's own findings
with no comparator code (compat-response-field-optional, ...) are left out of the comparison
(those of the AsyncAPI fixtures are asserted separately); deliberate differences are listed
here and in docs/pact.md, each with its reason.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pact_comparator import actual_pairs, apigov_findings, expected_pairs, interaction_index

from apigov.pact.compat import CATALOGUE
from apigov.spec.errors import InputError
from helpers import SHARED, run_apigov

FIXTURES = SHARED / "conformance" / "openapi-pact-comparator" / "fixtures"
OPENAPI_FIXTURES = [*sorted(FIXTURES.glob("oas/*")), FIXTURES / "oas-allOf-with-references"]
ASYNCAPI_FIXTURES = sorted(FIXTURES.glob("asyncapi/*"))

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
    assert len(ASYNCAPI_FIXTURES) == 30


@pytest.mark.parametrize("fixture", OPENAPI_FIXTURES, ids=[f.name for f in OPENAPI_FIXTURES])
def test_fixture_verdict(fixture: Path) -> None:
    if fixture.name in REFUSED:
        with pytest.raises(InputError, match=re.escape(REFUSED[fixture.name])):
            actual_pairs(fixture)
        return
    expected = set(expected_pairs(fixture)) | EXTRA.get(fixture.name, set())
    assert set(actual_pairs(fixture)) == expected


# ---- AsyncAPI fixtures ---------------------------------------------------------------------

# Results the comparator reports that apigov deliberately does not.
ASYNC_MISSING: dict[str, set[tuple[str, int]]] = {
    # Pact libraries do not write PactFlow's `comments.references.AsyncAPI`: without it apigov
    # finds the message by its destination and name in the metadata, and checks it.
    "references-missing": {("message.references.missing", 0)},
}
# `apigov compat` needs a document to check against: without `--spec` it is a usage error.
NEEDS_SPEC = "spec-missing"

# apigov's own findings (no comparator code), by fixture. AsyncAPI 3's `action` is the
# application's own, and `--spec` is the provider's document, so the provider must `send` what
# the consumer receives and `receive` (then reply to) a synchronous request. These fixtures
# write their operations from the consumer's side (`receiveUserEvents`, `sendOrder` with a
# reply), which the comparator does not look at: apigov says so once per interaction.
DIRECTION_0 = {("compat-message-direction", 0)}
APIGOV_ONLY: dict[str, set[tuple[str, int]]] = {
    "message-both-incompatible": DIRECTION_0,
    "message-components-ref": DIRECTION_0,
    "message-content-type-not-json": DIRECTION_0,
    "message-headers-extra-properties": DIRECTION_0,
    "message-headers-extra-properties-no-explicit-block": DIRECTION_0,
    "message-headers-value-mismatch": DIRECTION_0,
    "message-id-unknown": DIRECTION_0,
    "message-multi-hop-ref-resolution": DIRECTION_0,
    "message-payload-extra-properties": DIRECTION_0,
    "message-payload-incompatible": DIRECTION_0,
    "message-payload-missing-required": DIRECTION_0,
    "message-payload-valid": DIRECTION_0,
    "mixed-http-and-async": {("compat-message-direction", 1)},
    # One document only: the interaction the other kind of document describes is not checked.
    "mixed-http-and-async-no-asyncapi": {("compat-interaction-not-checked", 1)},
    "mixed-http-and-async-no-oas": {
        ("compat-interaction-not-checked", 0),
        ("compat-message-direction", 1),
    },
    "multi-message-id-unknown": DIRECTION_0,
    "multi-message-partial-coverage": {
        ("compat-message-direction", 0),
        ("compat-message-direction", 1),
    },
    "multi-message-valid": DIRECTION_0,
    "operation-unknown": set(),
    "payload-schema-ref-incompatible": DIRECTION_0,
    "payload-schema-ref-valid": DIRECTION_0,
    "payload-unknown": DIRECTION_0,
    "references-malformed": set(),
    # Found without a reference: `userCreated` belongs to a `receive` operation.
    "references-missing": DIRECTION_0,
    "sync-reply-id-unknown": set(),
    "sync-reply-missing": DIRECTION_0,
    "sync-request-invalid-required": DIRECTION_0,
    "sync-response-subset-valid": DIRECTION_0,
    "sync-valid-reply-field": DIRECTION_0,
}


@pytest.mark.parametrize("fixture", ASYNCAPI_FIXTURES, ids=[f.name for f in ASYNCAPI_FIXTURES])
def test_asyncapi_fixture_verdict(fixture: Path) -> None:
    if fixture.name == NEEDS_SPEC:
        run = run_apigov("compat", str(fixture / "pact.json"))
        assert run.code == 2
        assert "Missing option '--spec'" in run.stderr
        return
    expected = set(expected_pairs(fixture)) - ASYNC_MISSING.get(fixture.name, set())
    assert set(actual_pairs(fixture)) == expected
    own = {
        (finding.id, interaction_index(finding))
        for finding in apigov_findings(fixture)
        if CATALOGUE[finding.id].comparator is None
    }
    assert own == APIGOV_ONLY[fixture.name]


def test_mixed_pact_against_both_documents_from_the_command_line() -> None:
    """`--spec` twice: the HTTP interaction against the OpenAPI document, the message against
    the AsyncAPI document, and neither reported as not checked."""
    fixture = FIXTURES / "asyncapi" / "mixed-http-and-async"
    run = run_apigov(
        "compat",
        str(fixture / "pact.json"),
        "--spec",
        str(fixture / "oas.yaml"),
        "--spec",
        str(fixture / "asyncapi.yaml"),
        "--format",
        "json",
    )
    assert run.code == 1, run.stderr
    report = json.loads(run.stdout)
    assert sorted(
        (f["id"], f["location"]["pointer"].split("/")[2]) for f in report["findings"]
    ) == [
        ("compat-message-body-incompatible", "1"),
        ("compat-message-direction", "1"),
        ("compat-response-status-unknown", "0"),
    ]
    assert report["summary"] == {"error": 3, "warning": 0, "info": 0}


def test_two_documents_of_one_kind_are_refused() -> None:
    fixture = FIXTURES / "asyncapi" / "mixed-http-and-async"
    spec = str(fixture / "oas.yaml")
    run = run_apigov("compat", str(fixture / "pact.json"), "--spec", spec, "--spec", spec)
    assert run.code == 2
    assert "a second OpenAPI document" in run.stderr

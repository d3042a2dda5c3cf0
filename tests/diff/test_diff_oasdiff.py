"""oasdiff's own checker tests as a peer suite: same breaking verdict on its document pairs.

Each entry of oasdiff's tests-index.json names two documents and the rule ids oasdiff expects.
The verdict is "breaking" when one of them is ERR in oasdiff's rules.tsv. oasdiff's fixtures
often use one schema in both a request and a response while the test expects only one side,
so apigov's changes are compared on the side(s) the expected ids name. Agreement is a ratchet:
raise the floor when the engine improves, never lower it.

Two corrections make the expected verdict the one oasdiff's own test states (each listed below
with its reason, checked against the Go test): ids a test names only to assert that they are
*not* reported, and tests that run a single oasdiff check on a fixture that changes more than
that check looks at (apigov's changes are then compared for the same keyword only). Where the
two tools still disagree on purpose, docs/diff.md says why.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from apigov.diff import Change, diff_specs
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec
from helpers import REPO, SHARED

OASDIFF = SHARED / "conformance" / "oasdiff"
AGREEMENT_FLOOR = 218

# Ids the Go test names only in `require.NotEqual` / `require.False(containsId(...))`.
ASSERTED_ABSENT: dict[str, frozenset[str]] = {
    "TestRequestPropertyAllOfAdded_AnnotationOnly_EmitsInfo": frozenset(
        {"request-body-all-of-added"}
    ),
    "TestRequestPropertyAllOfAdded_AnnotationOnly_AtProperty_EmitsInfo": frozenset(
        {"request-property-all-of-added"}
    ),
    # "refactoring an anyOf branch from inline enum to an equivalent $ref is not breaking"
    "TestRequestPropertyAnyOfInlineEnumRefactorToRef": frozenset(
        {"request-property-any-of-added", "request-property-any-of-removed"}
    ),
}

# Tests that run one oasdiff check (`singleCheckConfig`) on a fixture holding other changes:
# the keyword (an apigov id fragment) that check looks at. The contains fixtures change
# minContains and maxContains together; the contentSchema ones also change contentMediaType
# and contentEncoding; the request-body default one also removes a media type.
FOCUS: dict[str, str] = {
    **{
        test: "-min-contains-"
        for test in (
            "TestRequestBodyMinContainsDecreased",
            "TestRequestPropertyMinContainsDecreased",
            "TestResponseBodyMinContainsIncreased",
            "TestResponsePropertyMinContainsIncreased",
        )
    },
    **{
        test: "-max-contains-"
        for test in (
            "TestRequestBodyMaxContainsIncreased",
            "TestRequestPropertyMaxContainsIncreased",
            "TestResponseBodyMaxContainsDecreased",
            "TestResponsePropertyMaxContainsDecreased",
        )
    },
    "TestRequestBodyContentSchemaRemoved": "-content-schema-",
    "TestResponseBodyContentSchemaAdded": "-content-schema-",
    "TestRequestBodyDefaultValueChanged": "-default-",
}


def _levels() -> dict[str, str]:
    levels = {}
    for line in (OASDIFF / "rules.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            parts = line.split("\t")
            levels[parts[0]] = parts[1]
    return levels


def _side(change_id: str) -> str:
    return change_id.split("-", 1)[0] if change_id.startswith(("request-", "response-")) else ""


def _diff(base: Path, head: Path) -> list[Change]:
    loader = Loader(root=OASDIFF)
    base_spec, head_spec = loader.load(str(base)), loader.load(str(head))
    assert isinstance(base_spec, ApiSpec)
    assert isinstance(head_spec, ApiSpec)
    return diff_specs(base_spec, head_spec, today=dt.date(2026, 11, 25)).changes


@pytest.mark.skipif(not OASDIFF.is_dir(), reason="the shared oasdiff reference is not present")
def test_diff_agrees_with_oasdiff_breaking_verdicts() -> None:
    levels = _levels()
    cases = json.loads((OASDIFF / "tests-index.json").read_text(encoding="utf-8"))
    agree, disagreements = 0, []
    for case in cases:
        documents = case["documents"]
        if len(documents) != 2:
            continue
        changes = _diff(OASDIFF / documents[0], OASDIFF / documents[1])
        test = case["test"]
        named = [i for i in case["ids"] if i not in ASSERTED_ABSENT.get(test, frozenset())]
        sides = {_side(i) for i in named}
        if "" not in sides:
            changes = [c for c in changes if _side(c.id) in sides]
        if test in FOCUS:
            changes = [c for c in changes if FOCUS[test] in c.id]
        expected = any(levels.get(i) == "ERR" for i in named)
        found = any(c.level.value == "error" for c in changes)
        if expected == found:
            agree += 1
        else:
            disagreements.append(test)
    assert agree >= AGREEMENT_FLOOR, f"{agree} agree; disagree: {disagreements}"
    # docs/diff.md states the figure and explains every disagreement, one table row per kind
    # with its count ("| `*-set` (9: ...) |"): both must follow the engine.
    doc = (REPO / "docs" / "diff.md").read_text(encoding="utf-8")
    assert f"**{agree} of {agree + len(disagreements)} agree**" in doc
    section = doc.split("## Agreement with oasdiff", 1)[1].split("\n## ", 1)[0]
    explained = sum(int(n) for n in re.findall(r"^\| [^|]*\((\d+)[:)]", section, re.MULTILINE))
    assert explained == len(disagreements), f"docs/diff.md explains {explained}: {disagreements}"

"""One openapi-pact-comparator fixture through apigov: (code, interaction) pairs per side."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from apigov.findings import Finding
from apigov.pact.asyncapi import check_pact
from apigov.pact.compat import CATALOGUE
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec, AsyncApiSpec, PactFile

_INDEX = re.compile(r"interactions\[(\d+)\]")
_POINTER_INDEX = re.compile(r"^/(?:interactions|messages)/(\d+)")
# The comparator's verdicts on a message as a whole: `message.matched` (info) says a message of
# the operation accepts it, which apigov says by reporting nothing; `message.no.match` wraps
# the problems of every candidate (its `causes`), which apigov reports one by one.
_WRAPPERS = {"message.matched", "message.no.match"}


def expected_pairs(fixture: Path) -> Counter[tuple[str, int]]:
    results = json.loads((fixture / "results.json").read_text(encoding="utf-8"))
    pairs: Counter[tuple[str, int]] = Counter()
    for result in _flattened(results):
        match = _INDEX.search(result.get("mockDetails", {}).get("location", ""))
        pairs[(result["code"], int(match[1]) if match else -1)] += 1
    return pairs


def _flattened(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for result in results:
        if result["code"] not in _WRAPPERS:
            found.append(result)
        found.extend(_flattened(result.get("causes", [])))
    return found


def apigov_findings(fixture: Path) -> list[Finding]:
    """apigov's findings for the fixture's pact against the documents it holds (an OpenAPI
    document `oas.*`, an AsyncAPI document `asyncapi.yaml`, or both)."""
    loader = Loader()
    spec: ApiSpec | None = None
    events: AsyncApiSpec | None = None
    for path in sorted(fixture.iterdir()):
        if path.name.startswith(("oas.", "asyncapi.")):
            document = loader.load(str(path))
            if isinstance(document, AsyncApiSpec):
                events = document
            else:
                assert isinstance(document, ApiSpec)
                spec = document
    pact = loader.load(str(fixture / "pact.json"))
    assert isinstance(pact, PactFile)
    return check_pact(pact, spec, events)


def interaction_index(finding: Finding) -> int:
    pointer = finding.location.pointer if finding.location else ""
    match = _POINTER_INDEX.match(pointer or "")
    return int(match[1]) if match else -1


def actual_pairs(fixture: Path) -> Counter[tuple[str, int]]:
    pairs: Counter[tuple[str, int]] = Counter()
    for finding in apigov_findings(fixture):
        code = CATALOGUE[finding.id].comparator if finding.id in CATALOGUE else None
        if code is None:
            continue  # apigov's own findings: compared by the unit tests, not the fixtures
        pairs[(code, interaction_index(finding))] += 1
    return pairs

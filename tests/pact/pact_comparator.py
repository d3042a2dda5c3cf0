"""One openapi-pact-comparator fixture through apigov: (code, interaction) pairs per side."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from apigov.pact.compat import CATALOGUE, check_compatibility
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec, PactFile

_INDEX = re.compile(r"interactions\[(\d+)\]")
_POINTER_INDEX = re.compile(r"^/(?:interactions|messages)/(\d+)")


def expected_pairs(fixture: Path) -> Counter[tuple[str, int]]:
    results = json.loads((fixture / "results.json").read_text(encoding="utf-8"))
    pairs: Counter[tuple[str, int]] = Counter()
    for result in results:
        match = _INDEX.search(result["mockDetails"]["location"])
        pairs[(result["code"], int(match[1]) if match else -1)] += 1
    return pairs


def actual_pairs(fixture: Path) -> Counter[tuple[str, int]]:
    loader = Loader()
    spec_path = next(p for p in sorted(fixture.iterdir()) if p.name.startswith("oas."))
    spec = loader.load(str(spec_path))
    pact = loader.load(str(fixture / "pact.json"))
    assert isinstance(spec, ApiSpec) and isinstance(pact, PactFile)
    pairs: Counter[tuple[str, int]] = Counter()
    for finding in check_compatibility(pact, spec):
        code = CATALOGUE[finding.id].comparator if finding.id in CATALOGUE else None
        if code is None:
            continue  # apigov's own findings: compared by the unit tests, not the fixtures
        pointer = finding.location.pointer if finding.location else ""
        match = _POINTER_INDEX.match(pointer)
        pairs[(code, int(match[1]) if match else -1)] += 1
    return pairs

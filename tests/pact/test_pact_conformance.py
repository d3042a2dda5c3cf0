"""Every official Pact specification test case (V1, V1.1, V2, V3, V4) gives the expected verdict."""

from __future__ import annotations

import pytest
from pact_conformance import VERSIONS, Case, all_cases, run

CASES = all_cases()


def test_every_version_folder_is_collected() -> None:
    by_version = {version: sum(c.version == version for c in CASES) for version in VERSIONS}
    # Counted by hand from the folders: 76 + 97 + 178 + 226 + 226 case files.
    assert by_version == {"v1": 76, "v1.1": 97, "v2": 178, "v3": 226, "v4": 226}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case) -> None:
    should_match, mismatches = run(case)
    if should_match:
        assert mismatches == [], "\n".join(str(m) for m in mismatches)
    else:
        assert mismatches, "matched, but the case says it must not"
        assert all(m.message for m in mismatches)

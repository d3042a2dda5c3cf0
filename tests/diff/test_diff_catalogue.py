"""Every catalogue entry's own example produces exactly that id at that level."""

from __future__ import annotations

from pathlib import Path

import pytest
from diff_support import changes_between

from apigov.diff.catalogue import CATALOGUE, Check
from apigov.findings import Level


@pytest.mark.parametrize("check", list(CATALOGUE.values()), ids=list(CATALOGUE))
def test_diff_catalogue_example_produces_its_id(check: Check, tmp_path: Path) -> None:
    changes = changes_between(tmp_path, check.base, check.head)
    found = [c for c in changes if c.id == check.id]
    assert found, f"{check.id} not produced; got {sorted(c.id for c in changes)}"
    assert all(c.level is check.level for c in found)


@pytest.mark.parametrize("check", list(CATALOGUE.values()), ids=list(CATALOGUE))
def test_diff_catalogue_example_reversed_is_not_the_same_change(
    check: Check, tmp_path: Path
) -> None:
    """Running an example backwards must not report the same id: ids say which way things went."""
    changes = changes_between(tmp_path, check.head, check.base)
    # "-changed" ids read the same both ways; the version checks compare numbers, not changes.
    symmetric = ("-changed", "-style-changed", "-explode-changed")
    if check.id.endswith(symmetric) or check.id.startswith("api-version"):
        return
    assert check.id not in {c.id for c in changes}


def test_diff_catalogue_is_at_least_as_large_as_oasdiffs() -> None:
    assert len(CATALOGUE) >= 510


def test_diff_catalogue_levels_follow_direction() -> None:
    # Worked out by hand: a shorter maxLength rejects values clients sent before (request) but
    # only narrows what they receive (response).
    assert CATALOGUE["request-property-max-length-decreased"].level is Level.ERROR
    assert CATALOGUE["response-property-max-length-decreased"].level is Level.INFO
    assert CATALOGUE["response-body-enum-value-added"].level is Level.WARNING
    assert CATALOGUE["request-parameter-enum-value-removed"].level is Level.ERROR

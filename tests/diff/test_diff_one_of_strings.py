"""oneOf alternatives told apart by `format` or by anchored `pattern` prefixes.

Each "apart" expectation names why no string matches both; each "overlap" one names a string
that does (oneOf rejects it, so the new alternative turns away a value sent before).
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from diff_support import changes_between

from apigov.diff.catalogue import ok_response, one_operation, operation

S: dict[str, Any] = {"type": "string"}
AMBIGUOUS = "request-body-one-of-became-ambiguous"


def body_and_response(schema: dict[str, Any]) -> dict[str, Any]:
    op = operation(
        requestBody={"content": {"application/json": {"schema": schema}}},
        responses={"200": ok_response(schema)},
    )
    return one_operation(op)


def ambiguous(tmp_path: Path, old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether wrapping `old` into `oneOf: [old, new]` makes some value match both."""
    changes = changes_between(
        tmp_path, body_and_response(old), body_and_response({"oneOf": [old, new]})
    )
    return AMBIGUOUS in {c.id for c in changes}


def string(**keywords: Any) -> dict[str, Any]:
    return {**S, **keywords}


def test_diff_a_uuid_or_a_date_is_never_both(tmp_path: Path) -> None:
    # A uuid is 36 characters, a date 10.
    assert not ambiguous(tmp_path, string(format="uuid"), string(format="date"))


# A value of each format, none of which is valid in any other format of the list.
_SAMPLES = {
    "date": "2026-06-01",
    "date-time": "2026-06-01T10:00:00Z",
    "time": "10:00:00Z",
    "email": "ops@example.org",
    "uuid": "123e4567-e89b-12d3-a456-426614174000",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
}


def test_diff_each_sample_has_its_own_format_only() -> None:
    """The samples read by another validator: each is valid in its format and no other."""
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    for name, value in _SAMPLES.items():
        valid = {other for other in _SAMPLES if checker.conforms(value, other)}
        assert valid == {name}, value


@pytest.mark.parametrize(
    ("first", "second"), list(itertools.combinations(_SAMPLES, 2)), ids="-vs-".join
)
def test_diff_two_distinct_known_formats_keep_alternatives_apart(
    tmp_path: Path, first: str, second: str
) -> None:
    assert not ambiguous(tmp_path, string(format=first), string(format=second))


def test_diff_the_same_format_twice_overlaps(tmp_path: Path) -> None:
    # "2026-06-01" is a date of both.
    assert ambiguous(tmp_path, string(format="date"), string(format="date", minLength=1))


def test_diff_a_format_other_formats_may_spell_overlaps(tmp_path: Path) -> None:
    # "123e4567-e89b-12d3-a456-426614174000" is a uuid and a valid host name label.
    assert ambiguous(tmp_path, string(format="uuid"), string(format="hostname"))
    # "https://example.org" is a uri; an unknown format says nothing either.
    assert ambiguous(tmp_path, string(format="uri"), string(format="x-order-number"))


def test_diff_a_format_beside_no_format_overlaps(tmp_path: Path) -> None:
    # "2026-06-01" is a string and a date.
    assert ambiguous(tmp_path, S, string(format="date"))


def test_diff_formats_do_not_separate_values_that_are_not_strings(tmp_path: Path) -> None:
    # 5 is valid in both: format constrains strings only.
    both = ["string", "integer"]
    assert ambiguous(tmp_path, {"type": both, "format": "uuid"}, {"type": both, "format": "date"})
    # One side accepting only strings is enough: what both accept is then a string.
    assert not ambiguous(tmp_path / "one", {"type": both, "format": "uuid"}, string(format="date"))


def test_diff_old_alternatives_of_distinct_formats_are_distinct(tmp_path: Path) -> None:
    """A oneOf of a uuid and a date was exact: a plain string added beside them overlaps."""
    old = [string(format="uuid"), string(format="date")]
    changes = changes_between(
        tmp_path,
        body_and_response({"oneOf": old}),
        body_and_response({"oneOf": [*old, S]}),
    )
    assert AMBIGUOUS in {c.id for c in changes}


# ---- patterns -----------------------------------------------------------------------------------


def test_diff_anchored_literal_prefixes_that_differ_keep_alternatives_apart(
    tmp_path: Path,
) -> None:
    # Every match of the first starts with "ORD-", of the second with "INV-".
    assert not ambiguous(tmp_path, string(pattern="^ORD-[0-9]+$"), string(pattern="^INV-[0-9]+$"))
    # Escaped punctuation is literal too: "v1." against "v2.".
    assert not ambiguous(tmp_path / "escaped", string(pattern="^v1\\."), string(pattern="^v2\\."))
    # A group after the prefix does not matter: "a" against "b".
    assert not ambiguous(tmp_path / "group", string(pattern="^a(x|y)"), string(pattern="^b"))


@pytest.mark.parametrize(
    ("first", "second", "both"),
    [
        ("^ORD", "^ORD-2", "ORD-2"),  # one prefix starts the other
        ("ORD-", "INV-", "INV-ORD-"),  # not anchored: a match may start anywhere
        ("^ORD-|INV-", "^INV-", "INV-1"),  # the anchor binds only the first alternative
        ("^O?RD", "^RD", "RD"),  # an optional character is no prefix
        ("^O*X", "^X", "X"),
        ("^O{0,2}X", "^X", "X"),
        ("^\\d", "^1", "1"),  # a class, not the letter d
        ("^[OI]", "^I", "I"),
    ],
)
def test_diff_patterns_that_may_match_one_string_overlap(
    tmp_path: Path, first: str, second: str, both: str
) -> None:
    # The string named matches both, by Python's reading of these (ECMA-compatible) patterns.
    assert re.search(first, both) and re.search(second, both)
    assert ambiguous(tmp_path, string(pattern=first), string(pattern=second))

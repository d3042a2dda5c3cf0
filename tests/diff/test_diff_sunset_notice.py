"""Deprecation needs a date and notice: properties without `x-sunset`, and sunsets too soon.

The date of the change is the `today` given to the engine (never the clock), and the notice is
the policy's `sunset-notice` (default: 180 days for stable operations, 31 for beta, none for
alpha and draft). Every date below is counted by hand from 2026-06-01:
June has 30 days, so +30 is 2026-07-01; +61 2026-08-01; +92 2026-09-01; +122 2026-10-01;
+153 2026-11-01, so +180 is 2026-11-28.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from diff_support import load_pair

from apigov.diff import diff_specs, policy_from_data, run_diff
from apigov.diff.catalogue import ok_response, one_operation, operation
from apigov.diff.policy import SunsetNotice
from apigov.findings import Level
from apigov.spec.errors import InputError
from apigov.spec.loader import Loader
from helpers import REPO, run_apigov, write

TODAY = dt.date(2026, 6, 1)
S: dict[str, Any] = {"type": "string"}


def found(
    tmp_path: Path, base: Any, head: Any, notice: SunsetNotice | None = None
) -> set[tuple[str, Level]]:
    base_spec, head_spec = load_pair(tmp_path, base, head)
    changes = diff_specs(base_spec, head_spec, today=TODAY, notice=notice).changes
    return {(c.id, c.level) for c in changes}


def with_property(email: dict[str, Any], stability: str | None = None) -> dict[str, Any]:
    """A request body and a response, both an object whose `email` property is `email`."""
    schema = {"type": "object", "properties": {"id": S, "email": email}}
    op = operation(
        requestBody={"content": {"application/json": {"schema": schema}}},
        responses={"200": ok_response(schema)},
    )
    if stability is not None:
        op["x-stability-level"] = stability
    return one_operation(op)


def deprecated(sunset: str | None = None) -> dict[str, Any]:
    node: dict[str, Any] = {**S, "deprecated": True}
    if sunset is not None:
        node["x-sunset"] = sunset
    return node


# ---- properties deprecated without a date ------------------------------------------------------


def test_diff_a_property_deprecated_without_a_sunset_is_a_warning(tmp_path: Path) -> None:
    changes = found(tmp_path, with_property(S), with_property(deprecated()))
    # Like operations and parameters: clients are told it goes, not when. The plain
    # "became deprecated" is not reported beside it.
    assert changes == {
        ("request-property-deprecated-without-sunset", Level.WARNING),
        ("response-property-deprecated-without-sunset", Level.WARNING),
    }


def test_diff_a_property_deprecated_with_a_distant_sunset_is_plain_deprecation(
    tmp_path: Path,
) -> None:
    changes = found(tmp_path, with_property(S), with_property(deprecated("2027-06-01")))
    assert changes == {
        ("request-property-became-deprecated", Level.INFO),
        ("response-property-became-deprecated", Level.INFO),
    }


def test_diff_a_property_behind_a_ref_is_held_to_the_same_rule(tmp_path: Path) -> None:
    def doc(email: dict[str, Any]) -> dict[str, Any]:
        schema = {"$ref": "#/components/schemas/Customer"}
        customer = {"type": "object", "properties": {"id": S, "email": email}}
        op = operation(responses={"200": ok_response(schema)})
        return one_operation(op, method="get", components={"schemas": {"Customer": customer}})

    changes = found(tmp_path, doc(S), doc(deprecated()))
    assert changes == {("response-property-deprecated-without-sunset", Level.WARNING)}


def test_diff_a_whole_body_deprecated_is_not_a_property(tmp_path: Path) -> None:
    def doc(schema: dict[str, Any]) -> dict[str, Any]:
        return one_operation(operation(responses={"200": ok_response(schema)}), method="get")

    changes = found(tmp_path, doc(S), doc(deprecated()))
    assert changes == {("response-body-became-deprecated", Level.INFO)}


# ---- notice: the boundary of each stability level ----------------------------------------------


@pytest.mark.parametrize(
    ("stability", "enough", "too_soon"),
    [
        (None, "2026-11-28", "2026-11-27"),  # no level counts as stable: 180 days
        ("stable", "2026-11-28", "2026-11-27"),
        ("beta", "2026-07-02", "2026-07-01"),  # 31 days
        ("alpha", "2026-06-01", "2026-05-31"),  # no notice, but not a date already past
        ("draft", "2026-06-01", "2026-05-31"),
    ],
)
def test_diff_a_property_sunset_needs_the_notice_of_its_operations_level(
    tmp_path: Path, stability: str | None, enough: str, too_soon: str
) -> None:
    base = with_property(S, stability)
    fine = found(tmp_path / "fine", base, with_property(deprecated(enough), stability))
    assert ("request-property-became-deprecated", Level.INFO) in fine
    assert not {c for c in fine if c[0].endswith("-sunset-too-soon")}
    short = found(tmp_path / "short", base, with_property(deprecated(too_soon), stability))
    assert short == {
        ("request-property-sunset-too-soon", Level.ERROR),
        ("response-property-sunset-too-soon", Level.ERROR),
    }


def test_diff_a_property_sunset_moved_earlier_needs_notice_again(tmp_path: Path) -> None:
    before = with_property(deprecated("2027-06-01"))
    sooner = with_property(deprecated("2026-07-01"))
    assert found(tmp_path / "earlier", before, sooner) == {
        ("request-property-sunset-too-soon", Level.ERROR),
        ("response-property-sunset-too-soon", Level.ERROR),
    }
    # Moved later, clients get more time than they planned for: nothing to report.
    assert found(tmp_path / "later", sooner, before) == set()
    # A date given to a property deprecated without one is a new promise.
    assert found(tmp_path / "set", with_property(deprecated()), sooner) == {
        ("request-property-sunset-too-soon", Level.ERROR),
        ("response-property-sunset-too-soon", Level.ERROR),
    }


def test_diff_one_shared_schema_is_judged_per_operation_level(tmp_path: Path) -> None:
    """The schema comparison is memoised across operations; the notice is not."""

    def doc(email: dict[str, Any]) -> dict[str, Any]:
        customer = {"type": "object", "properties": {"id": S, "email": email}}
        ref = {"$ref": "#/components/schemas/Customer"}

        def op(stability: str) -> dict[str, Any]:
            return operation(
                **{"responses": {"200": ok_response(ref)}, "x-stability-level": stability}
            )

        paths = {"/stable": {"get": op("stable")}, "/beta": {"get": op("beta")}}
        doc = one_operation(operation(), components={"schemas": {"Customer": customer}})
        doc["paths"] = paths
        return doc

    # 2026-07-11 is 40 days away: enough for beta (31), not for stable (180).
    base_spec, head_spec = load_pair(tmp_path, doc(S), doc(deprecated("2026-07-11")))
    changes = diff_specs(base_spec, head_spec, today=TODAY).changes
    assert {(c.operation, c.id) for c in changes} == {
        ("GET /stable", "response-property-sunset-too-soon"),
        ("GET /beta", "response-property-became-deprecated"),
    }


# ---- operations and parameters ------------------------------------------------------------------


def op_doc(**fields: Any) -> dict[str, Any]:
    return one_operation(operation(**fields))


def test_diff_an_operation_deprecated_with_too_little_notice(tmp_path: Path) -> None:
    soon = op_doc(deprecated=True, **{"x-sunset": "2026-11-27"})
    assert found(tmp_path / "soon", op_doc(), soon) == {("operation-sunset-too-soon", Level.ERROR)}
    later = op_doc(deprecated=True, **{"x-sunset": "2026-11-28"})
    assert found(tmp_path / "later", op_doc(), later) == {("operation-deprecated", Level.INFO)}


def test_diff_an_operation_sunset_moved_earlier_is_too_soon_only_inside_the_notice(
    tmp_path: Path,
) -> None:
    def sunset(day: str | None) -> dict[str, Any]:
        fields: dict[str, Any] = {"deprecated": True}
        if day is not None:
            fields["x-sunset"] = day
        return op_doc(**fields)

    # 2027-06-01 to 2026-08-01 (61 days away): less than 180 days' notice.
    assert found(tmp_path / "a", sunset("2027-06-01"), sunset("2026-08-01")) == {
        ("operation-sunset-too-soon", Level.ERROR)
    }
    # 2028-01-01 to 2027-06-01 (365 days away): earlier, but with notice enough.
    assert found(tmp_path / "b", sunset("2028-01-01"), sunset("2027-06-01")) == {
        ("operation-sunset-changed", Level.WARNING)
    }
    # Later is always fine.
    assert found(tmp_path / "c", sunset("2026-08-01"), sunset("2027-06-01")) == {
        ("operation-sunset-changed", Level.WARNING)
    }
    # A first date for an operation deprecated without one.
    assert found(tmp_path / "d", sunset(None), sunset("2026-08-01")) == {
        ("operation-sunset-too-soon", Level.ERROR)
    }


def test_diff_a_parameter_deprecated_with_too_little_notice(tmp_path: Path) -> None:
    param: dict[str, Any] = {"name": "q", "in": "query", "schema": S}

    def doc(**extra: Any) -> dict[str, Any]:
        return op_doc(parameters=[{**param, **extra}], **{"x-stability-level": "beta"})

    # Beta: 31 days. 2026-07-01 is 30 days away, 2026-07-02 31.
    assert found(tmp_path / "a", doc(), doc(deprecated=True, **{"x-sunset": "2026-07-01"})) == {
        ("request-parameter-sunset-too-soon", Level.ERROR)
    }
    assert found(tmp_path / "b", doc(), doc(deprecated=True, **{"x-sunset": "2026-07-02"})) == {
        ("request-query-parameter-deprecated", Level.INFO)
    }
    moved = found(
        tmp_path / "c",
        doc(deprecated=True, **{"x-sunset": "2026-09-01"}),
        doc(deprecated=True, **{"x-sunset": "2026-06-15"}),
    )
    assert moved == {("request-parameter-sunset-too-soon", Level.ERROR)}


def test_diff_deprecating_a_path_parameter_reports_nothing(tmp_path: Path) -> None:
    # It cannot be left out, so there is nothing for clients to act on (this used to fail
    # looking up an id that does not exist).
    param = {"name": "p", "in": "path", "required": True, "schema": S}
    base = one_operation(operation(parameters=[param]), path="/items/{p}")
    head = one_operation(operation(parameters=[{**param, "deprecated": True}]), path="/items/{p}")
    assert found(tmp_path, base, head) == set()


# ---- the policy -------------------------------------------------------------------------------


def test_diff_the_policy_sets_the_notice_per_level(tmp_path: Path) -> None:
    policy = policy_from_data({"sunset-notice": {"stable": 10}}, "policy.yaml")
    assert policy.sunset_notice == SunsetNotice(stable=10, beta=31, alpha=0, draft=0)
    base = op_doc()

    def report(day: str) -> set[tuple[str, str]]:
        head = op_doc(deprecated=True, **{"x-sunset": day})
        base_spec, head_spec = load_pair(tmp_path / day, base, head)
        findings = run_diff(base_spec, head_spec, policy=policy, today=TODAY, include_info=True)
        return {(f.id, f.level.value) for f in findings.findings}

    # 10 days from 2026-06-01 is 2026-06-11.
    assert report("2026-06-11") == {("operation-deprecated", "info")}
    assert report("2026-06-10") == {("operation-sunset-too-soon", "error")}


def test_diff_without_a_policy_the_default_notice_applies(tmp_path: Path) -> None:
    head = op_doc(deprecated=True, **{"x-sunset": "2026-11-27"})
    base_spec, head_spec = load_pair(tmp_path, op_doc(), head)
    report = run_diff(base_spec, head_spec, today=TODAY)
    assert [f.id for f in report.findings] == ["operation-sunset-too-soon"]
    # A policy without the key keeps the default too, and its levels still apply.
    relaxed = policy_from_data({"levels": {"operation-sunset-too-soon": "warning"}}, "p.yaml")
    report = run_diff(base_spec, head_spec, policy=relaxed, today=TODAY)
    assert [(f.id, f.level) for f in report.findings] == [
        ("operation-sunset-too-soon", Level.WARNING)
    ]


def test_diff_an_ignore_file_keeps_the_policys_notice() -> None:
    policy = policy_from_data({"sunset-notice": {"beta": 5}}, "policy.yaml")
    ignores = policy_from_data({"ignore": []}, "ignore.yaml")
    assert policy.merged(ignores).sunset_notice == SunsetNotice(beta=5)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (30, "sunset-notice must map stability levels"),
        ({"ga": 30}, "unknown stability level 'ga'"),
        ({"stable": -1}, "stable must be a whole number of days"),
        ({"beta": "30"}, "beta must be a whole number of days"),
        ({"beta": True}, "beta must be a whole number of days"),
    ],
)
def test_diff_a_bad_sunset_notice_names_the_file_and_place(value: Any, message: str) -> None:
    with pytest.raises(InputError) as caught:
        policy_from_data({"sunset-notice": value}, "rules/breaking.yaml")
    assert message in str(caught.value)
    assert "rules/breaking.yaml" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_diff_the_shipped_policy_states_the_default_notice() -> None:
    data = Loader().source(str(REPO / "rules" / "breaking.yaml")).data
    assert policy_from_data(data, "rules/breaking.yaml").sunset_notice == SunsetNotice()
    # The defaults as docs/diff.md states them.
    assert SunsetNotice() == SunsetNotice(stable=180, beta=31, alpha=0, draft=0)


def test_diff_command_reads_the_notice_from_the_policy_file(tmp_path: Path) -> None:
    # The command's date is the clock's; 2999-01-01 is some 354,000 days after any date this
    # runs on: enough for the default notice, not for a million days.
    head = op_doc(deprecated=True, **{"x-sunset": "2999-01-01"})
    base_file = write(tmp_path, "base.json", json.dumps(op_doc()))
    head_file = write(tmp_path, "head.json", json.dumps(head))
    plain = run_apigov("diff", str(base_file), str(head_file), "--format", "json")
    assert plain.code == 0, plain.stderr
    strict = write(tmp_path, "strict.yaml", "sunset-notice:\n  stable: 1000000\n")
    result = run_apigov(
        "diff", str(base_file), str(head_file), "--policy", str(strict), "--format", "json"
    )
    assert result.code == 1
    assert [f["id"] for f in json.loads(result.stdout)["findings"]] == ["operation-sunset-too-soon"]
    bad = write(tmp_path, "bad.yaml", "sunset-notice:\n  stable: soon\n")
    rejected = run_apigov("diff", str(base_file), str(head_file), "--policy", str(bad))
    assert rejected.code == 2
    assert rejected.stderr.strip().count("\n") == 0
    assert "bad.yaml" in rejected.stderr and "/sunset-notice/stable" in rejected.stderr

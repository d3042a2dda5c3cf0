"""can-i-deploy policies: fuzz runs and verifications as evidence, maximum ages, and where the
policy comes from (`--require`, apigov.yaml, the default). Storage runs on SQLite and PostgreSQL.

The example fleet: orders holds pacts with inventory and payments; payments holds none, so
payments@1 asked about production (where orders is not deployed) has no pairs at all and only
the evidence about itself decides.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from registry_support import fleet_file

from apigov.config import load_config
from apigov.registry.domain import ContractFile, RegistryError, Role
from apigov.registry.gate import (
    UNKNOWN_ANSWER,
    Answer,
    Policy,
    can_i_deploy,
    choose_policy,
    decision_report,
    describe_age,
    parse_age,
    parse_policy,
)
from apigov.registry.publishing import collect_service_folder
from apigov.registry.sql import SqlRegistry
from apigov.spec.errors import InputError
from apigov.spec.loader import Loader
from helpers import CONTRACTS, REPO, run_apigov


def publish_fleet(registry: SqlRegistry, service: str, version: str) -> None:
    folder = CONTRACTS / service
    collected = collect_service_folder(folder, service, Loader(root=folder.parent))
    assert collected.refused is None
    registry.publish(service, version, collected.files)


@pytest.fixture
def fleet(registry: SqlRegistry) -> SqlRegistry:
    """payments 1, inventory 1 and orders 1 published; inventory 1 deployed to production."""
    for service in ("payments", "inventory", "orders"):
        publish_fleet(registry, service, "1")
    registry.record_deployment("inventory", "1", "production")
    return registry


def run_details(seed: int, failures: int = 0) -> dict[str, object]:
    return {
        "seed": seed,
        "requests": 120,
        "phases": ["coverage"],
        "failures": [{"operation": "GET /x", "check": "c", "failure": "F"}] * failures,
    }


def fuzz_answer(registry: SqlRegistry, requirement: str, **options: object) -> tuple[Answer, str]:
    policy = parse_policy([requirement], **options)  # type: ignore[arg-type]
    decision = can_i_deploy(registry, "payments", "1", "production", policy=policy)
    [check] = decision.evidence
    assert check.requirement == requirement
    return check.answer, check.reason


# ---- storage -------------------------------------------------------------------------------


def test_fuzz_runs_are_stored_per_version_and_environment(fleet: SqlRegistry) -> None:
    before = datetime.now(UTC)
    first = fleet.record_fuzz_run(
        "payments", "1", "staging", passed=True, complete=False, run=run_details(1), actor="ci"
    )
    second = fleet.record_fuzz_run(
        "payments", "1", "staging", passed=True, complete=True, run=run_details(2)
    )
    third = fleet.record_fuzz_run(
        "payments", "1", "qa", passed=False, complete=True, run=run_details(3, failures=2)
    )
    after = datetime.now(UTC)
    everywhere = fleet.fuzz_runs("payments", "1")
    assert [r.id for r in everywhere] == [first.id, second.id, third.id]
    assert first.id < second.id < third.id
    assert [(r.environment, r.passed, r.complete, r.green) for r in everywhere] == [
        ("staging", True, False, False),
        ("staging", True, True, True),
        ("qa", False, True, False),
    ]
    assert [r.run["seed"] for r in everywhere] == [1, 2, 3]
    assert len(everywhere[2].run["failures"]) == 2
    assert [r.recorded_by for r in everywhere] == ["ci", None, None]
    assert all(before <= r.recorded_at <= after for r in everywhere)
    assert [r.id for r in fleet.fuzz_runs("payments", "1", "staging")] == [first.id, second.id]
    assert fleet.fuzz_runs("payments", "1", "production") == []
    assert fleet.fuzz_runs("orders", "1") == []
    with pytest.raises(RegistryError, match=r"payments@9 is not in the registry"):
        fleet.record_fuzz_run("payments", "9", "qa", passed=True, complete=True, run={})
    assert [a.action for a in fleet.audit_log()].count("record-fuzz-run") == 3


def test_production_flag_of_environments(fleet: SqlRegistry) -> None:
    fleet.ensure_environment("live", production=True)
    assert fleet.is_production_environment("live")
    assert not fleet.is_production_environment("production")  # created by a deployment
    assert not fleet.is_production_environment("nowhere")


# ---- fuzz evidence in the gate ---------------------------------------------------------------


def test_fuzz_evidence_missing_incomplete_failed_satisfied(fleet: SqlRegistry) -> None:
    answer, reason = fuzz_answer(fleet, "fuzz@staging")
    assert (answer, reason) == (
        Answer.FUZZ_MISSING,
        "no fuzz run of payments@1 in staging (required by policy)",
    )
    fleet.record_fuzz_run("payments", "1", "staging", passed=True, complete=False, run={})
    answer, reason = fuzz_answer(fleet, "fuzz@staging")
    assert answer is Answer.FUZZ_MISSING
    assert "(1 interrupted, incomplete run only)" in reason
    failed = fleet.record_fuzz_run(
        "payments", "1", "staging", passed=False, complete=True, run=run_details(5, 2), actor="ci"
    )
    answer, reason = fuzz_answer(fleet, "fuzz@staging")
    assert answer is Answer.FUZZ_FAILED
    assert reason.startswith(
        f"the latest complete fuzz run #{failed.id} in staging (seed 5, 120 requests, "
        "2 distinct failures, recorded "
    )
    assert reason.endswith(" by ci) failed")
    green = fleet.record_fuzz_run(
        "payments", "1", "staging", passed=True, complete=True, run=run_details(6)
    )
    answer, reason = fuzz_answer(fleet, "fuzz@staging")
    assert answer is Answer.FUZZ_SATISFIED
    assert reason.startswith(f"fuzz run #{green.id} in staging (seed 6, ")
    # An interrupted run after a green one does not undo it: it saw only part of the service.
    fleet.record_fuzz_run("payments", "1", "staging", passed=False, complete=False, run={})
    assert fuzz_answer(fleet, "fuzz@staging")[0] is Answer.FUZZ_SATISFIED
    # Other environments are other evidence; `fuzz` alone takes the latest complete run anywhere.
    assert fuzz_answer(fleet, "fuzz@qa")[0] is Answer.FUZZ_MISSING
    assert fuzz_answer(fleet, "fuzz")[0] is Answer.FUZZ_SATISFIED
    fleet.record_fuzz_run("payments", "1", "qa", passed=False, complete=True, run={})
    assert fuzz_answer(fleet, "fuzz")[0] is Answer.FUZZ_FAILED
    assert fuzz_answer(fleet, "fuzz@staging")[0] is Answer.FUZZ_SATISFIED


def test_stale_fuzz_evidence_is_its_own_answer(fleet: SqlRegistry) -> None:
    run = fleet.record_fuzz_run("payments", "1", "staging", passed=True, complete=True, run={})
    policy = parse_policy(["fuzz@staging"], "7d")

    def answer_at(now: datetime) -> tuple[Answer, str, str]:
        decision = can_i_deploy(fleet, "payments", "1", "production", policy=policy, now=now)
        [check] = decision.evidence
        return check.answer, check.reason, decision.verdict

    answer, _, verdict = answer_at(run.recorded_at + timedelta(days=6, hours=23))
    assert (answer, verdict) == (Answer.FUZZ_SATISFIED, "yes")
    answer, reason, verdict = answer_at(run.recorded_at + timedelta(days=8, minutes=1))
    assert (answer, verdict) == (Answer.FUZZ_STALE, "unknown")
    assert reason.endswith("passed, but it is 8d old (max-age 7d)")


def test_no_pairs_but_missing_fuzz_evidence_is_unknown_not_yes(fleet: SqlRegistry) -> None:
    policy = parse_policy(["fuzz@staging"])
    decision = can_i_deploy(fleet, "payments", "1", "production", policy=policy)
    assert decision.pairs == [] and not decision.deployable
    assert decision.verdict == "unknown"
    report = decision_report(decision)
    assert [f.id for f in report.findings] == ["deploy-fuzz-missing", UNKNOWN_ANSWER]
    assert report.findings[1].message == (
        "unknown: nothing failed, but 1 required piece of evidence is missing or stale"
    )


def test_fuzz_evidence_does_not_apply_to_a_version_without_a_spec(fleet: SqlRegistry) -> None:
    """A pure consumer publishes no OpenAPI document: there is nothing to fuzz, so a fleet-wide
    fuzz policy does not block it (its pacts are still checked)."""
    pact = fleet_file("shipping", "pacts/shipping-orders.json")
    fleet.publish(
        "mobile", "1", [ContractFile("pacts/mobile-orders.json", Role.PACT, pact, "orders")]
    )
    fleet.record_deployment("orders", "1", "production")
    policy = parse_policy(["fuzz@staging"])
    decision = can_i_deploy(fleet, "mobile", "1", "production", policy=policy)
    assert [(p.provider, p.answer) for p in decision.pairs] == [("orders", Answer.SATISFIED)]
    [check] = decision.evidence
    assert check.answer is Answer.FUZZ_NOT_APPLICABLE
    assert decision.verdict == "yes"


def test_fuzz_and_verification_together(fleet: SqlRegistry) -> None:
    """orders@1 as a consumer: each pair needs its verification, and orders@1 its fuzz run."""
    fleet.record_deployment("payments", "1", "production")
    record = fleet.version("orders", "1")
    assert record is not None
    sha = {p.provider: p.sha256 for p in record.pacts}
    policy = parse_policy(["verification", "fuzz@staging"], "7d")
    fleet.record_verification("payments", "1", "orders", sha["payments"], True)
    decision = can_i_deploy(fleet, "orders", "1", "production", policy=policy)
    answers = {p.provider: p.answer for p in decision.pairs}
    assert answers == {"payments": Answer.SATISFIED, "inventory": Answer.VERIFICATION_MISSING}
    assert [e.answer for e in decision.evidence] == [Answer.FUZZ_MISSING]
    assert decision.verdict == "unknown"
    satisfied = next(p for p in decision.pairs if p.provider == "payments")
    assert re.fullmatch(
        r"static compatibility passed; verification of this pact passed "
        r"\(\d{4}-\d\d-\d\d \d\d:\d\d UTC\)",
        satisfied.reason,
    )
    fleet.record_verification("inventory", "1", "orders", sha["inventory"], False)
    decision = can_i_deploy(fleet, "orders", "1", "production", policy=policy)
    assert decision.verdict == "no"  # a failed verification is not worth waiting for
    fleet.record_verification("inventory", "1", "orders", sha["inventory"], True)
    fleet.record_fuzz_run("orders", "1", "staging", passed=True, complete=True, run={})
    decision = can_i_deploy(fleet, "orders", "1", "production", policy=policy)
    assert decision.verdict == "yes"
    # Eight days later every piece is stale: unknown again, each saying why.
    later = datetime.now(UTC) + timedelta(days=8)
    decision = can_i_deploy(fleet, "orders", "1", "production", policy=policy, now=later)
    assert {p.answer for p in decision.pairs} == {Answer.VERIFICATION_STALE}
    assert all(p.reason.endswith("(max-age 7d)") for p in decision.pairs)
    assert [e.answer for e in decision.evidence] == [Answer.FUZZ_STALE]
    assert decision.verdict == "unknown"


# ---- where the policy comes from -------------------------------------------------------------


def test_parse_policy_names_and_mistakes() -> None:
    assert parse_policy([]) == Policy()
    assert parse_policy(["static"]) == Policy()
    policy = parse_policy(["verification", "fuzz@staging", "fuzz", "fuzz@staging"], "36h")
    assert policy == Policy(
        require_verification=True,
        fuzz_environments=("staging", None),
        max_age=timedelta(hours=36),
    )
    assert policy.names == ("static", "verification", "fuzz@staging", "fuzz")
    with pytest.raises(InputError, match=r"'fuzzing' is not an evidence name \(known: static"):
        parse_policy(["fuzzing"])
    with pytest.raises(InputError, match=r"name the environment after fuzz@"):
        parse_policy(["fuzz@"])


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("45s", 45), ("90m", 5400), ("12h", 43200), ("7d", 604800), ("2w", 1209600)],
)
def test_ages(text: str, seconds: int) -> None:
    assert parse_age(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["7", "0d", "7 days", "-1d", "1.5h"])
def test_bad_ages(text: str) -> None:
    with pytest.raises(InputError, match="is not an age like 12h, 7d or 2w"):
        parse_age(text)


def test_ages_are_described_exactly_in_the_largest_unit() -> None:
    assert describe_age(timedelta(days=14)) == "14d"
    assert describe_age(timedelta(hours=36)) == "36h"
    assert describe_age(timedelta(minutes=2)) == "2m"
    assert describe_age(timedelta(seconds=100)) == "100s"
    # Exact, so an age survives being written out and read back (the server's query string).
    for text in ("2w", "5000m", "90s", "25h"):
        assert parse_age(describe_age(parse_age(text))) == parse_age(text)


def write_config(folder: Path, text: str) -> Path:
    path = folder / "apigov.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_command_line_replaces_the_configured_policy(tmp_path: Path) -> None:
    config = load_config(
        write_config(tmp_path, "can-i-deploy:\n  require: [fuzz@staging]\n  max-age: 3d\n")
    )
    configured = choose_policy([], None, config)
    assert configured == Policy(fuzz_environments=("staging",), max_age=timedelta(days=3))
    assert choose_policy(["verification"], None, config) == Policy(
        require_verification=True, max_age=timedelta(days=3)
    )
    assert choose_policy([], None, config, verification=True) == Policy(
        require_verification=True, max_age=timedelta(days=3)
    )
    assert choose_policy(["static"], "12h", config) == Policy(max_age=timedelta(hours=12))
    assert choose_policy([], None, load_config(start=tmp_path / "nowhere")) == Policy()


def test_configured_policy_mistakes_name_the_file(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, "can-i-deploy:\n  require: [fuzz@]\n"))
    with pytest.raises(InputError) as caught:
        choose_policy([], None, config)
    assert str(caught.value).startswith(f"{config.name}: 'fuzz@': name the environment")
    config = load_config(write_config(tmp_path, "can-i-deploy:\n  max-age: 7\n"))
    with pytest.raises(InputError, match=r"can-i-deploy.max-age: must be an age like 7d"):
        choose_policy([], None, config)


def test_the_policy_example_in_the_docs_reads_as_documented(tmp_path: Path) -> None:
    text = (REPO / "docs" / "registry.md").read_text(encoding="utf-8")
    section = text[text.index("\n## Policy\n") :]
    example = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert example is not None
    config = load_config(write_config(tmp_path, example[1]))
    assert choose_policy([], None, config) == Policy(
        require_verification=True, fuzz_environments=("staging",), max_age=timedelta(days=7)
    )
    assert config.is_production("production")
    assert not config.is_production("staging")


# ---- the production flag from the command line and the configuration -------------------------


def test_record_deployment_creates_production_environments(tmp_path: Path) -> None:
    location = str(tmp_path / "registry.db")
    store = SqlRegistry(location)
    try:
        store.publish("payments", "1", [ContractFile("openapi.yaml", Role.SPEC, b"{}")])
    finally:
        store.close()
    config = write_config(
        tmp_path, "environments:\n  - staging\n  - {name: live, production: true}\n"
    )
    common = ["--registry", location, "--config", str(config)]
    for environment, extra in (("prod-eu", ["--production"]), ("live", []), ("staging", [])):
        result = run_apigov(
            "record-deployment", "payments", "1", "--env", environment, *extra, *common
        )
        assert result.code == 0, result.stderr
    # The flag is set when an environment is created, and only then: said, not silently ignored.
    late = run_apigov(
        "record-deployment", "payments", "1", "--env", "staging", "--production", *common
    )
    assert late.code == 0
    assert late.stderr == (
        "note: environment staging already exists and is not marked production; the flag is "
        "only set when an environment is created\n"
    )
    store = SqlRegistry(location)
    try:
        flags = {
            env: store.is_production_environment(env) for env in ("prod-eu", "live", "staging")
        }
    finally:
        store.close()
    assert flags == {"prod-eu": True, "live": True, "staging": False}

"""Ruleset `overrides`: fragments for some files (new rules, redefined rules, severities) and
severities for places in a file, as Spectral applies them; and agreement with Spectral."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from apigov.findings import Finding, Level
from apigov.lint.engine import Linter
from apigov.lint.ruleset import load_ruleset
from apigov.spec import pointer as jp
from apigov.spec.errors import InputError
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec
from helpers import CONTRACTS, write

DOC = """\
openapi: 3.0.3
info: {title: Pets, version: "1"}
paths:
  /pets:
    get:
      responses: {"200": {description: ok}}
    post:
      responses: {"201": {description: ok}}
  /toys:
    get:
      responses: {"200": {description: ok}}
"""

OWNER_RULE = """\
  owner:
    message: "Who owns {{path}}?"
    severity: warn
    given: $.paths[*][get,post]
    then: {field: x-owner, function: truthy}
"""


def _lint(folder: Path, ruleset: str, document: str) -> list[Finding]:
    spec = Loader(root=folder).load(str(folder / document))
    assert isinstance(spec, ApiSpec)
    return Linter(load_ruleset(str(folder / ruleset))).lint(spec)


def _levels(findings: list[Finding]) -> dict[tuple[str, str], Level]:
    return {(f.id, f.location.pointer if f.location else ""): f.level for f in findings}


@pytest.fixture
def two_documents(tmp_path: Path) -> Path:
    write(tmp_path, "specs/pets.yaml", DOC)
    write(tmp_path, "specs/other.yaml", DOC)
    return tmp_path


def test_a_rule_defined_in_an_override_runs_only_on_its_files(two_documents: Path) -> None:
    write(
        two_documents,
        "rules.yaml",
        "overrides:\n"
        "  - files: [specs/pets.yaml]\n"
        "    rules:\n"
        + OWNER_RULE.replace("  owner", "      owner").replace("\n    ", "\n        "),
    )
    pets = _levels(_lint(two_documents, "rules.yaml", "specs/pets.yaml"))
    assert pets == {
        ("owner", "/paths/~1pets/get"): Level.WARNING,
        ("owner", "/paths/~1pets/post"): Level.WARNING,
        ("owner", "/paths/~1toys/get"): Level.WARNING,
    }
    assert _lint(two_documents, "rules.yaml", "specs/other.yaml") == []


def test_later_override_replaces_a_rule_entry_whole(two_documents: Path) -> None:
    write(
        two_documents,
        "rules.yaml",
        "rules:\n" + OWNER_RULE + "overrides:\n"
        "  - files: ['specs/*.yaml']\n"
        "    rules:\n"
        "      owner:\n"
        "        severity: error\n"
        "        given: $.paths[*].get\n"
        "        then: {field: x-owner, function: truthy}\n"
        "  - files: [specs/pets.yaml]\n"
        # no severity here: this entry replaces the one above whole, so the rule keeps the
        # severity it has in the ruleset (warn), and only post is looked at
        "    rules:\n"
        "      owner: {given: '$.paths[*].post', then: {field: x-owner, function: truthy}}\n",
    )
    findings = _lint(two_documents, "rules.yaml", "specs/pets.yaml")
    assert _levels(findings) == {("owner", "/paths/~1pets/post"): Level.WARNING}
    # the redefinition has no message: the rule's message stays (Spectral merges definitions)
    assert findings[0].message == "Who owns /paths/~1pets/post?"
    other = _levels(_lint(two_documents, "rules.yaml", "specs/other.yaml"))
    assert other == {
        ("owner", "/paths/~1pets/get"): Level.ERROR,
        ("owner", "/paths/~1toys/get"): Level.ERROR,
    }


def test_severity_override_by_file(two_documents: Path) -> None:
    write(
        two_documents,
        "rules.yaml",
        "rules:\n" + OWNER_RULE + "overrides:\n"
        "  - files: [specs/other.yaml]\n"
        "    rules: {owner: 'off'}\n",
    )
    assert len(_lint(two_documents, "rules.yaml", "specs/pets.yaml")) == 3
    assert _lint(two_documents, "rules.yaml", "specs/other.yaml") == []


def test_longest_pointer_wins_whatever_the_order(two_documents: Path) -> None:
    write(
        two_documents,
        "rules.yaml",
        "rules:\n" + OWNER_RULE.replace("severity: warn", "severity: 'off'") + "overrides:\n"
        "  - files: ['specs/pets.yaml#/paths/~1pets/post']\n"
        "    rules: {owner: info}\n"
        "  - files: ['specs/pets.yaml#/paths/~1pets']\n"
        "    rules: {owner: error}\n",
    )
    # the rule is off; the pointer overrides turn it on below /paths/~1pets only
    assert _levels(_lint(two_documents, "rules.yaml", "specs/pets.yaml")) == {
        ("owner", "/paths/~1pets/get"): Level.ERROR,
        ("owner", "/paths/~1pets/post"): Level.INFO,
    }
    assert _lint(two_documents, "rules.yaml", "specs/other.yaml") == []


def test_overrides_of_an_extended_ruleset_are_ignored(two_documents: Path) -> None:
    # As in Spectral: only the top ruleset's overrides apply.
    write(
        two_documents,
        "base.yaml",
        "rules:\n" + OWNER_RULE + "overrides:\n"
        "  - files: ['specs/*.yaml']\n"
        "    rules: {owner: 'off'}\n",
    )
    write(two_documents, "rules.yaml", "extends: [base.yaml]\n")
    assert len(_lint(two_documents, "rules.yaml", "specs/pets.yaml")) == 3
    assert _lint(two_documents, "base.yaml", "specs/pets.yaml") == []


def test_override_may_extend_a_ruleset_for_its_files(two_documents: Path) -> None:
    write(
        two_documents,
        "extra.yaml",
        "rules:\n"
        "  info-summary:\n"
        "    given: $.info\n"
        "    then: {field: summary, function: truthy}\n"
        + OWNER_RULE.replace("severity: warn", "severity: error"),
    )
    write(
        two_documents,
        "rules.yaml",
        "rules:\n" + OWNER_RULE + "overrides:\n"
        "  - files: [specs/pets.yaml]\n"
        "    extends: [extra.yaml]\n",
    )
    pets = _levels(_lint(two_documents, "rules.yaml", "specs/pets.yaml"))
    # the extended ruleset's own rule applies to pets.yaml; for a rule both define, the top
    # ruleset's definition wins (it is applied after what the override extends)
    assert pets[("info-summary", "/info")] == Level.WARNING
    assert pets[("owner", "/paths/~1pets/get")] == Level.WARNING
    other = _levels(_lint(two_documents, "rules.yaml", "specs/other.yaml"))
    assert ("info-summary", "/info") not in other


def test_pointer_override_with_a_definition_is_refused(two_documents: Path) -> None:
    ruleset = write(
        two_documents,
        "rules.yaml",
        "rules:\n" + OWNER_RULE + "overrides:\n"
        "  - files: ['specs/pets.yaml#/paths']\n"
        "    rules: {owner: {given: $.info, then: {function: truthy}}}\n",
    )
    with pytest.raises(InputError, match="can only change severities"):
        load_ruleset(str(ruleset))


def test_mistake_in_an_override_rule_is_found_when_loading(two_documents: Path) -> None:
    ruleset = write(
        two_documents,
        "rules.yaml",
        "overrides:\n"
        "  - files: [nothing/matches/this.yaml]\n"
        "    rules: {broken: {given: $.info, then: {function: nosuchfunction}}}\n",
    )
    with pytest.raises(InputError, match="unknown function 'nosuchfunction'"):
        load_ruleset(str(ruleset))


# ---- agreement with Spectral ------------------------------------------------------------------

# Every kind of override Spectral accepts: a rule only some files have, a redefinition of an
# inherited rule (given, then, severity), a later entry replacing an earlier one's rule, a
# severity change by file, severities by pointer (the longer wins), an override with formats.
# (Spectral refuses partial definitions, and `extends` inside an override fails there with
# spectral:oas's aliases, so neither is compared.)
CONFORMANCE_RULESET = """\
extends: [spectral:oas]
rules:
  owner-named:
    description: Every operation names its owner.
    message: "{{description}}"
    severity: warn
    given: $.paths[*][get,post,put,patch,delete]
    then: {field: x-owner, function: truthy}
overrides:
  - files: ["contracts/orders/openapi.yaml", "contracts/payments/*.yaml"]
    rules:
      audience-named:
        description: The API says who it is for.
        severity: error
        given: $.info
        then: {field: x-audience, function: truthy}
      info-contact:
        severity: info
        given: $.info
        then: {field: x-team, function: truthy}
      owner-named: error
  - files: ["contracts/payments/openapi.yaml"]
    rules:
      audience-named:
        given: $.paths[*][post]
        then: {field: x-audience, function: truthy}
  - files: ["contracts/notifications/openapi.json"]
    rules:
      oas3-server-not-example.com: warn
  - files: ["contracts/inventory/openapi.yaml#/paths/~1products/get"]
    rules:
      owner-named: error
  - files: ["contracts/inventory/openapi.yaml#/paths/~1products"]
    rules:
      owner-named: "off"
  - files: ["contracts/shipping/openapi.yaml"]
    formats: [oas2]
    rules:
      owner-named: info
      operation-description:
        description: Operations are described (shipping).
        given: $.paths[*][get,post]
        then: {field: x-described, function: truthy}
"""
_SPECTRAL_LEVELS = {0: "error", 1: "warning", 2: "info", 3: "info"}

Key = tuple[str, str, str, str]  # rule, JSON pointer, file (real path), level


@pytest.mark.corpus
def test_overrides_agree_with_spectral(spectral: Path, tmp_path: Path) -> None:
    # Globs are relative to the ruleset: lint a copy of the fleet beside it.
    shutil.copytree(CONTRACTS, tmp_path / "contracts")
    ruleset = write(tmp_path, "ruleset.yaml", CONFORMANCE_RULESET)
    documents = sorted((tmp_path / "contracts").glob("*/openapi.*"))
    assert len(documents) == 5
    report = tmp_path / "spectral.json"
    completed = subprocess.run(
        [
            *(str(spectral), "lint", "-r", str(ruleset), "-f", "json", "-o", str(report), "-q"),
            *("--fail-severity", "hint", *map(str, documents)),
        ],
        capture_output=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    assert completed.returncode in (0, 1), completed.stderr.decode(errors="replace")
    theirs: set[Key] = {
        (
            r["code"],
            jp.join(r["path"]),
            os.path.realpath(r["source"]),
            _SPECTRAL_LEVELS[r["severity"]],
        )
        for r in json.loads(report.read_text(encoding="utf-8"))
    }
    linter = Linter(load_ruleset(str(ruleset)))
    ours: set[Key] = set()
    for document in documents:
        spec = Loader(root=tmp_path).load(str(document))
        assert isinstance(spec, ApiSpec)
        for finding in linter.lint(spec):
            assert finding.location is not None
            file = spec.source.key if finding.location.file == spec.name else finding.location.file
            ours.add(
                (finding.id, finding.location.pointer, os.path.realpath(file), finding.level.value)
            )
    # Each kind of override shows up in the comparison (the fleet itself is clean otherwise).
    assert {key[0] for key in theirs} >= {
        "owner-named",
        "audience-named",
        "info-contact",
        "oas3-server-not-example.com",
        "operation-description",
    }
    assert {key[3] for key in theirs if key[0] == "owner-named"} == {"error", "warning", "info"}
    assert ours == theirs, (sorted(ours - theirs), sorted(theirs - ours))

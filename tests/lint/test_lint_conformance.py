"""apigov:oas against Spectral's own `spectral:oas`: the same findings (rule + place).

The test set-up installs `@stoplight/spectral-cli` with npm into `<repo>/.cache/npm-peers`
(git-ignored; once per machine), runs it once over a small set of documents (the example fleet,
the OpenAPI Initiative's examples and test documents, one Adyen specification), and compares
with apigov. The bigger corpus documents run in `bench/lint.py`: Spectral needs minutes there.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from apigov.lint.engine import Linter
from apigov.lint.ruleset import load_ruleset
from apigov.spec import pointer as jp
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec
from helpers import CONTRACTS, CORPUS, REPO

TARGET_AGREEMENT = 0.98

Key = tuple[str, str, str]  # rule, JSON pointer, real path of the file


def _documents() -> list[Path]:
    examples = CORPUS / "oai-examples"
    found = sorted(CONTRACTS.glob("*/openapi.*"))
    found += sorted((examples / "examples" / "v2.0" / "yaml").glob("*.yaml"))
    found += sorted((examples / "examples" / "v3.0").glob("*.json"))
    found += sorted((examples / "examples" / "v3.1").glob("*.json"))
    found += sorted((examples / "tests" / "v3.0" / "pass").glob("*.yaml"))
    found += sorted((examples / "tests" / "v3.1" / "pass").glob("*.yaml"))
    found += sorted((examples / "tests" / "v3.1" / "fail").glob("*.yaml"))
    found += [CORPUS / "adyen" / "TransferService-v4.json"]
    # nested and recursive examples (Spectral checks nothing against a recursive schema)
    found += [REPO / "tests" / "lint" / "data" / "examples.yaml"]
    return found


def _spectral_findings(spectral: Path, documents: list[Path], folder: Path) -> set[Key]:
    ruleset = folder / "spectral-oas.yaml"
    ruleset.write_text("extends: ['spectral:oas']\n", encoding="utf-8")
    report = folder / "spectral.json"
    completed = subprocess.run(
        [
            str(spectral),
            "lint",
            "-r",
            str(ruleset),
            "-f",
            "json",
            "-o",
            str(report),
            "-q",
            "--fail-severity",
            "hint",
            *map(str, documents),
        ],
        capture_output=True,
        timeout=600,
        check=False,
        cwd=REPO,
    )
    assert completed.returncode in (0, 1), completed.stderr.decode(errors="replace")
    results = json.loads(report.read_text(encoding="utf-8"))
    return {(r["code"], jp.join(r["path"]), os.path.realpath(r["source"])) for r in results}


def _apigov_findings(documents: list[Path]) -> set[Key]:
    linter = Linter(load_ruleset("spectral:oas"))
    found: set[Key] = set()
    for document in documents:
        loader = Loader(root=CORPUS if CORPUS in document.parents else REPO)
        spec = loader.load(str(document))
        assert isinstance(spec, ApiSpec)
        for finding in linter.lint(spec):
            assert finding.location is not None
            file = spec.source.key if finding.location.file == spec.name else finding.location.file
            found.add((finding.id, finding.location.pointer, os.path.realpath(file)))
    return found


@pytest.mark.corpus
def test_apigov_oas_agrees_with_spectral(spectral: Path, tmp_path: Path) -> None:
    documents = _documents()
    assert len(documents) > 30
    theirs = _spectral_findings(spectral, documents, tmp_path)
    ours = _apigov_findings(documents)
    assert len(theirs) > 150  # the examples break plenty of rules: a real comparison
    agreed = len(theirs & ours)
    report = "\n".join(
        [f"only Spectral: {key[:2]} in {key[2]}" for key in sorted(theirs - ours)]
        + [f"only apigov:   {key[:2]} in {key[2]}" for key in sorted(ours - theirs)]
    )
    assert agreed / len(theirs) >= TARGET_AGREEMENT, report
    # apigov should not invent findings either
    assert len(ours - theirs) <= (1 - TARGET_AGREEMENT) * len(theirs), report

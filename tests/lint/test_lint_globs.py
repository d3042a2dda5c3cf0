"""Override globs mean what they mean in Spectral: checked by hand, then against the minimatch
Spectral itself uses (installed with Spectral for the conformance tests)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from lint_helpers import NPM_PREFIX, install_spectral

from apigov.lint.globs import glob_matches

PATHS = [
    "/r/contracts/orders.yaml",
    "/r/contracts/orders/openapi.yaml",
    "/r/contracts/orders/v1/openapi.yaml",
    "/r/contracts/a.json",
    "/r/contracts/.hidden.yaml",
    "/r/contracts/.git/openapi.yaml",
    "/r/specs/pets.yaml",
    "/r/specs/pet.yaml",
    "/r/specs/pats.yml",
]
PATTERNS = [
    "/r/contracts/*.yaml",
    "/r/contracts/**/*.yaml",
    "/r/contracts/**",
    "/r/**/openapi.yaml",
    "/r/contracts/*/openapi.yaml",
    "/r/specs/p?ts.yaml",
    "/r/specs/p[ae]ts.y*ml",
    "/r/specs/p[!e]ts.yml",
    "/r/contracts/*.{yaml,json}",
    "/r/{specs,contracts}/pet*.yaml",
    "/r/specs/pets.yaml",
    "/r/contracts/.*.yaml",
    "/r/contracts/[.a]*",
]

# Worked out by hand from minimatch's rules: `*` and `?` stay in one segment, `**` spans any
# number of segments (also none), braces expand.
BY_HAND = [
    ("/r/contracts/*.yaml", "/r/contracts/orders.yaml", True),
    ("/r/contracts/*.yaml", "/r/contracts/orders/openapi.yaml", False),
    ("/r/contracts/*.yaml", "/r/contracts/.hidden.yaml", False),
    ("/r/contracts/.*.yaml", "/r/contracts/.hidden.yaml", True),
    ("/r/contracts/**", "/r/contracts/.git/config", False),
    ("/r/contracts/**/*.yaml", "/r/contracts/orders.yaml", True),
    ("/r/contracts/**/*.yaml", "/r/contracts/orders/v1/openapi.yaml", True),
    ("/r/**/openapi.yaml", "/r/contracts/orders/openapi.yaml", True),
    ("/r/contracts/*/openapi.yaml", "/r/contracts/orders/v1/openapi.yaml", False),
    ("/r/specs/p?ts.yaml", "/r/specs/pets.yaml", True),
    ("/r/specs/p?ts.yaml", "/r/specs/pet.yaml", False),
    ("/r/specs/p[!e]ts.yml", "/r/specs/pats.yml", True),
    ("/r/contracts/*.{yaml,json}", "/r/contracts/a.json", True),
    ("/r/{specs,contracts}/pet*.yaml", "/r/specs/pet.yaml", True),
    ("/r/{specs,contracts}/pet*.yaml", "/r/other/pet.yaml", False),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), BY_HAND)
def test_glob_by_hand(pattern: str, path: str, expected: bool) -> None:
    assert glob_matches(pattern, path) is expected


def test_glob_agrees_with_spectrals_minimatch() -> None:
    install_spectral()
    node = shutil.which("node")
    assert node is not None, "node is needed to run Spectral's minimatch"
    minimatch = NPM_PREFIX / "node_modules" / "minimatch"
    script = (
        f"const mm = require({json.dumps(str(minimatch))});"
        "const [patterns, paths] = JSON.parse(process.argv[1]);"
        "console.log(JSON.stringify(patterns.map(p => paths.map(f => mm(f, p)))));"
    )
    result = subprocess.run(
        [node, "-e", script, json.dumps([PATTERNS, PATHS])],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    theirs = json.loads(result.stdout)
    ours = [[glob_matches(pattern, path) for path in PATHS] for pattern in PATTERNS]
    differences = [
        (pattern, path)
        for pattern, our_row, their_row in zip(PATTERNS, ours, theirs, strict=True)
        for column, path in enumerate(PATHS)
        if our_row[column] != their_row[column]
    ]
    assert differences == []
    assert sum(map(sum, theirs)) >= 10  # the table exercises matches, not only misses


def test_override_glob_does_not_cross_folders(tmp_path: Path) -> None:
    from apigov.lint.ruleset import load_ruleset

    (tmp_path / "specs" / "nested").mkdir(parents=True)
    (tmp_path / ".spectral.yaml").write_text(
        "extends: [[spectral:oas, off]]\n"
        "rules:\n  info-contact: warn\n"
        "overrides:\n"
        "  - files: ['specs/*.yaml']\n"
        "    rules: {info-contact: off}\n"
    )
    ruleset = load_ruleset(str(tmp_path / ".spectral.yaml"))
    top = str(tmp_path / "specs" / "pets.yaml")
    nested = str(tmp_path / "specs" / "nested" / "pets.yaml")
    assert ruleset.for_file(top).rules["info-contact"].severity is None
    assert ruleset.for_file(nested).rules["info-contact"].severity is not None

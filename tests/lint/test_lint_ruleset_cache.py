"""The parsed built-in rulesets kept beside Python's bytecode: used while the file is unchanged,
parsed again when it changes, never written when Python writes no bytecode."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from apigov.lint.ruleset import load_ruleset, read_cached
from helpers import write

RULESET = """\
rules:
  no-x:
    description: No x.
    given: $.info
    then: {field: x-no, function: falsy}
"""


@pytest.fixture
def bytecode_under(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Python configured to write bytecode, under a prefix in the test's folder."""
    prefix = tmp_path / "pycache"
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    monkeypatch.setattr(sys, "pycache_prefix", str(prefix))
    return prefix


def _cached_files(prefix: Path) -> list[Path]:
    return sorted(prefix.rglob("*.marshal")) if prefix.exists() else []


def test_parsed_once_then_read_from_the_cache(tmp_path: Path, bytecode_under: Path) -> None:
    ruleset = write(tmp_path / "rules", "ruleset.yaml", RULESET)
    first = read_cached(ruleset, "ruleset.yaml")
    assert first["rules"]["no-x"]["then"] == {"field": "x-no", "function": "falsy"}
    [cache] = _cached_files(bytecode_under)
    assert cache.name == f"ruleset.yaml.{sys.implementation.cache_tag}.marshal"
    # The cache, not the file, answers now: make the file unreadable as YAML but keep its
    # size and time, as only a change that leaves both alone could.
    stat = ruleset.stat()
    ruleset.write_text("x" * stat.st_size)
    os.utime(ruleset, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert read_cached(ruleset, "ruleset.yaml") == first


def test_a_changed_file_is_parsed_again(tmp_path: Path, bytecode_under: Path) -> None:
    ruleset = write(tmp_path / "rules", "ruleset.yaml", RULESET)
    read_cached(ruleset, "ruleset.yaml")
    write(tmp_path / "rules", "ruleset.yaml", RULESET.replace("falsy", "truthy"))
    changed = read_cached(ruleset, "ruleset.yaml")
    assert changed["rules"]["no-x"]["then"]["function"] == "truthy"


def test_a_damaged_cache_is_replaced(tmp_path: Path, bytecode_under: Path) -> None:
    ruleset = write(tmp_path / "rules", "ruleset.yaml", RULESET)
    read_cached(ruleset, "ruleset.yaml")
    [cache] = _cached_files(bytecode_under)
    cache.write_bytes(b"\x00not marshal")
    assert read_cached(ruleset, "ruleset.yaml")["rules"]["no-x"]["given"] == "$.info"
    assert cache.read_bytes() != b"\x00not marshal"


def test_nothing_written_when_python_writes_no_bytecode(
    tmp_path: Path, bytecode_under: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    ruleset = write(tmp_path / "rules", "ruleset.yaml", RULESET)
    assert read_cached(ruleset, "ruleset.yaml")["rules"]["no-x"]["description"] == "No x."
    assert _cached_files(bytecode_under) == []


def test_builtin_rulesets_load_alike_from_the_cache(bytecode_under: Path) -> None:
    parsed = load_ruleset("apigov:recommended")
    cached = load_ruleset("apigov:recommended")
    assert len(_cached_files(bytecode_under)) == 2  # recommended.yaml and the oas.yaml it extends
    assert cached.rules == parsed.rules
    assert cached.rules["operation-tags"].given == ("#OperationObject",)

"""Patterns a typical lint never uses are compiled on first use, not at import.

Python compiles a regular expression in Python: these cost every process about 3 million
instructions (a two-line document's lint is 0.33 G) when compiled at import.
"""

from __future__ import annotations

import subprocess
import sys


def test_rare_patterns_are_not_compiled_at_import() -> None:
    """Importing the modules compiles none of them; each is there, compiled, when asked for."""
    script = """
import re
compiled = []
real_compile = re.compile
def recording_compile(pattern, flags=0):
    compiled.append(pattern)
    return real_compile(pattern, flags)
re.compile = recording_compile
import apigov.config, apigov.lint.functions.governance, apigov.spec.parse
print(sorted(map(repr, compiled)))
rare = [
    apigov.config._maybe_tool_apigov(),
    apigov.lint.functions.governance._version_segment(),
    apigov.spec.parse._json_string(),
    apigov.spec.parse._yaml_position(),
    re.compile(apigov.spec.parse._TAG_CANDIDATE_PATTERN),
]
print(sorted(repr(pattern.pattern) for pattern in rare))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    at_import, rare = result.stdout.splitlines()
    assert "tool" not in at_import  # the pyproject.toml `[tool.apigov]` pattern
    assert "column" not in at_import  # the YAML error position pattern
    assert "/v" not in at_import  # the version segment pattern
    assert "\\\\s*:" not in at_import  # the JSON string pattern's `(\s*:)?`
    assert "---" not in at_import  # the YAML tag pattern
    assert "tool" in rare and "column" in rare and "/v" in rare
    assert "\\\\s*:" in rare and "---" in rare

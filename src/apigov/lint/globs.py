"""Path globs with the meaning Spectral's overrides give them (minimatch, without its options).

`*` and `?` stay inside one path segment, `**` as a whole segment spans any number of
segments (none included), `[abc]`/`[!abc]` are character classes, `{a,b}` alternatives, and a
wildcard never matches the leading `.` of a segment (`*.yaml` leaves `.hidden.yaml` alone; name
the dot to match it).
Python's `fnmatch` lets `*` cross `/`, so `contracts/*.yaml` would also match
`contracts/orders/openapi.yaml`; a ruleset written for Spectral would then apply its overrides
to documents Spectral leaves alone.
"""

from __future__ import annotations

import itertools
import re
from functools import lru_cache

__all__ = ["glob_matches"]

_VISIBLE = r"(?!\.)[^/]*"  # one path segment that is not a dot file


def glob_matches(pattern: str, path: str) -> bool:
    """Whether a `/`-separated path matches the glob as a whole."""
    return _compiled(pattern).fullmatch(path) is not None


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile("|".join(_segments_regex(p) for p in _expand_braces(pattern)))


def _expand_braces(pattern: str) -> list[str]:
    """`a{b,c{d,e}}f` → `abf`, `acdf`, `acef`; a brace without a comma is literal, as in
    minimatch."""
    start = pattern.find("{")
    while start != -1:
        depth, commas, end = 0, [], -1
        for index in range(start, len(pattern)):
            char = pattern[index]
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    end = index
                    break
            elif char == "," and depth == 1:
                commas.append(index)
        if end == -1:
            break  # unbalanced: the rest is literal
        if commas:
            bounds = [start, *commas, end]
            head, tail = pattern[:start], pattern[end + 1 :]
            return [
                expanded
                for left, right in itertools.pairwise(bounds)
                for expanded in _expand_braces(head + pattern[left + 1 : right] + tail)
            ]
        start = pattern.find("{", start + 1)
    return [pattern]


def _segments_regex(pattern: str) -> str:
    parts = pattern.split("/")
    regex = ""
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "**":
            # Any number of whole segments, none included: `a/**/b` matches `a/b`.
            regex += f"(?:{_VISIBLE}(?:/{_VISIBLE})*)?" if last else f"(?:{_VISIBLE}/)*"
            continue
        regex += _segment_regex(part) + ("" if last else "/")
    return regex


def _segment_regex(part: str) -> str:
    out: list[str] = ["(?!\\.)"] if part[:1] in ("*", "?", "[") else []
    index = 0
    while index < len(part):
        char = part[index]
        if char == "*":
            while index + 1 < len(part) and part[index + 1] == "*":
                index += 1  # `a**b` inside a segment is `a*b`
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = part.find("]", index + 2)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = part[index + 1 : end]
                negate = body[:1] in ("!", "^")
                if negate:
                    body = body[1:]
                body = body.replace("\\", "\\\\").replace("^", "\\^")
                out.append(f"[{'^' if negate else ''}{body}]" if not negate else f"[^/{body}]")
                index = end
        else:
            out.append(re.escape(char))
        index += 1
    return "".join(out)

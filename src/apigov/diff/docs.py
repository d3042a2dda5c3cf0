"""Files generated from the catalogue: docs/diff-checks.md (`python -m apigov.diff.docs >
docs/diff-checks.md`) and the engine's table of levels (`python -m apigov.diff.docs levels`,
which writes src/apigov/diff/levels.py itself: redirecting the output there would empty the
file the engine imports before it is rendered). A test keeps both equal to what this module
renders now."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from apigov.diff.catalogue import CATALOGUE, SCHEMA_PLACES
from apigov.findings import Level

# oasdiff's rule catalogue (checker/rules.go at commit 4553c69d, 2026-08-08: the 509 rows of its
# rules.tsv) by area, with the apigov areas that cover the same ground and what apigov does
# beyond it there.
_OASDIFF_ROWS: list[tuple[str, int, tuple[str, ...], str]] = [
    (
        "Schema",
        363,
        ("schemas",),
        "every keyword in six places (request body/property/parameter, response "
        "body/property/header), 3.1 keywords (contains, prefixItems, dependent*, if/then/else, "
        "unevaluated*, content*), type widened vs narrowed (integer is a number), exclusive "
        "bounds in both 3.0 and 3.1 forms, readOnly/writeOnly per direction, allOf merged, "
        "oneOf/anyOf matched by content, a new oneOf alternative overlapping an old one "
        "(values matching both are rejected), discriminator mappings by name, "
        "`x-extensible-enum` value by value",
    ),
    (
        "Parameters",
        68,
        ("parameters",),
        "ids per location (path, query, header, cookie); renamed path parameters are the "
        "same parameter; style/explode with their defaults; schemas compared as the text "
        "values travel as (number to string widens, a scalar is a one-item array); removal "
        "after the sunset date; parameter schema keywords are counted under schemas "
        "(`request-parameter-...`)",
    ),
    (
        "Paths",
        21,
        ("paths", "operations"),
        "paths matched with parameter names ignored; removal checked against the sunset date",
    ),
    (
        "RequestBody",
        10,
        ("request body",),
        "media types compared without parameters; a media type gaining or losing its schema",
    ),
    (
        "Responses + Headers",
        23,
        ("responses",),
        "status ranges (2XX) cover their codes; header requiredness both ways; header "
        "schemas compared as text",
    ),
    (
        "Security + Components",
        19,
        ("security",),
        "alternatives and scopes per operation; scopes that OAuth flows define",
    ),
    ("Info", 3, ("info",), "semver: breaking changes need a new major version"),
    ("Tags", 2, (), "tag ids are counted with operations above"),
    (
        "(lifecycle rules)",
        0,
        ("deprecation",),
        "x-sunset dates, x-stability-level; operations, parameters and properties removed "
        "after their sunset are expected (info); a minimum notice per stability level "
        "(policy `sunset-notice`); properties deprecated without a date",
    ),
    ("(none)", 0, ("webhooks", "callbacks"), "levels seen from the receiving side"),
    (
        "(none)",
        0,
        ("servers",),
        "server URLs added and removed, per operation where a path item or operation names its own",
    ),
]


def render() -> str:
    by_area = Counter(check.area for check in CATALOGUE.values())
    levels = Counter(check.level.value for check in CATALOGUE.values())
    lines = [
        "# Change ids",
        "",
        "Generated from `src/apigov/diff/catalogue.py` by `python -m apigov.diff.docs`; "
        "`tests/diff/test_diff_docs.py` fails when it is out of date. "
        "`apigov diff --list-checks` prints the same list.",
        "",
        f"{len(CATALOGUE)} ids: {levels['error']} error (breaking), {levels['warning']} warning "
        f"(may break), {levels['info']} info. Schema keyword ids exist once per place a schema "
        f"can sit: {', '.join(f'`{p}-`' for p in SCHEMA_PLACES)}. Each id has a minimal "
        "base/head example that the tests run.",
        "",
        "## Compared with oasdiff",
        "",
        "| oasdiff area | oasdiff ids | apigov areas | apigov ids | apigov goes further |",
        "| --- | ---: | --- | ---: | --- |",
    ]
    for area, count, ours, further in _OASDIFF_ROWS:
        mine = sum(by_area[a] for a in ours)
        lines.append(
            f"| {area} | {count or '-'} | {', '.join(ours) or '-'} | {mine or '-'} | {further} |"
        )
    lines += [
        f"| **total** | **{sum(row[1] for row in _OASDIFF_ROWS)}** | | **{len(CATALOGUE)}** | |",
        "",
        "Not yet covered as well as oasdiff: per-media-type detail ids.",
        "",
    ]
    for area in sorted(by_area):
        lines += [f"## {area}", "", "| id | level | meaning |", "| --- | --- | --- |"]
        for check in sorted((c for c in CATALOGUE.values() if c.area == area), key=lambda c: c.id):
            lines.append(f"| `{check.id}` | {check.level.value} | {check.doc} |")
        lines.append("")
    return "\n".join(lines)


def render_levels() -> str:
    """src/apigov/diff/levels.py: every id and its default level, all a diff run needs of the
    catalogue (building the catalogue, with its 900 example pairs, would add to every run)."""
    initials = {Level.ERROR: "E", Level.WARNING: "W", Level.INFO: "I"}
    lines = [
        '"""Every change id and its default level, generated from the catalogue: do not edit.',
        "",
        "`python -m apigov.diff.docs levels` writes it again.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from apigov.findings import Level",
        "",
        "E, W, I = Level.ERROR, Level.WARNING, Level.INFO  # noqa: E741 - the levels' initials",
        "",
        "LEVELS: dict[str, Level] = {",
        *(f'    "{cid}": {initials[check.level]},' for cid, check in CATALOGUE.items()),
        "}",
        "",
    ]
    return "\n".join(lines)


LEVELS_FILE = Path(__file__).with_name("levels.py")


if __name__ == "__main__":
    if sys.argv[1:] == ["levels"]:
        LEVELS_FILE.write_text(render_levels(), encoding="utf-8")
    else:
        sys.stdout.write(render())

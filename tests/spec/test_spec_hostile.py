"""Hostile input: every case ends quickly with exit 2 and one line naming the file and place."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers import MINIMAL_30, run_apigov, write

BOMB = """\
openapi: 3.0.3
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def deep_block_yaml(levels: int) -> str:
    return (
        "openapi: 3.0.3\n"
        + "".join(" " * i + "k:\n" for i in range(levels))
        + " " * levels
        + "k: 1\n"
    )


# (file name, content, what the one line must contain after "file:")
CASES: list[tuple[str, str | bytes, str]] = [
    ("bomb.yaml", BOMB, "alias bomb"),
    (
        "tag.yaml",
        "openapi: 3.0.3\ninfo: !!python/object/apply:os.system ['true']\n",
        ":2: YAML tag '!!python/object/apply:os.system' is not allowed",
    ),
    ("local-tag.yaml", "openapi: 3.0.3\ninfo: !mytag {title: x}\n", ":2: YAML tag"),
    (
        "dup.yaml",
        "openapi: 3.0.3\ninfo:\n  title: a\n  version: '1'\ninfo: {}\n",
        ":5: duplicate mapping key 'info' (first at line 2)",
    ),
    (
        "dup-nested.yaml",
        "openapi: 3.0.3\ninfo:\n  title: a\n  version: '1'\n  title: b\n",
        ":5: duplicate mapping key 'title' (first at line 3)",
    ),
    (
        "dup.json",
        '{"openapi": "3.0.3",\n "info": {"title": "a",\n  "title": "b"}}',
        ":3: duplicate mapping key 'title' (first at line 2)",
    ),
    (
        # Strings holding `":` (an escaped quote, a value starting with a colon) beside a
        # duplicate: the quick count of quote-colon pairs is off by those, and the exact scan
        # must still name the duplicate.
        "dup-colons.json",
        '{"openapi": "3.0.3", "x": "{\\"a\\": 1}", "y": ":",\n "info": {"title": "a",\n'
        '  "title": "b"}}',
        ":3: duplicate mapping key 'title' (first at line 2)",
    ),
    (
        "dup-escaped-key.json",
        '{"openapi": "3.0.3", "a\\\\": 1,\n "a\\\\" : 2}',
        ":2: duplicate mapping key 'a\\\\' (first at line 1)",
    ),
    (
        "latin1.yaml",
        b"openapi: 3.0.3\ninfo:\n  title: caf\xe9\n",
        ":3:13: not valid UTF-8 (byte 0xe9)",
    ),
    ("binary.json", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ":3:1: binary content"),
    ("empty.yaml", "\n   \n# only a comment\n", ": empty document"),
    ("zero.json", "", ": empty document"),
    ("list.yaml", "- openapi: 3.0.3\n", "the top level is a sequence"),
    ("scalar.yaml", "just a string\n", "the top level is a single str value"),
    ("several.yaml", "openapi: 3.0.3\n---\nopenapi: 3.1.0\n", "the top level is a sequence"),
    ("deep-block.yaml", deep_block_yaml(3_000), "nesting deeper than the limit of 256"),
    ("deep-seq.yaml", "openapi: 3.0.3\nx:\n" + "- " * 5_000 + "1\n", "nesting deeper than"),
    (
        "deep-flow.yaml",
        "openapi: 3.0.3\nx: " + "[" * 100_000 + "]" * 100_000 + "\n",
        "nesting deeper than",
    ),
    ("deep.json", "[" * 100_000 + "]" * 100_000, "nesting deeper than"),
    ("deep-object.json", '{"a":' * 300 + "1" + "}" * 300, "nesting deeper than the limit"),
    ("broken.yaml", "openapi: 3.0.3\ninfo: [1, 2\npaths: {}\n", ":3:"),
    ("broken.json", '{"openapi": "3.0.3",\n "info": }', ":2:10: invalid JSON"),
    (
        "v4.yaml",
        "openapi: 4.0.0\ninfo: {title: x, version: '1'}\npaths: {}\n",
        ":1: unsupported openapi version '4.0.0'",
    ),
    (
        "float-version.yaml",
        "openapi: 3.0\ninfo: {title: x, version: '1'}\npaths: {}\n",
        ":1: unsupported openapi version 3.0",
    ),
    ("swagger12.json", '{"swagger": "1.2", "info": {}}', "unsupported swagger version '1.2'"),
    ("unknown.yaml", "name: not a contract\n", "not an OpenAPI document"),
    (
        "missing-pointer.yaml",
        MINIMAL_30.replace(
            '#/components/schemas/Pet"\ncomponents', '#/components/schemas/Pat"\ncomponents'
        ),
        ":21:17: unresolvable $ref '#/components/schemas/Pat': no 'Pat' at /components/schemas",
    ),
    (
        "missing-file.yaml",
        MINIMAL_30.replace(
            '"#/components/schemas/Pet"\ncomponents', '"nowhere.yaml#/Pet"\ncomponents'
        ),
        ":21:17: unresolvable $ref 'nowhere.yaml#/Pet': no file",
    ),
    (
        "remote.yaml",
        MINIMAL_30.replace(
            '"#/components/schemas/Pet"\ncomponents', '"https://127.0.0.1:9/pet.yaml"\ncomponents'
        ),
        ":21:17: remote $ref 'https://127.0.0.1:9/pet.yaml' refused (pass --allow-remote-refs",
    ),
    (
        "escape.yaml",
        MINIMAL_30.replace(
            '"#/components/schemas/Pet"\ncomponents', '"../../../../../etc/passwd"\ncomponents'
        ),
        ":21:17: $ref '../../../../../etc/passwd' escapes the root folder",
    ),
    (
        "cycle.yaml",
        "openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths: {}\ncomponents:\n"
        "  schemas:\n    A:\n      $ref: '#/components/schemas/B'\n"
        "    B:\n      $ref: '#/components/schemas/A'\n",
        "$ref cycle:",
    ),
    (
        "self.yaml",
        "openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths: {}\ncomponents:\n"
        "  schemas:\n    A:\n      $ref: '#/components/schemas/A'\n",
        ":7:7: $ref cycle: /components/schemas/A -> /components/schemas/A",
    ),
]


@pytest.mark.parametrize(("name", "content", "expected"), CASES, ids=[c[0] for c in CASES])
def test_hostile_input_is_one_line_and_exit_2(
    tmp_path: Path, name: str, content: str | bytes, expected: str
) -> None:
    write(tmp_path, name, content)
    # The timeout is a hang guard (the bound is 5 s; CI machines are shared).
    result = run_apigov("validate", name, cwd=tmp_path, timeout=20)
    assert result.code == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"apigov: error: {name}"), lines[0]
    assert expected in lines[0], lines[0]
    assert result.stdout == ""


def test_size_limit_is_configurable(tmp_path: Path) -> None:
    write(tmp_path, "big.yaml", MINIMAL_30 + "x-padding: '" + "a" * 4096 + "'\n")
    small = run_apigov("validate", "big.yaml", "--max-size", "2K", cwd=tmp_path)
    assert small.code == 2
    assert "over the limit of 2,048" in small.stderr
    assert "--max-size" in small.stderr
    large = run_apigov("validate", "big.yaml", "--max-size", "1M", cwd=tmp_path)
    assert large.code == 0, large.stderr


def test_default_size_limit_is_64_mib(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:
        handle.write(b'{"openapi": "3.0.3", "x": "')
        handle.write(b"a" * (64 * 1024 * 1024))
        handle.write(b'"}')
    result = run_apigov("validate", "huge.json", cwd=tmp_path, timeout=20)
    assert result.code == 2
    assert "over the limit of 67,108,864" in result.stderr


def test_depth_limit_is_configurable(tmp_path: Path) -> None:
    write(tmp_path, "deep.yaml", deep_block_yaml(40))
    assert run_apigov("validate", "deep.yaml", "--max-depth", "16", cwd=tmp_path).code == 2
    # Within the limit the document parses; it is then merely an invalid spec (exit 1).
    assert run_apigov("validate", "deep.yaml", cwd=tmp_path).code == 1


def test_recursive_schema_is_fine(tmp_path: Path) -> None:
    write(tmp_path, "pets.yaml", MINIMAL_30)
    result = run_apigov("validate", "pets.yaml", cwd=tmp_path)
    assert result.code == 0, result.stderr + result.stdout
    assert "No problems found in 1 document" in result.stdout


def test_exclamation_marks_in_text_are_not_tags(tmp_path: Path) -> None:
    text = MINIMAL_30.replace("title: Pets", "title: Pets !important and - !not a tag")
    write(tmp_path, "pets.yaml", text)
    assert run_apigov("validate", "pets.yaml", cwd=tmp_path).code == 0


def test_missing_file_and_folder_without_contracts(tmp_path: Path) -> None:
    missing = run_apigov("validate", "nope.yaml", cwd=tmp_path)
    assert missing.code == 2
    assert missing.stderr.strip() == "apigov: error: nope.yaml: no such file"
    (tmp_path / "empty").mkdir()
    empty = run_apigov("validate", "empty", cwd=tmp_path)
    assert empty.code == 2
    assert "folder holds no contract files" in empty.stderr


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    write(tmp_path, "list.yaml", "- a\n")
    result = run_apigov("validate", "list.yaml", "--debug", cwd=tmp_path)
    assert result.code == 2
    assert "Traceback" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1].startswith("apigov: error: list.yaml")


def test_special_files_are_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")  # opening a FIFO for reading would wait for a writer
    result = run_apigov("validate", "pipe.yaml", cwd=tmp_path, timeout=20)
    assert result.code == 2
    assert result.stderr == "apigov: error: pipe.yaml: not a regular file\n"

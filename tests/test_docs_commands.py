"""Every ```console example in docs/ runs and prints exactly what the doc shows."""

from __future__ import annotations

import re
import shlex

import pytest

from helpers import REPO, run_apigov

EXAMPLE = re.compile(r"```console\n\$ (?P<command>[^\n]+)\n(?P<output>.*?)```", re.DOTALL)
# `$ apigov can-i-deploy orders 1.0.0 --to production   # exit 0`: the example says its exit code.
EXIT_MARKER = re.compile(r"^(?P<command>.*?)\s+# exit (?P<code>\d+)$")


def split_marker(command: str) -> tuple[str, int | None]:
    marked = EXIT_MARKER.match(command)
    if marked is None:
        return command, None
    return marked["command"], int(marked["code"])


def examples() -> list[tuple[str, str, str]]:
    found = []
    for doc in sorted((REPO / "docs").glob("*.md")):
        for match in EXAMPLE.finditer(doc.read_text(encoding="utf-8")):
            found.append((doc.name, match["command"], match["output"]))
    return found


EXAMPLES = examples()


def test_docs_have_examples() -> None:
    assert any(command.startswith("apigov validate") for _, command, _ in EXAMPLES)


@pytest.mark.parametrize(
    ("doc", "command", "expected"), EXAMPLES, ids=[f"{d}:{c}" for d, c, _ in EXAMPLES]
)
def test_example_output(doc: str, command: str, expected: str) -> None:
    command, marked_exit = split_marker(command)
    argv = shlex.split(command)
    assert argv[0] == "apigov"
    result = run_apigov(*argv[1:], cwd=REPO)
    shown = result.stdout + result.stderr
    assert shown == expected, f"{doc}: `{command}` printed:\n{shown}"
    if marked_exit is not None:
        assert result.code == marked_exit
    elif "apigov: error:" in expected:
        assert result.code == 2
    elif "--fail-on never" in command or "No problems found" in expected:
        assert result.code == 0
    else:
        assert result.code == 1


def test_documents_referred_to_exist() -> None:
    for _, command, _ in EXAMPLES:
        for word in shlex.split(split_marker(command)[0])[1:]:
            if "/" in word and not word.startswith("-"):
                assert (REPO / word).exists(), word


def test_exit_marker_is_read_and_stripped() -> None:
    assert split_marker("apigov can-i-deploy a 1 --to prod   # exit 0") == (
        "apigov can-i-deploy a 1 --to prod",
        0,
    )
    assert split_marker("apigov lint 'a # exit 3'") == ("apigov lint 'a # exit 3'", None)


def test_commands_doc_names_every_command() -> None:
    from apigov.cli.app import app

    text = (REPO / "docs" / "commands.md").read_text(encoding="utf-8")
    for command in app.registered_commands:
        assert f"## apigov {command.name}" in text

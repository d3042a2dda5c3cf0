"""The helper process (`lint/helper.py`) makes the costliest calls while the walk goes on, and
nothing it finds differs from what the walk's process finds alone, failures included."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from apigov.findings import Finding
from apigov.lint import helper as helper_module
from apigov.lint.engine import Linter
from apigov.lint.helper import Helper, can_fork
from apigov.lint.ruleset import load_ruleset
from apigov.spec.errors import InputError
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec
from helpers import CORPUS, REPO, write

# Hand-checked, the findings of the rules a helper takes (the others' are compared too):
# - the `limit` parameter's example is no integer;
# - the 200 response's example gives `Pet.name` a number;
# - `Node.loop` refers back to `Node`: on the route through the 201 response the walk does not
#   follow it a second time but walks the `$ref` object as written, and its `x` member holds a
#   schema and an example that does not fit it (the helper must take the same route to `x`);
# - `Pet`'s own example gives `name` a number, and so does `pet.yaml`'s `Tag`, reached through
#   `components.schemas.Tag` (the helper must read it from the other file);
# - the 404 response has no description (the document's schema).
DOCUMENT = """\
openapi: 3.0.3
info: {title: Pets, version: "1"}
paths:
  /pets:
    get:
      operationId: listPets
      parameters:
        - {name: limit, in: query, schema: {type: integer}, example: many}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Pet"}
              example: {name: 5}
        "201":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Node"}
        "404": {}
components:
  schemas:
    Pet:
      type: object
      properties:
        name: {type: string}
      example: {name: 7}
    Node:
      type: object
      properties:
        loop:
          $ref: "#/components/schemas/Node"
          x: {schema: {type: string}, example: 3}
    Tag: {$ref: "pet.yaml#/Tag"}
"""
OTHER_FILE = """\
Tag:
  type: object
  properties:
    name: {type: string}
  example: {name: 9}
"""
HEAVY_RULES = {"oas3-valid-media-example", "oas3-valid-schema-example", "oas3-schema"}
EXPECTED = {
    ("oas3-valid-media-example", "openapi.yaml", "/paths/~1pets/get/parameters/0/example"),
    (
        "oas3-valid-media-example",
        "openapi.yaml",
        "/paths/~1pets/get/responses/200/content/application~1json/example/name",
    ),
    (
        "oas3-valid-media-example",
        "openapi.yaml",
        "/components/schemas/Node/properties/loop/x/example",
    ),
    ("oas3-valid-schema-example", "openapi.yaml", "/components/schemas/Pet/example/name"),
    ("oas3-valid-schema-example", "pet.yaml", "/Tag/example/name"),
    ("oas3-schema", "openapi.yaml", "/paths/~1pets/get/responses/404"),
}


def _described(findings: list[Finding]) -> list[tuple[Any, ...]]:
    """Everything a reporter shows of each finding, in the reports' order."""
    return sorted(
        (
            f.id,
            f.level.value,
            f.message,
            f.location.file if f.location else None,
            f.location.pointer if f.location else None,
            f.location.line if f.location else None,
            f.location.column if f.location else None,
        )
        for f in findings
    )


@pytest.fixture
def spec(tmp_path: Path) -> ApiSpec:
    write(tmp_path, "pet.yaml", OTHER_FILE)
    loaded = Loader(root=tmp_path).load(str(write(tmp_path, "openapi.yaml", DOCUMENT)))
    assert isinstance(loaded, ApiSpec)
    return loaded


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """A helper for any document, whatever the machine; each helper's answer is recorded
    (None: it failed), and each helper process is checked to be waited for."""
    monkeypatch.setattr(helper_module, "MIN_DOCUMENT_BYTES", 0)
    monkeypatch.setattr("apigov.lint.engine.MIN_DOCUMENT_BYTES", 0)
    monkeypatch.setattr("apigov.lint.engine.can_fork", lambda: True)
    recorded: list[Any] = []
    pids: list[int] = []
    original_init, original_results = Helper.__init__, Helper.results

    def init(self: Helper, run: Any) -> None:
        original_init(self, run)
        pids.append(self._pid)

    def results(self: Helper) -> Any:
        found = original_results(self)
        recorded.append(found)
        return found

    monkeypatch.setattr(Helper, "__init__", init)
    monkeypatch.setattr(Helper, "results", results)
    yield recorded
    for pid in pids:
        with pytest.raises(ChildProcessError):  # no process is left to wait for
            os.waitpid(pid, os.WNOHANG)


def _lint(spec: ApiSpec, *, helper: bool) -> list[Finding]:
    return Linter(load_ruleset("spectral:oas"), helper=helper).lint(spec)


def test_the_helper_finds_what_the_walk_finds_alone(spec: ApiSpec, answers: list[Any]) -> None:
    alone = _lint(spec, helper=False)
    assert answers == []
    helped = _lint(spec, helper=True)
    assert len(answers) == 1 and answers[0], "the helper made the calls"
    assert _described(helped) == _described(alone)
    heavy = {
        (f.id, Path(f.location.file).name, f.location.pointer)
        for f in helped
        if f.id in HEAVY_RULES and f.location is not None
    }
    assert heavy == EXPECTED


def test_a_helper_that_fails_leaves_its_calls_to_the_walk(
    spec: ApiSpec, answers: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = _lint(spec, helper=False)

    def lost(*_args: Any) -> Any:
        raise RuntimeError("the helper cannot find the node")

    monkeypatch.setattr(helper_module, "_route", lost)  # forked after this: the helper's too
    helped = _lint(spec, helper=True)
    assert answers == [None]
    assert _described(helped) == _described(alone)


def test_a_helper_that_ends_at_once_leaves_its_calls_to_the_walk(
    spec: ApiSpec, answers: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = _lint(spec, helper=False)
    monkeypatch.setattr(helper_module, "_serve", lambda *_args: os._exit(0))
    helped = _lint(spec, helper=True)
    assert answers == [None]
    assert _described(helped) == _described(alone)


def test_a_call_that_fails_in_the_helper_fails_as_it_would_in_the_walk(
    spec: ApiSpec, answers: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any) -> Any:
        raise ValueError("broken validator")

    monkeypatch.setattr("apigov.lint.functions.oas._validate_with_dialect", broken)
    with pytest.raises(InputError) as alone:
        _lint(spec, helper=False)
    with pytest.raises(InputError) as helped:
        _lint(spec, helper=True)
    assert answers == [None]
    assert "function oasExample failed: ValueError: broken validator" in str(helped.value)
    assert str(helped.value) == str(alone.value)


def test_an_error_in_the_walk_ends_the_helper(
    tmp_path: Path, spec: ApiSpec, answers: list[Any]
) -> None:
    # A ruleset's own function that raises, beside a rule the helper takes; `answers` checks
    # the helper was waited for.
    functions = write(tmp_path, "failing_rules.py", "def fail(*args):\n    raise KeyError('x')\n")
    ruleset = write(
        tmp_path,
        "rules.yaml",
        "extends: [[spectral:oas, off]]\n"
        f"functions: [{functions.stem}:fail]\n"
        "rules:\n"
        "  oas3-schema: error\n"
        "  fails: {given: $.paths, then: {function: fail}}\n",
    )
    sys.path.insert(0, str(tmp_path))
    try:
        with pytest.raises(InputError, match=r"rule 'fails': function fail failed: KeyError"):
            Linter(load_ruleset(str(ruleset)), helper=True).lint(spec)
    finally:
        sys.path.remove(str(tmp_path))
    assert answers == []  # ended, never asked for its results


def test_no_helper_without_a_second_processor_or_beside_another_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0}, raising=False)
    assert not can_fork()
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    assert can_fork() is (threading.active_count() == 1)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not can_fork()
    finally:
        stop.set()
        other.join()


def test_a_small_document_is_linted_in_one_process(
    spec: ApiSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("apigov.lint.engine.can_fork", lambda: True)
    forked: list[bool] = []
    monkeypatch.setattr(Helper, "__init__", lambda *_args: forked.append(True))
    _lint(spec, helper=True)  # about 1 KB of text, far below MIN_DOCUMENT_BYTES
    assert forked == []


def _command(document: Path, **environment: str) -> bytes:
    completed = subprocess.run(
        [
            *(sys.executable, "-m", "apigov", "lint", str(document)),
            *("--ruleset", "spectral:oas", "--format", "json"),
        ],
        capture_output=True,
        timeout=120,
        check=False,
        cwd=REPO,
        env={**os.environ, **environment},
    )
    assert completed.returncode in (0, 1), completed.stderr.decode(errors="replace")
    return completed.stdout


def test_the_command_reports_the_same_with_and_without_a_helper() -> None:
    document = CORPUS / "adyen" / "CheckoutService-v71.json"  # 890 KB: a helper if it can
    alone = _command(document, APIGOV_SINGLE_PROCESS="1")
    helped = _command(document)
    assert helped == alone
    assert json.loads(helped)["findings"], "a report with findings to compare"

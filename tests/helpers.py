"""Shared test helpers: where things are, and running the real `apigov` command."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus" / "specs"
CONTRACTS = REPO / "contracts"


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float


def run_apigov(
    *args: str, cwd: Path | None = None, stdin: bytes | None = None, timeout: float = 120
) -> Run:
    """Run `python -m apigov ARGS` as a user would, in a separate process."""
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "apigov", *args],
        cwd=cwd or REPO,
        input=stdin,
        capture_output=True,
        timeout=timeout,
        env=env,
        check=False,
    )
    return Run(
        code=result.returncode,
        stdout=result.stdout.decode("utf-8", "replace"),
        stderr=result.stderr.decode("utf-8", "replace"),
        seconds=time.perf_counter() - started,
    )


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


MINIMAL_30 = """\
openapi: 3.0.3
info:
  title: Pets
  version: 1.0.0
paths:
  /pets/{petId}:
    get:
      operationId: getPet
      parameters:
        - name: petId
          in: path
          required: true
          schema:
            type: string
      responses:
        "200":
          description: a pet
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Pet"
components:
  schemas:
    Pet:
      type: object
      properties:
        id:
          type: string
        children:
          type: array
          items:
            $ref: "#/components/schemas/Pet"
"""


# ---- one small service, for filling registries (tests and bench/registry*.py) ----------------

ITEM_SPEC = """\
openapi: 3.0.3
info: {title: %(title)s, version: "1"}
paths:
  /items/{id}:
    get:
      operationId: getItem
      summary: One item
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        "200":
          description: an item
          content:
            application/json:
              schema:
                type: object
                required: [id]
                properties: {id: {type: string}}
"""


def item_spec(title: str = "svc", revision: str = "") -> bytes:
    """The item service's OpenAPI document; `revision` (a trailing comment) makes each version's
    content distinct, so versions do not collapse into one stored content."""
    text = ITEM_SPEC % {"title": title}
    return (text + f"# {revision}\n" if revision else text).encode()


def item_pact(consumer: str, provider: str) -> bytes:
    """A V3 pact of `consumer` reading one item from `provider`, which `item_spec` satisfies."""
    import json

    return json.dumps(
        {
            "consumer": {"name": consumer},
            "provider": {"name": provider},
            "interactions": [
                {
                    "description": "get an item",
                    "request": {"method": "GET", "path": "/items/1"},
                    "response": {"status": 200, "body": {"id": "1"}},
                }
            ],
            "metadata": {"pactSpecification": {"version": "3.0.0"}},
        }
    ).encode()


# ---- npm peers the tests run for real (Spectral, the Pact CLI) ------------------------------


def npm_tool(prefix: Path, package: str, command: str) -> Path:
    """`command` of the npm `package`, installed with the machine's npm under `prefix` (in the
    git-ignored .cache/) on first use. Test workers run in parallel: one installs while the
    others wait on a lock, then find it there."""
    import fcntl
    import shutil

    executable = prefix / "node_modules" / ".bin" / command
    prefix.mkdir(parents=True, exist_ok=True)
    with (prefix / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not executable.exists():
            npm = shutil.which("npm")
            if npm is None:
                raise RuntimeError(f"npm is needed to install {package} for the tests")
            subprocess.run(
                [
                    npm,
                    "install",
                    "--prefix",
                    str(prefix),
                    "--no-audit",
                    "--no-fund",
                    "--loglevel=error",
                    package,
                ],
                check=True,
                timeout=600,
            )
    return executable


def wait_until_healthy(
    url: str, server: subprocess.Popen[bytes], seconds: float, exit_detail: Callable[[], str]
) -> None:
    """Wait (at most `seconds`) until the registry server at `url` answers its health check;
    fail the test if it exits first (`exit_detail()` says what it printed) or never answers."""
    import urllib.request

    import pytest

    # No proxy from the environment for a server on 127.0.0.1.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + seconds
    while True:
        if server.poll() is not None:
            pytest.fail(f"the registry server exited ({server.returncode}): {exit_detail()}")
        try:
            with opener.open(f"{url}/api/v1/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"the registry server did not answer within {seconds} s")
        time.sleep(0.1)

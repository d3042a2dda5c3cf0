"""Peers that apigov is measured against, installed on demand into bench/.peers/ (git-ignored).

- ``swagger-cli``: the npm package ``@apidevtools/swagger-cli``, installed with
  ``npm install --prefix bench/.peers/npm @apidevtools/swagger-cli``; run as
  ``bench/.peers/npm/node_modules/.bin/swagger-cli validate FILE``.
- ``openapi-spec-validator``: the Python package apigov itself depends on, run from the current
  interpreter as ``python -m openapi_spec_validator FILE``.

A peer that cannot be installed is reported in one line and comes back with ``skipped`` set;
nothing here raises for a missing peer.

    python bench/peers.py          # install what is missing and print what is available
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PEERS_DIR = BENCH_DIR / ".peers"
NPM_PREFIX = PEERS_DIR / "npm"
SWAGGER_CLI_PACKAGE = "@apidevtools/swagger-cli"
INSTALL_TIMEOUT = 600.0


@dataclass(frozen=True)
class Peer:
    """A peer command: ``argv_prefix + [FILE]`` validates FILE."""

    name: str
    argv_prefix: tuple[str, ...]
    version: str | None = None
    skipped: str | None = None  # why the peer is unavailable, when it is

    def argv(self, document: Path) -> list[str]:
        return [*self.argv_prefix, str(document)]


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _swagger_cli_bin(prefix: Path) -> Path:
    return prefix / "node_modules" / ".bin" / "swagger-cli"


def _swagger_cli_version(prefix: Path) -> str | None:
    manifest = prefix / "node_modules" / "@apidevtools" / "swagger-cli" / "package.json"
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    version = data.get("version") if isinstance(data, dict) else None
    return version if isinstance(version, str) else None


def npm_install(prefix: Path, package: str, *, timeout: float = INSTALL_TIMEOUT) -> str | None:
    """Install the npm ``package`` under ``prefix`` with the machine's npm: None when it worked,
    else why not, in one line (no npm, a failure to run, or npm's last line of output)."""
    npm = shutil.which("npm")
    if npm is None:
        return "npm not found on PATH"
    _say(f"installing {package} into {prefix} …")
    prefix.mkdir(parents=True, exist_ok=True)
    command = [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund"]
    try:
        proc = subprocess.run(
            [*command, "--loglevel=error", package],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"npm install failed: {exc}"
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        last = lines[-1] if lines else "no output"
        return f"npm install exited {proc.returncode}: {last[:200]}"
    return None


def swagger_cli(prefix: Path = NPM_PREFIX, *, install: bool = True) -> Peer:
    """swagger-cli from ``prefix``, installing it with npm when it is not there yet."""
    name = "swagger-cli"
    binary = _swagger_cli_bin(prefix)
    if not binary.exists() and install:
        if shutil.which("node") is None:
            reason = "node not found on PATH"
            _say(f"peer {name} skipped: {reason}")
            return Peer(name, (), skipped=reason)
        failed = npm_install(prefix, SWAGGER_CLI_PACKAGE)
        if failed is not None:
            _say(f"peer {name} skipped: {failed}")
            return Peer(name, (), skipped=failed)
    if not binary.exists():
        reason = f"{binary} not found" + ("" if install else " (install disabled)")
        _say(f"peer {name} skipped: {reason}")
        return Peer(name, (), skipped=reason)
    return Peer(name, (str(binary), "validate"), version=_swagger_cli_version(prefix))


def openapi_spec_validator() -> Peer:
    """openapi-spec-validator from the interpreter running this script (the project venv)."""
    name = "openapi-spec-validator"
    if importlib.util.find_spec("openapi_spec_validator") is None:
        reason = f"not installed in {sys.executable} (pip install openapi-spec-validator)"
        _say(f"peer {name} skipped: {reason}")
        return Peer(name, (), skipped=reason)
    try:
        version: str | None = importlib.metadata.version("openapi-spec-validator")
    except importlib.metadata.PackageNotFoundError:
        version = None
    return Peer(name, (sys.executable, "-m", "openapi_spec_validator"), version=version)


def all_peers(*, install: bool = True) -> list[Peer]:
    return [openapi_spec_validator(), swagger_cli(install=install)]


def main() -> int:
    for peer in all_peers():
        if peer.skipped:
            print(f"{peer.name}: unavailable ({peer.skipped})")
        else:
            print(f"{peer.name} {peer.version or '?'}: {' '.join(peer.argv_prefix)} FILE")
    return 0


if __name__ == "__main__":
    sys.exit(main())

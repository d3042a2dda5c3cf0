"""Shared helpers of the lint tests (a uniquely named module: `conftest` is ambiguous when
several test folders without `__init__.py` each have one)."""

from __future__ import annotations

import fcntl
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from apigov.findings import Finding
from helpers import REPO

LintText = Callable[[str, str], list[Finding]]

SPECTRAL_PACKAGE = "@stoplight/spectral-cli@6.16.3"
NPM_PREFIX = REPO / ".cache" / "npm-peers"
SPECTRAL = NPM_PREFIX / "node_modules" / ".bin" / "spectral"


def install_spectral() -> Path:
    """Spectral's command, installed with npm into the git-ignored .cache/ on first use."""
    NPM_PREFIX.mkdir(parents=True, exist_ok=True)
    # Test workers run in parallel: one installs while the others wait for it.
    with (NPM_PREFIX / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not SPECTRAL.exists():
            _npm_install()
    return SPECTRAL


def _npm_install() -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed to install Spectral for the conformance tests")
    subprocess.run(
        [
            npm,
            "install",
            "--prefix",
            str(NPM_PREFIX),
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            SPECTRAL_PACKAGE,
        ],
        check=True,
        timeout=600,
    )


def ids_and_pointers(findings: list[Finding]) -> set[tuple[str, str]]:
    return {(f.id, f.location.pointer if f.location else "") for f in findings}

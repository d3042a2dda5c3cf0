"""The end of every command: render the report, write it, choose the exit code."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn

from apigov.findings import Report, fails
from apigov.report import render


def emit(report: Report, fmt: str, output: Path | None, fail_on: str) -> NoReturn:
    """Write the report and end the command with 0 (pass) or 1 (findings at/above fail_on).

    `SystemExit` rather than typer's `Exit`, which typer turns into the same: this module
    serves the quick route too, which does not import typer (see `quick.py`)."""
    color = output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    text = render(report, fmt, color=color)
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_atomically(output, text)
    sys.exit(1 if fails(report.findings, fail_on) else 0)


def write_atomically(path: Path, text: str) -> None:
    """Never leave a half-written report behind: write a temporary file, then rename it.

    Only regular files are replaced that way. A device, pipe or socket (`-o /dev/null`,
    `-o /dev/stderr`, a FIFO another process reads) is written to as it is: renaming a file
    over it would replace the device itself. A symbolic link keeps being a link; the file it
    points to is the one replaced.
    """
    path = path.resolve()
    if path.exists() and not path.is_file():
        with path.open("w", encoding="utf-8") as stream:
            stream.write(text)
        return
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    import tempfile  # only when writing a file: it costs every command's start-up otherwise

    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

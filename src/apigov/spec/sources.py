"""Where document bytes come from: files, stdin, a git revision, or (when allowed) a URL.

A `Source` is one parsed file with its display name, its content hash, and a lazy line map.
Readers resolve a relative `$ref` target in the same place the referring file came from: a file
read from `main:contracts/orders/openapi.yaml` reads its `../_shared/x.yaml` from `main` too.
"""

from __future__ import annotations

import os
import posixpath
import stat
import sys
import urllib.parse
from pathlib import Path
from typing import Any

from msgspec import Struct

from apigov.findings import Location
from apigov.spec import pointer as jp
from apigov.spec.errors import InputError
from apigov.spec.limits import Limits, size_message
from apigov.spec.lines import LineMap
from apigov.spec.parse import Parsed


class Source(Struct, eq=False):
    """One parsed file."""

    key: str
    """Identity: an absolute path, `git:REV:path`, a URL, or `-` for stdin."""
    name: str
    """What findings show: a path relative to the working directory where possible."""
    raw: bytes
    parsed: Parsed
    _lines: LineMap | None = None
    _sha256: str | None = None

    @property
    def data(self) -> dict[str, Any]:
        return self.parsed.data

    @property
    def sha256(self) -> str:
        """The content's SHA-256 (hex), computed when first asked for: a diff or a lint never
        asks, and would pay for hashlib's import and a hash of every byte it reads."""
        if self._sha256 is None:
            self._sha256 = digest(self.raw)
        return self._sha256

    def position(self, pointer: str) -> tuple[int, int] | None:
        if self._lines is None:
            # JSON laid out as pretty printers write it is located from its data alone, YAML
            # from its data and the text (block style; anything else parses it again).
            pretty = self.parsed.data if self.parsed.layout == "indent2" else None
            yaml = self.parsed.format == "yaml" and not self.parsed.keys_merged
            block = self.parsed.data if yaml else None
            json = self.parsed.format == "json"  # the text scan reads JSON only
            self._lines = LineMap(self.raw, pretty, block, scan=json)
        try:
            tokens = jp.split(pointer)
        except ValueError:
            return None
        return self._lines.position(tokens)

    def locate(self, pointer: str) -> Location:
        position = self.position(pointer)
        line, column = position if position else (None, None)
        return Location(file=self.name, pointer=pointer, line=line, column=column)


def display_name(path: Path | str) -> str:
    """A path as the user would write it: relative to the working directory when below it."""
    text = os.fspath(path)
    if os.path.isabs(text):
        cwd = os.getcwd()
        if text.startswith(cwd + os.sep):
            return text[len(cwd) + 1 :]
    return text if os.sep == "/" else Path(text).as_posix()


def digest(raw: bytes) -> str:
    import hashlib  # only for a digest asked for: its import loads OpenSSL

    return hashlib.sha256(raw).hexdigest()


def read_file(path: Path | str, limits: Limits, name: str | None = None) -> bytes:
    """Read a regular file, refusing special files (a FIFO would block) and oversized ones."""
    name = name or display_name(path)
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; we refuse non-regular files.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise InputError(name, "no such file") from None
    except IsADirectoryError:
        raise InputError(name, "is a folder, not a file") from None
    except PermissionError:
        raise InputError(name, "permission denied") from None
    except OSError as exc:
        raise InputError(name, f"cannot read: {exc.strerror or exc}") from None
    with os.fdopen(descriptor, "rb") as handle:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise InputError(name, "not a regular file")
        if status.st_size > limits.max_bytes:
            raise InputError(name, size_message(status.st_size, limits))
        try:
            # A buffer of the file's own size (plus the byte that shows it grew since), not
            # one of the size limit: reading 3 MB should not first map 64 MB.
            data = handle.read(status.st_size + 1)
            if len(data) > status.st_size:  # it grew: read on, up to the limit
                data += handle.read(limits.max_bytes + 1 - len(data))
            return data
        except OSError as exc:
            raise InputError(name, f"cannot read: {exc.strerror or exc}") from None


def read_stdin(limits: Limits) -> bytes:
    data = sys.stdin.buffer.read(limits.max_bytes + 1)
    return data


class GitLocation(Struct, frozen=True):
    """`REV:path` as the user wrote it, resolved against the repository's top folder."""

    revision: str
    path: str  # relative to the repository top, POSIX separators
    top: Path

    @property
    def key(self) -> str:
        return f"git:{self.revision}:{self.path}"

    @property
    def name(self) -> str:
        return f"{self.revision}:{self.path}"

    def sibling(self, relative: str) -> GitLocation | None:
        """The location of a relative reference; None when it climbs out of the repository."""
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(self.path), relative))
        if joined.startswith("../") or joined == "..":
            return None
        return GitLocation(self.revision, joined, self.top)


def git_top(start: Path) -> Path | None:
    """The top folder of the git work tree holding `start`, found without running git."""
    current = start if start.is_dir() else start.parent
    for folder in (current, *current.parents):
        if (folder / ".git").exists():
            return folder
    return None


def parse_git_target(target: str) -> GitLocation | None:
    """`REV:path` -> GitLocation, or None when `target` is not of that form."""
    if ":" not in target or target.startswith(("/", "./", "../")) or "://" in target:
        return None
    revision, _, path = target.partition(":")
    if not revision or not path or len(revision) == 1:  # `C:\\...` is a Windows drive
        return None
    top = git_top(Path.cwd())
    if top is None:
        raise InputError(target, "not inside a git repository, cannot read a revision")
    if path.startswith(("./", "../")):
        # git treats ./ and ../ as relative to the working directory.
        full = (Path.cwd() / path).resolve()
        try:
            path = full.relative_to(top.resolve()).as_posix()
        except ValueError:
            raise InputError(target, "path is outside the git repository") from None
    return GitLocation(revision, posixpath.normpath(path), top)


def read_git(location: GitLocation, limits: Limits) -> bytes:
    import subprocess  # only for `REV:path` targets: 3 M instructions of every start-up else

    try:
        result = subprocess.run(
            ["git", "-C", str(location.top), "show", f"{location.revision}:{location.path}"],
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InputError(location.name, f"cannot run git: {exc}") from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = message[-1] if message else "git show failed"
        raise InputError(location.name, f"cannot read from git: {reason.removeprefix('fatal: ')}")
    if len(result.stdout) > limits.max_bytes:
        raise InputError(location.name, size_message(len(result.stdout), limits))
    return result.stdout


def read_url(url: str, limits: Limits) -> bytes:
    """Fetch a remote `$ref` target (only with --allow-remote-refs): bounded in size and time."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https"):
        raise InputError(url, f"unsupported URL scheme {parsed.scheme!r}")
    # Imported here: only --allow-remote-refs needs it, and it costs every run its import time.
    from urllib.request import Request, urlopen

    request = Request(url, headers={"User-Agent": "apigov"})
    try:
        with urlopen(request, timeout=limits.remote_timeout_s) as response:
            data: bytes = response.read(limits.max_bytes + 1)
    except OSError as exc:
        raise InputError(url, f"cannot fetch: {getattr(exc, 'reason', exc)}") from None
    if len(data) > limits.max_bytes:
        raise InputError(url, size_message(len(data), limits))
    return data

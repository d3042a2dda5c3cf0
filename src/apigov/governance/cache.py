"""The analysis cache of `apigov check`: findings per (analysis, inputs' content, settings).

A key is the SHA-256 of everything the result depends on: the apigov version, the analysis
name, a digest of its settings (ruleset, policy), and the name and content hash of every file
involved. An unchanged document therefore maps to the same key on the next run and its findings
are read back instead of recomputed; any change in content, settings or apigov itself is a new
key. Entries are never updated in place, only written whole to a temporary file and renamed,
so concurrent runs (two CI jobs in one workspace) at worst both compute the same entry, and a
reader never sees half a file. A damaged entry is treated as a miss.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from apigov import __version__
from apigov.findings import Finding, finding_from_dict

CACHE_FOLDER = Path(".apigov") / "cache"
_LAYOUT = "v1"


class AnalysisCache:
    """Findings stored by key under `folder`; `folder=None` disables caching."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder / _LAYOUT if folder is not None else None
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(analysis: str, settings: str, inputs: Iterable[tuple[str, str]]) -> str:
        """A key from the analysis, its settings digest and (file name, content hash) pairs."""
        hasher = hashlib.sha256()
        for part in (__version__, analysis, settings):
            hasher.update(part.encode("utf-8"))
            hasher.update(b"\0")
        for name, content_hash in inputs:
            hasher.update(f"{name}\0{content_hash}\0".encode())
        return hasher.hexdigest()

    def _path(self, key: str) -> Path | None:
        return self.folder / key[:2] / f"{key}.json" if self.folder is not None else None

    def get(self, key: str) -> list[Finding] | None:
        entries = self.get_value(key)
        try:
            findings = [finding_from_dict(entry) for entry in entries] if entries else []
        except (ValueError, KeyError, TypeError):
            entries = None
        if entries is None:
            self.misses += 1
            return None
        self.hits += 1
        return findings

    def put(self, key: str, findings: list[Finding]) -> None:
        self.put_value(key, [finding.to_dict() for finding in findings])

    def get_value(self, key: str) -> Any:
        """The JSON value stored under `key`, or None when missing or damaged."""
        path = self._path(key)
        if path is None:
            return None
        try:
            return orjson.loads(path.read_bytes())
        except (OSError, ValueError):
            # Missing, or damaged by something outside apigov: recompute.
            return None

    def put_value(self, key: str, value: Any) -> None:
        path = self._path(key)
        if path is None:
            return
        data = orjson.dumps(value)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as stream:
                    stream.write(data)
                Path(temporary).replace(path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError:
            # A read-only workspace still gets a correct (uncached) check.
            return

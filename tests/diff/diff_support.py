"""Helpers for the diff tests: load in-memory documents through the real Loader."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from apigov.diff import Change, diff_specs
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec

TODAY = dt.date(2026, 6, 1)


def load_pair(folder: Path, base: Any, head: Any) -> tuple[ApiSpec, ApiSpec]:
    """Write both documents (dicts as JSON, strings as YAML) and load them."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, doc in (("base", base), ("head", head)):
        if isinstance(doc, str):
            path = folder / f"{name}.yaml"
            path.write_text(doc, encoding="utf-8")
        else:
            path = folder / f"{name}.json"
            path.write_text(json.dumps(doc), encoding="utf-8")
        paths.append(path)
    loader = Loader(root=folder)
    specs = [loader.load(str(p)) for p in paths]
    assert isinstance(specs[0], ApiSpec)
    assert isinstance(specs[1], ApiSpec)
    return specs[0], specs[1]


def changes_between(folder: Path, base: Any, head: Any) -> list[Change]:
    base_spec, head_spec = load_pair(folder, base, head)
    return diff_specs(base_spec, head_spec, today=TODAY).changes


def ids(changes: list[Change]) -> list[str]:
    return sorted(c.id for c in changes)

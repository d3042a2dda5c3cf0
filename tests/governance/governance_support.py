"""Small fleets written into a temporary folder: specs, pacts and service.yaml files.

YAML files are written as JSON text, which every YAML parser reads the same way.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from helpers import CONTRACTS, write


def spec(name: str, operations: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """An OpenAPI 3.0 document served under /v1 with the given `METHOD /path` operations."""
    paths: dict[str, dict[str, Any]] = {}
    for key, extra in operations.items():
        method, _, path = key.partition(" ")
        operation: dict[str, Any] = {
            "operationId": f"{method.lower()}{len(paths)}{len(paths.get(path, {}))}",
            "responses": {"200": {"description": "ok"}},
            **extra,
        }
        parameters = [
            {"name": part[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
            for part in path.split("/")
            if part.startswith("{")
        ]
        if parameters:
            operation["parameters"] = parameters
        paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.0.3",
        "info": {"title": name, "version": "1.0.0"},
        "servers": [{"url": f"https://{name}.example.com/v1"}],
        "paths": paths,
    }


def pact(consumer: str, provider: str, requests: Sequence[str]) -> dict[str, Any]:
    """A V3 pact; each entry is `METHOD /path` (HTTP) or `message: description`."""
    interactions = []
    messages = []
    for entry in requests:
        if entry.startswith("message: "):
            messages.append({"description": entry[9:], "contents": {"id": 1}})
            continue
        method, _, path = entry.partition(" ")
        interactions.append(
            {
                "description": f"a {method} of {path}",
                "request": {"method": method, "path": path},
                "response": {"status": 200},
            }
        )
    document: dict[str, Any] = {
        "consumer": {"name": consumer},
        "provider": {"name": provider},
        "metadata": {"pactSpecification": {"version": "3.0.0"}},
    }
    if interactions:
        document["interactions"] = interactions
    if messages:
        document["messages"] = messages
    return document


def service_yaml(name: str, team: str | None = None, **extra: Any) -> dict[str, Any]:
    declared: dict[str, Any] = {
        "name": name,
        "owner": f"{team or name}@example.com",
        "team": team or name,
    }
    declared.update(extra)
    return {k: v for k, v in declared.items() if v is not None}


def write_service(
    root: Path,
    name: str,
    *,
    service: Mapping[str, Any] | None = None,
    openapi: Mapping[str, Any] | None = None,
    pacts: Sequence[Mapping[str, Any]] = (),
) -> None:
    if service is not None:
        write(root / name, "service.yaml", json.dumps(dict(service), indent=2))
    if openapi is not None:
        write(root / name, "openapi.yaml", json.dumps(dict(openapi), indent=2))
    for document in pacts:
        provider = document["provider"]["name"]
        write(root / name / "pacts", f"{name}-{provider}.json", json.dumps(document, indent=2))


def git(folder: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(folder), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={
            "GIT_AUTHOR_NAME": "test",
            "GIT_AUTHOR_EMAIL": "test@example.com",
            "GIT_COMMITTER_NAME": "test",
            "GIT_COMMITTER_EMAIL": "test@example.com",
            "HOME": str(folder),
            "PATH": "/usr/bin:/bin:/usr/local/bin",
        },
    )
    return result.stdout


def example_fleet_repository(folder: Path) -> Path:
    """A git repository holding a copy of the example fleet, committed on `main`."""
    shutil.copytree(CONTRACTS, folder / "contracts")
    git(folder, "init", "-q", "-b", "main")
    git(folder, "add", ".")
    git(folder, "commit", "-q", "-m", "the example fleet")
    return folder

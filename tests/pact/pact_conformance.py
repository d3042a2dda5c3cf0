"""The official Pact specification test cases: loading them and running one through apigov."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from apigov.pact.matching import Mismatch, match_message, match_request, match_response
from apigov.pact.model import message_from_json, request_from_json, response_from_json
from helpers import SHARED

ROOT = SHARED / "conformance" / "pact-specification"
VERSIONS = {"v1": 1, "v1.1": 1, "v2": 2, "v3": 3, "v4": 4}


@dataclass(frozen=True)
class Case:
    version: str
    kind: str
    """request, response or message"""
    path: Path

    @property
    def id(self) -> str:
        return str(self.path.relative_to(ROOT)).removesuffix(".json").replace("testcases/", "")


def all_cases() -> list[Case]:
    cases = []
    for version in VERSIONS:
        for path in sorted((ROOT / version / "testcases").rglob("*.json")):
            kind = path.relative_to(ROOT / version / "testcases").parts[0]
            cases.append(Case(version, kind, path))
    return cases


def run(case: Case) -> tuple[bool, list[Mismatch]]:
    """(the case's expected verdict, apigov's mismatches)."""
    data = json.loads(case.path.read_text(encoding="utf-8-sig"))
    major = VERSIONS[case.version]
    if case.kind == "request":
        mismatches = match_request(
            request_from_json(data["expected"], major),
            request_from_json(data["actual"], major),
            exact_query=case.version == "v1",
        )
    elif case.kind == "response":
        mismatches = match_response(
            response_from_json(data["expected"], major), response_from_json(data["actual"], major)
        )
    else:
        mismatches = match_message(
            message_from_json(data["expected"], major), message_from_json(data["actual"], major)
        )
    return bool(data["match"]), mismatches

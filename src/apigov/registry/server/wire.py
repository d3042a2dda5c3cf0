"""The JSON shapes of apigov's registry API, both ways: the server writes them, the client
(`apigov.registry.client`) reads them. No web framework here, so the client stays light.

Property names are camelCase (apigov:recommended's `properties-camel-case`); file contents
travel as base64, since contracts are bytes and must come back byte-for-byte (their SHA-256 is
their identity).
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import orjson

from apigov.findings import finding_from_dict
from apigov.registry.domain import (
    AuditRecord,
    FuzzRunRecord,
    LiveVersion,
    Role,
    StaticResult,
    StoredFile,
    VerificationResult,
    VersionRecord,
)
from apigov.registry.gate import Answer, Decision, EvidenceCheck, Pair


def encode_bytes(content: bytes) -> str:
    return base64.b64encode(content).decode("ascii")


def decode_bytes(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def stored_file_json(f: StoredFile) -> dict[str, Any]:
    return {"path": f.path, "role": f.role.value, "sha256": f.sha256, "provider": f.provider}


def stored_file_from(data: dict[str, Any]) -> StoredFile:
    return StoredFile(data["path"], Role(data["role"]), data["sha256"], data.get("provider"))


def version_json(record: VersionRecord) -> dict[str, Any]:
    return {
        "service": record.service,
        "number": record.number,
        "branch": record.branch,
        "commit": record.commit,
        "digest": record.digest,
        "specDigest": record.spec_digest,
        "files": [stored_file_json(f) for f in record.files],
    }


def version_from(data: dict[str, Any]) -> VersionRecord:
    return VersionRecord(
        service=data["service"],
        number=data["number"],
        branch=data.get("branch"),
        commit=data.get("commit"),
        digest=data["digest"],
        spec_digest=data.get("specDigest"),
        files=tuple(stored_file_from(f) for f in data["files"]),
    )


def live_json(live: LiveVersion) -> dict[str, Any]:
    return {"service": live.service, "number": live.number, "via": live.via, "target": live.target}


def live_from(data: dict[str, Any]) -> LiveVersion:
    return LiveVersion(data["service"], data["number"], data["via"], data.get("target", ""))


def static_json(pact_sha256: str, spec: str, result: StaticResult) -> dict[str, Any]:
    return {
        "pactSha256": pact_sha256,
        "specDigest": spec,
        "success": result.success,
        "checker": result.checker,
        "findingsJson": result.findings_json,
    }


def static_from(data: dict[str, Any]) -> StaticResult:
    return StaticResult(bool(data["success"]), data["checker"], data["findingsJson"])


def verification_json(result: VerificationResult) -> dict[str, Any]:
    return {
        "consumer": result.consumer,
        "pactSha256": result.pact_sha256,
        "provider": result.provider,
        "providerVersion": result.provider_version,
        "success": result.success,
        "recordedAt": _time(result.recorded_at),
    }


def verification_from(data: dict[str, Any]) -> VerificationResult:
    return VerificationResult(
        data["consumer"],
        data["pactSha256"],
        data["provider"],
        data["providerVersion"],
        bool(data["success"]),
        _parse_time(data.get("recordedAt")),
    )


def fuzz_run_json(run: FuzzRunRecord) -> dict[str, Any]:
    return {
        "id": run.id,
        "service": run.service,
        "version": run.version,
        "environment": run.environment,
        "passed": run.passed,
        "complete": run.complete,
        "recordedBy": run.recorded_by,
        "recordedAt": _time(run.recorded_at),
        "run": dict(run.run),
    }


def fuzz_run_from(data: dict[str, Any]) -> FuzzRunRecord:
    recorded_at = _parse_time(data["recordedAt"])
    assert recorded_at is not None
    return FuzzRunRecord(
        int(data["id"]),
        data["service"],
        data["version"],
        data["environment"],
        bool(data["passed"]),
        bool(data["complete"]),
        data.get("recordedBy"),
        recorded_at,
        data.get("run") or {},
    )


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def audit_from(data: dict[str, Any]) -> AuditRecord:
    return AuditRecord(data.get("actor"), data["action"], data["subject"])


def decision_json(decision: Decision) -> dict[str, Any]:
    return {
        "service": decision.service,
        "version": decision.version,
        "environment": decision.environment,
        "tag": decision.tag,
        "knownVersion": decision.known_version,
        "knownEnvironment": decision.known_environment,
        "deployable": decision.deployable,
        "pairs": [
            {
                "consumer": p.consumer,
                "consumerVersion": p.consumer_version,
                "provider": p.provider,
                "providerVersion": p.provider_version,
                "pactPath": p.pact_path,
                "live": p.live,
                "answer": p.answer.value,
                "reason": p.reason,
                "details": [f.to_dict() for f in p.details],
            }
            for p in decision.pairs
        ],
        "evidence": [
            {"requirement": e.requirement, "answer": e.answer.value, "reason": e.reason}
            for e in decision.evidence
        ],
        "verdict": decision.verdict,
    }


def decision_bytes(decision: Decision) -> bytes:
    """The decision as JSON bytes, ready to send: orjson encodes it in one call, where a web
    framework's generic encoder would walk and copy every member first."""
    return orjson.dumps(decision_json(decision))


def decision_from(data: dict[str, Any]) -> Decision:
    return Decision(
        service=data["service"],
        version=data["version"],
        environment=data["environment"],
        known_version=bool(data["knownVersion"]),
        known_environment=bool(data["knownEnvironment"]),
        tag=data.get("tag"),
        pairs=[
            Pair(
                p["consumer"],
                p.get("consumerVersion"),
                p["provider"],
                p.get("providerVersion"),
                p.get("pactPath"),
                p["live"],
                Answer(p["answer"]),
                p["reason"],
                tuple(finding_from_dict(f) for f in p.get("details", [])),
            )
            for p in data["pairs"]
        ],
        evidence=[
            EvidenceCheck(e["requirement"], Answer(e["answer"]), e["reason"])
            for e in data.get("evidence", [])
        ],
    )

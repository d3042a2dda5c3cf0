"""`apigov validate`'s analyzer: every document of a set of targets, checked by kind."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

import jsonschema_rs
import orjson
from msgspec.structs import replace

from apigov.findings import Finding, Level, Report
from apigov.spec import pointer as jp
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec, AsyncApiSpec, Document, PactFile, ServiceFile
from apigov.spec.validate import validate_spec


@cache
def bundled_schema(name: str) -> Any:
    """A compiled validator for one of the JSON Schemas shipped in apigov/spec/schemas/."""
    text = resources.files("apigov.spec").joinpath("schemas", name).read_bytes()
    return jsonschema_rs.validator_for(orjson.loads(text))


def validate_document(document: Document) -> list[Finding]:
    if isinstance(document, ApiSpec):
        return validate_spec(document)
    if isinstance(document, PactFile):
        return _against(document, "pact.schema.json", "pact-structure")
    if isinstance(document, AsyncApiSpec):
        findings = _against(document, "asyncapi.schema.json", "asyncapi-structure")
        return findings or _asyncapi_operations(document)
    return _against(document, "service.schema.json", "service-structure")


def _against(
    document: PactFile | ServiceFile | AsyncApiSpec, schema: str, rule: str
) -> list[Finding]:
    findings = []
    data = document.document if isinstance(document, AsyncApiSpec) else document.data
    for error in bundled_schema(schema).iter_errors(data):
        pointer = jp.join(error.instance_path)
        message = error.message if len(error.message) < 240 else error.message[:239] + "…"
        findings.append(
            Finding(id=rule, level=Level.ERROR, message=message, location=document.locate(pointer))
        )
    return findings


def _asyncapi_operations(spec: AsyncApiSpec) -> list[Finding]:
    """AsyncAPI 3.x: an operation's channel is a channel of this document, and the messages it
    names are messages of that channel (the specification requires both)."""
    findings: list[Finding] = []
    operations = spec.document.get("operations") if spec.major >= 3 else None
    for key, operation in (operations if isinstance(operations, dict) else {}).items():
        if not isinstance(operation, dict) or "$ref" in operation:
            continue
        pointer = jp.join(("operations", key))
        channel_ref = operation.get("channel", {}).get("$ref")
        if not (isinstance(channel_ref, str) and channel_ref.startswith("#/channels/")):
            findings.append(
                Finding(
                    "asyncapi-operation-channel",
                    Level.ERROR,
                    f"operation {key!r}: channel must be a reference to #/channels/...",
                    location=spec.locate(f"{pointer}/channel"),
                )
            )
            continue
        prefix = channel_ref + "/messages/"
        for index, message in enumerate(operation.get("messages") or []):
            ref = message.get("$ref") if isinstance(message, dict) else None
            if isinstance(ref, str) and not ref.startswith(prefix):
                findings.append(
                    Finding(
                        "asyncapi-operation-message",
                        Level.ERROR,
                        f"operation {key!r}: message {ref} is not a message of its channel "
                        f"({channel_ref})",
                        location=spec.locate(f"{pointer}/messages/{index}"),
                    )
                )
    return findings


def validate_targets(targets: Sequence[str], loader: Loader) -> Report:
    """Load and validate every document named by `targets` (files, folders, `-`, `REV:path`)."""
    report = Report(command="validate")
    for target in loader.expand(targets):
        document = loader.load(target)
        report.inputs.append(document.name)
        report.findings.extend(
            replace(finding, service=finding.service or document.service)
            for finding in validate_document(document)
        )
    return report

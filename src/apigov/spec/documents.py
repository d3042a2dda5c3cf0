"""`apigov validate`'s analyzer: every document of a set of targets, checked by kind."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from importlib import resources
from typing import Any

import jsonschema_rs
import orjson

from apigov.findings import Finding, Level, Report
from apigov.spec import pointer as jp
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec, Document, PactFile, ServiceFile
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
    return _against(document, "service.schema.json", "service-structure")


def _against(document: PactFile | ServiceFile, schema: str, rule: str) -> list[Finding]:
    findings = []
    for error in bundled_schema(schema).iter_errors(document.data):
        pointer = jp.join(error.instance_path)
        message = error.message if len(error.message) < 240 else error.message[:239] + "…"
        findings.append(
            Finding(id=rule, level=Level.ERROR, message=message, location=document.locate(pointer))
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

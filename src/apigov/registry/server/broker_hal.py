"""What the Pact Broker API subset answers with: HAL documents, their links, error bodies.

Pure functions of what the registry returned, so the routes in `broker.py` stay short. Links
are absolute, as the Broker gives them, under the address the client used.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import JSONResponse
from msgspec.structs import replace

from apigov.findings import Level
from apigov.registry.domain import LiveVersion
from apigov.registry.gate import WAITING_ANSWERS, Decision, Policy, decision_report

HAL = "application/hal+json"
# Environment ids are UUIDs derived from the name: stable across restarts and servers sharing
# one database, without a column of their own.
ENVIRONMENT_NAMESPACE = uuid.UUID("6f0c5d0e-3a55-5b6e-9a0e-61706967f76e")


def hal(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=HAL)


def error_response(
    status: int, errors: dict[str, list[str]], notices: Sequence[dict[str, str]] = ()
) -> JSONResponse:
    """An error Pact clients print: `errors` by field, and optional `notices`."""
    body: dict[str, Any] = {"errors": errors}
    if notices:
        body["notices"] = list(notices)
    return JSONResponse(body, status_code=status)


def not_found(what: str) -> JSONResponse:
    return error_response(404, {"resource": [f"{what} was not found"]})


class Urls:
    """Absolute links, as the Broker gives them, under the address the client used."""

    def __init__(self, request: Request) -> None:
        self.base = str(request.base_url).rstrip("/")

    def __call__(self, *segments: str) -> str:
        return self.base + "".join("/" + quote(s, safe="") for s in segments)

    def template(self, path: str) -> str:
        """A templated link: `{name}` placeholders stay as they are."""
        return self.base + path

    def pacticipant(self, name: str) -> str:
        return self("pacticipants", name)

    def version(self, service: str, number: str) -> str:
        return self("pacticipants", service, "versions", number)

    def pact_of_version(self, provider: str, consumer: str, version: str) -> str:
        return self("pacts", "provider", provider, "consumer", consumer, "version", version)

    def pact_version(self, provider: str, consumer: str, sha256: str) -> str:
        return self("pacts", "provider", provider, "consumer", consumer, "pact-version", sha256)

    def environment(self, name: str) -> str:
        return self("environments", environment_id(name))


def environment_id(name: str) -> str:
    return str(uuid.uuid5(ENVIRONMENT_NAMESPACE, name))


def environment_body(urls: Urls, name: str, production: bool) -> dict[str, Any]:
    return {
        "uuid": environment_id(name),
        "name": name,
        "displayName": name,
        "production": production,
        "_links": {
            "self": {"href": urls.environment(name), "name": name},
            "pb:currently-deployed-deployed-versions": {
                "href": urls.environment(name) + "/deployed-versions/currently-deployed"
            },
            "pb:currently-supported-released-versions": {
                "href": urls.environment(name) + "/released-versions/currently-supported"
            },
        },
    }


def live_id(*parts: str) -> str:
    """A deployed or released version's Broker id. The registry gives them no id of their own:
    the id is their identity (environment, service, version and, deployed, target), encoded."""
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode().rstrip("=")


def live_parts(identifier: str, count: int) -> list[str] | None:
    """The identity in a `live_id`, or None when `identifier` is not one."""
    try:
        padded = identifier + "=" * (-len(identifier) % 4)
        parts = json.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(parts, list) or len(parts) != count:
        return None
    if not all(isinstance(p, str) for p in parts):
        return None
    return parts


def live_body(
    urls: Urls, environment: str, live: LiveVersion, deployed: bool, current: bool = True
) -> dict[str, Any]:
    if deployed:
        identifier = live_id(environment, live.service, live.number, live.target)
        body: dict[str, Any] = {
            "uuid": identifier,
            "currentlyDeployed": current,
            # null, not "", when there is no target: clients tell the two cases apart by it.
            "target": live.target or None,
            "applicationInstance": live.target or None,
        }
        href = urls("deployed-versions", identifier)
    else:
        identifier = live_id(environment, live.service, live.number)
        body = {"uuid": identifier, "currentlySupported": current}
        href = urls("released-versions", identifier)
    body["_embedded"] = {
        "pacticipant": {"name": live.service},
        "version": {"number": live.number},
    }
    body["_links"] = {
        "self": {"href": href},
        "pb:environment": {"href": urls.environment(environment), "name": environment},
    }
    return body


def decision_body(request: Request, decision: Decision, ignored: set[str]) -> dict[str, Any]:
    """The Broker's matrix answer: summary, one row per pair, and why, as notices."""
    urls = Urls(request)
    policy: Policy = getattr(request.app.state, "policy", None) or Policy()
    kind = "static compatibility" + (" and verification" if policy.require_verification else "")
    counted = [p for p in decision.pairs if p.consumer not in ignored and p.provider not in ignored]
    rows = []
    for pair in decision.pairs:
        consumer_version = {"number": pair.consumer_version} if pair.consumer_version else None
        provider_version = {"number": pair.provider_version} if pair.provider_version else None
        verification = None
        if pair.provider_version is not None:
            verification = {
                "success": pair.ok,
                "answer": pair.answer.value,
                "reason": pair.reason,
                "_links": {"self": {"href": urls.version(pair.provider, pair.provider_version)}},
            }
        rows.append(
            {
                "consumer": {"name": pair.consumer, "version": consumer_version},
                "provider": {"name": pair.provider, "version": provider_version},
                "pact": {"path": pair.pact_path},
                "live": pair.live,
                "verificationResult": verification,
                "verificationType": kind,
                "ignored": pair.consumer in ignored or pair.provider in ignored,
            }
        )
    # The gate's own verdict (pairs and any other evidence the policy requires), over the
    # pairs not ignored; "unknown" is the Broker's `deployable: null`.
    verdict = replace(decision, pairs=counted).verdict
    deployable = {"yes": True, "no": False}.get(verdict)
    failed = [p for p in counted if not p.ok]
    unknown = [p for p in failed if p.answer in WAITING_ANSWERS]
    notices = [
        {"type": "success" if f.level is Level.INFO else "error", "text": f.message}
        for f in decision_report(decision).findings
    ]
    subject = f"{decision.service} version {decision.version}"
    where = (
        f"with the latest versions tagged {decision.tag}"
        if decision.tag is not None
        else f"to {decision.environment}"
    )
    if deployable:
        reason = f"{subject} may be deployed {where}: everything is satisfied"
    elif deployable is None:
        reason = f"{subject}: nothing failed, but some required evidence is not there yet"
    else:
        reason = f"{subject} must not be deployed {where}"
    return {
        "summary": {
            "deployable": deployable,
            "reason": reason,
            "success": len(counted) - len(failed),
            "failed": len(failed) - len(unknown),
            "unknown": len(unknown),
        },
        "notices": notices,
        "matrix": rows,
        "_links": {"self": {"href": str(request.url)}},
    }

"""apigov's own JSON API, under /api/v1: every `Registry` operation as a REST resource.

The routes are thin: decode the request, call the `Registry` the app serves
(`request.app.state.registry`), encode the answer (`wire.py`). Errors are raised as exceptions
and rendered once, as RFC 9457 problem details, by the handlers in `app.py`. The document
describing these routes is `openapi.yaml` next to this file (a test keeps the two equal).
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from apigov.registry.domain import (
    ContractFile,
    Registry,
    Role,
    ServiceMetadata,
    VersionConflictError,
)
from apigov.registry.gate import can_i_deploy, can_i_deploy_to_tag, parse_policy
from apigov.registry.server import queries, wire
from apigov.registry.server.auth import Principal, Scope, authenticate, require_scope
from apigov.registry.server.webhooks import EVENTS, Dispatcher, WebhookRecord, WebhookStore

PREFIX = "/api/v1"
MAX_LOOKUP_KEYS = 1000
MAX_DIFF_LINES = 400

router = APIRouter(prefix=PREFIX)

Reader = Annotated[Principal, Depends(require_scope("read"))]
Publisher = Annotated[Principal, Depends(require_scope("publish"))]
Admin = Annotated[Principal, Depends(require_scope("admin"))]
Limit = Annotated[int, Query(ge=1, le=1000)]
Cursor = Annotated[str | None, Query(max_length=100)]
# Ids and cursors stay within what every database's integers hold.
LARGEST_ID = 2**31 - 1
WebhookId = Annotated[int, Path(alias="webhookId", ge=1, le=LARGEST_ID)]


class ProblemError(Exception):
    """An error answer: status, a short title, the detail, and any extra members."""

    def __init__(self, status: int, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.extra = extra


class _Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class FileIn(_Body):
    path: str = Field(min_length=1, max_length=500)
    role: Role
    content: str  # base64
    provider: str | None = Field(default=None, max_length=200)


class MetadataIn(_Body):
    owner: str | None = None
    team: str | None = None
    tier: int | None = None
    lifecycle: str | None = None


class PublishIn(_Body):
    branch: str | None = Field(default=None, max_length=200)
    commit: str | None = Field(default=None, max_length=100)
    metadata: MetadataIn | None = None
    files: list[FileIn] = Field(max_length=10_000)
    # Labels of the version (added on a republish of the same content too).
    tags: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=100
    )


class VersionKey(_Body):
    service: str
    version: str


class VersionLookupIn(_Body):
    keys: list[VersionKey] = Field(max_length=MAX_LOOKUP_KEYS)


class ContentLookupIn(_Body):
    sha256s: list[str] = Field(max_length=MAX_LOOKUP_KEYS)


class StaticKey(_Body):
    pact_sha256: str
    spec_digest: str


class StaticLookupIn(_Body):
    checker: str
    keys: list[StaticKey] = Field(max_length=MAX_LOOKUP_KEYS)


class StaticResultIn(_Body):
    pact_sha256: str = Field(max_length=64)
    spec_digest: str = Field(max_length=64)
    checker: str = Field(max_length=50)
    success: bool
    findings_json: str


class EnvironmentIn(_Body):
    production: bool = False


class DeploymentIn(_Body):
    service: str
    version: str
    target: str = ""


class ReleaseIn(_Body):
    service: str
    version: str


class FuzzRunIn(_Body):
    environment: str = Field(max_length=100)
    passed: bool
    complete: bool
    run: dict[str, Any]


class VerificationIn(_Body):
    consumer: str
    pact_sha256: str = Field(max_length=64)
    success: bool
    details: str = ""


class WebhookIn(_Body):
    url: str = Field(pattern=r"^https?://", max_length=2000)
    events: list[str] = Field(min_length=1, max_length=len(EVENTS))
    secret: str = Field(min_length=16, max_length=200)


def _notify(request: Request, event: str, data: dict[str, Any]) -> None:
    dispatcher: Dispatcher = request.app.state.dispatcher
    dispatcher.notify(event, data)


def _registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


def _paged(items: list[Any], next_cursor: str | None) -> dict[str, Any]:
    return {"items": items, "nextCursor": next_cursor}


def _slice(items: list[Any], limit: int, cursor: str | None) -> dict[str, Any]:
    """Pagination of a list computed whole (live versions, verifications): the cursor is the
    index of the next item."""
    start = _cursor_number(cursor)
    end = start + limit
    return _paged(items[start:end], str(end) if end < len(items) else None)


def _cursor_number(cursor: str | None) -> int:
    try:
        value = int(cursor) if cursor else 0
    except ValueError:
        value = -1
    if not 0 <= value <= LARGEST_ID:
        raise ProblemError(400, "Bad cursor", f"{cursor!r} is not a cursor this list gave out")
    return value


def _keyset(call: Any, *args: Any) -> Any:
    try:
        return call(*args)
    except ValueError:
        raise ProblemError(
            400, "Bad cursor", "that cursor was not given out by this list"
        ) from None


async def read_scope_on_loop(request: Request) -> Principal:
    """`require_scope("read")` run on the event loop, for the busiest read routes (can-i-deploy
    and the Broker's matrix): FastAPI hands a plain function to a worker thread, and in a
    py-spy profile of the server that hand-off took about 7% of its busy time, far more than
    the check. Only a presented token costs a lookup (one row by its unique hash)."""
    return authenticate(
        request.headers.get("authorization"),
        Scope.READ,
        request.app.state.auth,
        request.app.state.tokens,
    )


ReaderOnLoop = Annotated[Principal, Depends(read_scope_on_loop)]


def _not_found(what: str) -> ProblemError:
    return ProblemError(404, "Not found", f"{what} is not in the registry")


# ---- service versions ---------------------------------------------------------------------


@router.get("/services")
def list_services(request: Request, _: Reader, limit: Limit = 100, cursor: Cursor = None) -> Any:
    engine = request.app.state.engine
    return _paged(*_keyset(queries.services, engine, limit, cursor))


@router.get("/services/{service}/versions")
def list_versions(
    request: Request, service: str, _: Reader, limit: Limit = 100, cursor: Cursor = None
) -> Any:
    page = _keyset(queries.service_versions, request.app.state.engine, service, limit, cursor)
    if page is None:
        raise _not_found(f"service {service!r}")
    return _paged(*page)


@router.put("/services/{service}/versions/{version}", status_code=201)
def publish_version(
    request: Request,
    response: Response,
    service: str,
    version: str,
    body: PublishIn,
    principal: Publisher,
) -> Any:
    try:
        files = [
            ContractFile(f.path, f.role, wire.decode_bytes(f.content), f.provider)
            for f in body.files
        ]
    except ValueError:
        raise ProblemError(400, "Bad content", "a file's content is not valid base64") from None
    registry = _registry(request)
    metadata = ServiceMetadata(**body.metadata.model_dump()) if body.metadata else None
    try:
        result = registry.publish(
            service,
            version,
            files,
            branch=body.branch,
            commit=body.commit,
            metadata=metadata,
            actor=principal.name,
            tags=body.tags,
        )
    except VersionConflictError as conflict:
        raise ProblemError(
            409,
            "Version already published with other content",
            str(conflict),
            service=conflict.service,
            version=conflict.version,
            added=conflict.added,
            removed=conflict.removed,
            changed=conflict.changed,
            diff=_diff(registry, service, version, files, conflict.changed),
        ) from None
    if not result.created:
        response.status_code = 200
    elif result.new_contents:
        _notify(
            request,
            "contract-published",
            {
                "service": service,
                "version": version,
                "branch": body.branch,
                "newContents": sorted(result.new_contents),
            },
        )
    return {
        "service": result.service,
        "version": result.version,
        "created": result.created,
        "files": [wire.stored_file_json(f) for f in result.files],
        "newContents": sorted(result.new_contents),
    }


def _diff(
    registry: Registry,
    service: str,
    version: str,
    files: list[ContractFile],
    changed: list[str],
) -> list[dict[str, str]]:
    """A unified diff of each changed file, published content against the rejected one."""
    record = registry.version(service, version)
    if record is None:
        return []
    before = {f.path: f.sha256 for f in record.files}
    stored = registry.contents([before[p] for p in changed if p in before])
    now = {f.path: f.content for f in files}
    diffs = []
    for path in changed:
        old = stored.get(before.get(path, ""), b"").decode("utf-8", "replace").splitlines()
        new = now.get(path, b"").decode("utf-8", "replace").splitlines()
        lines = list(
            difflib.unified_diff(
                old, new, f"published/{path}", f"rejected/{path}", lineterm="", n=2
            )
        )
        if len(lines) > MAX_DIFF_LINES:
            lines = [*lines[:MAX_DIFF_LINES], f"... {len(lines) - MAX_DIFF_LINES} more lines"]
        diffs.append({"path": path, "diff": "\n".join(lines)})
    return diffs


@router.get("/services/{service}/versions/{version}")
def get_version(request: Request, service: str, version: str, _: Reader) -> Any:
    record = _registry(request).version(service, version)
    if record is None:
        raise _not_found(f"{service}@{version}")
    return wire.version_json(record)


@router.post("/version-lookups")
def look_up_versions(request: Request, body: VersionLookupIn, _: Reader) -> Any:
    found = _registry(request).versions([(k.service, k.version) for k in body.keys])
    return {"items": [wire.version_json(r) for r in found.values()]}


# ---- contents -------------------------------------------------------------------------------


@router.get("/contents/{sha256}")
def get_content(request: Request, sha256: str, _: Reader) -> Any:
    found = _registry(request).contents([sha256])
    if sha256 not in found:
        raise _not_found(f"content {sha256}")
    return {"sha256": sha256, "content": wire.encode_bytes(found[sha256])}


@router.post("/content-lookups")
def look_up_contents(request: Request, body: ContentLookupIn, _: Reader) -> Any:
    found = _registry(request).contents(body.sha256s)
    return {
        "items": [
            {"sha256": sha, "content": wire.encode_bytes(content)} for sha, content in found.items()
        ]
    }


# ---- environments, deployments, releases ------------------------------------------------------


@router.get("/environments")
def list_environments(
    request: Request, _: Reader, limit: Limit = 100, cursor: Cursor = None
) -> Any:
    return _paged(*_keyset(queries.environments, request.app.state.engine, limit, cursor))


@router.get("/environments/{environment}")
def get_environment(request: Request, environment: str, _: Reader) -> Any:
    found = queries.environment(request.app.state.engine, environment)
    if found is None:
        raise _not_found(f"environment {environment!r}")
    return found


@router.put("/environments/{environment}")
def put_environment(request: Request, environment: str, body: EnvironmentIn, _: Publisher) -> Any:
    _registry(request).ensure_environment(environment, production=body.production)
    found = queries.environment(request.app.state.engine, environment)
    return found


@router.post("/environments/{environment}/deployments", status_code=201)
def record_deployment(
    request: Request, environment: str, body: DeploymentIn, principal: Publisher
) -> Any:
    retired = _registry(request).record_deployment(
        body.service, body.version, environment, target=body.target, actor=principal.name
    )
    _notify(
        request,
        "deployment-recorded",
        {
            "service": body.service,
            "version": body.version,
            "environment": environment,
            "target": body.target,
            "retired": retired,
        },
    )
    return {"retired": retired}


@router.delete("/environments/{environment}/deployments/{service}")
def record_undeployment(
    request: Request,
    environment: str,
    service: str,
    principal: Publisher,
    target: Annotated[str, Query(max_length=200)] = "",
) -> Any:
    versions = _registry(request).record_undeployment(
        service, environment, target=target, actor=principal.name
    )
    return {"versions": versions}


@router.post("/environments/{environment}/releases", status_code=201)
def record_release(
    request: Request, response: Response, environment: str, body: ReleaseIn, principal: Publisher
) -> Any:
    created = _registry(request).record_release(
        body.service, body.version, environment, actor=principal.name
    )
    if not created:
        response.status_code = 200
    return {"created": created}


@router.delete("/environments/{environment}/releases/{service}/{version}")
def end_support(
    request: Request, environment: str, service: str, version: str, principal: Publisher
) -> Any:
    ended = _registry(request).record_support_ended(
        service, version, environment, actor=principal.name
    )
    return {"ended": ended}


@router.get("/environments/{environment}/live-versions")
def live_versions(
    request: Request,
    environment: str,
    _: Reader,
    service: Annotated[list[str], Query(max_length=MAX_LOOKUP_KEYS)],
    limit: Limit = 1000,
    cursor: Cursor = None,
) -> Any:
    live = _registry(request).live_versions(environment, service)
    return _slice([wire.live_json(v) for v in live], limit, cursor)


@router.get("/environments/{environment}/live-consumers")
def live_consumers(
    request: Request,
    environment: str,
    _: Reader,
    provider: Annotated[str, Query(max_length=200)],
    limit: Limit = 1000,
    cursor: Cursor = None,
) -> Any:
    live = _registry(request).live_consumers(environment, provider)
    return _slice([wire.live_json(v) for v in live], limit, cursor)


# ---- evidence -------------------------------------------------------------------------------


@router.post("/static-result-lookups")
def look_up_static_results(request: Request, body: StaticLookupIn, _: Reader) -> Any:
    found = _registry(request).static_results(
        [(k.pact_sha256, k.spec_digest) for k in body.keys], body.checker
    )
    return {"items": [wire.static_json(p, s, result) for (p, s), result in found.items()]}


@router.post("/static-results", status_code=201)
def store_static_result(request: Request, body: StaticResultIn, _: Publisher) -> Any:
    _registry(request).store_static_result(
        body.pact_sha256, body.spec_digest, body.checker, body.success, body.findings_json
    )
    return {"pactSha256": body.pact_sha256, "specDigest": body.spec_digest}


@router.post("/services/{service}/versions/{version}/verifications", status_code=201)
def record_verification(
    request: Request, service: str, version: str, body: VerificationIn, principal: Publisher
) -> Any:
    _registry(request).record_verification(
        service,
        version,
        body.consumer,
        body.pact_sha256,
        body.success,
        details=body.details,
        actor=principal.name,
    )
    _notify(
        request,
        "verification-published",
        {
            "provider": service,
            "providerVersion": version,
            "consumer": body.consumer,
            "pactSha256": body.pact_sha256,
            "success": body.success,
        },
    )
    return {"provider": service, "providerVersion": version, "consumer": body.consumer}


@router.get("/services/{service}/versions/{version}/verifications")
def list_verifications(
    request: Request,
    service: str,
    version: str,
    _: Reader,
    consumer: Annotated[str, Query(max_length=200)],
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Any:
    results = _registry(request).verifications(service, version, consumer)
    return _slice([wire.verification_json(r) for r in results], limit, cursor)


@router.post("/services/{service}/versions/{version}/fuzz-runs", status_code=201)
def record_fuzz_run(
    request: Request, service: str, version: str, body: FuzzRunIn, principal: Publisher
) -> Any:
    run = _registry(request).record_fuzz_run(
        service,
        version,
        body.environment,
        passed=body.passed,
        complete=body.complete,
        run=body.run,
        actor=principal.name,
    )
    return wire.fuzz_run_json(run)


@router.get("/services/{service}/versions/{version}/fuzz-runs")
def list_fuzz_runs(
    request: Request,
    service: str,
    version: str,
    _: Reader,
    environment: Annotated[str | None, Query(max_length=100)] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Any:
    runs = _registry(request).fuzz_runs(service, version, environment)
    return _slice([wire.fuzz_run_json(r) for r in runs], limit, cursor)


# ---- can-i-deploy and the audit log -------------------------------------------------------------


@router.get("/can-i-deploy")
def can_i_deploy_answer(
    request: Request,
    _: ReaderOnLoop,
    service: Annotated[str, Query(max_length=200)],
    version: Annotated[str, Query(max_length=200)],
    environment: Annotated[str | None, Query(max_length=100)] = None,
    tag: Annotated[str | None, Query(max_length=200)] = None,
    require: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006 (FastAPI copies it)
    max_age: Annotated[str | None, Query(alias="maxAge", max_length=20)] = None,
) -> Response:
    if (environment is None) == (tag is None):
        raise ProblemError(
            422, "Invalid request", "give either environment or tag (the one to deploy to)"
        )
    policy = parse_policy(require, max_age, source="require")
    if tag is not None:
        decision = can_i_deploy_to_tag(_registry(request), service, version, tag, policy=policy)
    else:
        assert environment is not None
        decision = can_i_deploy(_registry(request), service, version, environment, policy=policy)
    # Ready-made bytes: FastAPI's generic encoding of a returned dict costs more than the
    # answer's own queries.
    return Response(wire.decision_bytes(decision), media_type="application/json")


@router.get("/audit-log")
def audit_log(request: Request, _: Reader, limit: Limit = 100, cursor: Cursor = None) -> Any:
    return _paged(*_keyset(queries.audit_log, request.app.state.engine, limit, cursor))


# ---- webhooks (admin) ----------------------------------------------------------------------


def _webhook_json(hook: WebhookRecord) -> dict[str, Any]:
    # The secret is never sent back: whoever configured it has it.
    return {"id": hook.id, "url": hook.url, "events": list(hook.events)}


@router.post("/webhooks", status_code=201)
def create_webhook(request: Request, body: WebhookIn, _: Admin) -> Any:
    unknown = sorted(set(body.events) - set(EVENTS))
    if unknown:
        raise ProblemError(
            422, "Invalid request", f"unknown events {unknown}; known: {', '.join(EVENTS)}"
        )
    store: WebhookStore = request.app.state.webhooks
    return _webhook_json(store.create(body.url, tuple(dict.fromkeys(body.events)), body.secret))


@router.get("/webhooks")
def list_webhooks(request: Request, _: Admin, limit: Limit = 100, cursor: Cursor = None) -> Any:
    store: WebhookStore = request.app.state.webhooks
    return _slice([_webhook_json(h) for h in store.live()], limit, cursor)


@router.delete("/webhooks/{webhookId}")
def delete_webhook(request: Request, webhook_id: WebhookId, _: Admin) -> Any:
    store: WebhookStore = request.app.state.webhooks
    if not store.delete(webhook_id):
        raise _not_found(f"webhook {webhook_id}")
    return {"id": webhook_id, "deleted": True}


@router.get("/webhooks/{webhookId}/deliveries")
def list_deliveries(
    request: Request, webhook_id: WebhookId, _: Admin, limit: Limit = 100, cursor: Cursor = None
) -> Any:
    store: WebhookStore = request.app.state.webhooks
    rows = store.deliveries(webhook_id, limit + 1, _cursor_number(cursor))
    next_cursor = str(rows[limit - 1]["id"]) if len(rows) > limit else None
    return _paged(rows[:limit], next_cursor)

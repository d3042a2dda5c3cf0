"""The Pact Broker's HAL API, the subset Pact clients use, over apigov's registry.

Pact tooling (the Pact CLI, pact-python's Verifier, every pact_ffi based verifier) starts at the
index (`GET /`), follows named relations, and fills templated links, so the relation names, the
link templates and the response members those clients read are the contract here; the paths
are the Broker's, so a client given absolute URLs works too.

How the Broker's notions map onto the registry:
- a pacticipant is a service, a pacticipant version a version; a published pact is a file
  `pacts/<consumer>-<provider>.json` of the consumer's version (the contracts layout's own
  name), so `apigov publish` and `pact-broker publish` of one version hold the same files.
- Pact clients publish one pact per request, so a version grows pact by pact
  (`add_contracts`); republishing a pact with the same content is acknowledged, with other
  content it is a 409 with a diff of the two contents (published versions are immutable).
- verification results are the registry's verification evidence (`record_verification`);
  their provider version is created (empty) if the provider never published one.
- an environment's id (the Broker's `uuid`) is a UUID derived from its name.
- writes raise the webhook events apigov's own API raises for the same write (a pact with new
  content, a verification result, a deployment), with the same data.
- the matrix and can-i-deploy answer from apigov's gate (`can_i_deploy`): each pair's answer
  (static compatibility, and verification where the policy requires it) is a matrix row.

The documents the routes answer with are built in `broker_hal.py`, the pacts a verifier gets
are picked in `broker_selectors.py`. Handlers reach the registry through
`request.app.state.registry`; every route needs the `read` scope, every write `publish`
(`require_scope`). Errors Pact clients should show are JSON with an `errors` member (and
`notices`), which those clients print.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import json
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from apigov.registry.domain import (
    BrokerRegistry,
    ContractFile,
    LiveVersion,
    PactPublication,
    RegistryError,
    Role,
    VersionConflictError,
    VersionSummary,
)
from apigov.registry.gate import Policy, can_i_deploy, can_i_deploy_to_tag
from apigov.registry.server import queries
from apigov.registry.server.api import ReaderOnLoop
from apigov.registry.server.auth import Principal, require_scope
from apigov.registry.server.broker_hal import (
    Urls,
    decision_body,
    environment_body,
    environment_id,
    error_response,
    hal,
    live_body,
    live_id,
    live_parts,
    not_found,
)
from apigov.registry.server.broker_selectors import (
    MAIN_BRANCHES,
    Selector,
    SelectorError,
    parse_selector,
    select_pacts,
)
from apigov.registry.server.webhooks import Dispatcher
from apigov.spec.documents import bundled_schema

router = APIRouter()

Reader = Annotated[Principal, Depends(require_scope("read"))]
Publisher = Annotated[Principal, Depends(require_scope("publish"))]

MAX_DIFF_LINES = 200


# ---- helpers -------------------------------------------------------------------------------


def _notify(request: Request, event: str, data: dict[str, Any]) -> None:
    """Raise a webhook event, as apigov's own API does for the same write (same data)."""
    dispatcher: Dispatcher = request.app.state.dispatcher
    dispatcher.notify(event, data)


def _registry(request: Request) -> BrokerRegistry:
    registry: BrokerRegistry = request.app.state.registry
    return registry


def _environment_by_id(registry: BrokerRegistry, environment: str) -> tuple[str, bool] | None:
    for record in registry.environments():
        if environment_id(record.name) == environment:
            return record.name, record.production
    return None


def _pact_file(consumer: str, provider: str, content: bytes) -> ContractFile:
    return ContractFile(f"pacts/{consumer}-{provider}.json", Role.PACT, content, provider)


def _check_name(kind: str, name: str) -> str | None:
    """Names become file names inside a version: no separators, no dot files."""
    if not name or "/" in name or "\\" in name or name.startswith(".") or len(name) > 200:
        return f"{kind} name {name!r} is not allowed (no '/', no leading '.', 200 characters)"
    return None


# ---- the index -----------------------------------------------------------------------------


@router.get("/")
def index(request: Request, _: Reader) -> JSONResponse:
    urls = Urls(request)

    def link(path: str, title: str, templated: bool = False) -> dict[str, Any]:
        found: dict[str, Any] = {"href": urls.template(path), "title": title}
        if templated:
            found["templated"] = True
        return found

    return hal(
        {
            "_links": {
                "self": link("", "Index"),
                "pb:publish-contracts": link("/contracts/publish", "Publish contracts"),
                "pb:latest-pact-versions": link("/pacts/latest", "Latest pact versions"),
                "pb:latest-provider-pacts": link(
                    "/pacts/provider/{provider}/latest", "Latest pacts by provider", True
                ),
                "pb:provider-pacts-for-verification": link(
                    "/pacts/provider/{provider}/for-verification",
                    "Pacts to be verified by a provider",
                    True,
                ),
                "pb:pacticipant": link("/pacticipants/{pacticipant}", "Fetch pacticipant", True),
                "pb:pacticipants": link("/pacticipants", "Pacticipants"),
                "pb:pacticipant-version": link(
                    "/pacticipants/{pacticipant}/versions/{version}",
                    "Get, create or delete a pacticipant version",
                    True,
                ),
                "pb:latest-version": link(
                    "/pacticipants/{pacticipant}/latest-version",
                    "Latest pacticipant version",
                    True,
                ),
                "pb:latest-tagged-version": link(
                    "/pacticipants/{pacticipant}/latest-version/{tag}",
                    "Latest pacticipant version with the specified tag",
                    True,
                ),
                "pb:pacticipant-version-tag": link(
                    "/pacticipants/{pacticipant}/versions/{version}/tags/{tag}",
                    "Get, create or delete a tag for a pacticipant version",
                    True,
                ),
                "pb:pacticipant-branch": link(
                    "/pacticipants/{pacticipant}/branches/{branch}",
                    "Get or delete a pacticipant branch",
                    True,
                ),
                "pb:latest-provider-pacts-with-tag": link(
                    "/pacts/provider/{provider}/latest/{tag}",
                    "Latest pacts by provider with the specified tag",
                    True,
                ),
                "pb:environments": link("/environments", "Environments"),
                "pb:environment": link("/environments/{uuid}", "Environment", True),
                "pb:can-i-deploy-pacticipant-version-to-tag": link(
                    "/can-i-deploy?pacticipant={pacticipant}&version={version}&to={tag}",
                    "Can a pacticipant version be deployed with the latest versions tagged {tag}",
                    True,
                ),
                "pb:can-i-deploy-pacticipant-version-to-environment": link(
                    "/can-i-deploy?pacticipant={pacticipant}&version={version}"
                    "&environment={environment}",
                    "Can a pacticipant version be deployed to an environment",
                    True,
                ),
                "pb:matrix": link("/matrix", "The matrix of compatible versions"),
            }
        }
    )


# ---- publishing ----------------------------------------------------------------------------


class _Body(BaseModel):
    # Pact clients send more than apigov uses (buildUrl, onConflict, verifiedBy...): ignore it.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class ContractIn(_Body):
    consumer_name: str = Field(min_length=1, max_length=200)
    provider_name: str = Field(min_length=1, max_length=200)
    specification: str
    content_type: str = "application/json"
    content: str  # base64


class PublishContractsIn(_Body):
    pacticipant_name: str = Field(min_length=1, max_length=200)
    pacticipant_version_number: str = Field(min_length=1, max_length=200)
    branch: str | None = Field(default=None, max_length=200)
    tags: list[str] = Field(default_factory=list, max_length=100)
    contracts: list[ContractIn] = Field(min_length=1, max_length=1000)


@router.post("/contracts/publish")
def publish_contracts(
    request: Request, body: PublishContractsIn, principal: Publisher
) -> JSONResponse:
    registry = _registry(request)
    urls = Urls(request)
    service, number = body.pacticipant_name, body.pacticipant_version_number
    problems: list[str] = []
    files: list[ContractFile] = []
    for position, contract in enumerate(body.contracts):
        where = f"contracts[{position}]"
        if contract.specification != "pact":
            problems.append(
                f"{where}: only pact contracts are accepted here, not {contract.specification!r}"
            )
            continue
        if contract.consumer_name != service:
            problems.append(
                f"{where}: the consumer {contract.consumer_name!r} is not the publishing "
                f"pacticipant {service!r}"
            )
            continue
        bad_name = _check_name("consumer", contract.consumer_name) or _check_name(
            "provider", contract.provider_name
        )
        if bad_name:
            problems.append(f"{where}: {bad_name}")
            continue
        try:
            content = base64.b64decode(contract.content, validate=True)
            pact = json.loads(content)
        except (binascii.Error, ValueError):
            problems.append(f"{where}: content is not base64-encoded JSON")
            continue
        named = (
            (
                (pact.get("consumer") or {}).get("name"),
                (pact.get("provider") or {}).get("name"),
            )
            if isinstance(pact, dict)
            else (None, None)
        )
        if named != (contract.consumer_name, contract.provider_name):
            problems.append(
                f"{where}: the pact names consumer {named[0]!r} and provider {named[1]!r}, "
                f"the request {contract.consumer_name!r} and {contract.provider_name!r}"
            )
            continue
        # The structure `apigov publish` checks too: nothing stored that no check could read.
        structure = [
            f"{'/'.join(map(str, e.instance_path)) or '(root)'}: {e.message}"
            for e in bundled_schema("pact.schema.json").iter_errors(pact)
        ]
        if structure:
            more = f" (+{len(structure) - 1} more)" if len(structure) > 1 else ""
            problems.append(f"{where}: not a valid pact: {structure[0]}{more}")
            continue
        files.append(_pact_file(contract.consumer_name, contract.provider_name, content))
    if problems:
        return error_response(400, {"contracts": problems})
    try:
        result = registry.add_contracts(
            service, number, files, branch=body.branch, actor=principal.name, tags=body.tags
        )
    except VersionConflictError as conflict:
        return _conflict(registry, service, number, files, conflict)
    if result.new_contents:
        _notify(
            request,
            "contract-published",
            {
                "service": service,
                "version": number,
                "branch": body.branch,
                "newContents": sorted(result.new_contents),
            },
        )
    notices = [
        {
            "type": "success",
            "text": f"{'Published' if result.created else 'Already published'}: "
            f"{service} version {number}" + (f" on branch {body.branch}" if body.branch else ""),
        }
    ]
    record = registry.version(service, number)
    if body.branch and record is not None and record.branch != body.branch:
        notices.append(
            {
                "type": "warning",
                "text": f"{service} version {number} stays on branch {record.branch}: "
                "a version has one branch in apigov",
            }
        )
    if body.tags:
        notices.append(
            {
                "type": "success",
                "text": f"Tagged {service} version {number}: {', '.join(body.tags)}",
            }
        )
    contracts = []
    for file in files:
        assert file.provider is not None
        href = urls.pact_of_version(file.provider, service, number)
        title = f"Pact between {service} ({number}) and {file.provider}"
        contracts.append({"href": href, "name": title, "title": title})
        notices.append({"type": "success", "text": f"{title}: {href}"})
    version_link = {
        "href": urls.version(service, number),
        "name": number,
        "title": f"{service} version {number}",
    }
    participant_link = {
        "href": urls.pacticipant(service),
        "name": service,
        "title": service,
    }
    return hal(
        {
            "notices": notices,
            "logs": [],
            "_embedded": {
                "pacticipant": {
                    "name": service,
                    "_links": {"self": {"href": participant_link["href"]}},
                },
                "version": {"number": number, "_links": {"self": version_link}},
            },
            "_links": {
                "pb:pacticipant": participant_link,
                "pb:pacticipant-version": version_link,
                "pb:pacticipant-version-tags": [
                    {"href": f"{version_link['href']}/tags/{quote(tag, safe='')}", "name": tag}
                    for tag in body.tags
                ],
                "pb:contracts": contracts,
            },
        }
    )


def _conflict(
    registry: BrokerRegistry,
    service: str,
    number: str,
    files: list[ContractFile],
    conflict: VersionConflictError,
) -> JSONResponse:
    """409, as the Broker answers, with a unified diff of each changed pact's two contents."""
    record = registry.version(service, number)
    held = {f.path: f.sha256 for f in (record.files if record else ())}
    before = registry.contents([held[p] for p in conflict.changed if p in held])
    notices = []
    for file in files:
        if file.path not in conflict.changed or file.path not in held:
            continue
        diff = list(
            difflib.unified_diff(
                _pretty(before.get(held[file.path], b"")),
                _pretty(file.content),
                f"{file.path} (published)",
                f"{file.path} (this request)",
                lineterm="",
            )
        )
        if len(diff) > MAX_DIFF_LINES:
            diff = [*diff[:MAX_DIFF_LINES], f"... {len(diff) - MAX_DIFF_LINES} more lines"]
        notices.append({"type": "error", "text": "\n".join(diff)})
    message = (
        f"Cannot change the content of {', '.join(conflict.changed)} of {service} version "
        f"{number}: published versions are immutable. Publish a new version instead."
    )
    return error_response(409, {"contracts": [message]}, notices)


def _pretty(content: bytes) -> list[str]:
    try:
        return json.dumps(json.loads(content), indent=2, sort_keys=True).splitlines()
    except ValueError:
        return content.decode("utf-8", "replace").splitlines()


# ---- pacts ---------------------------------------------------------------------------------


def _pact_response(request: Request, publication: PactPublication, content: bytes) -> JSONResponse:
    """The pact document, with the links a verifier follows (publish results, provider)."""
    urls = Urls(request)
    try:
        document = json.loads(content)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        return error_response(500, {"pact": ["the stored pact is not a JSON object"]})
    provider, consumer = publication.provider, publication.consumer
    pact_version = urls.pact_version(provider, consumer, publication.sha256)
    document["_links"] = {
        "self": {
            "href": urls.pact_of_version(provider, consumer, publication.consumer_version),
            "title": f"Pact between {consumer} ({publication.consumer_version}) and {provider}",
        },
        "pb:pact-version": {"href": pact_version},
        "pb:consumer": {"href": urls.pacticipant(consumer), "name": consumer},
        "pb:provider": {"href": urls.pacticipant(provider), "name": provider},
        "pb:consumer-version": {
            "href": urls.version(consumer, publication.consumer_version),
            "name": publication.consumer_version,
        },
        "pb:publish-verification-results": {
            "href": pact_version + "/verification-results",
            "title": "Publish verification results",
        },
    }
    return hal(document)


def _serve(request: Request, publication: PactPublication | None, what: str) -> JSONResponse:
    if publication is None:
        return not_found(what)
    content = _registry(request).contents([publication.sha256]).get(publication.sha256)
    if content is None:
        return not_found(what)
    return _pact_response(request, publication, content)


@router.get("/pacts/provider/{provider}/consumer/{consumer}/version/{version}")
def pact_of_version(
    request: Request, provider: str, consumer: str, version: str, _: Reader
) -> JSONResponse:
    found = [
        p
        for p in _registry(request).pact_publications(provider, consumer)
        if p.consumer_version == version
    ]
    return _serve(
        request, found[0] if found else None, f"a pact between {consumer} {version} and {provider}"
    )


@router.get("/pacts/provider/{provider}/consumer/{consumer}/latest")
def latest_pact(request: Request, provider: str, consumer: str, _: Reader) -> JSONResponse:
    found = _registry(request).pact_publications(provider, consumer)
    return _serve(
        request, found[-1] if found else None, f"a pact between {consumer} and {provider}"
    )


@router.get("/pacts/provider/{provider}/consumer/{consumer}/latest/{tag}")
def latest_tagged_pact(
    request: Request, provider: str, consumer: str, tag: str, _: Reader
) -> JSONResponse:
    """The pact of the newest version of the consumer carrying `tag` (the Broker's
    `latest/TAG`): versions are ordered by when they were published, as `latest` is."""
    found = [p for p in _registry(request).pact_publications(provider, consumer) if tag in p.tags]
    return _serve(
        request,
        found[-1] if found else None,
        f"a pact between {consumer} version tagged {tag!r} and {provider}",
    )


@router.get("/pacts/provider/{provider}/consumer/{consumer}/pact-version/{sha256}")
def pact_by_content(
    request: Request, provider: str, consumer: str, sha256: str, _: Reader
) -> JSONResponse:
    found = [
        p for p in _registry(request).pact_publications(provider, consumer) if p.sha256 == sha256
    ]
    return _serve(request, found[-1] if found else None, f"pact version {sha256}")


@router.get("/pacts/latest")
def latest_pacts(
    request: Request,
    _: Reader,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=1000)] = 1000,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> JSONResponse:
    """`pact-broker list-latest-pact-versions`: the newest pact of every integration, a page at
    a time (`_links.next` while more follow)."""
    urls = Urls(request)
    # The cursor is the last row's key, in the opaque encoding deployed-version ids use.
    after = live_parts(cursor, 3) if cursor is not None else None
    if cursor is not None and after is None:
        return error_response(400, {"cursor": [f"{cursor!r} is not a cursor this list gave out"]})
    found = _registry(request).latest_pacts(
        page_size + 1, (after[0], after[1], after[2]) if after else None
    )
    pacts = [
        {
            "createdAt": created.isoformat(),
            "_embedded": {
                "consumer": {
                    "name": p.consumer,
                    "_embedded": {"version": {"number": p.consumer_version}},
                },
                "provider": {"name": p.provider},
            },
            "_links": {
                "self": {
                    "href": urls.pact_of_version(p.provider, p.consumer, p.consumer_version),
                    "name": f"Pact between {p.consumer} ({p.consumer_version}) and {p.provider}",
                }
            },
        }
        for p, created in found[:page_size]
    ]
    links: dict[str, Any] = {"self": {"href": str(request.url)}}
    if len(found) > page_size:
        last = found[page_size - 1][0]
        key = live_id(last.consumer, last.provider, last.path)
        links["next"] = {"href": urls("pacts", "latest") + f"?pageSize={page_size}&cursor={key}"}
    return hal({"pacts": pacts, "_links": links})


@router.get("/pacts/provider/{provider}/latest")
def latest_provider_pacts(request: Request, provider: str, _: Reader) -> JSONResponse:
    return _latest_provider_pacts(request, provider, None)


@router.get("/pacts/provider/{provider}/latest/{tag}")
def latest_tagged_provider_pacts(
    request: Request, provider: str, tag: str, _: Reader
) -> JSONResponse:
    """The pact of each consumer's newest version carrying `tag`."""
    return _latest_provider_pacts(request, provider, tag)


def _latest_provider_pacts(request: Request, provider: str, tag: str | None) -> JSONResponse:
    urls = Urls(request)
    newest: dict[str, PactPublication] = {}
    for publication in _registry(request).pact_publications(provider):
        if tag is None or tag in publication.tags:
            newest[publication.consumer] = publication
    pacts = [
        {
            "href": urls.pact_of_version(provider, p.consumer, p.consumer_version),
            "title": f"Pact between {p.consumer} ({p.consumer_version}) and {provider}",
            "name": p.consumer,
        }
        for p in sorted(newest.values(), key=lambda p: p.consumer)
    ]
    path = ("pacts", "provider", provider, "latest") + ((tag,) if tag is not None else ())
    return hal(
        {
            "_links": {
                "self": {"href": urls(*path)},
                "pb:provider": {"href": urls.pacticipant(provider), "name": provider},
                "pb:pacts": pacts,
            }
        }
    )


# ---- pacts for verification ------------------------------------------------------------------


class ForVerificationIn(_Body):
    consumer_version_selectors: list[dict[str, Any]] = Field(default_factory=list, max_length=100)
    provider_version_branch: str | None = None
    provider_version_tags: list[str] = Field(default_factory=list)
    include_pending_status: bool = False
    include_wip_pacts_since: str | None = None


@router.get("/pacts/provider/{provider}/for-verification")
def for_verification_resource(request: Request, provider: str, _: Reader) -> JSONResponse:
    """What a verifier navigates to before it POSTs its selectors to the `self` link."""
    urls = Urls(request)
    return hal(
        {
            "_links": {
                "self": {
                    "href": urls("pacts", "provider", provider, "for-verification"),
                    "title": "Pacts to be verified",
                },
                "pb:provider": {"href": urls.pacticipant(provider), "name": provider},
            }
        }
    )


@router.post("/pacts/provider/{provider}/for-verification")
def pacts_for_verification(
    request: Request, provider: str, body: ForVerificationIn, _: Reader
) -> JSONResponse:
    registry = _registry(request)
    urls = Urls(request)
    try:
        selectors = [parse_selector(data) for data in body.consumer_version_selectors]
    except SelectorError as error:
        return error_response(400, {"consumerVersionSelectors": [str(error)]})
    # No selectors: the latest pact of every consumer, as the Broker did before selectors.
    selectors = selectors or [Selector(latest=True)]
    publications = registry.pact_publications(provider)
    live: dict[str, list[LiveVersion]] = {}
    if any(s.wants_live for s in selectors):
        wanted_environments = {s.environment for s in selectors if s.wants_live}
        names = (
            [e.name for e in registry.environments()]
            if None in wanted_environments
            else sorted(e for e in wanted_environments if e)
        )
        with registry.snapshot():
            live = {name: registry.live_consumers(name, provider) for name in names}
    try:
        selected = select_pacts(publications, live, selectors, body.provider_version_branch)
    except SelectorError as error:
        return error_response(400, {"consumerVersionSelectors": [str(error)]})
    verified = (
        registry.verified_pacts(
            provider, [s.publication.sha256 for s in selected], body.provider_version_branch
        )
        if body.include_pending_status
        else set()
    )
    pacts = []
    for entry in selected:
        publication = entry.publication
        href = urls.pact_version(provider, publication.consumer, publication.sha256)
        versions = ", ".join(entry.consumer_versions)
        notices = [
            {
                "when": "before_verification",
                "text": f"The pact at {href} is being verified because it matches the "
                f"following configured selection criteria: {'; '.join(entry.reasons)} "
                f"({versions})",
            }
        ]
        properties: dict[str, Any] = {"notices": notices}
        if body.include_pending_status:
            pending = publication.sha256 not in verified
            properties["pending"] = pending
            on_branch = (
                f" from branch {body.provider_version_branch}"
                if body.provider_version_branch
                else ""
            )
            notices.append(
                {
                    "when": "before_verification",
                    "text": (
                        f"This pact is in pending state: no version of {provider}{on_branch} "
                        "has verified it successfully yet, so a failure will not fail the build."
                    )
                    if pending
                    else (
                        f"This pact is not pending: a version of {provider}{on_branch} has "
                        "verified it successfully, so a failure will fail the build."
                    ),
                }
            )
        pacts.append(
            {
                "shortDescription": f"{'; '.join(entry.reasons)} ({versions})",
                "verificationProperties": properties,
                "_links": {
                    "self": {
                        "href": href,
                        "name": f"Pact between {publication.consumer} "
                        f"({publication.consumer_version}) and {provider}",
                    }
                },
            }
        )
    return hal(
        {
            "_embedded": {"pacts": pacts},
            "_links": {"self": {"href": urls("pacts", "provider", provider, "for-verification")}},
        }
    )


class VerificationIn(_Body):
    success: bool
    provider_application_version: str = Field(min_length=1, max_length=200)
    build_url: str | None = None
    verified_by: dict[str, Any] | None = None
    test_results: list[Any] | None = None


@router.post(
    "/pacts/provider/{provider}/consumer/{consumer}/pact-version/{sha256}/verification-results"
)
def publish_verification(
    request: Request,
    provider: str,
    consumer: str,
    sha256: str,
    body: VerificationIn,
    principal: Publisher,
) -> JSONResponse:
    registry = _registry(request)
    urls = Urls(request)
    if not any(p.sha256 == sha256 for p in registry.pact_publications(provider, consumer)):
        return not_found(f"pact version {sha256} between {consumer} and {provider}")
    provider_version = body.provider_application_version
    # A provider verifying pacts need not have published a contract of its own: its version
    # then exists only to carry the evidence (the Broker creates it the same way).
    registry.add_contracts(provider, provider_version, [], actor=principal.name)
    details = {
        "buildUrl": body.build_url,
        "verifiedBy": body.verified_by,
        "testResults": body.test_results,
    }
    registry.record_verification(
        provider,
        provider_version,
        consumer,
        sha256,
        body.success,
        details=json.dumps({k: v for k, v in details.items() if v is not None}, sort_keys=True),
        actor=principal.name,
    )
    _notify(
        request,
        "verification-published",
        {
            "provider": provider,
            "providerVersion": provider_version,
            "consumer": consumer,
            "pactSha256": sha256,
            "success": body.success,
        },
    )
    pact_version = urls.pact_version(provider, consumer, sha256)
    return hal(
        {
            "success": body.success,
            "providerApplicationVersion": provider_version,
            "_links": {
                "self": {
                    "href": pact_version + "/verification-results",
                    "title": "Verification results",
                },
                "pb:pact-version": {"href": pact_version},
                "pb:provider-version": {"href": urls.version(provider, provider_version)},
            },
        },
        201,
    )


# ---- pacticipants and versions ---------------------------------------------------------------


@router.get("/pacticipants")
def list_pacticipants(
    request: Request,
    _: Reader,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=1000)] = 1000,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
) -> JSONResponse:
    """`pact-broker list-pacticipants`: every service, in the order they were created, a page at
    a time (keyset: `_links.next` carries the cursor while more follow)."""
    urls = Urls(request)
    try:
        items, next_cursor = queries.pacticipants(request.app.state.engine, page_size, cursor)
    except ValueError:
        return error_response(400, {"cursor": [f"{cursor!r} is not a cursor this list gave out"]})
    bodies = [_pacticipant_body(urls, item["name"], item["mainBranch"]) for item in items]
    links: dict[str, Any] = {"self": {"href": str(request.url)}}
    if next_cursor is not None:
        links["next"] = {
            "href": urls("pacticipants") + f"?pageSize={page_size}&cursor={next_cursor}"
        }
    # Both places the Broker has put the list: `_embedded` and, for older clients (the Rust
    # CLI's table reads it), the top level.
    return hal({"_embedded": {"pacticipants": bodies}, "pacticipants": bodies, "_links": links})


@router.get("/pacticipants/{pacticipant}")
def pacticipant(request: Request, pacticipant: str, _: Reader) -> JSONResponse:
    urls = Urls(request)
    registry = _registry(request)
    # A provider named by a consumer's pact exists before it publishes anything (a verifier
    # looks it up to put its first version on a branch).
    main_branch = registry.main_branch(pacticipant)
    if (
        registry.latest_version(pacticipant) is None
        and not registry.pact_publications(pacticipant)
        and main_branch is None
    ):
        return not_found(f"pacticipant {pacticipant!r}")
    return hal(_pacticipant_body(urls, pacticipant, main_branch))


class PacticipantPatchIn(_Body):
    main_branch: str | None = Field(default=None, min_length=1, max_length=200)


@router.patch("/pacticipants/{pacticipant}")
def patch_pacticipant(
    request: Request, pacticipant: str, body: PacticipantPatchIn, principal: Publisher
) -> JSONResponse:
    """`pact-broker create-or-update-pacticipant --main-branch B`: the service's main branch,
    which the `mainBranch` selector then means (the Broker's pacticipant `mainBranch`)."""
    bad_name = _check_name("pacticipant", pacticipant)
    if bad_name:
        return error_response(400, {"pacticipant": [bad_name]})
    registry = _registry(request)
    if "main_branch" in body.model_fields_set:
        registry.set_main_branch(pacticipant, body.main_branch, actor=principal.name)
    return hal(_pacticipant_body(Urls(request), pacticipant, registry.main_branch(pacticipant)))


def _pacticipant_body(urls: Urls, pacticipant: str, main_branch: str | None) -> dict[str, Any]:
    base = urls.pacticipant(pacticipant)
    return {
        "name": pacticipant,
        "displayName": pacticipant,
        "mainBranch": main_branch,
        "_links": {
            "self": {"href": base, "name": pacticipant},
            "pb:version": {"href": base + "/versions/{version}", "templated": True},
            "pb:latest-version": {"href": base + "/latest-version"},
            "pb:version-tag": {
                "href": base + "/versions/{version}/tags/{tag}",
                "title": "Get, create or delete a tag for a version",
                "templated": True,
            },
            "pb:branch-version": {
                "href": base + "/branches/{branch}/versions/{version}",
                "templated": True,
            },
        },
    }


def _version_body(
    request: Request, service: str, number: str, branch: str | None
) -> dict[str, Any]:
    urls = Urls(request)
    base = urls.version(service, number)
    registry = _registry(request)
    environments = registry.environments()
    tags = registry.version_tags(service, number)
    return {
        "number": number,
        "branch": branch,
        "_embedded": {
            "branchVersions": [{"name": branch}] if branch else [],
            "tags": [_tag_body(urls, service, number, tag) for tag in tags],
        },
        "_links": {
            "self": {"href": base, "name": number, "title": f"{service} version {number}"},
            "pb:pacticipant": {"href": urls.pacticipant(service), "name": service},
            "pb:tag": {"href": base + "/tags/{tag}", "title": "Get, create or delete a tag"},
            "pb:tags": {"href": base + "/tags", "title": "The version's tags"},
            "pb:record-deployment": [
                {
                    "name": e.name,
                    "title": f"Record deployment to {e.name}",
                    "href": f"{base}/deployed-versions/environment/{environment_id(e.name)}",
                }
                for e in environments
            ],
            "pb:record-release": [
                {
                    "name": e.name,
                    "title": f"Record release to {e.name}",
                    "href": f"{base}/released-versions/environment/{environment_id(e.name)}",
                }
                for e in environments
            ],
        },
    }


@router.get("/pacticipants/{pacticipant}/versions/{version}")
def pacticipant_version(
    request: Request, pacticipant: str, version: str, _: Reader
) -> JSONResponse:
    record = _registry(request).version(pacticipant, version)
    if record is None:
        return not_found(f"{pacticipant} version {version}")
    return hal(_version_body(request, pacticipant, version, record.branch))


@router.get("/pacticipants/{pacticipant}/latest-version")
def latest_pacticipant_version(request: Request, pacticipant: str, _: Reader) -> JSONResponse:
    latest = _registry(request).latest_version(pacticipant)
    if latest is None:
        return not_found(f"a version of {pacticipant}")
    return hal(_version_body(request, pacticipant, latest.number, latest.branch))


@router.get("/pacticipants/{pacticipant}/latest-version/{tag}")
def latest_tagged_pacticipant_version(
    request: Request, pacticipant: str, tag: str, _: Reader
) -> JSONResponse:
    """`describe-version --latest TAG`: the newest version carrying the tag."""
    latest = _registry(request).latest_version(pacticipant, tag=tag)
    if latest is None:
        return not_found(f"a version of {pacticipant} tagged {tag!r}")
    return hal(_version_body(request, pacticipant, latest.number, latest.branch))


def _branch_body(urls: Urls, service: str, branch: str) -> dict[str, Any]:
    base = urls("pacticipants", service, "branches", branch)
    return {
        "name": branch,
        "_links": {
            "self": {"href": base, "name": branch},
            "pb:pacticipant": {"href": urls.pacticipant(service), "name": service},
            "pb:branch-version": {"href": base + "/versions/{version}", "templated": True},
        },
    }


@router.get("/pacticipants/{pacticipant}/branches/{branch}")
def get_branch(request: Request, pacticipant: str, branch: str, _: Reader) -> JSONResponse:
    """A branch exists while some version of the pacticipant is on it."""
    latest = _registry(request).latest_version(pacticipant, branch)
    if latest is None:
        return not_found(f"branch {branch!r} of {pacticipant}")
    body = _branch_body(Urls(request), pacticipant, branch)
    body["_embedded"] = {"latestVersion": {"number": latest.number}}
    return hal(body)


@router.delete("/pacticipants/{pacticipant}/branches/{branch}")
def delete_branch(
    request: Request, pacticipant: str, branch: str, principal: Publisher
) -> Response:
    """`pact-broker delete-branch`: the versions stay (with their pacts and verification
    results) but are on no branch any more, so branch selectors no longer find them."""
    if not _registry(request).delete_branch(pacticipant, branch, actor=principal.name):
        return not_found(f"branch {branch!r} of {pacticipant}")
    return Response(status_code=204)


@router.get("/pacticipants/{pacticipant}/branches/{branch}/versions/{version}")
def get_branch_version(
    request: Request, pacticipant: str, branch: str, version: str, _: Reader
) -> JSONResponse:
    record = _registry(request).version(pacticipant, version)
    if record is None or record.branch != branch:
        return not_found(f"{pacticipant} version {version} on branch {branch!r}")
    return hal(_version_body(request, pacticipant, version, record.branch))


@router.put("/pacticipants/{pacticipant}/branches/{branch}/versions/{version}")
def put_branch_version(
    request: Request, pacticipant: str, branch: str, version: str, principal: Publisher
) -> JSONResponse:
    """A verifier with a provider branch says its version is on that branch before publishing."""
    registry = _registry(request)
    bad_name = _check_name("pacticipant", pacticipant)
    if bad_name:
        return error_response(400, {"pacticipant": [bad_name]})
    result = registry.add_contracts(pacticipant, version, [], branch=branch, actor=principal.name)
    record = registry.version(pacticipant, version)
    body = _version_body(request, pacticipant, version, record.branch if record else branch)
    return hal(body, 201 if result.created else 200)


def _tag_body(urls: Urls, service: str, number: str, tag: str) -> dict[str, Any]:
    version = urls.version(service, number)
    return {
        "name": tag,
        "_links": {
            "self": {"href": f"{version}/tags/{quote(tag, safe='')}", "name": tag},
            "pb:version": {"href": version, "name": number},
            "pb:pacticipant": {"href": urls.pacticipant(service), "name": service},
        },
    }


@router.put("/pacticipants/{pacticipant}/versions/{version}/tags/{tag}")
def put_version_tag(
    request: Request, pacticipant: str, version: str, tag: str, principal: Publisher
) -> JSONResponse:
    """`pact-broker create-version-tag`: tag a version, creating it (empty) if needed, as the
    Broker does. 201 when the tag is new, 200 when the version had it."""
    bad_name = _check_name("pacticipant", pacticipant)
    if bad_name:
        return error_response(400, {"pacticipant": [bad_name]})
    registry = _registry(request)
    registry.add_contracts(pacticipant, version, [], actor=principal.name)
    added = registry.add_tags(pacticipant, version, [tag], actor=principal.name)
    return hal(_tag_body(Urls(request), pacticipant, version, tag), 201 if added else 200)


@router.get("/pacticipants/{pacticipant}/versions/{version}/tags/{tag}")
def get_version_tag(
    request: Request, pacticipant: str, version: str, tag: str, _: Reader
) -> JSONResponse:
    if tag not in _registry(request).version_tags(pacticipant, version):
        return not_found(f"tag {tag!r} of {pacticipant} version {version}")
    return hal(_tag_body(Urls(request), pacticipant, version, tag))


@router.delete("/pacticipants/{pacticipant}/versions/{version}/tags/{tag}")
def delete_version_tag(
    request: Request, pacticipant: str, version: str, tag: str, principal: Publisher
) -> Response:
    """`pact-broker delete-version-tag`: 204 when the tag was there, 404 when it was not (or
    the version is unknown). Only the label goes: the version and its contents stay."""
    registry = _registry(request)
    if registry.version(pacticipant, version) is None:
        return not_found(f"{pacticipant} version {version}")
    if not registry.remove_tag(pacticipant, version, tag, actor=principal.name):
        return not_found(f"tag {tag!r} of {pacticipant} version {version}")
    return Response(status_code=204)


@router.get("/pacticipants/{pacticipant}/versions/{version}/tags")
def list_version_tags(request: Request, pacticipant: str, version: str, _: Reader) -> JSONResponse:
    """A version's tags (also embedded in the version resource as `_embedded.tags`)."""
    registry = _registry(request)
    if registry.version(pacticipant, version) is None:
        return not_found(f"{pacticipant} version {version}")
    urls = Urls(request)
    tags = registry.version_tags(pacticipant, version)
    return hal(
        {
            "_embedded": {"tags": [_tag_body(urls, pacticipant, version, t) for t in tags]},
            "_links": {
                "self": {"href": urls.version(pacticipant, version) + "/tags"},
                "pb:version": {"href": urls.version(pacticipant, version), "name": version},
            },
        }
    )


# ---- environments and deployments ------------------------------------------------------------


class EnvironmentIn(_Body):
    name: str = Field(min_length=1, max_length=100)
    display_name: str | None = None
    production: bool = False


@router.get("/environments")
def list_environments(request: Request, _: Reader) -> JSONResponse:
    urls = Urls(request)
    return hal(
        {
            "_embedded": {
                "environments": [
                    environment_body(urls, e.name, e.production)
                    for e in _registry(request).environments()
                ]
            },
            "_links": {"self": {"href": urls("environments"), "title": "Environments"}},
        }
    )


@router.post("/environments")
def create_environment(request: Request, body: EnvironmentIn, _: Publisher) -> JSONResponse:
    registry = _registry(request)
    if registry.has_environment(body.name):
        return error_response(
            409, {"name": [f"Another environment with name {body.name!r} exists."]}
        )
    registry.ensure_environment(body.name, production=body.production)
    return hal(environment_body(Urls(request), body.name, body.production), 201)


@router.get("/environments/{environment}")
def get_environment(request: Request, environment: str, _: Reader) -> JSONResponse:
    found = _environment_by_id(_registry(request), environment)
    if found is None:
        return not_found(f"environment {environment}")
    return hal(environment_body(Urls(request), *found))


class DeploymentIn(_Body):
    target: str | None = Field(default=None, max_length=200)
    application_instance: str | None = Field(default=None, max_length=200)


@router.post(
    "/pacticipants/{pacticipant}/versions/{version}/deployed-versions/environment/{environment}"
)
def record_deployment(
    request: Request,
    pacticipant: str,
    version: str,
    environment: str,
    body: DeploymentIn,
    principal: Publisher,
) -> JSONResponse:
    registry = _registry(request)
    found = _environment_by_id(registry, environment)
    if found is None:
        return not_found(f"environment {environment}")
    name = found[0]
    target = body.application_instance or body.target or ""
    try:
        retired = registry.record_deployment(
            pacticipant, version, name, target=target, actor=principal.name
        )
    except RegistryError as error:
        return error_response(400, {"version": [error.message]})
    _notify(
        request,
        "deployment-recorded",
        {
            "service": pacticipant,
            "version": version,
            "environment": name,
            "target": target,
            "retired": retired,
        },
    )
    # The deployed version as the environment's listing shows it (one id for both).
    live = LiveVersion(pacticipant, version, "deployed", target)
    answer = live_body(Urls(request), name, live, deployed=True)
    answer["_embedded"]["environment"] = environment_body(Urls(request), *found)
    answer["retired"] = retired
    return hal(answer, 201)


@router.post(
    "/pacticipants/{pacticipant}/versions/{version}/released-versions/environment/{environment}"
)
def record_release(
    request: Request, pacticipant: str, version: str, environment: str, principal: Publisher
) -> JSONResponse:
    registry = _registry(request)
    found = _environment_by_id(registry, environment)
    if found is None:
        return not_found(f"environment {environment}")
    try:
        registry.record_release(pacticipant, version, found[0], actor=principal.name)
    except RegistryError as error:
        return error_response(400, {"version": [error.message]})
    return hal(
        {
            "currentlySupported": True,
            "_embedded": {
                "version": {"number": version},
                "environment": environment_body(Urls(request), *found),
            },
        },
        201,
    )


def _live_listing(request: Request, environment: str, pacticipant: str, via: str) -> JSONResponse:
    registry = _registry(request)
    found = _environment_by_id(registry, environment)
    if found is None:
        return not_found(f"environment {environment}")
    urls = Urls(request)
    live = [v for v in registry.live_versions(found[0], [pacticipant]) if v.via == via]
    key = "deployedVersions" if via == "deployed" else "releasedVersions"
    return hal(
        {
            "_embedded": {key: [live_body(urls, found[0], v, via == "deployed") for v in live]},
            "_links": {"self": {"href": str(request.url)}},
        }
    )


@router.get("/environments/{environment}/deployed-versions/currently-deployed")
def currently_deployed(
    request: Request, environment: str, pacticipant: str, _: Reader
) -> JSONResponse:
    return _live_listing(request, environment, pacticipant, "deployed")


@router.get("/environments/{environment}/released-versions/currently-supported")
def currently_supported(
    request: Request, environment: str, pacticipant: str, _: Reader
) -> JSONResponse:
    return _live_listing(request, environment, pacticipant, "released")


class DeployedPatchIn(_Body):
    currently_deployed: bool


class ReleasedPatchIn(_Body):
    currently_supported: bool


@router.patch("/deployed-versions/{deployment}")
def end_deployment(
    request: Request, deployment: str, body: DeployedPatchIn, principal: Publisher
) -> JSONResponse:
    """`record-undeployment`: the deployment stops being current (it cannot start again)."""
    registry = _registry(request)
    parts = live_parts(deployment, 4)
    if parts is None:
        return not_found(f"deployed version {deployment}")
    environment, service, number, target = parts
    live = LiveVersion(service, number, "deployed", target)
    if live not in registry.live_versions(environment, [service]):
        return not_found(f"a current deployment of {service} {number} in {environment}")
    if body.currently_deployed:
        return hal(live_body(Urls(request), environment, live, deployed=True))
    registry.record_undeployment(service, environment, target=target, actor=principal.name)
    return hal(live_body(Urls(request), environment, live, deployed=True, current=False))


@router.patch("/released-versions/{release}")
def end_support(
    request: Request, release: str, body: ReleasedPatchIn, principal: Publisher
) -> JSONResponse:
    """`record-support-ended`: the released version stops being live in the environment."""
    registry = _registry(request)
    parts = live_parts(release, 3)
    if parts is None:
        return not_found(f"released version {release}")
    environment, service, number = parts
    live = LiveVersion(service, number, "released")
    if live not in registry.live_versions(environment, [service]):
        return not_found(f"a supported release of {service} {number} in {environment}")
    if body.currently_supported:
        return hal(live_body(Urls(request), environment, live, deployed=False))
    registry.record_support_ended(service, number, environment, actor=principal.name)
    return hal(live_body(Urls(request), environment, live, deployed=False, current=False))


# ---- the matrix and can-i-deploy -------------------------------------------------------------


def _answer(
    request: Request, service: str, version: str, environment: str, ignored: set[str]
) -> JSONResponse:
    policy: Policy = getattr(request.app.state, "policy", None) or Policy()
    decision = can_i_deploy(_registry(request), service, version, environment, policy=policy)
    return hal(decision_body(request, decision, ignored))


def _answer_for_tag(
    request: Request, service: str, version: str, tag: str, ignored: set[str]
) -> JSONResponse:
    policy: Policy = getattr(request.app.state, "policy", None) or Policy()
    decision = can_i_deploy_to_tag(_registry(request), service, version, tag, policy=policy)
    return hal(decision_body(request, decision, ignored))


@router.get("/can-i-deploy")
def can_i_deploy_answer(
    request: Request,
    pacticipant: str,
    version: str,
    _: ReaderOnLoop,
    environment: str | None = None,
    to: str | None = None,
) -> JSONResponse:
    """The Broker's can-i-deploy resource: `environment=E`, or `to=TAG` (the latest version of
    each counterpart carrying TAG)."""
    if (environment is None) == (to is None):
        return error_response(
            400, {"environment": ["give either environment or to (a tag), not both or neither"]}
        )
    if to is not None:
        return _answer_for_tag(request, pacticipant, version, to, set())
    assert environment is not None
    return _answer(request, pacticipant, version, environment, set())


@router.get("/matrix")
def matrix(request: Request, _: ReaderOnLoop) -> JSONResponse:
    """The matrix query Pact clients send for can-i-deploy, answered by apigov's gate.

    One selector (`q[][pacticipant]` with `q[][version]`, or `latest`/`tag`/`branch`/
    `mainBranch` resolved to one version) and either an `environment` or a `tag` (`--to TAG`:
    the latest version of each counterpart carrying it; the `latest=true` sent with it is what
    apigov does anyway).
    """
    registry = _registry(request)
    selectors: list[dict[str, str]] = []
    ignored: set[str] = set()
    environment: str | None = None
    to_tag: str | None = None
    for key, value in request.query_params.multi_items():
        if key == "q[][pacticipant]":
            selectors.append({"pacticipant": value})
        elif key.startswith("q[][") and key.endswith("]"):
            if not selectors:
                return error_response(400, {"q": [f"{key} comes before any q[][pacticipant]"]})
            selectors[-1][key[4:-1]] = value
        elif key == "ignore[][pacticipant]":
            ignored.add(value)
        elif key == "environment":
            environment = value
        elif key == "tag":
            to_tag = value
    if len(selectors) != 1 or (environment is None) == (to_tag is None):
        return error_response(
            400,
            {
                "q": [
                    "apigov answers can-i-deploy for one pacticipant version and either an "
                    "environment or a tag (--pacticipant P --version V, then --to-environment E "
                    "or --to TAG)"
                ]
            },
        )
    selector = selectors[0]
    service = selector["pacticipant"]
    number = selector.get("version")
    if number is None:
        found: VersionSummary | None
        if "tag" in selector:
            # `--latest TAG` (or `--tag TAG`): the newest version carrying the tag, the one
            # version apigov's gate answers for.
            found = registry.latest_version(service, tag=selector["tag"])
        elif selector.get("mainBranch") == "true":
            named = registry.main_branch(service)
            found = next(
                (
                    v
                    for v in (
                        registry.latest_version(service, b)
                        for b in ((named,) if named else MAIN_BRANCHES)
                    )
                    if v is not None
                ),
                None,
            )
        else:
            found = registry.latest_version(service, selector.get("branch"))
        if found is None:
            return error_response(400, {"q": [f"no version of {service} matches the selector"]})
        number = found.number
    if to_tag is not None:
        return _answer_for_tag(request, service, number, to_tag, ignored)
    assert environment is not None
    return _answer(request, service, number, environment, ignored)

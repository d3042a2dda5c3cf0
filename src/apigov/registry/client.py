"""`HttpRegistry`: the `Registry` interface over a served registry's JSON API (httpx).

Every command that takes `--registry` works unchanged against `http(s)://HOST:PORT`. Errors map
to the same exceptions the SQL store raises: a version conflict is a `VersionConflictError`, a
refused request a `RegistryError` (exit 2), and a server that cannot be reached (or whose
storage is down) an `UnreachableError` (exit 3). httpx is imported when the client is built.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from apigov.registry.domain import (
    AuditRecord,
    ContractFile,
    FuzzRunRecord,
    LiveVersion,
    PublishResult,
    Registry,
    RegistryError,
    ServiceMetadata,
    StaticResult,
    VerificationResult,
    VersionConflictError,
    VersionRecord,
)
from apigov.registry.server import wire
from apigov.spec.errors import UnreachableError

if TYPE_CHECKING:
    import httpx

    from apigov.registry.gate import Decision, Policy

TOKEN_VARIABLE = "APIGOV_REGISTRY_TOKEN"
API = "/api/v1"
# Lookups are sent in batches no larger than the server accepts in one request.
BATCH = 1000


class HttpRegistry:
    """A served registry. One HTTP connection pool per instance; close() releases it."""

    def __init__(self, location: str, *, token: str | None = None, timeout: float = 30) -> None:
        import httpx

        self.location = location.rstrip("/")
        token = token if token is not None else os.environ.get(TOKEN_VARIABLE)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(
            base_url=self.location + API,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10)),
            # A registry is named explicitly; never reach it through a proxy from the environment.
            trust_env=False,
        )

    def close(self) -> None:
        self._http.close()

    # ---- transport -----------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        missing_ok: bool = False,
    ) -> Any:
        import httpx

        try:
            response = self._http.request(method, path, json=json, params=params)
        except httpx.TransportError as error:
            raise UnreachableError(
                f"registry {self.location} cannot be reached: {_reason(error)}"
            ) from None
        if missing_ok and response.status_code == 404:
            return None
        if response.status_code >= 400:
            self._raise(response)
        return response.json()

    def _raise(self, response: httpx.Response) -> None:
        try:
            problem = response.json()
        except ValueError:
            problem = {}
        if not isinstance(problem, dict):
            problem = {}
        detail = str(problem.get("detail") or response.reason_phrase or "error")
        status = response.status_code
        if status == 409 and "service" in problem:
            raise VersionConflictError(
                str(problem["service"]),
                str(problem["version"]),
                added=list(problem.get("added", [])),
                removed=list(problem.get("removed", [])),
                changed=list(problem.get("changed", [])),
            )
        if status in (502, 503, 504):
            raise UnreachableError(f"registry {self.location}: {detail}")
        if status in (401, 403):
            raise RegistryError(self.location, f"{detail} (HTTP {status})")
        # The server's refusals carry the store's own message: the same line as without it.
        raise RegistryError(self.location, detail)

    def _pages(self, path: str, params: dict[str, Any]) -> Iterator[Any]:
        cursor: str | None = None
        while True:
            page = self._call(
                "GET", path, params={**params, "cursor": cursor} if cursor else params
            )
            yield from page["items"]
            cursor = page.get("nextCursor")
            if not cursor:
                return

    # ---- Registry ------------------------------------------------------------------------

    def publish(
        self,
        service: str,
        version: str,
        files: Sequence[ContractFile],
        *,
        branch: str | None = None,
        commit: str | None = None,
        metadata: ServiceMetadata | None = None,
        actor: str | None = None,  # the server records the token's name as the actor
        tags: Sequence[str] = (),
    ) -> PublishResult:
        body: dict[str, Any] = {
            "branch": branch,
            "commit": commit,
            "metadata": None
            if metadata is None
            else {
                "owner": metadata.owner,
                "team": metadata.team,
                "tier": metadata.tier,
                "lifecycle": metadata.lifecycle,
            },
            "files": [
                {
                    "path": f.path,
                    "role": f.role.value,
                    "content": wire.encode_bytes(f.content),
                    "provider": f.provider,
                }
                for f in files
            ],
        }
        if tags:  # only when there are some: a server from before tags refuses the member
            body["tags"] = list(tags)
        answer = self._call("PUT", f"/services/{_seg(service)}/versions/{_seg(version)}", json=body)
        return PublishResult(
            answer["service"],
            answer["version"],
            created=bool(answer["created"]),
            files=tuple(wire.stored_file_from(f) for f in answer["files"]),
            new_contents=frozenset(answer["newContents"]),
        )

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        # Each request is its own transaction on the server; can-i-deploy, which needs one
        # consistent view, is answered on the server in one (see `decide`).
        yield

    def version(self, service: str, number: str) -> VersionRecord | None:
        data = self._call(
            "GET", f"/services/{_seg(service)}/versions/{_seg(number)}", missing_ok=True
        )
        return None if data is None else wire.version_from(data)

    def versions(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], VersionRecord]:
        wanted = sorted(set(keys))
        found: dict[tuple[str, str], VersionRecord] = {}
        for start in range(0, len(wanted), BATCH):
            batch = [{"service": s, "version": v} for s, v in wanted[start : start + BATCH]]
            answer = self._call("POST", "/version-lookups", json={"keys": batch})
            for item in answer["items"]:
                record = wire.version_from(item)
                found[(record.service, record.number)] = record
        return found

    def contents(self, sha256s: Sequence[str]) -> dict[str, bytes]:
        wanted = sorted(set(sha256s))
        found: dict[str, bytes] = {}
        for start in range(0, len(wanted), BATCH):
            answer = self._call(
                "POST", "/content-lookups", json={"sha256s": wanted[start : start + BATCH]}
            )
            for item in answer["items"]:
                found[item["sha256"]] = wire.decode_bytes(item["content"])
        return found

    def ensure_environment(self, name: str, *, production: bool = False) -> None:
        self._call("PUT", f"/environments/{_seg(name)}", json={"production": production})

    def has_environment(self, name: str) -> bool:
        return self._call("GET", f"/environments/{_seg(name)}", missing_ok=True) is not None

    def record_deployment(
        self,
        service: str,
        version: str,
        environment: str,
        *,
        target: str = "",
        actor: str | None = None,
    ) -> list[str]:
        answer = self._call(
            "POST",
            f"/environments/{_seg(environment)}/deployments",
            json={"service": service, "version": version, "target": target},
        )
        return list(answer["retired"])

    def record_undeployment(
        self, service: str, environment: str, *, target: str = "", actor: str | None = None
    ) -> list[str]:
        answer = self._call(
            "DELETE",
            f"/environments/{_seg(environment)}/deployments/{_seg(service)}",
            params={"target": target} if target else None,
        )
        return list(answer["versions"])

    def record_release(
        self, service: str, version: str, environment: str, *, actor: str | None = None
    ) -> bool:
        answer = self._call(
            "POST",
            f"/environments/{_seg(environment)}/releases",
            json={"service": service, "version": version},
        )
        return bool(answer["created"])

    def record_support_ended(
        self, service: str, version: str, environment: str, *, actor: str | None = None
    ) -> bool:
        answer = self._call(
            "DELETE",
            f"/environments/{_seg(environment)}/releases/{_seg(service)}/{_seg(version)}",
        )
        return bool(answer["ended"])

    def live_versions(self, environment: str, services: Sequence[str]) -> list[LiveVersion]:
        names = sorted(set(services))
        live: list[LiveVersion] = []
        for start in range(0, len(names), BATCH):
            live += [
                wire.live_from(item)
                for item in self._pages(
                    f"/environments/{_seg(environment)}/live-versions",
                    {"service": names[start : start + BATCH], "limit": 1000},
                )
            ]
        return sorted(live, key=lambda v: (v.service, v.number, v.via, v.target))

    def live_consumers(self, environment: str, provider: str) -> list[LiveVersion]:
        return [
            wire.live_from(item)
            for item in self._pages(
                f"/environments/{_seg(environment)}/live-consumers",
                {"provider": provider, "limit": 1000},
            )
        ]

    def static_result(
        self, pact_sha256: str, spec_digest: str, checker: str
    ) -> StaticResult | None:
        return self.static_results([(pact_sha256, spec_digest)], checker).get(
            (pact_sha256, spec_digest)
        )

    def static_results(
        self, keys: Sequence[tuple[str, str]], checker: str
    ) -> dict[tuple[str, str], StaticResult]:
        wanted = sorted(set(keys))
        found: dict[tuple[str, str], StaticResult] = {}
        for start in range(0, len(wanted), BATCH):
            batch = [{"pactSha256": p, "specDigest": s} for p, s in wanted[start : start + BATCH]]
            answer = self._call(
                "POST", "/static-result-lookups", json={"checker": checker, "keys": batch}
            )
            for item in answer["items"]:
                found[(item["pactSha256"], item["specDigest"])] = wire.static_from(item)
        return found

    def store_static_result(
        self, pact_sha256: str, spec_digest: str, checker: str, success: bool, findings_json: str
    ) -> None:
        self._call(
            "POST",
            "/static-results",
            json={
                "pactSha256": pact_sha256,
                "specDigest": spec_digest,
                "checker": checker,
                "success": success,
                "findingsJson": findings_json,
            },
        )

    def record_verification(
        self,
        provider: str,
        provider_version: str,
        consumer: str,
        pact_sha256: str,
        success: bool,
        *,
        details: str = "",
        actor: str | None = None,
    ) -> None:
        self._call(
            "POST",
            f"/services/{_seg(provider)}/versions/{_seg(provider_version)}/verifications",
            json={
                "consumer": consumer,
                "pactSha256": pact_sha256,
                "success": success,
                "details": details,
            },
        )

    def verifications(
        self, provider: str, provider_version: str, consumer: str
    ) -> list[VerificationResult]:
        return [
            wire.verification_from(item)
            for item in self._pages(
                f"/services/{_seg(provider)}/versions/{_seg(provider_version)}/verifications",
                {"consumer": consumer, "limit": 1000},
            )
        ]

    def is_production_environment(self, name: str) -> bool:
        found = self._call("GET", f"/environments/{_seg(name)}", missing_ok=True)
        return bool(found and found.get("production"))

    def record_fuzz_run(
        self,
        service: str,
        version: str,
        environment: str,
        *,
        passed: bool,
        complete: bool,
        run: Mapping[str, Any],
        actor: str | None = None,
    ) -> FuzzRunRecord:
        answer = self._call(
            "POST",
            f"/services/{_seg(service)}/versions/{_seg(version)}/fuzz-runs",
            json={
                "environment": environment,
                "passed": passed,
                "complete": complete,
                "run": dict(run),
            },
        )
        return wire.fuzz_run_from(answer)

    def fuzz_runs(
        self, service: str, version: str, environment: str | None = None
    ) -> list[FuzzRunRecord]:
        params: dict[str, Any] = {"limit": 1000}
        if environment is not None:
            params["environment"] = environment
        return [
            wire.fuzz_run_from(item)
            for item in self._pages(
                f"/services/{_seg(service)}/versions/{_seg(version)}/fuzz-runs", params
            )
        ]

    def audit_log(self, limit: int = 100) -> list[AuditRecord]:
        records: list[AuditRecord] = []
        for item in self._pages("/audit-log", {"limit": min(limit, 1000)}):
            records.append(wire.audit_from(item))
            if len(records) >= limit:
                break
        return records

    def set_main_branch(
        self, service: str, branch: str | None, *, actor: str | None = None
    ) -> None:
        # The Pact Broker's pacticipant resource holds it (`mainBranch`); the server serves it
        # beside the JSON API, so the request goes to the server's root, not under /api/v1.
        self._call(
            "PATCH", f"{self.location}/pacticipants/{_seg(service)}", json={"mainBranch": branch}
        )

    # ---- beyond the Registry interface -------------------------------------------------

    def decide(
        self,
        service: str,
        version: str,
        environment: str,
        policy: Policy | None = None,
        *,
        tag: str | None = None,
    ) -> Decision:
        """can-i-deploy, answered by the server in one request and one read transaction.

        The server runs the same gate on its own store, so it sees one consistent state and
        caches static results where every client benefits (a read-only token cannot write
        them, and need not).
        """
        from apigov.registry.gate import describe_age

        params: dict[str, Any] = {"service": service, "version": version}
        # A tag replaces the environment (the Broker's `--to TAG`).
        if tag is not None:
            params["tag"] = tag
        else:
            params["environment"] = environment
        if policy is not None:
            params["require"] = list(policy.names)
            if policy.max_age is not None:
                params["maxAge"] = describe_age(policy.max_age)
        return wire.decision_from(self._call("GET", "/can-i-deploy", params=params))


def _seg(value: str) -> str:
    """One path segment: a service or version name may hold '/', '?', '#' or '%'."""
    from urllib.parse import quote

    return quote(value, safe="")


def _reason(error: Exception) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text


def answer_can_i_deploy(
    registry: Registry,
    service: str,
    version: str,
    environment: str,
    policy: Policy,
    *,
    tag: str | None = None,
) -> Decision:
    """can-i-deploy on any registry: a served one answers itself, in one request; on the SQL
    store the gate runs here. With `tag`, against the latest version of each counterpart
    carrying it instead of an environment (`environment` is then ignored)."""
    if isinstance(registry, HttpRegistry):
        return registry.decide(service, version, environment, policy, tag=tag)
    from apigov.registry.gate import can_i_deploy, can_i_deploy_to_tag

    if tag is not None:
        return can_i_deploy_to_tag(registry, service, version, tag, policy=policy)
    return can_i_deploy(registry, service, version, environment, policy=policy)


__all__ = ["TOKEN_VARIABLE", "HttpRegistry", "answer_can_i_deploy"]

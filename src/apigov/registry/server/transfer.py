"""`apigov registry export|import`: the whole registry as JSON lines, and back.

One JSON object per line, with a `kind`: a header, then services (with their main branch),
contracts (contents in base64), versions (with the files they hold and their tags),
environments, deployments, releases, evidence, tokens (their hashes only) and the audit log,
each in the order it was written. Rows refer to
each other by name (service, `service@version`, environment, SHA-256), never by database id, so
a dump moves between SQLite and PostgreSQL. Import writes into an empty registry in one
transaction: all of it or none of it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, TextIO

from sqlalchemy import Connection, Engine, Table, func, select

from apigov.registry import migrate
from apigov.registry.models import audit_log_table as _audit
from apigov.registry.models import contracts_table as _contracts
from apigov.registry.models import deployments_table as _deployments
from apigov.registry.models import environments_table as _environments
from apigov.registry.models import evidence_table as _evidence
from apigov.registry.models import releases_table as _releases
from apigov.registry.models import services_table as _services
from apigov.registry.models import tokens_table as _tokens
from apigov.registry.models import version_contracts_table as _links
from apigov.registry.models import version_tags_table as _tags
from apigov.registry.models import versions_table as _versions
from apigov.registry.server.wire import decode_bytes, encode_bytes
from apigov.spec.errors import InputError

FORMAT = "apigov-registry-export"
FORMAT_VERSION = 2
# Version 2 added services' `mainBranch` and versions' `tags` (migration 0003). A version 1 dump
# has neither and still imports; an apigov that reads only version 1 refuses a version 2 dump
# instead of silently dropping its tags.
READABLE_FORMAT_VERSIONS = (1, 2)


def _time(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    # SQLite hands timestamps back without their zone; every one apigov writes is UTC.
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat()


def _parse(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def export_records(engine: Engine) -> Iterator[dict[str, Any]]:
    """Every row of the registry as a record, in an order import can replay."""
    with engine.connect() as connection, connection.begin():
        yield {
            "kind": "header",
            "format": FORMAT,
            "formatVersion": FORMAT_VERSION,
            "schema": migrate.HEAD,
        }
        services = {}
        for row in connection.execute(select(_services).order_by(_services.c.id)):
            services[row.id] = row.name
            yield {
                "kind": "service",
                "name": row.name,
                "owner": row.owner,
                "team": row.team,
                "tier": row.tier,
                "lifecycle": row.lifecycle,
                "mainBranch": row.main_branch,
                "createdAt": _time(row.created_at),
            }
        hashes = {}
        for row in connection.execute(select(_contracts).order_by(_contracts.c.id)):
            hashes[row.id] = row.sha256
            yield {
                "kind": "contract",
                "sha256": row.sha256,
                "contractKind": row.kind,
                "content": encode_bytes(bytes(row.content)),
                "createdAt": _time(row.created_at),
            }
        files: dict[int, list[dict[str, Any]]] = {}
        for link in connection.execute(select(_links).order_by(_links.c.version_id, _links.c.path)):
            files.setdefault(link.version_id, []).append(
                {
                    "path": link.path,
                    "role": link.role,
                    "sha256": hashes[link.contract_id],
                    "provider": link.provider,
                }
            )
        tags: dict[int, list[dict[str, Any]]] = {}
        for tag in connection.execute(select(_tags).order_by(_tags.c.version_id, _tags.c.tag)):
            tags.setdefault(tag.version_id, []).append(
                {"name": tag.tag, "createdAt": _time(tag.created_at)}
            )
        versions = {}
        for row in connection.execute(select(_versions).order_by(_versions.c.id)):
            versions[row.id] = (services[row.service_id], row.number)
            yield {
                "kind": "version",
                "service": services[row.service_id],
                "number": row.number,
                "branch": row.branch,
                "commit": row.commit,
                "digest": row.digest,
                "specDigest": row.spec_digest,
                "createdAt": _time(row.created_at),
                "files": files.get(row.id, []),
                "tags": tags.get(row.id, []),
            }
        environments = {}
        for row in connection.execute(select(_environments).order_by(_environments.c.id)):
            environments[row.id] = row.name
            yield {
                "kind": "environment",
                "name": row.name,
                "production": bool(row.production),
                "createdAt": _time(row.created_at),
            }
        for row in connection.execute(select(_deployments).order_by(_deployments.c.id)):
            service, number = versions[row.version_id]
            yield {
                "kind": "deployment",
                "service": service,
                "version": number,
                "environment": environments[row.environment_id],
                "target": row.target,
                "deployedAt": _time(row.deployed_at),
                "undeployedAt": _time(row.undeployed_at),
            }
        for row in connection.execute(select(_releases).order_by(_releases.c.id)):
            service, number = versions[row.version_id]
            yield {
                "kind": "release",
                "service": service,
                "version": number,
                "environment": environments[row.environment_id],
                "releasedAt": _time(row.released_at),
                "supportEndedAt": _time(row.support_ended_at),
            }
        for row in connection.execute(select(_evidence).order_by(_evidence.c.id)):
            provider = versions.get(row.provider_version_id) if row.provider_version_id else None
            yield {
                "kind": "evidence",
                "evidenceKind": row.kind,
                "pactSha256": row.pact_sha256,
                "specDigest": row.spec_digest,
                "checker": row.checker,
                "consumer": row.consumer,
                "providerService": provider[0] if provider else None,
                "providerVersion": provider[1] if provider else None,
                "environment": row.environment,
                "success": bool(row.success),
                "details": row.details,
                "recordedBy": row.recorded_by,
                "recordedAt": _time(row.recorded_at),
            }
        for row in connection.execute(select(_tokens).order_by(_tokens.c.id)):
            yield {
                "kind": "token",
                "name": row.name,
                "tokenSha256": row.token_sha256,
                "scopes": row.scopes,
                "createdAt": _time(row.created_at),
                "revokedAt": _time(row.revoked_at),
            }
        for row in connection.execute(select(_audit).order_by(_audit.c.id)):
            yield {
                "kind": "audit",
                "at": _time(row.at),
                "actor": row.actor,
                "action": row.action,
                "subject": row.subject,
                "details": row.details,
            }


def export_registry(engine: Engine, stream: TextIO) -> dict[str, int]:
    """Write the dump; returns how many records of each kind were written."""
    counts: dict[str, int] = {}
    for record in export_records(engine):
        stream.write(json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n")
        counts[record["kind"]] = counts.get(record["kind"], 0) + 1
    return counts


def _records(lines: Iterable[str], name: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as error:
            raise InputError(name, f"not JSON: {error}", line=number) from None
        if not isinstance(record, dict) or not isinstance(record.get("kind"), str):
            raise InputError(name, "each line must be an object with a kind", line=number)
        yield number, record


def import_registry(engine: Engine, lines: Iterable[str], name: str) -> dict[str, int]:
    """Replay a dump into an empty registry, in one transaction; returns counts per kind."""
    with engine.connect() as connection:
        connection.execution_options(apigov_write=True)
        with connection.begin():
            if connection.scalar(select(func.count()).select_from(_services)) or connection.scalar(
                select(func.count()).select_from(_environments)
            ):
                raise InputError(
                    name, "the registry to import into is not empty (import needs an empty one)"
                )
            return _Replay(connection, name).run(_records(lines, name))


class _Replay:
    def __init__(self, connection: Connection, name: str) -> None:
        self.connection = connection
        self.name = name
        self.services: dict[str, int] = {}
        self.contracts: dict[str, int] = {}
        self.versions: dict[tuple[str, str], int] = {}
        self.environments: dict[str, int] = {}

    def run(self, records: Iterator[tuple[int, dict[str, Any]]]) -> dict[str, int]:
        counts: dict[str, int] = {}
        first = True
        for number, record in records:
            kind = record["kind"]
            if first:
                if kind != "header" or record.get("format") != FORMAT:
                    raise InputError(self.name, f"not an {FORMAT} file", line=number)
                if record.get("formatVersion") not in READABLE_FORMAT_VERSIONS:
                    readable = " or ".join(map(str, READABLE_FORMAT_VERSIONS))
                    raise InputError(
                        self.name,
                        f"format version {record.get('formatVersion')} is not {readable}",
                        line=number,
                    )
                first = False
                continue
            handler = getattr(self, f"_{kind}", None)
            if handler is None:
                raise InputError(self.name, f"unknown record kind {kind!r}", line=number)
            try:
                handler(record)
            except KeyError as missing:
                raise InputError(
                    self.name, f"{kind} record refers to or lacks {missing}", line=number
                ) from None
            counts[kind] = counts.get(kind, 0) + 1
        if first:
            raise InputError(self.name, "empty file")
        return counts

    def _insert(self, table: Table, values: dict[str, Any]) -> int:
        return int(
            self.connection.execute(
                table.insert().values(**values).returning(table.c.id)
            ).scalar_one()
        )

    def _service(self, r: dict[str, Any]) -> None:
        self.services[r["name"]] = self._insert(
            _services,
            {
                "name": r["name"],
                "owner": r.get("owner"),
                "team": r.get("team"),
                "tier": r.get("tier"),
                "lifecycle": r.get("lifecycle"),
                "main_branch": r.get("mainBranch"),
                "created_at": _parse(r["createdAt"]),
            },
        )

    def _contract(self, r: dict[str, Any]) -> None:
        content = decode_bytes(r["content"])
        self.contracts[r["sha256"]] = self._insert(
            _contracts,
            {
                "sha256": r["sha256"],
                "kind": r["contractKind"],
                "size": len(content),
                "content": content,
                "created_at": _parse(r["createdAt"]),
            },
        )

    def _version(self, r: dict[str, Any]) -> None:
        version_id = self._insert(
            _versions,
            {
                "service_id": self.services[r["service"]],
                "number": r["number"],
                "branch": r.get("branch"),
                "commit": r.get("commit"),
                "digest": r["digest"],
                "spec_digest": r.get("specDigest"),
                "created_at": _parse(r["createdAt"]),
            },
        )
        self.versions[(r["service"], r["number"])] = version_id
        if r["files"]:
            self.connection.execute(
                _links.insert(),
                [
                    {
                        "version_id": version_id,
                        "path": f["path"],
                        "contract_id": self.contracts[f["sha256"]],
                        "role": f["role"],
                        "provider": f.get("provider"),
                    }
                    for f in r["files"]
                ],
            )
        if r.get("tags"):
            self.connection.execute(
                _tags.insert(),
                [
                    {
                        "version_id": version_id,
                        "tag": t["name"],
                        "created_at": _parse(t["createdAt"]),
                    }
                    for t in r["tags"]
                ],
            )

    def _environment(self, r: dict[str, Any]) -> None:
        self.environments[r["name"]] = self._insert(
            _environments,
            {
                "name": r["name"],
                "production": bool(r["production"]),
                "created_at": _parse(r["createdAt"]),
            },
        )

    def _deployment(self, r: dict[str, Any]) -> None:
        self._insert(
            _deployments,
            {
                "service_id": self.services[r["service"]],
                "version_id": self.versions[(r["service"], r["version"])],
                "environment_id": self.environments[r["environment"]],
                "target": r.get("target", ""),
                "deployed_at": _parse(r["deployedAt"]),
                "undeployed_at": _parse(r.get("undeployedAt")),
            },
        )

    def _release(self, r: dict[str, Any]) -> None:
        self._insert(
            _releases,
            {
                "service_id": self.services[r["service"]],
                "version_id": self.versions[(r["service"], r["version"])],
                "environment_id": self.environments[r["environment"]],
                "released_at": _parse(r["releasedAt"]),
                "support_ended_at": _parse(r.get("supportEndedAt")),
            },
        )

    def _evidence(self, r: dict[str, Any]) -> None:
        provider = r.get("providerService")
        self._insert(
            _evidence,
            {
                "kind": r["evidenceKind"],
                "pact_sha256": r.get("pactSha256"),
                "spec_digest": r.get("specDigest"),
                "checker": r.get("checker"),
                "consumer": r.get("consumer"),
                "provider_version_id": self.versions[(provider, r["providerVersion"])]
                if provider
                else None,
                "environment": r.get("environment"),
                "success": bool(r["success"]),
                "details": r.get("details", ""),
                "recorded_by": r.get("recordedBy"),
                "recorded_at": _parse(r["recordedAt"]),
            },
        )

    def _token(self, r: dict[str, Any]) -> None:
        self._insert(
            _tokens,
            {
                "name": r["name"],
                "token_sha256": r["tokenSha256"],
                "scopes": r["scopes"],
                "created_at": _parse(r["createdAt"]),
                "revoked_at": _parse(r.get("revokedAt")),
            },
        )

    def _audit(self, r: dict[str, Any]) -> None:
        self._insert(
            _audit,
            {
                "at": _parse(r["at"]),
                "actor": r.get("actor"),
                "action": r["action"],
                "subject": r["subject"],
                "details": r.get("details", ""),
            },
        )


__all__ = ["export_registry", "import_registry"]

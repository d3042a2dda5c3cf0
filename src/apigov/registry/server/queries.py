"""Listing queries the server needs beyond the `Registry` interface (browse the registry).

Every list is keyset-paginated on the table's id: a cursor is the last id the client saw, so
a page costs one index range scan however deep the client pages, and rows written meanwhile
neither repeat nor shift pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, Table, select

from apigov.registry.models import AuditEntry, Environment, Service, Version

_services: Table = Service.__table__  # type: ignore[assignment]
_versions: Table = Version.__table__  # type: ignore[assignment]
_environments: Table = Environment.__table__  # type: ignore[assignment]
_audit: Table = AuditEntry.__table__  # type: ignore[assignment]

Page = tuple[list[dict[str, Any]], str | None]


def _after(cursor: str | None) -> int:
    """The id a cursor stands for (0: from the start). Malformed cursors raise ValueError."""
    if not cursor:
        return 0
    value = int(cursor)
    if not 0 <= value < 2**31:  # beyond any id, and beyond what SQLite binds without overflow
        raise ValueError(cursor)
    return value


def _page(rows: Sequence[Any], limit: int, shape: Any) -> Page:
    items = [shape(r) for r in rows[:limit]]
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    return items, next_cursor


def _keyset(
    engine: Engine, table: Table, limit: int, cursor: str | None, *where: Any
) -> Sequence[Any]:
    """One page of `table` by id after the cursor, plus one row to tell whether more follow."""
    with engine.connect() as connection:
        return connection.execute(
            select(table)
            .where(table.c.id > _after(cursor), *where)
            .order_by(table.c.id)
            .limit(limit + 1)
        ).all()


def services(engine: Engine, limit: int, cursor: str | None) -> Page:
    return _page(
        _keyset(engine, _services, limit, cursor),
        limit,
        lambda r: {
            "name": r.name,
            "owner": r.owner,
            "team": r.team,
            "tier": r.tier,
            "lifecycle": r.lifecycle,
        },
    )


def pacticipants(engine: Engine, limit: int, cursor: str | None) -> Page:
    """Services as the Pact Broker lists pacticipants: name and main branch."""
    return _page(
        _keyset(engine, _services, limit, cursor),
        limit,
        lambda r: {"name": r.name, "mainBranch": r.main_branch},
    )


def service_versions(engine: Engine, service: str, limit: int, cursor: str | None) -> Page | None:
    """The versions of one service, oldest first; None when the service is unknown."""
    with engine.connect() as connection:
        service_id = connection.scalar(select(_services.c.id).where(_services.c.name == service))
    if service_id is None:
        return None
    return _page(
        _keyset(engine, _versions, limit, cursor, _versions.c.service_id == service_id),
        limit,
        lambda r: {
            "service": service,
            "number": r.number,
            "branch": r.branch,
            "commit": r.commit,
            "digest": r.digest,
            "specDigest": r.spec_digest,
            "createdAt": r.created_at.isoformat(),
        },
    )


def environments(engine: Engine, limit: int, cursor: str | None) -> Page:
    return _page(
        _keyset(engine, _environments, limit, cursor),
        limit,
        lambda r: {"name": r.name, "production": bool(r.production)},
    )


def environment(engine: Engine, name: str) -> dict[str, Any] | None:
    with engine.connect() as connection:
        row = connection.execute(select(_environments).where(_environments.c.name == name)).first()
    return None if row is None else {"name": row.name, "production": bool(row.production)}


def audit_log(engine: Engine, limit: int, cursor: str | None) -> Page:
    return _page(
        _keyset(engine, _audit, limit, cursor),
        limit,
        lambda r: {
            "at": r.at.isoformat(),
            "actor": r.actor,
            "action": r.action,
            "subject": r.subject,
            "details": r.details,
        },
    )

"""The fleet map: every service as a node, every consumer -> provider pact as an edge.

`GET /ui/map` is the page (a Cytoscape.js canvas grouped by team, with a plain table of edges
that works without JavaScript); `GET /ui/map/graph.json` is the same data as JSON.

An edge's verdict is read from evidence the registry already holds, never computed here: the
static-compatibility result of this server's checker for the pact's content against the
provider version's spec digest, and the latest live verification of that exact pact against
that provider version (the rule of the other pages, `data.judge_pairs`). A map of 5,000 pairs
cannot run 5,000 checks per view; can-i-deploy and the matrix store the results that turn an
unverified edge green or red.

Cost: a fixed number of statements however large the fleet (the environment's id, the chosen
versions with their services, and one join from those versions through their pacts to the
providers' chosen versions and each pair's evidence, found by index lookups inside that one
statement), then one pass in Python. Routes are declared with their full paths;
`apigov.registry.web.install` serves this router next to the other pages.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from msgspec import Struct, field
from sqlalchemy import (
    Connection,
    Engine,
    Select,
    case,
    false,
    func,
    literal,
    literal_column,
    select,
    union,
)

from apigov.registry.domain import Role
from apigov.registry.models import contracts_table as _contracts
from apigov.registry.models import deployments_table as _deployments
from apigov.registry.models import environments_table as _environments
from apigov.registry.models import evidence_table as _evidence
from apigov.registry.models import releases_table as _releases
from apigov.registry.models import services_table as _services
from apigov.registry.models import version_contracts_table as _links
from apigov.registry.models import versions_table as _versions
from apigov.registry.web.access import PageReader
from apigov.registry.web.data import static_keys

# The evidence kinds of `registry/sql.py`.
STATIC_KIND = "static-compat"
VERIFICATION_KIND = "verification"
MAX_DEPTH = 2
REASON_LENGTH = 240
NO_TEAM = "(no team)"
STATIC_PASSED = "static compatibility passed"
STATIC_PASSED_VERIFIED = "static compatibility passed; live verification passed"
NOT_CHECKED = "no static compatibility result yet (can-i-deploy checks and records it)"
NOT_CHECKED_VERIFIED = "live verification passed, but no static compatibility result yet"


class Verdict(StrEnum):
    """What the registry's evidence says about one consumer -> provider edge."""

    COMPATIBLE = "compatible"
    BROKEN = "broken"
    UNVERIFIED = "unverified"

    @property
    def severity(self) -> int:
        """Several version pairs behind one edge: the worst one speaks for the edge."""
        return {Verdict.COMPATIBLE: 0, Verdict.UNVERIFIED: 1, Verdict.BROKEN: 2}[self]


# The palette of `apigov graph` (governance/render.py), so both pictures read the same way.
COLOURS = {
    Verdict.COMPATIBLE: "#2e7d32",
    Verdict.BROKEN: "#c62828",
    Verdict.UNVERIFIED: "#9e9e9e",
}


class MapNode(Struct, frozen=True):
    service: str
    team: str | None = None
    tier: int | None = None
    lifecycle: str | None = None
    owner: str | None = None
    versions: tuple[str, ...] = ()
    """The latest version, or every version live in the chosen environment (oldest first)."""
    absent: bool = False
    """Named by a pact, but has no version here (never published, or not in the environment)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "team": self.team,
            "tier": self.tier,
            "lifecycle": self.lifecycle,
            "owner": self.owner,
            "version": self.versions[-1] if self.versions else None,
            "versions": list(self.versions),
            "absent": self.absent,
        }


class MapEdge(Struct, frozen=True):
    consumer: str
    provider: str
    verdict: Verdict
    reason: str
    consumer_version: str
    provider_version: str | None
    """The provider version the verdict is about (None: the provider has no version here)."""
    pairs: int = 1
    """How many version pairs stand behind the edge (several versions live in one environment)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "consumer": self.consumer,
            "provider": self.provider,
            "verdict": self.verdict.value,
            "reason": self.reason,
            "consumerVersion": self.consumer_version,
            "providerVersion": self.provider_version,
            "pairs": self.pairs,
        }


class FleetMap(Struct):
    environment: str | None = None
    team: str | None = None
    focus: str | None = None
    depth: int = 1
    nodes: list[MapNode] = field(default_factory=list)
    edges: list[MapEdge] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        found = {verdict.value: 0 for verdict in Verdict}
        for edge in self.edges:
            found[edge.verdict.value] += 1
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "team": self.team,
            "focus": self.focus,
            "depth": self.depth,
            "nodes": [node.to_dict() for node in self.nodes],
            "edges": [edge.to_dict() for edge in self.edges],
            "verdicts": self.counts(),
        }


class UnknownFilterError(LookupError):
    """A filter names an environment or a service the map does not have (answered with 404)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


# ---- the queries ---------------------------------------------------------------------------


def _chosen_versions(environment_id: int | None) -> Any:
    """(service_id, version_id) of the versions the map shows: each service's latest version,
    or every version deployed (current, per target) or released (supported) in the environment.
    """
    if environment_id is None:
        return (
            select(
                _versions.c.service_id.label("service_id"),
                func.max(_versions.c.id).label("version_id"),
            )
            .group_by(_versions.c.service_id)
            .cte("chosen")
        )
    deployed = select(
        _deployments.c.service_id.label("service_id"),
        _deployments.c.version_id.label("version_id"),
    ).where(
        _deployments.c.environment_id == environment_id,
        _deployments.c.undeployed_at.is_(None),
    )
    released = select(_releases.c.service_id, _releases.c.version_id).where(
        _releases.c.environment_id == environment_id,
        _releases.c.support_ended_at.is_(None),
    )
    return union(deployed, released).cte("chosen")


def _nodes_query(chosen: Any) -> Select[Any]:
    return (
        select(
            _services.c.name,
            _services.c.team,
            _services.c.tier,
            _services.c.lifecycle,
            _services.c.owner,
            _versions.c.number,
        )
        .select_from(chosen)
        .join(_versions, _versions.c.id == chosen.c.version_id)
        .join(_services, _services.c.id == chosen.c.service_id)
        .order_by(_services.c.name, _versions.c.id)
    )


def _edges_query(chosen: Any, checker: str) -> Select[Any]:
    """One row per (chosen consumer version, pact it holds, chosen provider version), with the
    static result of `checker` and the latest verification of that exact pact, or NULLs.

    One static result exists at most per (pact content, spec digest, checker): the unique index
    `uq_evidence_static` serves the join. Verifications of a pair may be many: the latest one's
    id comes from `ix_evidence_provider_version`. The evidence kinds are literals, not bound
    parameters: SQLite uses a partial index only when the query's own text implies its WHERE.
    """
    consumer_service = _services.alias("consumer_service")
    consumer_version = _versions.alias("consumer_version")
    provider_service = _services.alias("provider_service")
    provider_version = _versions.alias("provider_version")
    provider_chosen = chosen.alias("provider_chosen")
    static = _evidence.alias("static")
    verification = _evidence.alias("verification")
    latest_verification = (
        select(func.max(_evidence.c.id))
        .where(
            _evidence.c.provider_version_id == provider_version.c.id,
            _evidence.c.kind == literal_column(f"'{VERIFICATION_KIND}'"),
            _evidence.c.pact_sha256 == _contracts.c.sha256,
            _evidence.c.consumer == consumer_service.c.name,
        )
        .scalar_subquery()
    )
    return (
        select(
            consumer_service.c.name.label("consumer"),
            consumer_version.c.number.label("consumer_version"),
            _links.c.provider.label("provider"),
            provider_service.c.team.label("provider_team"),
            provider_version.c.number.label("provider_version"),
            provider_version.c.spec_digest.label("spec_digest"),
            static.c.success.label("static_success"),
            # Messages of failed checks only: a passed check's findings are not shown.
            case((static.c.success == false(), static.c.details), else_=literal("")).label(
                "static_details"
            ),
            verification.c.success.label("verification_success"),
            verification.c.recorded_at.label("verification_at"),
            # For `_event_static_results`: the pair's keys when the provider holds AsyncAPI.
            provider_version.c.id.label("provider_version_id"),
            _contracts.c.sha256.label("pact_sha256"),
        )
        .select_from(chosen)
        .join(consumer_version, consumer_version.c.id == chosen.c.version_id)
        .join(consumer_service, consumer_service.c.id == consumer_version.c.service_id)
        .join(
            _links,
            (_links.c.version_id == consumer_version.c.id) & (_links.c.role == Role.PACT.value),
        )
        .join(_contracts, _contracts.c.id == _links.c.contract_id)
        .outerjoin(provider_service, provider_service.c.name == _links.c.provider)
        .outerjoin(provider_chosen, provider_chosen.c.service_id == provider_service.c.id)
        .outerjoin(provider_version, provider_version.c.id == provider_chosen.c.version_id)
        .outerjoin(
            static,
            (static.c.kind == literal_column(f"'{STATIC_KIND}'"))
            & (static.c.pact_sha256 == _contracts.c.sha256)
            & (static.c.spec_digest == provider_version.c.spec_digest)
            & (static.c.checker == checker),
        )
        .outerjoin(verification, verification.c.id == latest_verification)
        .order_by(
            consumer_service.c.name, _links.c.provider, consumer_version.c.id, provider_version.c.id
        )
    )


def _with_event_static_results(
    connection: Connection, rows: Sequence[Any], checker: str
) -> Sequence[Any]:
    """The edge rows, with the static result of each pair whose provider holds an AsyncAPI
    document read under its own key (`registry.compat.contract_digest`: the check covered its
    messages too), which the SQL join by spec digest cannot compute. Two queries, only when
    such providers are on the map."""
    keyed = static_keys(connection, sorted({row[10] for row in rows if row[10] is not None}))
    if not keyed:
        return rows
    wanted = {(row[11], keyed[row[10]]) for row in rows if row[10] in keyed}
    found = {
        (r.pact_sha256, r.spec_digest): (r.success, r.details)
        for r in connection.execute(
            select(
                _evidence.c.pact_sha256,
                _evidence.c.spec_digest,
                _evidence.c.success,
                _evidence.c.details,
            ).where(
                _evidence.c.kind == literal_column(f"'{STATIC_KIND}'"),
                _evidence.c.checker == checker,
                _evidence.c.pact_sha256.in_(sorted({k[0] for k in wanted})),
                _evidence.c.spec_digest.in_(sorted({k[1] for k in wanted})),
            )
        )
    }
    updated: list[Any] = []
    for row in rows:
        if row[10] in keyed:
            success, details = found.get((row[11], keyed[row[10]]), (None, None))
            row = (*row[:6], success, details if success is False else "", *row[8:])
        updated.append(row)
    return updated


def filter_choices(engine: Engine) -> tuple[list[str], list[str]]:
    """The environments and teams the registry knows, for the page's filter form."""
    with engine.connect() as connection, connection.begin():
        environments = list(
            connection.scalars(select(_environments.c.name).order_by(_environments.c.name))
        )
        teams = list(
            connection.scalars(
                select(_services.c.team)
                .where(_services.c.team.is_not(None))
                .distinct()
                .order_by(_services.c.team)
            )
        )
    return environments, teams


def build_fleet_map(
    engine: Engine,
    checker: str,
    *,
    environment: str | None = None,
    team: str | None = None,
    focus: str | None = None,
    depth: int = 1,
) -> FleetMap:
    """The map of the registry on `engine`, filtered; verdicts come from the static results of
    `checker` (the name `StaticChecker` stores them under, as can-i-deploy and the service pages
    read them) and from live verifications.

    environment: only versions deployed or released there (verdicts for those versions);
    team: that team's services and the services they use or are used by;
    focus: one service and its neighbourhood, `depth` (1 or 2) steps along the pacts in each
    direction: its providers (and theirs), its consumers (and theirs).
    Unknown environment or focus raise `UnknownFilterError`.
    """
    depth = min(max(depth, 1), MAX_DEPTH)
    result = FleetMap(environment=environment, team=team, focus=focus, depth=depth)
    with engine.connect() as connection, connection.begin():
        environment_id: int | None = None
        if environment is not None:
            environment_id = connection.scalar(
                select(_environments.c.id).where(_environments.c.name == environment)
            )
            if environment_id is None:
                raise UnknownFilterError(f"the registry has no environment named {environment!r}")
        chosen = _chosen_versions(environment_id)
        node_rows = connection.execute(_nodes_query(chosen)).all()
        edge_rows = connection.execute(_edges_query(chosen, checker)).all()
        edge_rows = _with_event_static_results(connection, edge_rows, checker)
    nodes = _nodes(node_rows)
    edges = _edges(edge_rows, environment)
    provider_teams = {row[2]: row[3] for row in edge_rows}  # provider, provider_team
    for edge in edges:
        if edge.provider not in nodes:
            nodes[edge.provider] = MapNode(
                edge.provider, team=provider_teams.get(edge.provider), absent=True
            )
    if focus is not None:
        if focus not in nodes:
            where = f" in {environment}" if environment else ""
            raise UnknownFilterError(f"no service named {focus!r} is on the map{where}")
        keep = neighbourhood(focus, edges, depth)
        edges = [e for e in edges if e.consumer in keep and e.provider in keep]
        nodes = {name: node for name, node in nodes.items() if name in keep}
    if team is not None:
        members = {name for name, node in nodes.items() if (node.team or NO_TEAM) == team}
        edges = [e for e in edges if e.consumer in members or e.provider in members]
        touched = members | {e.consumer for e in edges} | {e.provider for e in edges}
        nodes = {name: node for name, node in nodes.items() if name in touched}
    result.nodes = sorted(nodes.values(), key=lambda n: n.service)
    result.edges = edges
    return result


def _nodes(rows: Iterable[Any]) -> dict[str, MapNode]:
    """Services from `_nodes_query`'s rows (one per chosen version, oldest version first)."""
    facts: dict[str, tuple[Any, ...]] = {}
    versions: dict[str, list[str]] = {}
    for name, team, tier, lifecycle, owner, number in rows:
        if name not in facts:
            facts[name] = (team, tier, lifecycle, owner)
            versions[name] = [number]
        elif number not in versions[name]:  # deployed to several targets and released
            versions[name].append(number)
    found = {}
    for name, (team, tier, lifecycle, owner) in facts.items():
        found[name] = MapNode(name, team, tier, lifecycle, owner, tuple(versions[name]))
    return found


def _edges(rows: Iterable[Any], environment: str | None) -> list[MapEdge]:
    """One edge per (consumer, provider): the worst of its version pairs speaks for it.

    Rows are unpacked by position (the order of `_edges_query`'s columns): at 5,000 pairs,
    attribute access on result rows was most of the map's Python time.
    """
    worst: dict[tuple[str, str], list[Any]] = {}
    for row in rows:
        consumer, consumer_version, provider, _, provider_version = row[:5]
        verdict, reason = judge(provider, provider_version, environment, *row[5:10])
        key = (consumer, provider)
        seen = worst.get(key)
        if seen is None:
            worst[key] = [verdict, reason, consumer_version, provider_version, 1]
            continue
        seen[4] += 1
        if verdict.severity > seen[0].severity:
            seen[:4] = [verdict, reason, consumer_version, provider_version]
    return [
        MapEdge(key[0], key[1], *found)  # verdict, reason, versions, pairs
        for key, found in sorted(worst.items())
    ]


def judge(
    provider: str,
    provider_version: str | None,
    environment: str | None,
    spec_digest: str | None,
    static_success: bool | None,
    static_details: str | None,
    verification_success: bool | None,
    verification_at: datetime | None,
) -> tuple[Verdict, str]:
    """The verdict on one version pair from its evidence, and why, in a short sentence.

    A failed check or a failed latest verification of this exact pact is broken (either one
    makes can-i-deploy say no); a passed check is compatible; anything else is unverified (the
    gate always needs the static check, so a green verification alone is not enough).
    """
    if provider_version is None:
        if environment is not None:
            return Verdict.UNVERIFIED, (
                f"no version of {provider} is deployed or released in {environment}"
            )
        return Verdict.UNVERIFIED, f"{provider} has not published any version"
    # The edge names both versions; reasons stay short (5,000 of them fill a page).
    if verification_success is not None and not verification_success:
        return Verdict.BROKEN, f"the latest live verification failed ({_when(verification_at)})"
    if static_success is not None and not static_success:
        return Verdict.BROKEN, _static_failure(static_details)
    if static_success:
        return Verdict.COMPATIBLE, STATIC_PASSED_VERIFIED if verification_success else STATIC_PASSED
    if spec_digest is None:
        return Verdict.UNVERIFIED, f"{provider}@{provider_version} publishes no OpenAPI document"
    return Verdict.UNVERIFIED, NOT_CHECKED_VERIFIED if verification_success else NOT_CHECKED


def _static_failure(details: str | None) -> str:
    """The first error of a failed static check (its findings are stored as JSON)."""
    try:
        findings = json.loads(details or "[]")
    except ValueError:
        findings = []
    errors = [
        str(f.get("message", ""))
        for f in findings
        if isinstance(f, Mapping) and f.get("level") == "error"
    ]
    if not errors:
        return "static compatibility failed"
    first = errors[0]
    if len(first) > REASON_LENGTH:
        first = first[: REASON_LENGTH - 1] + "…"
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"static compatibility failed: {first}{more}"


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "at an unknown time"
    if moment.tzinfo is None:  # SQLite gives naive datetimes back; they were stored as UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def neighbourhood(focus: str, edges: Iterable[MapEdge], depth: int) -> set[str]:
    """`focus`, its providers up to `depth` steps down the pacts and its consumers up to `depth`
    steps up. Directed on purpose: the other consumers of a provider are not this service's
    neighbours (at 1,000 services they would be most of the fleet)."""
    providers: dict[str, set[str]] = {}
    consumers: dict[str, set[str]] = {}
    for edge in edges:
        providers.setdefault(edge.consumer, set()).add(edge.provider)
        consumers.setdefault(edge.provider, set()).add(edge.consumer)
    keep = {focus}
    for step in (providers, consumers):
        frontier: deque[tuple[str, int]] = deque([(focus, 0)])
        seen = {focus}
        while frontier:
            name, distance = frontier.popleft()
            if distance == depth:
                continue
            for other in step.get(name, ()):
                if other not in seen:
                    seen.add(other)
                    frontier.append((other, distance + 1))
        keep |= seen
    return keep


# ---- the routes ----------------------------------------------------------------------------

router = APIRouter()

EnvironmentFilter = Annotated[str | None, Query(alias="env", max_length=100)]
TeamFilter = Annotated[str | None, Query(max_length=200)]
FocusFilter = Annotated[str | None, Query(max_length=200)]
DepthFilter = Annotated[int, Query(ge=1, le=MAX_DEPTH)]
TablePage = Annotated[int, Query(alias="page", ge=1, le=100_000)]
ViewChoice = Annotated[Literal["services", "teams"] | None, Query()]
TABLE_ROWS = 500
"""Rows of the edge table per page: 5,000 rows were half the page's server time and bytes,
and the map itself shows every edge."""


def _blank_is_none(value: str | None) -> str | None:
    """A GET form sends empty fields for "any": `?env=&team=` means no filter."""
    return (value.strip() or None) if value is not None else None


def script_json(data: Mapping[str, Any]) -> Markup:
    """`data` as JSON to place inside `<script type="application/json">`.

    orjson, not Jinja's `tojson`: at 5,000 edges the page's JSON is a megabyte and the standard
    encoder was a third of the page's server time. `<`, `>` and `&` are escaped as JSON allows,
    so no value (a service name is anything a publisher wrote) can close the script element.
    """
    text = orjson.dumps(data).decode()
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _checker_name(request: Request) -> str:
    """The name static results are stored under by this server's apigov (see StaticChecker)."""
    from apigov.registry.compat import StaticChecker

    return StaticChecker(request.app.state.registry).name


@router.get("/ui/map/graph.json")
def graph_json(
    request: Request,
    _: PageReader,
    env: EnvironmentFilter = None,
    team: TeamFilter = None,
    focus: FocusFilter = None,
    depth: DepthFilter = 1,
) -> Response:
    """The map as JSON: `nodes`, `edges` (consumer -> provider, verdict, reason), `verdicts`."""
    try:
        fleet = build_fleet_map(
            request.app.state.engine,
            _checker_name(request),
            environment=_blank_is_none(env),
            team=_blank_is_none(team),
            focus=_blank_is_none(focus),
            depth=depth,
        )
    except UnknownFilterError as error:
        from apigov.registry.server.app import problem_response

        return problem_response(404, "Not found", error.detail)
    return Response(orjson.dumps(fleet.to_dict()), media_type="application/json")


@router.get("/ui/map", response_class=HTMLResponse)
def map_page(
    request: Request,
    _: PageReader,
    env: EnvironmentFilter = None,
    team: TeamFilter = None,
    focus: FocusFilter = None,
    depth: DepthFilter = 1,
    table_page: TablePage = 1,
    view: ViewChoice = None,
) -> HTMLResponse:
    """The page: the filter form, the map's data for fleet-map.js, and the edges as a table
    (broken first, `TABLE_ROWS` a page, for readers without JavaScript). `view=teams` draws one
    node per team instead of one per service (fleet-map.js; the data is the same)."""
    from apigov.registry.web.render import page

    engine = request.app.state.engine
    environment, team, focus = _blank_is_none(env), _blank_is_none(team), _blank_is_none(focus)
    environments, teams = filter_choices(engine)
    colours = {verdict.value: colour for verdict, colour in COLOURS.items()}
    problem: str | None = None
    try:
        fleet = build_fleet_map(
            engine,
            _checker_name(request),
            environment=environment,
            team=team,
            focus=focus,
            depth=depth,
        )
    except UnknownFilterError as error:
        problem = error.detail
        fleet = FleetMap(environment=environment, team=team, focus=focus, depth=depth)
    ranked = sorted(fleet.edges, key=lambda e: (-e.verdict.severity, e.consumer, e.provider))
    pages = max(1, -(-len(ranked) // TABLE_ROWS))
    table_page = min(table_page, pages)
    first = (table_page - 1) * TABLE_ROWS
    # The other pages of the table keep the view's filters (and leave out the defaults).
    filters = {
        "env": environment,
        "team": team,
        "focus": focus,
        "depth": depth if depth != 1 else None,
        "view": view,
    }

    def table_link(number: int) -> str:
        query = {k: v for k, v in filters.items() if v is not None}
        return f"?{urlencode({**query, 'page': number})}#map-edges"

    return page(
        request,
        "fleet_map.html",
        {
            "fleet": fleet,
            "table": ranked[first : first + TABLE_ROWS],
            "table_first": first + 1 if ranked else 0,
            "table_last": first + len(ranked[first : first + TABLE_ROWS]),
            "table_previous": table_link(table_page - 1) if table_page > 1 else None,
            "table_next": table_link(table_page + 1) if table_page < pages else None,
            "data": script_json({**fleet.to_dict(), "colours": colours, "view": view}),
            "view": view or "services",
            "colours": colours,
            "environments": environments,
            "teams": teams,
            "problem": problem,
        },
        status_code=404 if problem else 200,
    )

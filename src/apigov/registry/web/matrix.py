"""The matrix of an environment: consumer versions x provider versions live there.

Each pair is a pact held by a live consumer version against a live version of its provider; its
cell is the verdict (`data.judge_pairs`) and the evidence behind it: the static check (with its
reasons), the latest live verification of that exact pact, and the provider's latest fuzz run
in the environment. Pairs with no stored static result yet are checked here, a few per page
(`StaticChecker`, the cache can-i-deploy fills), so a fresh registry's matrix fills in as it is
viewed. With a service and a version, the page also shows the can-i-deploy answer, which is
the gate's own (`registry.gate.can_i_deploy`), finding by finding.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from msgspec import Struct, field

from apigov.findings import Finding
from apigov.registry.compat import StaticChecker
from apigov.registry.gate import Policy, can_i_deploy, decision_report
from apigov.registry.web import data
from apigov.registry.web.pages import reading
from apigov.spec.errors import InputError

PAIRS_PER_PAGE = 200  # with a service: its pairs, a page at a time
CONSUMERS_PER_PAGE = 40  # the whole environment: consumer versions, a page at a time
GRID_LIMIT = 40  # rows and columns: beyond that a grid is unreadable; the pair list remains
CHECKS_PER_PAGE = 8  # static checks run while rendering one page (each may take 10-100 ms)


class Cell(Struct, frozen=True):
    consumer: data.LiveRow
    provider: data.LiveRow
    pact: data.PactLink
    verdict: data.Verdict
    fuzz: data.EvidenceRow | None

    @property
    def anchor(self) -> str:
        return f"pair-{self.consumer.label}-{self.provider.label}-{self.pact.path}"


class Gate(Struct):
    service: str
    version: str
    verdict: str  # yes | no | unknown
    findings: list[Finding]


class MatrixView(Struct):
    environments: list[data.EnvironmentRow]
    environment: str
    service: str
    version: str
    problem: str | None = None
    missing: bool = False  # the problem is something the registry does not hold (404)
    cells: list[Cell] = field(default_factory=list)
    total_pairs: int = 0
    window: tuple[int, int, int] | None = None  # consumer versions shown: first, last, of
    next_cursor: str | None = None
    rows: list[data.LiveRow] = field(default_factory=list)
    columns: list[data.LiveRow] = field(default_factory=list)
    grid: dict[tuple[int, int], list[Cell]] = field(default_factory=dict)
    unchecked: int = 0
    gate: Gate | None = None
    service_versions: list[str] = field(default_factory=list)

    @property
    def show_grid(self) -> bool:
        return bool(self.cells) and len(self.rows) <= GRID_LIMIT and len(self.columns) <= GRID_LIMIT


def build_matrix(
    request: Request, environment: str, service: str, version: str, cursor: str | None
) -> MatrixView:
    registry = request.app.state.registry
    checker = StaticChecker(registry)
    with reading(request) as connection:
        envs = data.environments(connection)
        view = MatrixView(envs, environment, service, version)
        if not environment:
            # No environment chosen yet: the first production one, else the first.
            chosen = next((e for e in envs if e.production), envs[0] if envs else None)
            if chosen is None:
                view.problem = "there are no environments yet (record a deployment first)"
                return view
            view.environment = environment = chosen.name
        if environment not in {e.name for e in envs}:
            view.problem = f"there is no environment {environment!r} in the registry"
            view.missing = True
            return view
        if service:
            row = data.service_row(connection, service)
            if row is None:
                view.problem = f"there is no service {service!r} in the registry"
                view.missing = True
                return view
            view.service_versions = data.version_numbers(connection, row.id)
        live = data.live_in_environment(connection, environment)
        start = int(cursor) if cursor and cursor.isdigit() else 0
        if service:
            # The pairs one service is part of: all of them, a page of pairs at a time.
            pairs = _pairs(connection, live, live, service)
            view.total_pairs = len(pairs)
            shown = pairs[start : start + PAIRS_PER_PAGE]
            if start + PAIRS_PER_PAGE < len(pairs):
                view.next_cursor = str(start + PAIRS_PER_PAGE)
        else:
            # The whole environment: a window of consumer versions at a time, so a page reads
            # the pacts of those versions only, however large the environment.
            consumers = sorted(
                {row.version_id: row for row in live}.values(),
                key=lambda row: (row.service, row.version_id),
            )
            window = consumers[start : start + CONSUMERS_PER_PAGE]
            shown = _pairs(connection, window, live, "")
            view.total_pairs = len(shown)
            view.window = (start + 1, start + len(window), len(consumers))
            if start + CONSUMERS_PER_PAGE < len(consumers):
                view.next_cursor = str(start + CONSUMERS_PER_PAGE)
        name = checker.name if checker.available else ""
        verdicts = data.judge_pairs(connection, [(p, _as_provider(v)) for _, p, v in shown], name)
        fuzz = data.fuzz_runs_in(connection, [v.version_id for _, _, v in shown], environment)
    # Outside the read transaction: checking writes its result to the registry.
    verdicts = _check_missing(registry, checker, shown, verdicts, view)
    view.cells = [
        Cell(consumer, provider, pact, verdict, fuzz.get(provider.version_id))
        for (consumer, pact, provider), verdict in zip(shown, verdicts, strict=True)
    ]
    _lay_out_grid(view)
    if service and version:
        policy: Policy = getattr(request.app.state, "policy", None) or Policy()
        decision = can_i_deploy(registry, service, version, environment, policy=policy)
        view.gate = Gate(
            service, version, decision.verdict, decision_report(decision).sorted_findings()
        )
    return view


def _as_provider(live: data.LiveRow) -> data.ProviderVersion:
    return data.ProviderVersion(live.service, live.number, live.version_id, live.spec_digest)


def _pairs(
    connection: Any, consumers: list[data.LiveRow], live: list[data.LiveRow], service: str
) -> list[tuple[data.LiveRow, data.PactLink, data.LiveRow]]:
    """(consumer version, pact, provider version) for every pact one of `consumers` holds with
    a provider live in the environment (`live`); with `service`, only pairs it is part of."""
    by_id = {row.version_id: row for row in consumers}
    by_service: dict[str, dict[int, data.LiveRow]] = {}
    for row in live:
        # A version deployed on two targets is one column.
        by_service.setdefault(row.service, {}).setdefault(row.version_id, row)
    found = []
    for pact in data.pacts_of_versions(connection, list(by_id), service):
        consumer = by_id[pact.consumer_version_id]
        for provider in by_service.get(pact.provider, {}).values():
            if provider.service != consumer.service:
                found.append((consumer, pact, provider))
    found.sort(
        key=lambda t: (t[0].service, t[0].version_id, t[2].service, t[2].version_id, t[1].path)
    )
    return found


def _check_missing(
    registry: Any,
    checker: StaticChecker,
    shown: list[tuple[data.LiveRow, data.PactLink, data.LiveRow]],
    verdicts: list[data.Verdict],
    view: MatrixView,
) -> list[data.Verdict]:
    """Run the static check for pairs that have no stored result yet, a few per page."""
    missing = [
        i
        for i, (verdict, (_, _, provider)) in enumerate(zip(verdicts, shown, strict=True))
        if verdict.static == data.NOT_CHECKED and provider.spec_digest
    ]
    if not missing or not checker.available:
        view.unchecked = len(missing)
        return verdicts
    todo = missing[:CHECKS_PER_PAGE]
    view.unchecked = len(missing) - len(todo)
    keys = sorted(
        {(shown[i][0].service, shown[i][0].number) for i in todo}
        | {(shown[i][2].service, shown[i][2].number) for i in todo}
    )
    records = registry.versions(keys)
    updated = list(verdicts)
    for i in todo:
        consumer, pact, provider = shown[i]
        consumer_record = records.get((consumer.service, consumer.number))
        provider_record = records.get((provider.service, provider.number))
        stored = (
            next((f for f in consumer_record.pacts if f.path == pact.path), None)
            if consumer_record
            else None
        )
        if consumer_record is None or provider_record is None or stored is None:
            continue
        try:
            outcome = checker.outcome(consumer_record, stored, provider_record)
        except InputError as error:
            # A stored contract that no longer loads: the cell says so, the page still renders.
            updated[i].reasons.append(f"the static check could not run: {error.message}")
            continue
        updated[i] = data.verdict_from_static(verdicts[i], outcome.success, list(outcome.findings))
    return updated


def _lay_out_grid(view: MatrixView) -> None:
    rows: dict[int, data.LiveRow] = {}
    columns: dict[int, data.LiveRow] = {}
    for cell in view.cells:
        rows.setdefault(cell.consumer.version_id, cell.consumer)
        columns.setdefault(cell.provider.version_id, cell.provider)
    view.rows = sorted(rows.values(), key=lambda r: (r.service, r.version_id))
    view.columns = sorted(columns.values(), key=lambda r: (r.service, r.version_id))
    for cell in view.cells:
        key = (cell.consumer.version_id, cell.provider.version_id)
        view.grid.setdefault(key, []).append(cell)

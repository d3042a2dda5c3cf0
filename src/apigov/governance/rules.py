"""Fleet rules: coupling problems no single contract shows, judged on the dependency graph.

The catalogue is data (`CATALOGUE`: id, default level, doc, a failing and a passing example);
`rules/fleet.yaml` or apigov.yaml's `fleet:` section changes levels and limits
(`settings_from_data`). `fleet_findings(graph, settings)` runs every rule that is not off.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from msgspec import Struct, field
from msgspec.structs import replace

from apigov.findings import Finding, Level, Location, RuleInfo
from apigov.governance.graph import (
    HTTP,
    FleetGraph,
    Routes,
    Service,
    Use,
    normalise_operation,
    pact_uses,
    spec_operations,
)
from apigov.spec.errors import InputError
from apigov.spec.model import ApiSpec

OFF = "off"


class FleetRule(Struct, frozen=True):
    id: str
    level: Level
    doc: str
    failing: str
    """A fleet that breaks the rule, in a sentence."""
    passing: str
    """The same fleet, fixed."""


CATALOGUE: dict[str, FleetRule] = {
    rule.id: rule
    for rule in (
        FleetRule(
            "fleet-dependency-cycle",
            Level.ERROR,
            "Services call each other in a circle (HTTP pacts): none of them can be deployed, "
            "tested or reasoned about alone. Message pacts are asynchronous and do not count.",
            "orders calls payments, payments calls orders.",
            "orders calls payments; payments publishes an event orders consumes.",
        ),
        FleetRule(
            "fleet-internal-operation-used",
            Level.ERROR,
            "A consumer from another team uses an operation marked `x-internal: true`, or any "
            "operation of a service whose service.yaml says `internal: true`.",
            "shipping (team logistics) calls POST /orders/{orderId}/recalculate, x-internal.",
            "only the checkout team's own services call it.",
        ),
        FleetRule(
            "fleet-sunset-operation-used",
            Level.ERROR,
            "A consumer uses an operation whose `x-sunset` date has passed: the provider may "
            "remove it at any time.",
            "a pact calls GET /orders/search, x-sunset 2026-06-30, after that day.",
            "the pact calls GET /orders with filters instead.",
        ),
        FleetRule(
            "fleet-deprecated-operation-used",
            Level.WARNING,
            "A consumer uses an operation marked `deprecated: true` (no sunset date passed yet): "
            "migrate before the provider removes it.",
            "a pact calls GET /orders/search, deprecated.",
            "the pact calls GET /orders.",
        ),
        FleetRule(
            "fleet-service-without-owner",
            Level.ERROR,
            "A service has no service.yaml or its service.yaml names no owner: nobody to ask "
            "when its contract breaks.",
            "contracts/search/ holds openapi.yaml only.",
            "contracts/search/service.yaml says owner: search-team@example.com.",
        ),
        FleetRule(
            "fleet-pact-provider-unknown",
            Level.ERROR,
            "A pact names a provider that is not a service of the fleet: its contract can be "
            "checked against nothing.",
            "orders-billing.json names provider billing; contracts/ has no billing.",
            "contracts/billing/ exists with its service.yaml and openapi.yaml.",
        ),
        FleetRule(
            "fleet-pact-provider-without-spec",
            Level.ERROR,
            "A pact with HTTP interactions names a provider that publishes no OpenAPI document, "
            "so no request of it can be checked.",
            "contracts/billing/ holds service.yaml only.",
            "contracts/billing/openapi.yaml describes the operations orders calls.",
        ),
        FleetRule(
            "fleet-used-operation-removed-without-deprecation",
            Level.ERROR,
            "With --base-ref: an operation a consumer's pact uses was removed although the base "
            "revision did not mark it `deprecated: true`.",
            "main has GET /orders/{orderId}; the branch deletes it; shipping's pact calls it.",
            "main marks it deprecated first; consumers migrate; then it goes.",
        ),
        FleetRule(
            "fleet-fan-in-exceeded",
            Level.WARNING,
            "More services consume this provider than `limits.fan-in` allows: every change to "
            "it needs that many teams.",
            "fan-in limit 1; orders is consumed by shipping and notifications.",
            "fan-in limit 2.",
        ),
        FleetRule(
            "fleet-fan-out-exceeded",
            Level.WARNING,
            "This service consumes more providers than `limits.fan-out` allows: it fails when "
            "any of them does.",
            "fan-out limit 1; orders consumes inventory and payments.",
            "fan-out limit 2.",
        ),
        FleetRule(
            "fleet-datastore-shared-owner",
            Level.ERROR,
            "Two services declare they own the same datastore: a shared database is a hidden "
            "coupling no API contract sees.",
            "orders and shipping both own orders-db.",
            "only orders owns orders-db; shipping asks the orders API.",
        ),
        FleetRule(
            "fleet-datastore-read-without-owner",
            Level.ERROR,
            "A service reads a datastore it does not own (owned by another service or by none): "
            "reads belong behind the owner's API.",
            "shipping reads orders-db, owned by orders.",
            "shipping reads only shipping-db, its own.",
        ),
    )
}

DEFAULT_FAN_IN = 10
DEFAULT_FAN_OUT = 8


class FleetSettings(Struct, frozen=True):
    """Levels per rule (or off) and the fan-in/fan-out limits."""

    levels: Mapping[str, str] = field(default_factory=dict)
    fan_in: int = DEFAULT_FAN_IN
    fan_out: int = DEFAULT_FAN_OUT

    def level(self, rule_id: str) -> Level | None:
        configured = self.levels.get(rule_id)
        if configured == OFF:
            return None
        return Level(configured) if configured is not None else CATALOGUE[rule_id].level

    def merged(self, data: Any, file: str) -> FleetSettings:
        """These settings with those of one more file or section layered on top."""
        other = settings_from_data(data, file)
        return FleetSettings(
            {**self.levels, **other.levels},
            other.fan_in if "fan-in" in _limits(data) else self.fan_in,
            other.fan_out if "fan-out" in _limits(data) else self.fan_out,
        )

    def digest_text(self) -> str:
        """A stable text of the settings, for cache keys."""
        levels = ",".join(f"{k}={v}" for k, v in sorted(self.levels.items()))
        return f"{levels};{self.fan_in};{self.fan_out}"


def _limits(data: Any) -> Mapping[str, Any]:
    limits = data.get("limits") if isinstance(data, Mapping) else None
    return limits if isinstance(limits, Mapping) else {}


def settings_from_data(data: Any, file: str) -> FleetSettings:
    """Read `levels:` and `limits:` (fan-in, fan-out) from rules/fleet.yaml or `fleet:`."""
    if data is None:
        return FleetSettings()
    if not isinstance(data, Mapping):
        raise InputError(file, "fleet rules must be a mapping with levels: and limits:")
    unknown = sorted(set(data) - {"levels", "limits", "rules"})
    if unknown:
        raise InputError(file, f"unknown key {unknown[0]!r} (known: levels, limits, rules)")
    levels = data.get("levels") or {}
    if not isinstance(levels, Mapping):
        raise InputError(file, "levels: must map rule ids to error, warning, info or off")
    for rule_id, level in levels.items():
        if rule_id not in CATALOGUE:
            raise InputError(file, f"levels: unknown fleet rule {rule_id!r}", pointer="/levels")
        if level not in ("error", "warning", "info", OFF):
            raise InputError(
                file, f"levels: {rule_id}: must be error, warning, info or off", pointer="/levels"
            )
    limits = data.get("limits") or {}
    if not isinstance(limits, Mapping):
        raise InputError(file, "limits: must be a mapping with fan-in and fan-out")
    for key, value in limits.items():
        if key not in ("fan-in", "fan-out"):
            raise InputError(file, f"limits: unknown limit {key!r} (known: fan-in, fan-out)")
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InputError(file, f"limits: {key}: must be a whole number of at least 1")
    return FleetSettings(
        {str(k): str(v) for k, v in levels.items()},
        int(limits.get("fan-in", DEFAULT_FAN_IN)),
        int(limits.get("fan-out", DEFAULT_FAN_OUT)),
    )


class _Context(Struct):
    graph: FleetGraph
    settings: FleetSettings
    today: dt.date
    base_specs: Mapping[str, ApiSpec]


def fleet_findings(
    graph: FleetGraph,
    settings: FleetSettings | None = None,
    *,
    today: dt.date | None = None,
    base_specs: Mapping[str, ApiSpec] | None = None,
) -> list[Finding]:
    """Every fleet rule that is not off, over `graph`.

    `base_specs` (service -> its spec at the base revision) enables
    `fleet-used-operation-removed-without-deprecation`.
    """
    context = _Context(
        graph,
        settings or FleetSettings(),
        today or dt.datetime.now(dt.UTC).date(),
        base_specs or {},
    )
    findings: list[Finding] = []
    for check in _CHECKS:
        for finding in check(context):
            level = context.settings.level(finding.id)
            if level is not None:
                findings.append(replace(finding, level=level))
    return findings


def _finding(
    rule_id: str,
    message: str,
    location: Location | None,
    service: str | None,
    operation: str | None = None,
    consumers: tuple[str, ...] = (),
) -> Finding:
    return Finding(
        id=rule_id,
        level=CATALOGUE[rule_id].level,
        message=message,
        location=location,
        service=service,
        operation=operation,
        consumers=tuple(sorted(set(consumers))),
    )


def _use_location(use: Use) -> Location:
    return use.pact.locate(use.pointer)


def _service_location(service: Service, pointer: str = "") -> Location | None:
    if service.service_file is not None:
        return service.service_file.locate(pointer)
    if service.spec is not None:
        return Location(service.spec.name)
    if service.pacts:
        return Location(service.pacts[0].name)
    return None


# ---- the rules ---------------------------------------------------------------------------


def _cycles(context: _Context) -> Iterator[Finding]:
    calls: dict[str, set[str]] = {}
    for use in context.graph.uses:
        if use.kind == HTTP:
            calls.setdefault(use.consumer, set()).add(use.provider)
    for component in _strongly_connected(calls):
        members = sorted(component)
        if len(members) == 1 and members[0] not in calls.get(members[0], set()):
            continue
        path = _cycle_path(members[0], component, calls)
        first = next(
            u
            for u in context.graph.uses
            if u.kind == HTTP and u.consumer == path[0] and u.provider == path[1]
        )
        yield _finding(
            "fleet-dependency-cycle",
            f"services call each other in a cycle: {' -> '.join(path)}",
            first.pact.locate(""),
            path[0],
            consumers=tuple(members),
        )


def _strongly_connected(calls: Mapping[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative (a fleet of thousands must not hit the recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    nodes = sorted(set(calls) | {p for ps in calls.values() for p in ps})
    for start in nodes:
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(calls.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            advanced = False
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(calls.get(successor, ())))))
                    advanced = True
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components


def _cycle_path(start: str, component: set[str], calls: Mapping[str, set[str]]) -> list[str]:
    """One concrete cycle through `start` inside its component (shortest, by breadth-first)."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for successor in sorted(calls.get(node, ())):
                if successor not in component:
                    continue
                if successor == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if successor not in previous:
                    previous[successor] = node
                    following.append(successor)
        frontier = following
    return [start, start]


def _internal(context: _Context) -> Iterator[Finding]:
    services = context.graph.services
    for use in context.graph.uses:
        provider = services.get(use.provider)
        if provider is None or use.consumer == use.provider:
            continue
        consumer = services.get(use.consumer)
        same_team = (
            consumer is not None and consumer.team is not None and consumer.team == provider.team
        )
        if same_team:
            continue
        team = f"team {consumer.team}" if consumer and consumer.team else "no declared team"
        owners = f"team {provider.team}" if provider.team else "its owners"
        if use.operation is not None and use.operation.internal:
            what = f"the internal operation {use.operation.key} of {provider.name}"
        elif provider.internal:
            what = f"{provider.name}, a service declared internal in its service.yaml"
        else:
            continue
        yield _finding(
            "fleet-internal-operation-used",
            f"{use.consumer} ({team}) uses {what}, meant for {owners} only: "
            f"interaction {use.interaction}",
            _use_location(use),
            use.provider,
            use.operation.key if use.operation else None,
            (use.consumer,),
        )


def _sunset(context: _Context) -> Iterator[Finding]:
    for use in context.graph.uses:
        operation = use.operation
        if operation is None or operation.sunset is None or operation.sunset >= context.today:
            continue
        yield _finding(
            "fleet-sunset-operation-used",
            f"{use.consumer} uses {operation.key} of {use.provider}, whose sunset date "
            f"{operation.sunset.isoformat()} has passed: interaction {use.interaction}",
            _use_location(use),
            use.provider,
            operation.key,
            (use.consumer,),
        )


def _deprecated(context: _Context) -> Iterator[Finding]:
    for use in context.graph.uses:
        operation = use.operation
        if operation is None or not operation.deprecated:
            continue
        if operation.sunset is not None and operation.sunset < context.today:
            continue  # fleet-sunset-operation-used says it louder
        sunset = f" (sunset {operation.sunset.isoformat()})" if operation.sunset else ""
        yield _finding(
            "fleet-deprecated-operation-used",
            f"{use.consumer} uses the deprecated {operation.key} of {use.provider}{sunset}: "
            f"interaction {use.interaction}",
            _use_location(use),
            use.provider,
            operation.key,
            (use.consumer,),
        )


def _owners(context: _Context) -> Iterator[Finding]:
    for service in context.graph.services.values():
        if service.owner is not None:
            continue
        if service.service_file is None:
            message = f"service {service.name} has no service.yaml naming its owner"
            location = _service_location(service)
        else:
            message = f"service {service.name}'s service.yaml names no owner"
            location = service.service_file.locate("")
        yield _finding("fleet-service-without-owner", message, location, service.name)


def _providers(context: _Context) -> Iterator[Finding]:
    services = context.graph.services
    for pact in context.graph.pacts:
        provider = services.get(pact.provider)
        consumers = (pact.consumer,) if pact.consumer else ()
        if provider is None:
            yield _finding(
                "fleet-pact-provider-unknown",
                f"{pact.name} names provider {pact.provider!r}, which is not a service in "
                f"{context.graph.root}",
                pact.locate("/provider"),
                pact.provider,
                consumers=consumers,
            )
        elif (
            provider.spec is None
            and not provider.spec_invalid
            and any(use.kind == HTTP for use in context.graph.uses_in(pact))
        ):
            yield _finding(
                "fleet-pact-provider-without-spec",
                f"{pact.name} calls {pact.provider} over HTTP, which publishes no OpenAPI document",
                pact.locate("/provider"),
                pact.provider,
                consumers=consumers,
            )


def _removed(context: _Context) -> Iterator[Finding]:
    services = context.graph.services
    for name, base in sorted(context.base_specs.items()):
        service = services.get(name)
        head_operations = spec_operations(service.spec) if service and service.spec else {}
        base_operations = spec_operations(base)
        removed = {k: op for k, op in base_operations.items() if k not in head_operations}
        if not removed:
            continue
        routes = Routes(base)
        for pact in context.graph.pacts:
            if pact.provider != name:
                continue
            for use in pact_uses(pact, routes):
                if use.operation is None:
                    continue
                gone = removed.get(normalise_operation(use.operation.key))
                if gone is None or gone.deprecated:
                    continue
                yield _finding(
                    "fleet-used-operation-removed-without-deprecation",
                    f"{name} removed {gone.key} without deprecating it first; {use.consumer} "
                    f"uses it: interaction {use.interaction}",
                    _use_location(use),
                    name,
                    gone.key,
                    (use.consumer,),
                )


def _fan(context: _Context) -> Iterator[Finding]:
    services = context.graph.services
    names = sorted(
        set(services)
        | {u.consumer for u in context.graph.uses}
        | {u.provider for u in context.graph.uses}
    )
    for name in names:
        consumers = context.graph.consumers_of(name) - {name}
        providers = context.graph.providers_of(name) - {name}
        service = services.get(name)
        location = _service_location(service) if service else None
        if len(consumers) > context.settings.fan_in:
            yield _finding(
                "fleet-fan-in-exceeded",
                f"{name} has {len(consumers)} consumers, more than the fan-in limit of "
                f"{context.settings.fan_in}: {', '.join(sorted(consumers))}",
                location,
                name,
                consumers=tuple(consumers),
            )
        if len(providers) > context.settings.fan_out:
            yield _finding(
                "fleet-fan-out-exceeded",
                f"{name} consumes {len(providers)} services, more than the fan-out limit of "
                f"{context.settings.fan_out}: {', '.join(sorted(providers))}",
                location,
                name,
            )


def _datastore_owners(graph: FleetGraph) -> dict[str, list[Service]]:
    owners: dict[str, list[Service]] = {}
    for service in graph.services.values():
        for store in service.datastores("owns"):
            owners.setdefault(store, []).append(service)
    return owners


def _shared_datastores(context: _Context) -> Iterator[Finding]:
    for store, owners in sorted(_datastore_owners(context.graph).items()):
        if len(owners) < 2:
            continue
        names = ", ".join(s.name for s in owners)
        for service in owners:
            index = service.datastores("owns").index(store)
            yield _finding(
                "fleet-datastore-shared-owner",
                f"datastore {store} is owned by several services: {names}",
                _service_location(service, f"/datastores/owns/{index}"),
                service.name,
            )


def _datastore_reads(context: _Context) -> Iterator[Finding]:
    owners = _datastore_owners(context.graph)
    for service in context.graph.services.values():
        for index, store in enumerate(service.datastores("reads")):
            owned_by = [s.name for s in owners.get(store, [])]
            if service.name in owned_by:
                continue
            whose = f"owned by {', '.join(owned_by)}" if owned_by else "owned by no service"
            yield _finding(
                "fleet-datastore-read-without-owner",
                f"{service.name} reads datastore {store} ({whose}); read it through its "
                "owner's API instead",
                _service_location(service, f"/datastores/reads/{index}"),
                service.name,
            )


_CHECKS: tuple[Callable[[_Context], Iterator[Finding]], ...] = (
    _cycles,
    _internal,
    _sunset,
    _deprecated,
    _owners,
    _providers,
    _removed,
    _fan,
    _shared_datastores,
    _datastore_reads,
)


def catalogue_markdown() -> str:
    """The rule table of docs/governance.md (a test keeps the page equal to the catalogue)."""
    lines = [
        "| id | default level | what it means | fails | passes |",
        "|---|---|---|---|---|",
    ]
    for rule in CATALOGUE.values():
        lines.append(
            f"| `{rule.id}` | {rule.level.value} | {rule.doc} | {rule.failing} | {rule.passing} |"
        )
    return "\n".join(lines) + "\n"


DOCS_PAGE = "https://github.com/apigov/apigov/blob/main/docs/governance.md#fleet-rules"


def fleet_rule_info(settings: FleetSettings | None = None) -> dict[str, RuleInfo]:
    """Each fleet rule as reporters describe it (SARIF), with its configured level."""
    settings = settings or FleetSettings()
    return {
        rule.id: RuleInfo(
            id=rule.id, description=rule.doc, help_uri=DOCS_PAGE, level=settings.level(rule.id)
        )
        for rule in CATALOGUE.values()
    }

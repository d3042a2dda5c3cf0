"""The fleet's dependency graph, read from a contracts tree.

Services come from the contracts layout (one folder per service, `service.yaml`, an OpenAPI
document, `pacts/`). Every pact is an edge consumer -> provider; every interaction in it is a
`Use` of one provider operation (HTTP, matched by method and path template the way the static
compatibility check matches them, server base paths such as `/v1` included) or of a message.
The graph is data only: rules in `apigov.governance.rules` judge it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Container, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from msgspec import Struct, field

from apigov.spec.deprecation import sunset_of
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec, AsyncApiSpec, PactFile, ServiceFile

if TYPE_CHECKING:
    pass

# The pact engine is imported when a graph is built: a warm `apigov check` that replays its
# cached report never needs it.

HTTP = "http"
MESSAGE = "message"
_TEMPLATE_PARAMETER = re.compile(r"\{[^}/]*\}")


class Service(Struct):
    """One service of the fleet and the documents its folder holds."""

    name: str
    folder: Path | None = None
    spec_invalid: bool = False
    """The folder holds an OpenAPI document that failed validation (reported as such)."""
    service_file: ServiceFile | None = None
    spec: ApiSpec | None = None
    events: AsyncApiSpec | None = None
    """The AsyncAPI document of the folder: the messages the service sends and receives."""
    pacts: list[PactFile] = field(default_factory=list)

    def _declared(self, key: str) -> Any:
        return self.service_file.data.get(key) if self.service_file is not None else None

    @property
    def owner(self) -> str | None:
        owner = self._declared("owner")
        return owner if isinstance(owner, str) and owner.strip() else None

    @property
    def team(self) -> str | None:
        team = self._declared("team")
        return team if isinstance(team, str) and team.strip() else None

    @property
    def internal(self) -> bool:
        return self._declared("internal") is True

    def datastores(self, relation: str) -> tuple[str, ...]:
        """`owns` or `reads` from service.yaml's `datastores`."""
        declared = self._declared("datastores")
        listed = declared.get(relation) if isinstance(declared, dict) else None
        return tuple(item for item in listed or () if isinstance(item, str))


class Operation(Struct, frozen=True):
    """A provider operation some consumer uses: `METHOD /template` and what the spec says."""

    key: str
    pointer: str
    deprecated: bool
    internal: bool
    sunset: dt.date | None


class Use(Struct, frozen=True):
    """One interaction of one pact: a consumer relying on a provider operation or message."""

    consumer: str
    provider: str
    kind: str
    """`http` or `message`."""
    interaction: str
    """The interaction's description (and first provider state), as Pact labels it."""
    pact: PactFile
    pointer: str
    """JSON pointer of the interaction in the pact file."""
    request: str | None = None
    """`METHOD /path` as the pact writes it (HTTP only)."""
    operation: Operation | None = None
    """The provider operation the request matched; None for messages and unmatched requests."""


class FleetGraph(Struct):
    """Services, and every use of one service by another (the edges, per interaction)."""

    root: str
    services: dict[str, Service] = field(default_factory=dict)
    uses: list[Use] = field(default_factory=list)
    pacts: list[PactFile] = field(default_factory=list)
    _by_pact: dict[int, list[Use]] | None = None

    def edges(self) -> dict[tuple[str, str], list[Use]]:
        """(consumer, provider) -> the uses along that edge, in a stable order."""
        found: dict[tuple[str, str], list[Use]] = {}
        for use in self.uses:
            found.setdefault((use.consumer, use.provider), []).append(use)
        return dict(sorted(found.items()))

    def providers_of(self, consumer: str) -> set[str]:
        return {use.provider for use in self.uses if use.consumer == consumer}

    def consumers_of(self, provider: str) -> set[str]:
        return {use.consumer for use in self.uses if use.provider == provider}

    def uses_of(self, provider: str, operation_key: str) -> list[Use]:
        """The interactions that rely on one provider operation (`METHOD /template`)."""
        wanted = normalise_operation(operation_key)
        return [
            use
            for use in self.uses
            if use.provider == provider
            and use.operation is not None
            and normalise_operation(use.operation.key) == wanted
        ]

    def uses_in(self, pact: PactFile) -> list[Use]:
        """The uses one pact file holds (indexed once: checks ask for every pact)."""
        if self._by_pact is None:
            self._by_pact = {}
            for use in self.uses:
                self._by_pact.setdefault(id(use.pact), []).append(use)
        return self._by_pact.get(id(pact), [])

    def interaction_at(self, pact: PactFile, pointer: str) -> Use | None:
        """The use whose interaction holds `pointer` in `pact` (for labelling findings)."""
        best: Use | None = None
        for use in self.uses_in(pact):
            if (pointer == use.pointer or pointer.startswith(use.pointer + "/")) and (
                best is None or len(use.pointer) > len(best.pointer)
            ):
                best = use
        return best


def normalise_operation(key: str) -> str:
    """`GET /orders/{orderId}` and `GET /orders/{id}` name the same operation."""
    method, _, template = key.partition(" ")
    return f"{method.upper()} {_TEMPLATE_PARAMETER.sub('{}', template)}"


def build_graph(
    root: str | Path, loader: Loader, *, exclude: Container[str] = frozenset()
) -> FleetGraph:
    """Read every service folder under `root` and every interaction of every pact in it.

    Documents whose source key is in `exclude` (invalid ones, already reported) are left out;
    a service whose spec is left out is marked `spec_invalid`, so no rule calls it missing.
    """
    graph = FleetGraph(root=str(root))
    everything = [(Path(target), loader.load(target)) for target in loader.expand([str(root)])]
    loaded = [(target, doc) for target, doc in everything if doc.source.key not in exclude]
    left_out = [(target, doc) for target, doc in everything if doc.source.key in exclude]
    # service.yaml first: it names the service whose folder the spec shares.
    for target, document in loaded:
        if isinstance(document, ServiceFile):
            declared = document.data.get("name")
            folder = _service_folder(target)
            name = declared if isinstance(declared, str) and declared else folder.name
            _service(graph, name, folder).service_file = document
    for target, document in loaded:
        if isinstance(document, ApiSpec):
            folder = _service_folder(target)
            _service(graph, _folder_service_name(graph, folder), folder).spec = document
        elif isinstance(document, AsyncApiSpec):
            folder = _service_folder(target)
            _service(graph, _folder_service_name(graph, folder), folder).events = document
        elif isinstance(document, PactFile):
            graph.pacts.append(document)
    for target, document in left_out:
        if isinstance(document, ApiSpec):
            folder = _service_folder(target)
            _service(graph, _folder_service_name(graph, folder), folder).spec_invalid = True
    for pact in graph.pacts:
        if pact.consumer:
            _service(graph, pact.consumer, None).pacts.append(pact)
    matchers: dict[str, Routes] = {}
    for pact in graph.pacts:
        provider = graph.services.get(pact.provider)
        spec = provider.spec if provider is not None else None
        routes = None
        if spec is not None:
            routes = matchers.get(pact.provider)
            if routes is None:
                routes = matchers[pact.provider] = Routes(spec)
        graph.uses.extend(pact_uses(pact, routes))
    graph.services = dict(sorted(graph.services.items()))
    return graph


def pact_uses(pact: PactFile, routes: Routes | None) -> list[Use]:
    """Every interaction of `pact`, matched to the provider's operations when `routes` is given."""
    from apigov.pact.model import Kind, read_pact

    uses: list[Use] = []
    for interaction in read_pact(pact).interactions:
        if interaction.kind is Kind.HTTP and interaction.request is not None:
            request = interaction.request
            uses.append(
                Use(
                    consumer=pact.consumer,
                    provider=pact.provider,
                    kind=HTTP,
                    interaction=interaction.label,
                    pact=pact,
                    pointer=interaction.pointer,
                    request=f"{request.method.upper()} {request.path}",
                    operation=routes.match(request.method, request.path) if routes else None,
                )
            )
        else:
            uses.append(
                Use(
                    consumer=pact.consumer,
                    provider=pact.provider,
                    kind=MESSAGE,
                    interaction=interaction.label,
                    pact=pact,
                    pointer=interaction.pointer,
                )
            )
    return uses


class Routes:
    """Method + path -> spec operation, with the compatibility checker's matching rules."""

    def __init__(self, spec: ApiSpec) -> None:
        # The route matching `apigov compat` uses, so both agree on which operation a request is.
        from apigov.pact.compat import RouteTable

        self.table = RouteTable(spec)

    def match(self, method: str, raw_path: str) -> Operation | None:
        found = self.table.match(method, raw_path)
        if found is None:
            return None
        return _operation(found.template, found.method, found.node, found.pointer)


def _operation(template: str, method: str, node: Mapping[str, Any], pointer: str) -> Operation:
    return Operation(
        key=f"{method.upper()} {template}",
        pointer=pointer,
        deprecated=node.get("deprecated") is True,
        internal=node.get("x-internal") is True,
        sunset=sunset_of(node),
    )


def spec_operations(spec: ApiSpec) -> dict[str, Operation]:
    """Every operation of a spec, keyed by normalised `METHOD /template`."""
    found: dict[str, Operation] = {}
    paths = spec.document.get("paths")
    for template, raw_item in (paths if isinstance(paths, dict) else {}).items():
        item, _ = spec.deref(raw_item)
        if not isinstance(item, dict):
            continue
        for method in ("get", "put", "post", "delete", "options", "head", "patch", "trace"):
            node = item.get(method)
            if isinstance(node, dict):
                pointer = "/paths/" + template.replace("~", "~0").replace("/", "~1") + "/" + method
                operation = _operation(template, method, node, pointer)
                found[normalise_operation(operation.key)] = operation
    return found


def _service_folder(path: Path) -> Path:
    folder = path.parent
    return folder.parent if folder.name == "pacts" else folder


def _folder_service_name(graph: FleetGraph, folder: Path) -> str:
    """The service a folder belongs to: the one its service.yaml named, else the folder's name."""
    for service in graph.services.values():
        if service.folder is not None and service.folder == folder:
            return service.name
    return folder.name


def _service(graph: FleetGraph, name: str, folder: Path | None) -> Service:
    service = graph.services.get(name)
    if service is None:
        service = graph.services[name] = Service(name=name, folder=folder)
    elif service.folder is None:
        service.folder = folder
    return service

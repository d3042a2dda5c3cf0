"""Static compatibility: is every interaction of a pact one the provider's OpenAPI spec allows?

`check_compatibility(pact, spec)` reads each HTTP interaction the way PactFlow's bi-directional
contract testing does (the reference is `openapi-pact-comparator`; every finding id maps to one
of its result codes, see `CATALOGUE`): the request must be one the spec accepts, and the expected
response one the spec can produce, read with Pact's subset semantics (fields the consumer leaves
out are fine, every field it names must be defined with a compatible type). apigov goes further
in two places, both documented in docs/pact.md: a field the consumer relies on that the schema
does not mark required is a warning, and a regex matching rule whose pattern cannot be met by
the schema's enum is an error.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any

import orjson
from msgspec import Struct, field

from apigov.findings import Finding, Level
from apigov.pact.matching import parse_rule_path
from apigov.pact.model import (
    Body,
    HttpRequest,
    HttpResponse,
    Interaction,
    Kind,
    Matcher,
    Pact,
    RuleList,
    read_pact,
)
from apigov.pact.schemas import SchemaBook
from apigov.spec import pointer as jp
from apigov.spec.model import ApiSpec, AsyncApiSpec, PactFile
from apigov.spec.sources import Source

CHECKER_VERSION = "2"
"""Changes whenever a verdict can change for the same pact and documents: the registry keys
its cache of static results by it (2: message headers, AsyncAPI operation references and
reply messages)."""


class Rule(Struct, frozen=True):
    id: str
    level: Level
    comparator: str | None
    """The openapi-pact-comparator result code this finding corresponds to, if any."""
    summary: str


CATALOGUE: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule(
            "compat-request-path-or-method-unknown",
            Level.ERROR,
            "request.path-or-method.unknown",
            "No operation in the spec matches the request's method and path.",
        ),
        Rule(
            "compat-request-authorization-missing",
            Level.ERROR,
            "request.authorization.missing",
            "The operation requires credentials the request does not carry.",
        ),
        Rule(
            "compat-request-header-incompatible",
            Level.ERROR,
            "request.header.incompatible",
            "A request header is missing or invalid for its parameter definition.",
        ),
        Rule(
            "compat-request-header-unknown",
            Level.WARNING,
            "request.header.unknown",
            "The request sends a header the spec does not define.",
        ),
        Rule(
            "compat-request-query-incompatible",
            Level.ERROR,
            "request.query.incompatible",
            "A query parameter is missing or invalid for its definition.",
        ),
        Rule(
            "compat-request-query-unknown",
            Level.WARNING,
            "request.query.unknown",
            "The request sends a query parameter the spec does not define.",
        ),
        Rule(
            "compat-request-content-type-incompatible",
            Level.ERROR,
            "request.content-type.incompatible",
            "The request's Content-Type is not one the operation accepts.",
        ),
        Rule(
            "compat-request-content-type-missing",
            Level.WARNING,
            "request.content-type.missing",
            "The request has a body but no Content-Type, and the operation names media types.",
        ),
        Rule(
            "compat-request-content-type-unknown",
            Level.WARNING,
            "request.content-type.unknown",
            "The request has a Content-Type but the operation takes no request body.",
        ),
        Rule(
            "compat-request-body-incompatible",
            Level.ERROR,
            "request.body.incompatible",
            "The request body is not valid against the request body schema.",
        ),
        Rule(
            "compat-request-body-unknown",
            Level.WARNING,
            "request.body.unknown",
            "The request has a body but the operation defines no schema for it.",
        ),
        Rule(
            "compat-request-body-unvalidatable",
            Level.WARNING,
            "request.body.unvalidatable",
            "The request body's media type cannot be checked statically.",
        ),
        Rule(
            "compat-request-accept-incompatible",
            Level.ERROR,
            "request.accept.incompatible",
            "The request's Accept header matches none of the operation's response media types.",
        ),
        Rule(
            "compat-request-accept-unknown",
            Level.WARNING,
            "request.accept.unknown",
            "The request sends Accept but the operation documents no response media types.",
        ),
        Rule(
            "compat-response-status-unknown",
            Level.ERROR,
            "response.status.unknown",
            "The expected response status is not documented for the operation.",
        ),
        Rule(
            "compat-response-status-default",
            Level.WARNING,
            "response.status.default",
            "The expected response status is only covered by the `default` response.",
        ),
        Rule(
            "compat-response-header-incompatible",
            Level.ERROR,
            "response.header.incompatible",
            "An expected response header value does not fit the documented header.",
        ),
        Rule(
            "compat-response-header-unknown",
            Level.ERROR,
            "response.header.unknown",
            "The consumer expects a response header the spec does not document.",
        ),
        Rule(
            "compat-response-header-undefined",
            Level.WARNING,
            "response.header.undefined",
            "The consumer expects a standard HTTP header the spec does not document.",
        ),
        Rule(
            "compat-response-content-type-incompatible",
            Level.ERROR,
            "response.content-type.incompatible",
            "The expected Content-Type is not one the response documents.",
        ),
        Rule(
            "compat-response-content-type-unknown",
            Level.WARNING,
            "response.content-type.unknown",
            "The consumer expects a Content-Type but the response documents no content.",
        ),
        Rule(
            "compat-response-body-incompatible",
            Level.ERROR,
            "response.body.incompatible",
            "The expected response body does not fit the documented schema.",
        ),
        Rule(
            "compat-response-field-undefined",
            Level.ERROR,
            "response.body.incompatible",
            "The consumer relies on a response field the schema does not define.",
        ),
        Rule(
            "compat-response-body-unknown",
            Level.ERROR,
            "response.body.unknown",
            "The consumer expects a body but the response documents no schema.",
        ),
        Rule(
            "compat-response-body-unvalidatable",
            Level.WARNING,
            "response.body.unvalidatable",
            "The response body's media type cannot be checked statically.",
        ),
        Rule(
            "compat-response-field-optional",
            Level.WARNING,
            None,
            "The consumer relies on a response field the schema does not mark required: "
            "the provider may leave it out.",
        ),
        Rule(
            "compat-matcher-unsatisfiable",
            Level.ERROR,
            None,
            "A matching rule no value the schema allows can pass (a regex outside the enum, "
            "a boolean matcher on an integer field).",
        ),
        Rule(
            "compat-interaction-not-checked",
            Level.INFO,
            None,
            "An interaction the document cannot describe: a message against an OpenAPI "
            "document, or an HTTP interaction against an AsyncAPI document.",
        ),
        Rule(
            "compat-message-channel-unknown",
            Level.ERROR,
            None,
            "The message travels on a topic/channel/queue the AsyncAPI document has no "
            "channel for.",
        ),
        Rule(
            "compat-message-unknown",
            Level.ERROR,
            None,
            "The AsyncAPI document has no message by the name the consumer expects (or none "
            "at all on that channel).",
        ),
        Rule(
            "compat-message-direction",
            Level.ERROR,
            None,
            "The consumer expects the provider to send a message the document only says it "
            "receives (or the reverse for a synchronous request message).",
        ),
        Rule(
            "compat-message-content-type-incompatible",
            Level.ERROR,
            None,
            "The message's content type is not the one the document gives the message.",
        ),
        Rule(
            "compat-message-body-incompatible",
            Level.ERROR,
            "message.payload.incompatible",
            "The message's contents do not fit the documented payload schema.",
        ),
        Rule(
            "compat-message-field-undefined",
            Level.ERROR,
            "message.payload.incompatible",
            "The consumer relies on a message field the payload schema does not define.",
        ),
        Rule(
            "compat-message-field-optional",
            Level.WARNING,
            None,
            "The consumer relies on a message field the payload schema does not mark required.",
        ),
        Rule(
            "compat-message-body-unvalidatable",
            Level.WARNING,
            "message.payload.unvalidatable",
            "The message's media type cannot be checked statically.",
        ),
        Rule(
            "compat-message-payload-unknown",
            Level.WARNING,
            "message.payload.unknown",
            "The message has contents but the document gives it no payload schema.",
        ),
        Rule(
            "compat-message-header-incompatible",
            Level.ERROR,
            "message.headers.incompatible",
            "A message header (Pact metadata) does not fit the message's headers schema.",
        ),
        Rule(
            "compat-message-header-undefined",
            Level.ERROR,
            "message.headers.incompatible",
            "The consumer expects a message header the headers schema does not define.",
        ),
        Rule(
            "compat-message-reference-malformed",
            Level.ERROR,
            "message.references.missing",
            "The interaction's `comments.references.AsyncAPI` names no `operationId`.",
        ),
        Rule(
            "compat-message-operation-unknown",
            Level.ERROR,
            "message.operation.unknown",
            "The AsyncAPI operation the interaction refers to does not exist.",
        ),
        Rule(
            "compat-message-reply-missing",
            Level.ERROR,
            "message.reply.missing",
            "A synchronous message's operation has no reply (or a reply without messages).",
        ),
        Rule(
            "compat-message-response-missing",
            Level.WARNING,
            "message.response.missing",
            "A synchronous message expects no response, though its operation has a reply.",
        ),
    )
}

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Request headers every HTTP stack may add: never "unknown" to a spec.
_STANDARD_REQUEST_HEADERS = frozenset(
    [
        "accept",
        "accept-charset",
        "accept-datetime",
        "accept-encoding",
        "accept-language",
        "authorization",
        "cache-control",
        "connection",
        "content-length",
        "content-md5",
        "content-type",
        "cookie",
        "date",
        "expect",
        "forwarded",
        "from",
        "host",
        "if-match",
        "if-modified-since",
        "if-none-match",
        "if-range",
        "if-unmodified-since",
        "max-forwards",
        "origin",
        "pragma",
        "proxy-authorization",
        "range",
        "referer",
        "te",
        "user-agent",
        "upgrade",
        "via",
        "warning",
        "x-requested-with",
        "dnt",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "front-end-https",
        "x-http-method-override",
        "x-att-deviceid",
        "x-wap-profile",
        "proxy-connection",
        "x-uidh",
        "x-csrf-token",
        "x-request-id",
        "x-correlation-id",
        "save-data",
    ]
)
_STANDARD_RESPONSE_HEADERS = frozenset(
    [
        "access-control-allow-origin",
        "access-control-allow-credentials",
        "access-control-expose-headers",
        "access-control-max-age",
        "access-control-allow-methods",
        "access-control-allow-headers",
        "accept-patch",
        "accept-ranges",
        "age",
        "allow",
        "alt-svc",
        "cache-control",
        "connection",
        "content-disposition",
        "content-encoding",
        "content-language",
        "content-length",
        "content-location",
        "content-md5",
        "content-range",
        "date",
        "delta-base",
        "etag",
        "expires",
        "im",
        "last-modified",
        "link",
        "location",
        "p3p",
        "pragma",
        "proxy-authenticate",
        "public-key-pins",
        "retry-after",
        "server",
        "set-cookie",
        "strict-transport-security",
        "trailer",
        "transfer-encoding",
        "tk",
        "upgrade",
        "vary",
        "via",
        "warning",
        "www-authenticate",
        "x-frame-options",
        "content-security-policy",
        "x-content-security-policy",
        "x-webkit-csp",
        "refresh",
        "status",
        "timing-allow-origin",
        "x-content-duration",
        "x-content-type-options",
        "x-powered-by",
        "x-request-id",
        "x-correlation-id",
        "x-ua-compatible",
        "x-xss-protection",
    ]
)


class _Operation(Struct):
    template: str
    method: str
    node: dict[str, Any]
    pointer: str
    parameters: list[tuple[dict[str, Any], Source | None, str]]
    """(parameter, the file it lives in, pointer of its definition)."""


class _Route(Struct):
    template: str
    pattern: re.Pattern[str]
    names: list[str]
    literal_weight: int
    item: dict[str, Any]
    first: str | None
    """The template's first segment when it is literal (`orders` of `/orders/{id}`)."""


_REUSE_TRIAL = 256
"""Keys of one kind looked up before deciding whether they repeat often enough (1 in 4)."""

_Said = tuple[str, str, str]
"""One problem as a check states it: (finding id, pointer below the interaction, message).
Findings (with their file positions) are made from these once an interaction is checked."""


class _Context(Struct):
    pact: Pact
    interaction: Interaction
    said: list[_Said] = field(default_factory=list)
    operation: str | None = None
    """`METHOD /template` of the spec operation the request matched, once known."""


class MatchedOperation(Struct, frozen=True):
    """The operation of a spec that a request reaches."""

    method: str
    """Lower case, as in the spec (`get`)."""
    template: str
    """The path template as the spec writes it (`/orders/{orderId}`)."""
    node: dict[str, Any]
    pointer: str
    """Where the operation is written (`/paths/~1orders~1{orderId}/get`)."""


class RouteTable:
    """Which operation of `spec` a method and path reach, by the rules `apigov compat` uses.

    Built once per spec; other analyzers (consumer-aware diff, the fleet graph) use it so they
    agree with the compatibility check on which operation an interaction calls.
    """

    def __init__(self, spec: ApiSpec) -> None:
        self._checker = _Checker(spec)
        self._found: dict[tuple[str, str], MatchedOperation | None] = {}

    def match(self, method: str, path: str) -> MatchedOperation | None:
        key = (method.lower(), path)
        if key not in self._found:
            found = self._checker.match(method, path)
            self._found[key] = (
                None
                if found is None
                else MatchedOperation(found.method, found.template, found.node, found.pointer)
            )
        return self._found[key]


def check_compatibility(pact: PactFile, spec: ApiSpec) -> list[Finding]:
    """Every problem that makes `pact`'s interactions incompatible with `spec`, as findings."""
    return _Checker(spec).check(read_pact(pact))


class _Checker:
    def __init__(self, spec: ApiSpec) -> None:
        self.spec = spec
        self.book = SchemaBook(spec)
        self.shapes = _Shapes(spec)
        self.places: dict[str, str] = {}
        self.operations: dict[tuple[str, str], _Operation] = {}
        self.credentials: dict[str, set[tuple[str, str]]] = {}
        self.verdicts: dict[Hashable, tuple[_Said, ...]] = {}
        # kind of check -> [keys looked up, keys found]
        self.tallies: dict[str, list[int]] = {}
        info = spec.document.get("info") if isinstance(spec.document.get("info"), dict) else {}
        assert isinstance(info, dict)
        # openapi-pact-comparator's documented `x-opc-config-*` switches, honoured as written.
        self.case_insensitive = info.get("x-opc-config-case-insensitive") is True
        self.base_paths = self._base_paths(info.get("x-opc-config-base-path"))
        self.routes = self._routes()
        self.by_first: dict[str, list[_Route]] = {}

    # ---- the spec ------------------------------------------------------------------------

    def _base_paths(self, configured: Any) -> list[str]:
        if isinstance(configured, str):
            return [configured.rstrip("/")]
        found: list[str] = []
        servers = self.spec.document.get("servers")
        for server in servers if isinstance(servers, list) else []:
            url = server.get("url") if isinstance(server, dict) else None
            if isinstance(url, str):
                path = urllib.parse.urlsplit(url).path if "://" in url else url
                path = re.sub(r"\{[^}]*\}", "", path).rstrip("/")
                if path.startswith("/") and path not in found:
                    found.append(path)
        return [*found, ""] if "" not in found else found

    def _routes(self) -> list[_Route]:
        routes: list[_Route] = []
        paths = self.spec.document.get("paths")
        for template, item in (paths if isinstance(paths, dict) else {}).items():
            resolved, _ = self.spec.deref(item)
            if not isinstance(resolved, dict):
                continue
            names: list[str] = []
            pattern = ""
            literal = 0
            for piece in re.split(r"(\{[^}/]+\})", template):
                if piece.startswith("{") and piece.endswith("}"):
                    # RFC 6570 decorations (`{id*}`, `{.id}`, `{;id}`) name the same parameter.
                    names.append(piece[1:-1].strip(".;*"))
                    pattern += "([^/]+)"
                else:
                    pattern += re.escape(piece)
                    literal += len(piece)
            flags = re.IGNORECASE if self.case_insensitive else 0
            first = template.lstrip("/").split("/")[0]
            routes.append(
                _Route(
                    template,
                    re.compile(f"^{pattern}/?$", flags),
                    names,
                    literal,
                    resolved,
                    # Case-insensitive specs (an opt-in switch) try every route.
                    None if "{" in first or self.case_insensitive else first,
                )
            )
        # Literal segments win over templated ones (`/pets/mine` before `/pets/{id}`).
        routes.sort(key=lambda r: (len(r.names), -r.literal_weight))
        return routes

    def candidates(self, relative: str) -> list[_Route]:
        """The routes a path may reach, in matching order: those whose first segment is the
        path's, or templated. Thousands of interactions then try a few patterns, not all."""
        first = relative.lstrip("/").split("/")[0]
        found = self.by_first.get(first)
        if found is None:
            found = [route for route in self.routes if route.first in (None, first)]
            self.by_first[first] = found
        return found

    def spec_place(self, pointer: str) -> str:
        """`file:line:column #pointer` of a place in the spec, for messages (cached)."""
        place = self.places.get(pointer)
        if place is None:
            location = self.spec.locate(pointer)
            place = f"{location} #{location.pointer or pointer}"
            self.places[pointer] = place
        return place

    # ---- the pact ------------------------------------------------------------------------

    def check(self, pact: Pact) -> list[Finding]:
        findings: list[Finding] = list(pact.warnings)
        service = pact.file.service
        consumers = (pact.file.consumer,) if pact.file.consumer else ()
        for interaction in pact.interactions:
            context = _Context(pact, interaction)
            if interaction.kind is Kind.HTTP:
                self.check_http(context)
            else:
                self.add(
                    context,
                    "compat-interaction-not-checked",
                    "",
                    f"{interaction.kind.value} interaction {interaction.label} is not checked "
                    "against an OpenAPI document (it describes HTTP only)",
                )
            if not context.said:
                continue
            request = interaction.request
            operation = context.operation or (
                f"{request.method} {request.path}" if request else None
            )
            for rule_id, sub_pointer, message in context.said:
                findings.append(
                    Finding(
                        id=rule_id,
                        level=CATALOGUE[rule_id].level,
                        message=message,
                        location=pact.locate(interaction.pointer + sub_pointer),
                        service=service,
                        operation=operation,
                        consumers=consumers,
                    )
                )
        return findings

    def add(self, context: _Context, rule_id: str, sub_pointer: str, message: str) -> None:
        context.said.append((rule_id, sub_pointer, message))

    def once(
        self,
        context: _Context,
        kind: str,
        key: Callable[[], tuple[Hashable, ...] | None],
        check: Callable[[], None],
    ) -> None:
        """Run `check`, or repeat what it said before for the same key.

        A key holds everything the check reads from the interaction (the operation, header
        names and values, the body's bytes...), so interactions with equal keys get equal
        verdicts: generated pacts repeat requests and bodies thousands of times, and each
        shape is validated once. A key of None (a body orjson cannot write) runs the check.
        A kind of check whose keys rarely repeat stops being keyed after a while: writing and
        keeping a key for every distinct body would cost time and, on 10,000 distinct bodies,
        some 150 MB of memory for nothing.
        """
        tally = self.tallies.setdefault(kind, [0, 0])
        looked, found = tally
        if looked >= _REUSE_TRIAL and found * 4 < looked:
            check()
            return
        made = key()
        if made is None:
            check()
            return
        tally[0] += 1
        said = self.verdicts.get(made)
        if said is None:
            start = len(context.said)
            check()
            self.verdicts[made] = tuple(context.said[start:])
        else:
            tally[1] += 1
            context.said.extend(said)

    def check_http(self, context: _Context) -> None:
        request = context.interaction.request
        response = context.interaction.response
        assert request is not None and response is not None
        operation = self.find_operation(context, request)
        if operation is None:
            return
        context.operation = f"{operation.method.upper()} {operation.template}"
        failing = response.status is not None and response.status >= 400
        where = operation.pointer
        # Keys hold what each check reads, written by orjson (one C call per part).
        headers = _json_key(request.headers)
        query = _json_key(request.query)
        query_in_path = _query_text(request.path)
        if not failing:
            # A consumer expecting 401/403 (or any failure) is testing the denial itself.
            self.once(
                context,
                "security",
                lambda: _key("security", where, headers, query, query_in_path),
                lambda: self.check_security(context, operation, request),
            )
        self.once(
            context,
            "headers",
            lambda: _key("headers", where, failing, headers),
            lambda: self.check_request_headers(context, operation, request, failing),
        )
        if not failing:
            self.once(
                context,
                "query",
                lambda: _key("query", where, query, query_in_path),
                lambda: self.check_query(context, operation, request),
            )
        self.once(
            context,
            "request",
            lambda: _key("request", where, failing, headers, _body_key(request.body)),
            lambda: self.check_request_body(context, operation, request, failing),
        )
        self.once(
            context,
            "accept",
            lambda: _key("accept", where, headers),
            lambda: self.check_accept(context, operation, request),
        )
        rules = response.rules.get("body")
        self.once(
            context,
            "response",
            lambda: _key(
                "response",
                where,
                -1 if response.status is None else response.status,
                _json_key(response.headers),
                _body_key(response.body),
                repr(rules) if rules else "",
            ),
            lambda: self.check_response(context, operation, response),
        )

    # ---- request -------------------------------------------------------------------------

    def find_operation(self, context: _Context, request: HttpRequest) -> _Operation | None:
        found = self.match(request.method, request.path)
        if found is None:
            self.add(
                context,
                "compat-request-path-or-method-unknown",
                "/request/path",
                f"{request.method} {request.path}: no operation in {self.spec.name} matches "
                "this method and path",
            )
        return found

    def match(self, method: str, raw_path: str) -> _Operation | None:
        """The operation a request's method and path reach: servers' base paths first, literal
        segments before templated ones, and path values that fit their parameters' schemas."""
        path = urllib.parse.unquote(raw_path.split("?")[0])
        if not path.startswith("/"):
            path = "/" + path
        method = method.lower()
        for base in self.base_paths:
            if base and not (
                path.lower().startswith(base.lower())
                if self.case_insensitive
                else path.startswith(base)
            ):
                continue
            relative = path[len(base) :] or "/"
            for route in self.candidates(relative):
                found = route.pattern.match(relative)
                if found is None or not isinstance(route.item.get(method), dict):
                    continue
                operation = self.operation(route, method)
                if self.path_values_fit(
                    operation, dict(zip(route.names, found.groups(), strict=True))
                ):
                    return operation
        return None

    def operation(self, route: _Route, method: str) -> _Operation:
        known = self.operations.get((route.template, method))
        if known is None:
            known = self._operation(route, method)
            self.operations[(route.template, method)] = known
        return known

    def _operation(self, route: _Route, method: str) -> _Operation:
        path_pointer = jp.join(("paths", route.template))
        node = route.item[method]
        merged: dict[tuple[str, str], tuple[dict[str, Any], Source | None, str]] = {}
        for owner, owner_pointer in (
            (route.item, path_pointer),
            (node, f"{path_pointer}/{method}"),
        ):
            listed = owner.get("parameters")
            for index, raw in enumerate(listed if isinstance(listed, list) else []):
                parameter, source = self.spec.deref(raw)
                if isinstance(parameter, dict) and isinstance(parameter.get("name"), str):
                    key = (str(parameter.get("in")), parameter["name"].lower())
                    merged[key] = (parameter, source, f"{owner_pointer}/parameters/{index}")
        return _Operation(
            route.template, method, node, f"{path_pointer}/{method}", list(merged.values())
        )

    def path_values_fit(self, operation: _Operation, values: Mapping[str, str]) -> bool:
        for parameter, source, _ in operation.parameters:
            if parameter.get("in") != "path" or parameter["name"] not in values:
                continue
            schema = parameter.get("schema")
            if schema is None:
                continue
            value = _coerce(
                _path_value(values[parameter["name"]], parameter), schema, self.spec, source
            )
            if self.book.problems(schema, source, value, response=False):
                return False
        return True

    def check_security(
        self, context: _Context, operation: _Operation, request: HttpRequest
    ) -> None:
        requirements = operation.node.get("security", self.spec.document.get("security"))
        if not isinstance(requirements, list) or not requirements:
            return
        schemes = (self.spec.document.get("components") or {}).get("securitySchemes") or {}
        headers = {name.lower() for name in request.headers}
        query = set((request.query or {}).keys()) | _query_in_path(request.path)

        def satisfied(requirement: Any) -> bool:
            if not isinstance(requirement, dict):
                return True
            for name in requirement:
                scheme, _ = self.spec.deref(schemes.get(name))
                if not isinstance(scheme, dict):
                    continue
                kind = scheme.get("type")
                if kind == "apiKey":
                    where = scheme.get("in")
                    key = str(scheme.get("name", ""))
                    # Cookies are left alone: pacts rarely record them faithfully, and the
                    # reference checker does not judge them either.
                    if (where == "header" and key.lower() not in headers) or (
                        where == "query" and key not in query
                    ):
                        return False
                elif kind == "http" and "authorization" not in headers:
                    return False
            return True

        if not any(satisfied(requirement) for requirement in requirements):
            names = " or ".join(
                "+".join(r) if isinstance(r, dict) and r else "none" for r in requirements
            )
            pointer = (
                f"{operation.pointer}/security" if "security" in operation.node else "/security"
            )
            self.add(
                context,
                "compat-request-authorization-missing",
                "/request",
                f"the request carries none of the credentials the operation requires ({names}, "
                f"{self.spec_place(pointer)})",
            )

    def security_parameters(self, operation: _Operation) -> set[tuple[str, str]]:
        """Headers and query parameters the operation's security schemes read: never unknown."""
        cached = self.credentials.get(operation.pointer)
        if cached is None:
            cached = self._security_parameters(operation)
            self.credentials[operation.pointer] = cached
        return cached

    def _security_parameters(self, operation: _Operation) -> set[tuple[str, str]]:
        known: set[tuple[str, str]] = set()
        schemes = (self.spec.document.get("components") or {}).get("securitySchemes") or {}
        requirements = operation.node.get("security", self.spec.document.get("security"))
        used = {
            name
            for requirement in (requirements if isinstance(requirements, list) else [])
            if isinstance(requirement, dict)
            for name in requirement
        }
        for name, scheme_raw in schemes.items() if isinstance(schemes, dict) else []:
            if name not in used:
                continue
            scheme, _ = self.spec.deref(scheme_raw)
            if isinstance(scheme, dict) and scheme.get("type") == "apiKey":
                known.add((str(scheme.get("in")), str(scheme.get("name", "")).lower()))
        return known

    def check_request_headers(
        self, context: _Context, operation: _Operation, request: HttpRequest, failing: bool
    ) -> None:
        sent = {name.lower(): (name, values) for name, values in request.headers.items()}
        credentials = self.security_parameters(operation)
        defined: set[str] = set()
        for parameter, source, pointer in operation.parameters:
            if parameter.get("in") != "header":
                continue
            name = parameter["name"].lower()
            defined.add(name)
            if failing:
                continue
            if name not in sent:
                if parameter.get("required") is True:
                    self.add(
                        context,
                        "compat-request-header-incompatible",
                        "/request/headers",
                        f"required header {parameter['name']!r} is missing "
                        f"({self.spec_place(pointer)})",
                    )
                continue
            original, values = sent[name]
            self.check_parameter_value(
                context,
                "compat-request-header-incompatible",
                f"/request/headers/{jp.escape(original)}",
                f"header {original!r}",
                ", ".join(values),
                parameter,
                source,
                pointer,
            )
        if failing:
            return
        for name, (original, _) in sent.items():
            if (
                name in defined
                or name in _STANDARD_REQUEST_HEADERS
                or ("header", name) in credentials
            ):
                continue
            self.add(
                context,
                "compat-request-header-unknown",
                f"/request/headers/{jp.escape(original)}",
                f"request header {original!r} is not defined for {operation.method.upper()} "
                f"{operation.template} ({self.spec_place(operation.pointer)})",
            )

    def check_query(self, context: _Context, operation: _Operation, request: HttpRequest) -> None:
        query = dict(request.query or {})
        for name, values in urllib.parse.parse_qs(
            urllib.parse.urlsplit(request.path).query, keep_blank_values=True
        ).items():
            query.setdefault(name, values)
        credentials = self.security_parameters(operation)
        defined: set[str] = set()
        for parameter, source, pointer in operation.parameters:
            if parameter.get("in") != "query":
                continue
            name = parameter["name"]
            defined.add(name)
            if parameter.get("style") == "deepObject":
                nested = _deep_object(name, query)
                defined.update(
                    key for key in query if _DEEP_KEY.match(key) and key.startswith(name + "[")
                )
                if nested is not None:
                    schema = parameter.get("schema")
                    typed = _coerce(nested, schema, self.spec, source)
                    problems = self.book.problems(schema, source, typed, response=False)
                    if problems:
                        self.add(
                            context,
                            "compat-request-query-incompatible",
                            f"/request/query/{jp.escape(name)}",
                            f"query parameter {name!r} does not fit its definition: "
                            f"{_describe(problems)} ({self.spec_place(pointer)})",
                        )
                    continue
            if name not in query:
                if parameter.get("required") is True:
                    self.add(
                        context,
                        "compat-request-query-incompatible",
                        "/request/query",
                        f"required query parameter {name!r} is missing "
                        f"({self.spec_place(pointer)})",
                    )
                continue
            values = query[name]
            schema = parameter.get("schema")
            resolved_schema, _ = self.spec.deref(schema, source)
            is_array = isinstance(resolved_schema, dict) and resolved_schema.get("type") == "array"
            text: str | list[str] = values if is_array else values[0]
            self.check_parameter_value(
                context,
                "compat-request-query-incompatible",
                f"/request/query/{jp.escape(name)}",
                f"query parameter {name!r}",
                text,
                parameter,
                source,
                pointer,
            )
        for name in query:
            if name in defined or ("query", name.lower()) in credentials:
                continue
            self.add(
                context,
                "compat-request-query-unknown",
                f"/request/query/{jp.escape(name)}",
                f"query parameter {name!r} is not defined for {operation.method.upper()} "
                f"{operation.template} ({self.spec_place(operation.pointer)})",
            )

    def check_parameter_value(
        self,
        context: _Context,
        rule_id: str,
        sub_pointer: str,
        what: str,
        text: str | list[str],
        parameter: dict[str, Any],
        source: Source | None,
        pointer: str,
    ) -> None:
        schema = parameter.get("schema")
        if schema is None:
            content = parameter.get("content")
            if isinstance(content, dict) and content:
                media = next(iter(content.values()))
                schema = media.get("schema") if isinstance(media, dict) else None
        if schema is None:
            return
        value = _coerce(text, schema, self.spec, source)
        problems = self.book.problems(schema, source, value, response=False)
        if problems:
            self.add(
                context,
                rule_id,
                sub_pointer,
                f"{what} value {_short(text)} does not fit its definition: "
                f"{_describe(problems)} ({self.spec_place(pointer)})",
            )

    def check_request_body(
        self, context: _Context, operation: _Operation, request: HttpRequest, failing: bool
    ) -> None:
        raw_body, body_source = self.spec.deref(operation.node.get("requestBody"))
        content = raw_body.get("content") if isinstance(raw_body, dict) else None
        content = content if isinstance(content, dict) and content else None
        content_type = _header(request.headers, "content-type")
        body_pointer = f"{operation.pointer}/requestBody"
        media: str | None = None
        if content_type is not None:
            if content is None:
                self.add(
                    context,
                    "compat-request-content-type-unknown",
                    "/request/headers",
                    f"the request sends Content-Type {content_type!r} but "
                    f"{operation.method.upper()} {operation.template} takes no request body "
                    f"({self.spec_place(operation.pointer)})",
                )
            else:
                media = _negotiate(content_type, content)
                if media is None:
                    self.add(
                        context,
                        "compat-request-content-type-incompatible",
                        "/request/headers",
                        f"request Content-Type {content_type!r} is not one of "
                        f"{', '.join(content)} ({self.spec_place(body_pointer)})",
                    )
        elif content is not None and _has_body(request.body) and request.body.value != "":
            self.add(
                context,
                "compat-request-content-type-missing",
                "/request",
                f"the request has a body but no Content-Type; the operation accepts "
                f"{', '.join(content)} ({self.spec_place(body_pointer)})",
            )
        if failing:
            return
        if not _has_body(request.body):
            if isinstance(raw_body, dict) and raw_body.get("required") is True:
                self.add(
                    context,
                    "compat-request-body-incompatible",
                    "/request",
                    f"the operation requires a request body and the request has none "
                    f"({self.spec_place(body_pointer)})",
                )
            return
        if content is None:
            self.add(
                context,
                "compat-request-body-unknown",
                "/request/body",
                f"the request has a body but {operation.method.upper()} {operation.template} "
                f"defines no request body ({self.spec_place(operation.pointer)})",
            )
            return
        if media is None:
            if content_type is not None:
                return
            media = _negotiate("application/json", content) or next(iter(content))
        self.check_body(
            context,
            request.body,
            content,
            media,
            body_source,
            f"{body_pointer}/content/{jp.escape(media)}",
            "request",
        )

    def check_accept(self, context: _Context, operation: _Operation, request: HttpRequest) -> None:
        accept = _header(request.headers, "accept")
        if accept is None:
            return
        produced: list[str] = list(self.swagger_produces(operation))
        responses = operation.node.get("responses")
        for raw in (responses if isinstance(responses, dict) else {}).values():
            response, _ = self.spec.deref(raw)
            content = response.get("content") if isinstance(response, dict) else None
            if isinstance(content, dict):
                produced.extend(content)
        if not produced:
            self.add(
                context,
                "compat-request-accept-unknown",
                "/request/headers",
                f"the request sends Accept {accept!r} but {operation.method.upper()} "
                f"{operation.template} documents no response media types "
                f"({self.spec_place(operation.pointer)})",
            )
            return
        if not any(
            _media_matches(accepted, media)
            for accepted in _accept_list(accept)
            for media in produced
        ):
            self.add(
                context,
                "compat-request-accept-incompatible",
                "/request/headers",
                f"request Accept {accept!r} matches none of {', '.join(dict.fromkeys(produced))} "
                f"({self.spec_place(operation.pointer + '/responses')})",
            )

    # ---- response ------------------------------------------------------------------------

    def check_response(
        self, context: _Context, operation: _Operation, response: HttpResponse
    ) -> None:
        responses = operation.node.get("responses")
        responses = responses if isinstance(responses, dict) else {}
        status = response.status if response.status is not None else 200
        key = next(
            (
                k
                for k in (str(status), f"{str(status)[0]}XX", f"{str(status)[0]}xx")
                if k in responses
            ),
            None,
        )
        if key is None:
            if "default" in responses:
                key = "default"
                self.add(
                    context,
                    "compat-response-status-default",
                    "/response/status",
                    f"status {status} is only covered by the default response of "
                    f"{operation.method.upper()} {operation.template} "
                    f"({self.spec_place(operation.pointer + '/responses/default')})",
                )
            else:
                self.add(
                    context,
                    "compat-response-status-unknown",
                    "/response/status",
                    f"status {status} is not documented for {operation.method.upper()} "
                    f"{operation.template} ({self.spec_place(operation.pointer + '/responses')})",
                )
                return
        pointer = f"{operation.pointer}/responses/{jp.escape(key)}"
        documented, source = self.spec.deref(responses[key])
        documented = documented if isinstance(documented, dict) else {}
        content = documented.get("content")
        content = content if isinstance(content, dict) and content else None
        produces = self.swagger_produces(operation)
        self.check_response_headers(context, response, documented, source, pointer)
        content_type = _header(response.headers, "content-type")
        media: str | None = None
        if content_type is not None and content is None and produces:
            # Swagger 2.0: `produces` names the media types even when no schema is given.
            if not any(_media_matches(media, content_type) for media in produces):
                self.add(
                    context,
                    "compat-response-content-type-incompatible",
                    "/response/headers",
                    f"expected Content-Type {content_type!r} is not one of "
                    f"{', '.join(produces)} ({self.spec_place(operation.pointer)})",
                )
                return
        elif content_type is not None:
            if content is None:
                self.add(
                    context,
                    "compat-response-content-type-unknown",
                    "/response/headers",
                    f"the consumer expects Content-Type {content_type!r} but the response "
                    f"documents no content ({self.spec_place(pointer)})",
                )
            else:
                media = _negotiate(content_type, content)
                if media is None:
                    self.add(
                        context,
                        "compat-response-content-type-incompatible",
                        "/response/headers",
                        f"expected Content-Type {content_type!r} is not one of "
                        f"{', '.join(content)} ({self.spec_place(pointer)})",
                    )
                    return
        if not _has_body(response.body):
            return
        if content is None:
            self.add(
                context,
                "compat-response-body-unknown",
                "/response/body",
                f"the consumer expects a body but the response documents none "
                f"({self.spec_place(pointer)})",
            )
            return
        if media is None:
            media = _negotiate("application/json", content) or next(iter(content))
        self.check_body(
            context,
            response.body,
            content,
            media,
            source,
            f"{pointer}/content/{jp.escape(media)}",
            "response",
            rules=response.rules.get("body", {}),
        )

    def swagger_produces(self, operation: _Operation) -> list[str]:
        """Swagger 2.0's `produces` for an operation (its own, else the document's)."""
        if not self.spec.is_swagger2:
            return []
        original = self.spec.source.data
        item = (original.get("paths") or {}).get(operation.template)
        node = item.get(operation.method) if isinstance(item, dict) else None
        produces = node.get("produces") if isinstance(node, dict) else None
        if produces is None:
            produces = original.get("produces")
        return [str(m) for m in produces] if isinstance(produces, list) else []

    def check_response_headers(
        self,
        context: _Context,
        response: HttpResponse,
        documented: dict[str, Any],
        source: Source | None,
        pointer: str,
    ) -> None:
        headers = documented.get("headers")
        headers = headers if isinstance(headers, dict) else {}
        by_name = {name.lower(): name for name in headers}
        for name, values in response.headers.items():
            lower = name.lower()
            if lower == "content-type":
                continue
            sub = f"/response/headers/{jp.escape(name)}"
            if lower not in by_name:
                if lower in _STANDARD_RESPONSE_HEADERS:
                    self.add(
                        context,
                        "compat-response-header-undefined",
                        sub,
                        f"standard response header {name!r} is not documented "
                        f"({self.spec_place(pointer)})",
                    )
                else:
                    self.add(
                        context,
                        "compat-response-header-unknown",
                        sub,
                        f"the consumer expects response header {name!r}, which is not "
                        f"documented ({self.spec_place(pointer)})",
                    )
                continue
            header, header_source = self.spec.deref(headers[by_name[lower]], source)
            if isinstance(header, dict):
                self.check_parameter_value(
                    context,
                    "compat-response-header-incompatible",
                    sub,
                    f"response header {name!r}",
                    ", ".join(values),
                    header,
                    header_source,
                    f"{pointer}/headers/{jp.escape(by_name[lower])}",
                )

    # ---- bodies --------------------------------------------------------------------------

    def check_body(
        self,
        context: _Context,
        body: Body,
        content: dict[str, Any],
        media: str,
        source: Source | None,
        media_pointer: str,
        side: str,
        rules: Mapping[str, RuleList] | None = None,
    ) -> None:
        media_node, media_source = self.spec.deref(content.get(media), source)
        schema = media_node.get("schema") if isinstance(media_node, dict) else None
        form = _form_fields(media, body)
        if form is None and (
            not _is_json_media(media)
            or (body.content_type is not None and not _is_json_media(body.content_type))
        ):
            self.add(
                context,
                f"compat-{side}-body-unvalidatable",
                f"/{side}/body",
                f"the {side} body has media type {media!r}, which apigov does not check "
                f"statically ({self.spec_place(media_pointer)})",
            )
            return
        if schema is None:
            if side == "response":
                self.add(
                    context,
                    "compat-response-body-unknown",
                    "/response/body",
                    f"the response documents no schema for {media} "
                    f"({self.spec_place(media_pointer)})",
                )
            return
        value: Any = body.value
        if form is not None:
            value = _coerce_fields(form, schema, self.spec, media_source)
        elif isinstance(value, str) and value and body.content_type is None:
            value = _maybe_json(value)
        problems = self.book.problems(schema, media_source, value, response=side == "response")
        schema_place = self.spec_place(f"{media_pointer}/schema")
        for problem in problems[:5]:
            where = problem.path or "the body"
            tokens = [jp.unescape(t) for t in problem.path.split("/")[1:]]
            place = self.schema_place_at(f"{media_pointer}/schema", media_source, tokens)
            undefined = _UNDEFINED.match(problem.message)
            if side == "response" and undefined:
                for name in re.findall(r"'((?:[^'\\]|\\.)*)'", undefined[1]):
                    self.add(
                        context,
                        "compat-response-field-undefined",
                        f"/response/body{body.within}{problem.path}/{jp.escape(name)}",
                        f"the consumer relies on response field {problem.path}/{name}, which "
                        f"the schema does not define (schema {place or schema_place})",
                    )
                continue
            self.add(
                context,
                f"compat-{side}-body-incompatible",
                f"/{side}/body{body.within}{problem.path}",
                f"{side} body at {where}: {problem.message} (schema {place or schema_place})",
            )
        if side == "response" and not problems:
            self.check_reliance(
                context, body, value, schema, media_source, schema_place, rules or {}
            )

    def schema_place_at(
        self, pointer: str, source: Source | None, tokens: Sequence[str]
    ) -> str | None:
        """`file:line #pointer` of the schema that describes the value at `tokens`.

        Follows local `$ref`s and looks into allOf members, so the message names the schema
        the author wrote (`#/components/schemas/Pet/properties/id`), not the reference to it.
        """
        if source is not None:
            return None  # schemas in other files: the media type's place is named instead
        try:
            node: Any = jp.resolve(self.spec.document, pointer)
        except (jp.PointerError, KeyError, TypeError):
            return None
        for token in [*tokens, None]:
            node, node_source, followed = self.spec.follow(node, None, pointer)
            if node_source is not None:
                break  # the schema lives in another file: name the last place in this one
            pointer = followed
            if token is None or not isinstance(node, dict):
                break
            if token.isdigit() and "items" in node:
                pointer, node = f"{pointer}/items", node["items"]
                continue
            properties = node.get("properties")
            if isinstance(properties, dict) and token in properties:
                pointer = f"{pointer}/properties/{jp.escape(token)}"
                node = properties[token]
                continue
            break  # allOf and friends: the nearest named schema
        return self.spec_place(pointer)

    def check_reliance(
        self,
        context: _Context,
        body: Body,
        value: Any,
        schema: Any,
        source: Source | None,
        schema_place: str,
        rules: Mapping[str, RuleList],
    ) -> None:
        """Fields the consumer names that the schema does not promise (not required): warn."""
        # One finding per response, not per field: a consumer of a large, mostly optional
        # schema would otherwise drown its real problems in dozens of warnings.
        optional, count = self.shapes.optional_fields(value, schema, source)
        if optional:
            self.add(
                context,
                "compat-response-field-optional",
                f"/response/body{body.within}{optional[0]}",
                reliance_message("response", optional, count, schema_place),
            )
        self.check_matchers(context, body, schema, source, schema_place, rules)

    def check_matchers(
        self,
        context: _Context,
        body: Body,
        schema: Any,
        source: Source | None,
        schema_place: str,
        rules: Mapping[str, RuleList],
    ) -> None:
        """A matcher the consumer relies on must be one the schema's values can satisfy."""
        for rule_path, rule_list in rules.items():
            tokens = parse_rule_path(rule_path)
            node, _ = _schema_at(self.spec, schema, source, tokens)
            if not isinstance(node, dict):
                continue
            for matcher in rule_list.matchers:
                problem = _unsatisfiable(matcher, node)
                if problem is None:
                    continue
                pointer = "".join(
                    "/" + jp.escape(str(t)) for t in tokens if not isinstance(t, int) or t >= 0
                ).replace("/*", "")
                self.add(
                    context,
                    "compat-matcher-unsatisfiable",
                    f"/response/body{body.within}{pointer}",
                    f"the consumer's {matcher.kind} matcher at {rule_path} {problem} "
                    f"(schema {schema_place})",
                )


_UNDEFINED = re.compile(
    r"^Unevaluated properties are not allowed \((.*) (?:was|were) unexpected\)$"
)


def _schema_at(
    spec: ApiSpec | AsyncApiSpec, schema: Any, source: Source | None, tokens: Sequence[str | int]
) -> tuple[Any, Source | None]:
    """The schema describing the value at a body rule path (None when it cannot be told)."""
    node, source = spec.deref(schema, source)
    for token in tokens:
        if not isinstance(node, dict):
            return None, None
        if isinstance(token, int):  # an index or [*]
            node, source = spec.deref(node.get("items"), source)
            continue
        if token == "*":
            return None, None
        found = None
        for part, part_source in _all_of(spec, node, source):
            properties = part.get("properties")
            if isinstance(properties, dict) and token in properties:
                found = spec.deref(properties[token], part_source)
                break
        if found is None:
            return None, None
        node, source = found
    return node, source


_MATCHER_TYPES = {
    "integer": {"integer", "number", "string"},
    "decimal": {"number", "string"},
    "number": {"integer", "number", "string"},
    "boolean": {"boolean", "string"},
    "null": {"null"},
}


def _unsatisfiable(matcher: Matcher, schema: dict[str, Any]) -> str | None:
    """Why no value the schema allows can pass the matcher (None when some can)."""
    if matcher.kind == "regex":
        pattern = str(matcher.options.get("regex", ""))
        try:
            compiled = re.compile(pattern)
        except re.error:
            return f"has a pattern Python cannot read ({pattern!r})"
        allowed = schema.get("enum")
        if "const" in schema:
            allowed = [schema["const"]]
        if isinstance(allowed, list) and allowed:
            texts = [v for v in allowed if isinstance(v, str)]
            if len(texts) == len(allowed) and not any(compiled.fullmatch(v) for v in texts):
                return f"/{pattern}/ matches none of the values the schema allows: {texts}"
        return None
    kinds = _MATCHER_TYPES.get(matcher.kind)
    declared = schema.get("type")
    types = {declared} if isinstance(declared, str) else set(declared or [])
    if schema.get("nullable") is True:
        types.add("null")
    if kinds is not None and types and not types & kinds:
        return f"needs a {matcher.kind} but the schema says {'/'.join(sorted(types))}"
    return None


_Shape = tuple[dict[str, tuple[Any, Source | None]], frozenset[str]]


class _Shapes:
    """Object schemas as (properties with their files, required names), merged over allOf.

    Cached by schema node: a pact's interactions meet the same few schemas over and over.
    """

    def __init__(self, spec: ApiSpec | AsyncApiSpec) -> None:
        self.spec = spec
        # id(schema node) -> (the node, kept alive so its id stays unique; its file; the shape)
        self.cache: dict[int, tuple[Any, Source | None, tuple[Any, Source | None, _Shape]]] = {}
        # id(properties mapping) -> (the mapping, kept alive; its names that are not required)
        self.optional_cache: dict[int, tuple[dict[str, Any], frozenset[str]]] = {}
        # id(schema node) -> (the node, kept alive; its file; what counting needs of it)
        self.counting: dict[int, tuple[Any, Source | None, _Counting]] = {}

    def of(self, schema: Any, source: Source | None) -> tuple[Any, Source | None, _Shape]:
        known = self.cache.get(id(schema))
        if known is not None and known[1] is source:
            return known[2]
        resolved, resolved_source = self.spec.deref(schema, source)
        properties: dict[str, tuple[Any, Source | None]] = {}
        required: set[str] = set()
        if isinstance(resolved, dict):
            for part, part_source in _all_of(self.spec, resolved, resolved_source):
                props = part.get("properties")
                if isinstance(props, dict):
                    for name, sub in props.items():
                        properties.setdefault(name, (sub, part_source))
                if isinstance(part.get("required"), list):
                    required.update(str(name) for name in part["required"])
        entry = (resolved, resolved_source, (properties, frozenset(required)))
        self.cache[id(schema)] = (schema, source, entry)
        return entry

    def optional_fields(
        self, value: Any, schema: Any, source: Source | None, shown: int = 8
    ) -> tuple[list[str], int]:
        """The fields in `value` that its schema defines but does not require: the paths of
        the first `shown` of them, and how many there are in all."""
        found = _Optional(shown)
        self._collect_optional(value, schema, source, "", 0, found)
        return found.paths, found.count

    def _collect_optional(
        self, value: Any, schema: Any, source: Source | None, path: str, depth: int, out: _Optional
    ) -> None:
        if depth > 32:
            return
        if len(out.paths) >= out.shown:
            # Enough paths to show: the rest only adds to the count, which a leaner walk does.
            out.count += self._count_optional(value, self._counting(schema, source), depth)
            return
        resolved, source, (properties, required) = self.of(schema, source)
        if not isinstance(resolved, dict):
            return
        if isinstance(value, list):
            items = resolved.get("items")
            if items is not None and value:
                self._collect_optional(value[0], items, source, f"{path}/0", depth + 1, out)
            return
        if not isinstance(value, dict) or not properties:
            return
        # Large bodies are mostly optional fields: count them with one set intersection and
        # spell paths only for the few a message shows.
        optional = self._optional_names(properties, required)
        out.count += len(value.keys() & optional)
        spell = len(out.paths) < out.shown
        for name, child in value.items():
            nested = isinstance(child, dict | list)
            if not (nested or spell):
                continue
            found = properties.get(name)
            if found is None:
                continue
            child_path = f"{path}/{jp.escape(name)}" if spell else ""
            if spell and name in optional:
                out.paths.append(child_path)
                spell = len(out.paths) < out.shown
            if nested:
                self._collect_optional(child, found[0], found[1], child_path, depth + 1, out)
                spell = len(out.paths) < out.shown

    def _count_optional(self, value: Any, plan: _Counting, depth: int) -> int:
        """How many optional fields `value` holds: `_collect_optional` without the paths.

        Most of a large body is counted here, so it visits only the children that can hold
        optional fields (those whose schema lists properties or items), found with one set
        intersection per object instead of a look at every field.
        """
        if depth > 32:
            return 0
        if type(value) is list:
            if value and plan.items is not None:
                return self._count_optional(value[0], self._counting(*plan.items), depth + 1)
            return 0
        if type(value) is not dict or not plan.properties:
            return 0
        count = len(value.keys() & plan.optional)
        for name in value.keys() & plan.structured:
            child = value[name]
            if type(child) is dict or type(child) is list:
                sub, sub_source = plan.properties[name]
                count += self._count_optional(child, self._counting(sub, sub_source), depth + 1)
        return count

    def _counting(self, schema: Any, source: Source | None) -> _Counting:
        known = self.counting.get(id(schema))
        if known is not None and known[0] is schema and known[1] is source:
            return known[2]
        resolved, resolved_source, (properties, required) = self.of(schema, source)
        items = resolved.get("items") if isinstance(resolved, dict) else None
        if not isinstance(resolved, dict):
            properties = {}
        structured = frozenset(
            name
            for name, (sub, sub_source) in properties.items()
            if self._may_hold_fields(sub, sub_source)
        )
        plan = _Counting(
            properties,
            self._optional_names(properties, required) if properties else frozenset(),
            structured,
            None if items is None else (items, resolved_source),
        )
        self.counting[id(schema)] = (schema, source, plan)
        return plan

    def _may_hold_fields(self, schema: Any, source: Source | None) -> bool:
        """Whether `_collect_optional` could count anything below a value of this schema."""
        resolved, _, (properties, _) = self.of(schema, source)
        return isinstance(resolved, dict) and (bool(properties) or "items" in resolved)

    def _optional_names(
        self, properties: dict[str, Any], required: frozenset[str]
    ) -> frozenset[str]:
        known = self.optional_cache.get(id(properties))
        if known is None or known[0] is not properties:
            known = (properties, frozenset(properties.keys() - required))
            self.optional_cache[id(properties)] = known
        return known[1]


def reliance_message(subject: str, shown: Sequence[str], count: int, schema_place: str) -> str:
    """ "the consumer relies on response fields /a, /b and 3 more, which the schema ..."."""
    more = f" and {count - len(shown)} more" if count > len(shown) else ""
    noun = "field" if count == 1 else "fields"
    return (
        f"the consumer relies on {subject} {noun} {', '.join(shown)}{more}, which the schema "
        f"does not mark required (schema {schema_place})"
    )


class _Counting(Struct, frozen=True):
    """What counting optional fields needs of one schema, worked out once."""

    properties: dict[str, tuple[Any, Source | None]]
    optional: frozenset[str]
    structured: frozenset[str]
    """Properties whose schema lists properties or items: the only ones worth visiting."""
    items: tuple[Any, Source | None] | None


class _Optional:
    """Optional fields found so far: a count, and the paths of the first few."""

    __slots__ = ("count", "paths", "shown")

    def __init__(self, shown: int) -> None:
        self.shown = shown
        self.count = 0
        self.paths: list[str] = []


def _all_of(
    spec: ApiSpec | AsyncApiSpec, schema: dict[str, Any], source: Source | None, depth: int = 0
) -> Iterable[tuple[dict[str, Any], Source | None]]:
    yield schema, source
    if depth > 16:
        return
    for member in schema.get("allOf", []) if isinstance(schema.get("allOf"), list) else []:
        resolved, member_source = spec.deref(member, source)
        if isinstance(resolved, dict):
            yield from _all_of(spec, resolved, member_source, depth + 1)


# ---- values and media types --------------------------------------------------------------


def _coerce(text: Any, schema: Any, spec: ApiSpec, source: Source | None) -> Any:
    """A parameter's text as the JSON value its schema describes (simple/form style)."""
    resolved, source = spec.deref(schema, source)
    if not isinstance(resolved, dict):
        return text
    if isinstance(text, dict):
        properties = resolved.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        return {
            key: _coerce(value, properties[key], spec, source) if key in properties else value
            for key, value in text.items()
        }
    kind = _schema_type(spec, resolved, source)
    if kind == "array":
        parts = text if isinstance(text, list) else text.split(",")
        if isinstance(text, list) and len(text) == 1:
            parts = text[0].split(",")
        items = resolved.get("items", {})
        return [_coerce(part.strip(), items, spec, source) for part in parts]
    if isinstance(text, list):
        text = text[0] if text else ""
    if kind == "object":
        pieces = [piece.strip() for piece in text.split(",")]
        if all("=" in piece for piece in pieces):
            pairs = [piece.split("=", 1) for piece in pieces]
        else:
            pairs = [pieces[i : i + 2] for i in range(0, len(pieces) - 1, 2)]
        properties = resolved.get("properties") or {}
        return {key: _coerce(value, properties.get(key, {}), spec, source) for key, value in pairs}
    if kind in ("integer", "number"):
        try:
            number = float(text)
        except ValueError:
            return text
        return (
            int(number)
            if number.is_integer() and "." not in text and "e" not in text.lower()
            else number
        )
    if kind == "boolean":
        return {"true": True, "false": False}.get(text, text)
    return text


_DEEP_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\]]*\])+)")


def _deep_object(name: str, query: Mapping[str, list[str]]) -> dict[str, Any] | None:
    """`person[address][city]=x` style parameters folded into one object (values as text)."""
    found: dict[str, Any] = {}
    for key, values in query.items():
        match = _DEEP_KEY.match(key)
        if match is None or match[1] != name:
            continue
        keys = re.findall(r"\[([^\]]*)\]", match[2])
        node = found
        for part in keys[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            node[keys[-1]] = values[0] if values else ""
    return found or None


def _has_body(body: Body) -> bool:
    """A body the pact states: `"body": null` is how some generators write "no body"."""
    return body.present and body.value is not None


def _path_value(text: str, parameter: Mapping[str, Any]) -> str | list[str]:
    """A path segment in the parameter's style (simple, label `.a.b`, matrix `;a;b`) as text."""
    style = parameter.get("style", "simple")
    name = str(parameter.get("name", ""))
    if style == "label" and text.startswith("."):
        return text[1:].replace(".", ",")
    if style == "matrix" and text.startswith(";"):
        pieces = [p.removeprefix(name + "=") for p in text[1:].split(";")]
        return ",".join(pieces)
    return text


def _schema_type(spec: ApiSpec, schema: dict[str, Any], source: Source | None) -> str | None:
    declared = schema.get("type")
    if isinstance(declared, list):
        declared = next((t for t in declared if t != "null"), None)
    if isinstance(declared, str):
        return declared
    for combiner in ("allOf", "oneOf", "anyOf"):
        members = schema.get(combiner)
        if isinstance(members, list):
            kinds = set()
            for member in members:
                resolved, member_source = spec.deref(member, source)
                if isinstance(resolved, dict):
                    kinds.add(_schema_type(spec, resolved, member_source))
            kinds.discard(None)
            if len(kinds) == 1:
                return kinds.pop()
    return None


def _form_fields(media: str, body: Body) -> dict[str, str | list[str]] | None:
    """Form bodies (urlencoded or multipart) as field -> text, or None for other media."""
    main, params = _media_parts(body.content_type or media)
    value = body.value
    if main == "application/x-www-form-urlencoded":
        if isinstance(value, dict):
            return {str(k): v if isinstance(v, list) else str(v) for k, v in value.items()}
        if not isinstance(value, str):
            return None
        fields: dict[str, str | list[str]] = {}
        for name, text in urllib.parse.parse_qsl(value, keep_blank_values=True):
            known = fields.get(name)
            fields[name] = text if known is None else [*_as_list(known), text]
        return fields
    if main == "multipart/form-data":
        if isinstance(value, dict):
            return {str(k): v if isinstance(v, list) else str(v) for k, v in value.items()}
        if not isinstance(value, str) or not params.get("boundary"):
            return None
        fields = {}
        for part in value.split("--" + params["boundary"]):
            head, _, text = part.partition("\r\n\r\n")
            found = re.search(r'name="([^"]*)"', head)
            if found:
                fields[found[1]] = text.removesuffix("\r\n")
        return fields
    return None


def _as_list(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


def _coerce_fields(
    fields: Mapping[str, str | list[str]], schema: Any, spec: ApiSpec, source: Source | None
) -> dict[str, Any]:
    resolved, source = spec.deref(schema, source)
    properties = resolved.get("properties") if isinstance(resolved, dict) else None
    properties = properties if isinstance(properties, dict) else {}
    return {
        name: _coerce(text, properties[name], spec, source) if name in properties else text
        for name, text in fields.items()
    }


def _header(headers: Mapping[str, list[str]], name: str) -> str | None:
    for key, values in headers.items():
        if key.lower() == name:
            return ", ".join(values)
    return None


def _media_parts(media: str) -> tuple[str, dict[str, str]]:
    main, *params = media.split(";")
    parsed = {}
    for param in params:
        key, _, value = param.partition("=")
        parsed[key.strip().lower()] = value.strip().strip('"')
    return main.strip().lower(), parsed


def _media_matches(pattern: str, media: str) -> bool:
    """Does `media` fall under `pattern`? Wildcards either side; pattern params must agree."""
    want, want_params = _media_parts(pattern)
    have, have_params = _media_parts(media)
    if want in ("*/*", "*") or have in ("*/*", "*"):
        return True
    want_type, _, want_sub = want.partition("/")
    have_type, _, have_sub = have.partition("/")
    if want_type != have_type:
        return False
    if want_sub not in ("*", have_sub) and have_sub != "*":
        return False
    return all(have_params.get(k) == v for k, v in want_params.items() if k not in ("q", "charset"))


def _negotiate(content_type: str, content: Mapping[str, Any]) -> str | None:
    """The spec media type a concrete Content-Type selects: exact first, then wildcards."""
    main, params = _media_parts(content_type)
    for media in content:
        media_main, media_params = _media_parts(media)
        if media_main == main and media_params == {
            k: v for k, v in params.items() if k != "charset"
        }:
            return media
    for media in content:
        media_main, media_params = _media_parts(media)
        if media_main == main and all(
            media_params.get(k) == v for k, v in params.items() if k != "charset"
        ):
            return media
    for media in content:
        if _media_matches(media, content_type):
            return media
    return None


def _accept_list(accept: str) -> list[str]:
    return [part.strip() for part in accept.split(",") if part.strip()]


def _is_json_media(media: str) -> bool:
    main, _ = _media_parts(media)
    return main in ("*/*", "application/*") or main.endswith("/json") or main.endswith("+json")


def _maybe_json(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def _query_in_path(path: str) -> set[str]:
    if "?" not in path:
        return set()
    return set(urllib.parse.parse_qs(urllib.parse.urlsplit(path).query))


def _query_text(path: str) -> str:
    """The query string written into a request path (most pacts keep it apart)."""
    return path.partition("?")[2]


def _key(*parts: Hashable) -> tuple[Hashable, ...] | None:
    """A verdict key, or None when a part could not be written (None; the check then runs)."""
    return None if None in parts else parts


def _json_key(value: Any) -> bytes | None:
    try:
        return orjson.dumps(value)
    except TypeError:
        return None


def _body_key(body: Body) -> tuple[bool, str | None, str, bytes] | None:
    """Everything a body check reads from a body, as a hashable key (None: cannot be had)."""
    if not body.present:
        return (False, body.content_type, body.within, b"")
    value = _json_key(body.value)
    return None if value is None else (True, body.content_type, body.within, value)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _describe(problems: list[Any]) -> str:
    first = problems[0]
    where = f" at {first.path}" if first.path else ""
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{first.message}{where}{more}"

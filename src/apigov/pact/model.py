"""Typed Pact interactions, read from every specification version's shape (V1 to V4).

`read_pact(pact_file)` turns a loaded `PactFile` into a `Pact`: HTTP interactions, V3 messages,
V4 `Synchronous/HTTP`, `Asynchronous/Messages` and `Synchronous/Messages`, with provider states,
matching rules normalised to one shape (category -> path -> `RuleList`), generators, and V4's
pending flag and comments. Fields no version defines become warning findings; structure that
cannot be read (an interaction that is not an object, a request without a method) raises
`InputError`, because no analysis can be trusted on it.
"""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import orjson
from msgspec import Struct, field

from apigov.findings import Finding, Level, Location
from apigov.spec import pointer as jp
from apigov.spec.errors import InputError
from apigov.spec.model import PactFile


class Kind(StrEnum):
    HTTP = "Synchronous/HTTP"
    MESSAGE = "Asynchronous/Messages"
    SYNC_MESSAGE = "Synchronous/Messages"


class Matcher(Struct, frozen=True):
    """One matching rule: its kind (`type`, `regex`, `min`, ...) and its options."""

    kind: str
    options: Mapping[str, Any] = field(default_factory=dict)


class RuleList(Struct, frozen=True):
    """The matchers for one path, and how their verdicts combine (AND or OR)."""

    matchers: tuple[Matcher, ...]
    combine: str = "AND"


MatchingRules = dict[str, dict[str, RuleList]]
"""category (`body`, `header`, `query`, `path`, `status`, `metadata`) -> path -> rules.

Body paths keep Pact's JSONPath-like spelling (`$.items[*].id`); header and query paths are
the header or parameter name; the `path` and `status` categories use the single key `$`.
"""


class Body(Struct):
    """A request, response or message body. `present` False means the pact says nothing."""

    present: bool = False
    value: Any = None
    content_type: str | None = None
    within: str = ""
    """Where the value sits below the body's own key: `/content` for V4 bodies."""

    @property
    def is_json(self) -> bool:
        media = (self.content_type or "").split(";")[0].strip().lower()
        return media == "" or media.endswith("/json") or media.endswith("+json")


class HttpRequest(Struct):
    method: str
    path: str
    query: dict[str, list[str]] | None
    headers: dict[str, list[str]]
    body: Body
    rules: MatchingRules = field(default_factory=dict)
    generators: dict[str, Any] = field(default_factory=dict)
    query_text: str | None = None
    """V1/V2 write the query as one string; V1.0 compares it as written."""


class HttpResponse(Struct):
    status: int | None
    headers: dict[str, list[str]]
    body: Body
    rules: MatchingRules = field(default_factory=dict)
    generators: dict[str, Any] = field(default_factory=dict)


class Message(Struct):
    contents: Body
    metadata: dict[str, Any]
    rules: MatchingRules = field(default_factory=dict)
    generators: dict[str, Any] = field(default_factory=dict)


class ProviderState(Struct, frozen=True):
    name: str
    params: Mapping[str, Any] = field(default_factory=dict)


class Interaction(Struct):
    index: int
    pointer: str
    """JSON pointer of the interaction inside the pact file (`/interactions/3`)."""
    kind: Kind
    description: str
    states: list[ProviderState] = field(default_factory=list)
    request: HttpRequest | None = None
    response: HttpResponse | None = None
    message: Message | None = None
    """Asynchronous messages; for synchronous messages, the request message."""
    replies: list[Message] = field(default_factory=list)
    key: str | None = None
    pending: bool = False
    comments: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        state = f" given {self.states[0].name!r}" if self.states else ""
        return f"{self.description!r}{state}"


class Pact(Struct):
    file: PactFile
    major: int
    """Specification major version: 1 (V1 and V1.1), 2, 3 or 4."""
    interactions: list[Interaction]
    warnings: list[Finding] = field(default_factory=list)

    def locate(self, pointer: str) -> Location:
        return self.file.locate(pointer)


def spec_major(version: str) -> int:
    head = version.strip().lstrip("vV").split(".")[0]
    return int(head) if head.isdigit() and 1 <= int(head) <= 4 else 4


# Fields each shape defines: anything else is reported (robust to extensions, but visible).
_TOP = {"consumer", "provider", "interactions", "messages", "metadata"}
_HTTP = {
    "type",
    "description",
    "providerState",
    "provider_state",
    "providerStates",
    "request",
    "response",
    "key",
    "pending",
    "comments",
    "interactionMarkup",
    "pluginConfiguration",
    "transport",
    "_id",
    "id",
}
_MESSAGE = _HTTP | {"contents", "metadata", "metaData", "matchingRules", "generators"}
_REQUEST = {"method", "path", "query", "headers", "body", "matchingRules", "generators"}
_RESPONSE = {"status", "headers", "body", "matchingRules", "generators"}
_SYNC_PART = {"contents", "metadata", "matchingRules", "generators"}


class _Reader:
    def __init__(self, pact_file: PactFile | None, major: int | None = None) -> None:
        self.pact_file = pact_file
        self.major = major or (spec_major(pact_file.version) if pact_file else 4)
        self.warnings: list[Finding] = []

    # ---- helpers -------------------------------------------------------------------------

    @property
    def file(self) -> PactFile:
        assert self.pact_file is not None
        return self.pact_file

    def locate(self, pointer: str) -> Location:
        if self.pact_file is None:
            return Location("<interaction>", pointer=pointer)
        return self.pact_file.locate(pointer)

    def fail(self, pointer: str, message: str) -> InputError:
        location = self.locate(pointer)
        return InputError(
            location.file,
            message,
            line=location.line,
            column=location.column,
            pointer=pointer,
        )

    def unknown_fields(self, node: Mapping[str, Any], known: set[str], pointer: str) -> None:
        for name in node:
            if name not in known:
                self.warnings.append(
                    Finding(
                        id="pact-unknown-field",
                        level=Level.WARNING,
                        message=f"field {name!r} is not part of the Pact specification; "
                        "it is ignored",
                        location=self.locate(jp.child(pointer, name)),
                        service=self.pact_file.service if self.pact_file else None,
                    )
                )

    def object_at(self, node: Any, pointer: str, what: str) -> dict[str, Any]:
        if not isinstance(node, dict):
            raise self.fail(pointer, f"{what} must be an object, not {_json_type(node)}")
        return node

    # ---- the file ------------------------------------------------------------------------

    def read(self) -> Pact:
        data = self.file.data
        self.unknown_fields(data, _TOP, "")
        interactions: list[Interaction] = []
        for list_name in ("interactions", "messages"):
            if list_name not in data:
                continue
            items = data[list_name]
            if not isinstance(items, list):
                raise self.fail(f"/{list_name}", f"'{list_name}' must be an array")
            for index, item in enumerate(items):
                pointer = f"/{list_name}/{index}"
                node = self.object_at(item, pointer, "an interaction")
                kind = self.kind_of(node, pointer, list_name)
                if kind is not None:
                    interactions.append(self.interaction(node, kind, index, pointer))
        return Pact(self.file, self.major, interactions, self.warnings)

    def interaction(
        self, node: dict[str, Any], kind: Kind, index: int, pointer: str
    ) -> Interaction:
        description = node.get("description", "")
        if not isinstance(description, str):
            raise self.fail(f"{pointer}/description", "'description' must be a string")
        interaction = Interaction(
            index=index,
            pointer=pointer,
            kind=kind,
            description=description,
            states=self.states(node, pointer),
            key=node.get("key") if isinstance(node.get("key"), str) else None,
            pending=node.get("pending") is True,
            comments=node["comments"] if isinstance(node.get("comments"), dict) else {},
        )
        if kind is Kind.HTTP:
            self.unknown_fields(node, _HTTP, pointer)
            interaction.request = self.request(node.get("request"), f"{pointer}/request")
            interaction.response = self.response(node.get("response"), f"{pointer}/response")
        elif kind is Kind.MESSAGE:
            self.unknown_fields(node, _MESSAGE, pointer)
            interaction.message = self.message(node, pointer)
        else:
            self.unknown_fields(node, _HTTP, pointer)
            request = self.object_at(node.get("request"), f"{pointer}/request", "'request'")
            self.unknown_fields(request, _SYNC_PART, f"{pointer}/request")
            interaction.message = self.message(request, f"{pointer}/request")
            replies = node.get("response", [])
            if isinstance(replies, dict):
                replies = [replies]
            if not isinstance(replies, list):
                raise self.fail(f"{pointer}/response", "'response' must be an array of messages")
            for number, reply in enumerate(replies):
                reply_pointer = f"{pointer}/response/{number}"
                reply_node = self.object_at(reply, reply_pointer, "a response message")
                self.unknown_fields(reply_node, _SYNC_PART, reply_pointer)
                interaction.replies.append(self.message(reply_node, reply_pointer))
        return interaction

    def kind_of(self, node: dict[str, Any], pointer: str, list_name: str) -> Kind | None:
        declared = node.get("type")
        if declared is not None:
            try:
                return Kind(declared)
            except ValueError:
                # A later specification (or a plugin) may add kinds: skip it, visibly.
                self.warnings.append(
                    Finding(
                        id="pact-unknown-interaction-type",
                        level=Level.WARNING,
                        message=f"interaction type {declared!r} is not one apigov knows ("
                        + ", ".join(k.value for k in Kind)
                        + "); the interaction is skipped",
                        location=self.locate(f"{pointer}/type"),
                        service=self.pact_file.service if self.pact_file else None,
                    )
                )
                return None
        if list_name == "messages" or ("contents" in node and "request" not in node):
            return Kind.MESSAGE
        return Kind.HTTP

    def states(self, node: dict[str, Any], pointer: str) -> list[ProviderState]:
        states: list[ProviderState] = []
        for legacy in ("providerState", "provider_state"):
            name = node.get(legacy)
            if isinstance(name, str) and name:
                states.append(ProviderState(name))
        listed = node.get("providerStates")
        if listed is None:
            return states
        if not isinstance(listed, list):
            raise self.fail(f"{pointer}/providerStates", "'providerStates' must be an array")
        for number, item in enumerate(listed):
            item_pointer = f"{pointer}/providerStates/{number}"
            state = self.object_at(item, item_pointer, "a provider state")
            name = state.get("name")
            if not isinstance(name, str):
                raise self.fail(item_pointer, "a provider state needs a 'name' string")
            params = state.get("params") or {}
            if not isinstance(params, dict):
                raise self.fail(f"{item_pointer}/params", "'params' must be an object")
            states.append(ProviderState(name, params))
        return states

    # ---- HTTP ----------------------------------------------------------------------------

    def request(self, raw: Any, pointer: str) -> HttpRequest:
        node = self.object_at(raw, pointer, "'request'")
        self.unknown_fields(node, _REQUEST, pointer)
        method = node.get("method")
        if method is None and self.pact_file is None:
            method = "GET"  # a bare request shape (the specification's own test cases)
        if not isinstance(method, str) or not method:
            raise self.fail(pointer, "a request needs a 'method' string")
        path = node.get("path", "/")
        if not isinstance(path, str):
            raise self.fail(f"{pointer}/path", "'path' must be a string")
        headers = self.headers(node.get("headers"), f"{pointer}/headers")
        return HttpRequest(
            method=method.upper(),
            path=path,
            query=self.query(node.get("query"), f"{pointer}/query") if "query" in node else None,
            query_text=node["query"] if isinstance(node.get("query"), str) else None,
            headers=headers,
            body=self.body(node, headers, pointer),
            rules=self.rules(node.get("matchingRules"), f"{pointer}/matchingRules"),
            generators=self.generators(node),
        )

    def response(self, raw: Any, pointer: str) -> HttpResponse:
        node = self.object_at(raw, pointer, "'response'")
        self.unknown_fields(node, _RESPONSE, pointer)
        status = node.get("status")
        if status is not None and (not isinstance(status, int) or isinstance(status, bool)):
            raise self.fail(f"{pointer}/status", "'status' must be an integer")
        headers = self.headers(node.get("headers"), f"{pointer}/headers")
        return HttpResponse(
            status=status,
            headers=headers,
            body=self.body(node, headers, pointer),
            rules=self.rules(node.get("matchingRules"), f"{pointer}/matchingRules"),
            generators=self.generators(node),
        )

    def headers(self, raw: Any, pointer: str) -> dict[str, list[str]]:
        if raw is None:
            return {}
        node = self.object_at(raw, pointer, "'headers'")
        headers: dict[str, list[str]] = {}
        for name, value in node.items():
            if isinstance(value, list):
                headers[name] = [str(v) for v in value]
            elif isinstance(value, str | int | float):
                headers[name] = [str(value)]
            else:
                raise self.fail(jp.child(pointer, name), "a header value must be a string")
        return headers

    def query(self, raw: Any, pointer: str) -> dict[str, list[str]]:
        if raw is None:
            return {}
        if isinstance(raw, str):
            # V1/V2: the query string as written; repeated keys keep every value in order.
            parsed: dict[str, list[str]] = {}
            for name, value in urllib.parse.parse_qsl(raw, keep_blank_values=True):
                parsed.setdefault(name, []).append(value)
            return parsed
        node = self.object_at(raw, pointer, "'query'")
        query: dict[str, list[str]] = {}
        for name, value in node.items():
            values = value if isinstance(value, list) else [value]
            query[name] = ["" if v is None else str(v) for v in values]
        return query

    def body(self, node: dict[str, Any], headers: dict[str, list[str]], pointer: str) -> Body:
        header_type = next(
            (values[0] for name, values in headers.items() if name.lower() == "content-type"),
            None,
        )
        if "body" not in node:
            return Body(False, None, header_type)
        raw = node["body"]
        if self.major >= 4 and isinstance(raw, dict) and "content" in raw:
            return self.v4_contents(raw, header_type)
        return Body(True, raw, header_type)

    def v4_contents(self, raw: dict[str, Any], fallback_type: str | None) -> Body:
        content = raw.get("content")
        content_type = raw.get("contentType") or fallback_type
        encoded = raw.get("encoded")
        if encoded in ("base64", True) and isinstance(content, str):
            decoded = base64.b64decode(content + "=" * (-len(content) % 4))
            return Body(True, decoded.decode("utf-8", "replace"), content_type, "/content")
        if encoded == "json" and isinstance(content, str):
            return Body(True, orjson.loads(content), content_type, "/content")
        return Body(True, content, content_type, "/content")

    # ---- messages ------------------------------------------------------------------------

    def message(self, node: dict[str, Any], pointer: str) -> Message:
        metadata = node.get("metadata", node.get("metaData")) or {}
        if not isinstance(metadata, dict):
            raise self.fail(f"{pointer}/metadata", "'metadata' must be an object")
        content_type = metadata.get("contentType") or metadata.get("content-type")
        contents = node.get("contents")
        if "contents" not in node:
            body = Body(False, None, content_type)
        elif isinstance(contents, dict) and "content" in contents and self.major >= 4:
            body = self.v4_contents(contents, content_type)
        else:
            body = Body(True, contents, content_type)
        return Message(
            contents=body,
            metadata=metadata,
            rules=self.rules(node.get("matchingRules"), f"{pointer}/matchingRules"),
            generators=self.generators(node),
        )

    # ---- rules ---------------------------------------------------------------------------

    def rules(self, raw: Any, pointer: str) -> MatchingRules:
        if raw is None:
            return {}
        node = self.object_at(raw, pointer, "'matchingRules'")
        try:
            return normalise_rules(node)
        except ValueError as error:
            raise self.fail(pointer, str(error)) from None

    def generators(self, node: dict[str, Any]) -> dict[str, Any]:
        generators = node.get("generators")
        return generators if isinstance(generators, dict) else {}


_CATEGORY_ALIASES = {
    "headers": "header",
    "content": "body",
    "metaData": "metadata",
}


def normalise_rules(raw: Mapping[str, Any]) -> MatchingRules:
    """Both rule shapes -> category -> path -> RuleList.

    V2 keys are JSONPaths into the whole request or response (`$.body.name`,
    `$.headers.Accept`, `$.query.q`, `$.path`); V3/V4 group by category first, with `path`
    and `status` holding matchers directly.
    """
    rules: MatchingRules = {}
    if any(isinstance(key, str) and key.startswith("$") for key in raw):
        for key, definition in raw.items():
            category, path = _split_v2_path(str(key))
            if not isinstance(definition, dict):
                raise ValueError(f"matching rule {key!r} must be an object")
            rules.setdefault(category, {})[path] = RuleList((_matcher(definition),))
        return rules
    for category_name, entries in raw.items():
        category = _CATEGORY_ALIASES.get(category_name, category_name)
        if not isinstance(entries, dict):
            raise ValueError(f"matching rules for {category_name!r} must be an object")
        if "matchers" in entries or "combine" in entries:
            rules.setdefault(category, {})["$"] = _rule_list(entries)
            continue
        for path, definition in entries.items():
            if not isinstance(definition, dict):
                raise ValueError(f"matching rule {category_name}/{path} must be an object")
            rules.setdefault(category, {})[path] = _rule_list(definition)
    return rules


def _split_v2_path(key: str) -> tuple[str, str]:
    if key == "$.body" or key.startswith(("$.body.", "$.body[")):
        return "body", "$" + key[len("$.body") :]
    for prefix, category in (("$.headers", "header"), ("$.query", "query")):
        if key.startswith(prefix + ".") or key.startswith(prefix + "["):
            rest = key[len(prefix) :]
            name = rest[1:] if rest.startswith(".") else rest[2:-2]
            return category, name
    if key == "$.path":
        return "path", "$"
    if key == "$.status":
        return "status", "$"
    return "body", key


def _rule_list(definition: Mapping[str, Any]) -> RuleList:
    combine = str(definition.get("combine", "AND")).upper()
    matchers = definition.get("matchers")
    if matchers is None:
        return RuleList((_matcher(definition),), combine)
    if not isinstance(matchers, list) or not all(isinstance(m, dict) for m in matchers):
        raise ValueError("'matchers' must be an array of objects")
    return RuleList(tuple(_matcher(m) for m in matchers), combine)


def _matcher(definition: Mapping[str, Any]) -> Matcher:
    options = {k: v for k, v in definition.items() if k != "match"}
    kind = definition.get("match")
    if kind is None:
        # V2 writes a regex or a bare min/max without naming the matcher.
        if "regex" in definition:
            kind = "regex"
        elif "min" in definition or "max" in definition:
            kind = "type"
        else:
            kind = "equality"
    return Matcher(str(kind), options)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def read_pact(pact_file: PactFile) -> Pact:
    """The typed view of a loaded pact file; raises InputError on broken structure."""
    return _Reader(pact_file).read()


def request_from_json(node: Any, major: int = 4) -> HttpRequest:
    """An HTTP request in a pact's JSON shape (of specification `major`), typed."""
    return _Reader(None, major).request(node, "")


def response_from_json(node: Any, major: int = 4) -> HttpResponse:
    return _Reader(None, major).response(node, "")


def message_from_json(node: Any, major: int = 4) -> Message:
    reader = _Reader(None, major)
    return reader.message(reader.object_at(node, "", "a message"), "")

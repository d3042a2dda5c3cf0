"""Which consumer interactions use an element of a provider's API: the consumer-aware diff.

A diff change names the elements it touches as logical JSON pointers inside an operation
(`Change.touched`, e.g. `/paths/~1orders/get/responses/200/content/application~1json/schema/
properties/items/items/properties/total`). An HTTP interaction of a pact *uses*:

- the operation its request reaches (method and path template, matched with the base-path and
  route rules of `apigov.pact.compat`, against the base spec and against the head spec, so an
  operation the head removed is still found);
- the parameters it sends (path parameters always; query names; header names, any case;
  cookie names from its Cookie header);
- the request body, and each field inside it (`order.items[].sku`);
- the status code it expects (a `2XX` range or `default` covers it), the response headers it
  names, the response body, and each field of the expected body.

A change is used by an interaction when the element it touches is one of those. Changes that
break clients by *requiring* something (a parameter or body property became required, a
required request body was added) are used by the interactions that do *not* send it: those
are the ones that break. Spec-wide changes (servers, global security) are used by every
interaction with the provider; the `info.version` check by none.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import orjson
from msgspec import Struct, field

from apigov.pact.compat import RouteTable
from apigov.pact.model import HttpRequest, Interaction, Kind, Pact, read_pact
from apigov.spec import pointer as jp
from apigov.spec.model import ApiSpec, PactFile

_TEMPLATE = re.compile(r"\{[^}/]*\}")
# Ids whose change breaks the interactions that leave the element out (see the module doc).
_ABSENCE_BREAKS = re.compile(
    r"^(new-required-request-\w+-parameter|request-\w+-parameter-became-required"
    r"|request-body-added-required|request-body-became-required"
    r"|request-required-property-added|request-property-became-required)$"
)
# Spec-wide elements every interaction with the provider relies on.
_SPEC_WIDE = ("/servers", "/security", "/components/securitySchemes")
# Schema keywords whose subschemas describe the same value (not a field below it).
_SAME_VALUE = frozenset({"oneOf", "anyOf", "allOf"})
ANY_KEY = "*"
ITEM = "[]"

FieldPath = tuple[str, ...]


class InteractionUse(Struct, frozen=True):
    """One interaction of one consumer's pact."""

    consumer: str
    description: str
    file: str
    pointer: str


class _Uses(Struct):
    """What one HTTP interaction uses of its provider's API."""

    interaction: InteractionUse
    operations: set[tuple[str, str]] = field(default_factory=set)
    """(method, path template with parameter names blanked: `/orders/{}`)."""
    parameters: set[tuple[str, str]] = field(default_factory=set)
    """(in, name), header names in lower case."""
    request_body: bool = False
    request_media: str | None = None
    request_fields: set[FieldPath] = field(default_factory=set)
    status: int | None = None
    response_headers: set[str] = field(default_factory=set)
    response_body: bool = False
    response_media: str | None = None
    response_fields: set[FieldPath] = field(default_factory=set)


def operation_key(method: str, template: str) -> tuple[str, str]:
    """Operations are the same when method and path shape are (parameter names may differ)."""
    return method.lower(), _TEMPLATE.sub("{}", template)


class ConsumerUsage:
    """The interactions of `pacts` with the provider whose API changed from `base` to `head`."""

    def __init__(self, pacts: Iterable[PactFile], base: ApiSpec, head: ApiSpec) -> None:
        # compat's route table (base paths from servers, literal segments before templated
        # ones, path values that must fit their schemas), so both agree on the operation.
        self._routes = [RouteTable(base), RouteTable(head)]
        self.uses: list[_Uses] = []
        for pact_file in pacts:
            pact = read_pact(pact_file)
            for interaction in pact.interactions:
                if interaction.kind is Kind.HTTP and interaction.request is not None:
                    self.uses.append(self._read(pact, interaction))

    @property
    def interaction_count(self) -> int:
        return len(self.uses)

    def _read(self, pact: Pact, interaction: Interaction) -> _Uses:
        request = interaction.request
        assert request is not None
        uses = _Uses(
            InteractionUse(
                consumer=pact.file.consumer,
                description=interaction.description,
                file=pact.file.name,
                pointer=interaction.pointer,
            )
        )
        for routes in self._routes:
            found = routes.match(request.method, request.path)
            if found is not None:
                uses.operations.add(operation_key(found.method, found.template))
        uses.parameters = _sent_parameters(request)
        uses.request_body = request.body.present
        uses.request_media = request.body.content_type
        if request.body.present:
            uses.request_fields = set(_field_paths(_json_value(request.body.value)))
        response = interaction.response
        if response is not None:
            uses.status = response.status
            uses.response_headers = {name.lower() for name in response.headers}
            uses.response_body = response.body.present
            uses.response_media = response.body.content_type
            if response.body.present:
                uses.response_fields = set(_field_paths(_json_value(response.body.value)))
        return uses

    def users(self, change_id: str, touched: Sequence[str]) -> list[InteractionUse]:
        """The interactions using the element a change touches (its first, logical pointer)."""
        if not touched:
            return []
        pointer = touched[0]
        if pointer.startswith(_SPEC_WIDE):
            return [uses.interaction for uses in self.uses]
        tokens = jp.split(pointer)
        if len(tokens) < 3 or tokens[0] != "paths":
            return []
        key = operation_key(tokens[2], tokens[1])
        absence = _ABSENCE_BREAKS.match(change_id) is not None
        return [
            uses.interaction
            for uses in self.uses
            if key in uses.operations and _uses_element(uses, tokens[3:], absence)
        ]


def _uses_element(uses: _Uses, tokens: list[str], absence: bool) -> bool:
    """Does this interaction (already known to call the operation) use the element?"""
    if not tokens:
        return True
    section, rest = tokens[0], tokens[1:]
    if section == "parameters" and len(rest) >= 2:
        where, name = rest[0], rest[1]
        if where == "path":
            return True
        sent = (where, name.lower() if where == "header" else name) in uses.parameters
        return not sent if absence else sent
    if section == "requestBody":
        return _uses_body(uses.request_body, uses.request_media, uses.request_fields, rest, absence)
    if section == "responses" and rest:
        if not _status_matches(rest[0], uses.status):
            return False
        inner = rest[1:]
        if not inner:
            return True
        if inner[0] == "headers" and len(inner) >= 2:
            return inner[1].lower() in uses.response_headers
        return _uses_body(
            uses.response_body, uses.response_media, uses.response_fields, inner, absence
        )
    # Security, deprecation, operation ids... of an operation the interaction calls; callbacks
    # are requests the provider sends, which a pact does not describe.
    return section != "callbacks"


def _uses_body(
    present: bool, media: str | None, fields: set[FieldPath], tokens: list[str], absence: bool
) -> bool:
    """`tokens` below `requestBody` or a response: [] | content/<media>[/schema/...]."""
    if not tokens:
        return not present if absence else present
    if tokens[0] != "content" or len(tokens) < 2:
        return present
    if not present or not _media_fits(tokens[1], media):
        return False
    if len(tokens) < 3 or tokens[2] != "schema":
        return True
    path = _field_path(tokens[3:])
    if not path:
        return True
    found = any(_path_matches(path, sent) for sent in fields)
    return not found if absence else found


def _field_path(schema_tokens: list[str]) -> FieldPath:
    """Schema pointer steps to a body field path: properties/a/items/properties/b -> a, [], b."""
    path: list[str] = []
    index = 0
    while index < len(schema_tokens):
        token = schema_tokens[index]
        following = schema_tokens[index + 1] if index + 1 < len(schema_tokens) else None
        if token == "properties" and following is not None:
            path.append(following)
            index += 2
        elif token in _SAME_VALUE and following is not None:
            index += 2
        elif token == "prefixItems" and following is not None:
            path.append(ITEM)
            index += 2
        elif token in ("patternProperties", "dependentSchemas") and following is not None:
            path.append(ANY_KEY)
            index += 2
        elif token == "items":
            path.append(ITEM)
            index += 1
        elif token == "additionalProperties":
            path.append(ANY_KEY)
            index += 1
        else:
            # `not`, `if`, `contains`...: a constraint on the value reached so far.
            break
    return tuple(path)


def _path_matches(pattern: FieldPath, sent: FieldPath) -> bool:
    if len(pattern) != len(sent):
        return False
    return all(p == s or (p == ANY_KEY and s != ITEM) for p, s in zip(pattern, sent, strict=True))


def _field_paths(value: Any, prefix: FieldPath = ()) -> Iterator[FieldPath]:
    """Every field path of a JSON value: objects by key, array elements as `[]`."""
    if isinstance(value, dict):
        for key, child in value.items():
            path = (*prefix, str(key))
            yield path
            yield from _field_paths(child, path)
    elif isinstance(value, list):
        path = (*prefix, ITEM)
        if value:
            yield path
        for child in value:
            yield from _field_paths(child, path)


def _json_value(value: Any) -> Any:
    """Bodies written as JSON text (some pact writers do) are read as JSON."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def _media_fits(spec_media: str, sent: str | None) -> bool:
    """A pact without a content type is read as JSON, like compat does."""
    spec_key = spec_media.split(";", 1)[0].strip().lower()
    if sent is None:
        return spec_key.endswith("json") or spec_key in ("*/*", "application/*")
    sent_key = sent.split(";", 1)[0].strip().lower()
    if spec_key == sent_key or spec_key == "*/*":
        return True
    major, _, minor = spec_key.partition("/")
    return minor == "*" and sent_key.startswith(major + "/")


def _status_matches(code: str, status: int | None) -> bool:
    if status is None:
        return False
    upper = code.upper()
    if upper == "DEFAULT":
        return True
    if len(upper) == 3 and upper.endswith("XX"):
        return str(status)[:1] == upper[:1]
    return upper == str(status)


def _sent_parameters(request: HttpRequest) -> set[tuple[str, str]]:
    sent: set[tuple[str, str]] = set()
    for name in request.query or {}:
        sent.add(("query", name))
    for name, values in request.headers.items():
        sent.add(("header", name.lower()))
        if name.lower() == "cookie":
            for value in values:
                for pair in value.split(";"):
                    cookie = pair.split("=", 1)[0].strip()
                    if cookie:
                        sent.add(("cookie", cookie))
    return sent

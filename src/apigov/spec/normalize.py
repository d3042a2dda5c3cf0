"""Swagger 2.0 -> OpenAPI 3.0.3: one shape for every analyzer.

`normalize_swagger2` rebuilds a Swagger 2.0 document in the OpenAPI 3.0.3 shape (the rules mirror
the well-known swagger2openapi converter; docs/normalisation.md lists them) and returns, beside
the new document, an `OriginMap` that sends every JSON pointer of the new document back to the
place in the original that it came from, so findings still name the original file's lines.

How it stays cheap on big or hostile documents:

- one walk: every node of the input is visited and copied once; the input is never mutated and
  the output shares no object with it;
- a subtree that the 3.0 shape needs in several places (one body schema under several media
  types, a path-level body pushed into every operation, a shared response inlined into an
  operation with other media types) is converted once and the *same* object is put in every
  place: treat the normalised document as read-only;
- schema `$ref`s are only rewritten, never followed, so recursive schemas are no problem;
  `resolve_ref` is called only for parameter `$ref`s (is the target a body or form parameter?),
  once per distinct reference.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final
from urllib.parse import unquote, urljoin, urlsplit

from msgspec import Struct, field

from apigov.spec.pointer import escape, unescape

__all__ = ["TARGET_VERSION", "Normalized", "OriginMap", "normalize_swagger2"]

TARGET_VERSION: Final = "3.0.3"
DEFAULT_MEDIA_TYPE: Final = "application/json"
MULTIPART: Final = "multipart/form-data"
URLENCODED: Final = "application/x-www-form-urlencoded"

_METHODS: Final = frozenset({"get", "put", "post", "delete", "options", "head", "patch"})
# Keywords that a 2.0 parameter, header or items object shares with JSON schema: in 3.0 they
# live in the object's `schema`.
_SCHEMA_FIELDS: Final = frozenset(
    {
        "type",
        "format",
        "default",
        "maximum",
        "exclusiveMaximum",
        "minimum",
        "exclusiveMinimum",
        "maxLength",
        "minLength",
        "pattern",
        "maxItems",
        "minItems",
        "uniqueItems",
        "enum",
        "multipleOf",
    }
)
_OAUTH2_FLOWS: Final = {
    "implicit": "implicit",
    "password": "password",
    "application": "clientCredentials",
    "accessCode": "authorizationCode",
}
# collectionFormat -> (style, explode) for query parameters and urlencoded form fields.
_FORM_STYLES: Final[dict[str, tuple[str, bool | None]]] = {
    "csv": ("form", False),
    "ssv": ("spaceDelimited", None),
    "pipes": ("pipeDelimited", None),
    "multi": ("form", True),
}
_MAX_ALIAS_HOPS: Final = 64


# --------------------------------------------------------------------------- public API


class OriginMap:
    """Maps JSON pointers of a normalised document back to pointers of the original.

    `add(new, old)` says: the subtree at `new` came from the subtree at `old`. `original(p)`
    takes the longest mapped prefix of `p` (whole tokens only: `/a/b` is a prefix of `/a/b/c`,
    not of `/a/bc`) and puts the rest of `p` after its original. Unmapped pointers map to
    themselves. A pointer that names a node the converter made up (a `content` map, a media
    type) maps to the original node it was made from, and a pointer below a node that was
    inlined from another file maps below the `$ref` that pulled it in: a line lookup should
    use the nearest existing ancestor of what `original` returns.
    """

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        # normalized prefix -> (target, is_alias)
        self._entries: dict[str, tuple[str, bool]] = {}

    def add(self, normalized_prefix: str, original_prefix: str) -> None:
        self._entries[normalized_prefix] = (original_prefix, False)

    def alias(self, normalized_prefix: str, normalized_target: str) -> None:
        """`normalized_prefix` holds the same (shared) subtree as `normalized_target`, whose
        origins are mapped already: look pointers below it up there."""
        self._entries[normalized_prefix] = (normalized_target, True)

    def original(self, pointer: str) -> str:
        for _ in range(_MAX_ALIAS_HOPS):
            hit = self._longest(pointer)
            if hit is None:
                return pointer
            prefix, target, is_alias = hit
            pointer = target + pointer[len(prefix) :]
            if not is_alias:
                return pointer
        return pointer

    def _longest(self, pointer: str) -> tuple[str, str, bool] | None:
        prefix = pointer
        while True:
            entry = self._entries.get(prefix)
            if entry is not None:
                return prefix, entry[0], entry[1]
            if not prefix:
                return None
            cut = prefix.rfind("/")
            prefix = prefix[:cut] if cut > 0 else ""

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        """(normalized prefix, original prefix) for every direct mapping (aliases left out)."""
        return ((k, v) for k, (v, is_alias) in self._entries.items() if not is_alias)

    def __repr__(self) -> str:
        return f"OriginMap({len(self._entries)} entries)"


class Normalized(Struct, frozen=True):
    document: dict[str, Any]
    """The 3.0.3-shaped document: a new object, read-only (subtrees may be shared)."""
    origins: OriginMap
    """Maps pointers in `document` back to pointers in the original document."""


def normalize_swagger2(doc: Mapping[str, Any], resolve_ref: Callable[[str], Any]) -> Normalized:
    """Convert a Swagger 2.0 document into the OpenAPI 3.0.3 shape.

    `resolve_ref(ref)` gets a `$ref` exactly as written (`#/parameters/limit`,
    `params.yaml#/limit`) and returns its target; it is called only for parameter `$ref`s and
    its exceptions propagate.
    """
    version = doc.get("swagger")
    if str(version) != "2.0":
        raise ValueError(f"not a Swagger 2.0 document (swagger: {version!r})")
    converter = _Converter(doc, resolve_ref)
    return Normalized(converter.run(), converter.origins)


# --------------------------------------------------------------------------- internals

_Moves = list[tuple[str, str]]
"""(pointer relative to a converted subtree's root, original pointer) for nodes that moved."""


class _P:
    """A JSON pointer built lazily: O(1) per step, the text only when it is asked for."""

    __slots__ = ("_parent", "_text", "_token")

    def __init__(self, parent: _P | None, token: str | int, text: str | None = None) -> None:
        self._parent = parent
        self._token = token
        self._text = text

    @staticmethod
    def at(pointer: str) -> _P:
        return _P(None, "", pointer)

    def __truediv__(self, token: str | int) -> _P:
        return _P(self, token)

    def __str__(self) -> str:
        if self._text is not None:
            return self._text
        chain: list[_P] = []  # iterative: a deep document must not exhaust the stack here
        node: _P | None = self
        while node is not None and node._text is None:
            chain.append(node)
            node = node._parent
        text: str = node._text if node is not None and node._text is not None else ""
        for step in reversed(chain):
            text = f"{text}/{escape(step._token)}"
            step._text = text
        return text


def _sub(pointer: _P | None, token: str | int) -> _P | None:
    return None if pointer is None else pointer / token


def _is_ext(key: object) -> bool:
    return isinstance(key, str) and key.startswith("x-")


def _copy(value: Any) -> Any:
    """A deep copy of plain data (example values, enums, info...)."""
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


class _Piece(Struct, eq=False):
    """A converted subtree, placed at one or more places of the new document."""

    node: Any
    old: str | None
    """The original pointer of its root; None for content from another file, which maps to
    the `$ref` that pulls it in at each place."""
    moves: _Moves = field(default_factory=list)
    home: str | None = None
    """Where it was placed first; later places alias it."""


class _Media(Struct):
    """One media type and where the original says it (None: the default)."""

    name: str
    origin: str | None


class _Param(Struct, eq=False):
    """A parameter as written in an operation or path item, with its `$ref` resolved."""

    node: Mapping[str, Any]
    """The parameter object (the `$ref` target if it is a reference)."""
    old: str | None
    """Where `node` is in the original document; None when it lives in another file."""
    anchor: str
    """Where the parameter is written in the original (the inline object or the `$ref` node)."""
    base: str | None
    """The file `node` came from, when not this one: `$ref`s inside it are relative to it."""
    ref: str | None
    kind: str
    """`body`, `formData` or `other`."""


class _Body(Struct, eq=False):
    """A body parameter, converted once: the parts of every requestBody made from it."""

    old: str | None
    """Where the parameter is in the original; None when it lives in another file."""
    fields: list[tuple[str, Any]]
    schema: _Piece


class _Field(Struct, eq=False):
    """A formData parameter, converted once into one property of the form's schema."""

    name: str
    prop: _Piece
    required: bool
    is_file: bool
    encoding: dict[str, Any] | None
    encoding_key: str | None
    """`collectionFormat` when the encoding comes from one written in the original."""


class _Response(Struct, eq=False):
    """A response, converted once: the parts of every 3.0 response made from it."""

    old: str
    fields: list[tuple[str, Any]]
    headers: _Piece | None
    schema: _Piece | None
    examples: list[tuple[str, Any, str]]


class _Split(Struct):
    """The parameters of an operation or path item, by what they become in 3.0."""

    others: list[tuple[Mapping[str, Any], _Param]] = field(default_factory=list)
    body: tuple[_Param, _Body] | None = None
    form: list[tuple[_Param, _Field]] = field(default_factory=list)


class _Converter:
    def __init__(self, doc: Mapping[str, Any], resolve_ref: Callable[[str], Any]) -> None:
        self._doc = doc
        self._resolve_ref = resolve_ref
        self.origins = OriginMap()
        self._consumes = self._media_types(doc.get("consumes"), "/consumes")
        self._produces = self._media_types(doc.get("produces"), "/produces")
        params = doc.get("parameters")
        self._params: Mapping[str, Any] = params if isinstance(params, Mapping) else {}
        self._body_names = {
            name
            for name, p in self._params.items()
            if isinstance(p, Mapping) and p.get("in") == "body"
        }
        self._resolved: dict[str, Any] = {}
        self._bodies: dict[str, _Body] = {}  # by `$ref` text
        self._fields: dict[str, _Field] = {}  # by `$ref` text
        self._responses: dict[str, _Response] = {}  # component name -> parts

    # ------------------------------------------------------------------ document

    def run(self) -> dict[str, Any]:
        doc = self._doc
        components = self._components()
        servers = self._servers()
        paths_value = doc.get("paths")
        if isinstance(paths_value, Mapping):
            paths: Any = self._paths(paths_value)
        else:
            paths = {} if paths_value is None else _copy(paths_value)
            self.origins.add("/paths", "")

        out: dict[str, Any] = {"openapi": TARGET_VERSION}
        self.origins.add("/openapi", "/swagger")
        if "info" in doc:
            out["info"] = _copy(doc["info"])
        out["servers"] = servers
        out["paths"] = paths
        if components:
            out["components"] = components
        for key, value in doc.items():
            if key in (
                "swagger",
                "info",
                "host",
                "basePath",
                "schemes",
                "consumes",
                "produces",
                "paths",
                "definitions",
                "parameters",
                "responses",
                "securityDefinitions",
            ):
                continue
            out[key] = self._ext(value, None) if _is_ext(key) else _copy(value)
        return out

    def _servers(self) -> list[dict[str, Any]]:
        doc, add = self._doc, self.origins.add
        host, base_path, schemes = doc.get("host"), doc.get("basePath"), doc.get("schemes")
        base = base_path if isinstance(base_path, str) else ""
        if isinstance(host, str) and host:
            add("/servers", "/host")
            names = [s for s in schemes if isinstance(s, str)] if isinstance(schemes, list) else []
            if not names:
                add("/servers/0", "/host")
                add("/servers/0/url", "/host")
                return [{"url": f"//{host}{base}"}]
            for i in range(len(names)):
                add(f"/servers/{i}", f"/schemes/{i}")
                add(f"/servers/{i}/url", f"/schemes/{i}")
            return [{"url": f"{name}://{host}{base}"} for name in names]
        origin = "/basePath" if base else ""
        for at in ("/servers", "/servers/0", "/servers/0/url"):
            add(at, origin)
        return [{"url": base or "/"}]

    def _media_types(self, value: Any, at: str) -> list[_Media]:
        """The media types of a consumes/produces list; the default when it is absent or empty."""
        if isinstance(value, str):
            return [_Media(value, at)]
        seen: dict[str, _Media] = {}
        if isinstance(value, list):
            for i, name in enumerate(value):
                if isinstance(name, str) and name not in seen:
                    seen[name] = _Media(name, f"{at}/{i}")
        return list(seen.values()) or [_Media(DEFAULT_MEDIA_TYPE, None)]

    # ------------------------------------------------------------------ components

    def _components(self) -> dict[str, Any]:
        doc, add = self._doc, self.origins.add
        components: dict[str, Any] = {}
        add("/components", "")

        definitions = doc.get("definitions")
        if isinstance(definitions, Mapping) and definitions:
            add("/components/schemas", "/definitions")
            schemas: dict[str, Any] = {}
            for name, schema in definitions.items():
                at = f"/components/schemas/{escape(name)}"
                piece = self._schema_piece(schema, f"/definitions/{escape(name)}", None)
                schemas[name] = piece.node
                self._place(piece, at)
            components["schemas"] = schemas

        parameters: dict[str, Any] = {}
        request_bodies: dict[str, Any] = {}
        for name, param in self._params.items():
            old = f"/parameters/{escape(name)}"
            if not isinstance(param, Mapping):
                parameters[name] = _copy(param)
                continue
            resolved = self._param(param, old)
            if resolved.kind == "body":
                self._body_names.add(name)
                body = self._body(resolved)
                self._bodies[f"#/parameters/{escape(name)}"] = body
                at = f"/components/requestBodies/{escape(name)}"
                request_bodies[name] = self._request_body(resolved, body, self._consumes, at)
            elif resolved.kind == "formData":
                continue  # no 3.0 counterpart: inlined into each operation that uses it
            else:
                at = f"/components/parameters/{escape(name)}"
                parameters[name] = self._parameter_at(param, resolved, at)
        if parameters:
            add("/components/parameters", "/parameters")
            components["parameters"] = parameters
        if request_bodies:
            add("/components/requestBodies", "/parameters")
            components["requestBodies"] = request_bodies

        responses = doc.get("responses")
        if isinstance(responses, Mapping) and responses:
            add("/components/responses", "/responses")
            converted: dict[str, Any] = {}
            for name, response in responses.items():
                old = f"/responses/{escape(name)}"
                at = f"/components/responses/{escape(name)}"
                if isinstance(response, Mapping) and not isinstance(response.get("$ref"), str):
                    parts = self._response_parts(response, old)
                    self._responses[name] = parts
                    converted[name] = self._build_response(parts, self._produces, at, old)
                else:
                    converted[name] = self._ext(response, None)
            components["responses"] = converted

        schemes = doc.get("securityDefinitions")
        if isinstance(schemes, Mapping) and schemes:
            add("/components/securitySchemes", "/securityDefinitions")
            components["securitySchemes"] = {
                name: self._security_scheme(
                    scheme,
                    f"/components/securitySchemes/{escape(name)}",
                    f"/securityDefinitions/{escape(name)}",
                )
                for name, scheme in schemes.items()
            }
        return components

    def _security_scheme(self, scheme: Any, at: str, old: str) -> Any:
        if not isinstance(scheme, Mapping):
            return _copy(scheme)
        add = self.origins.add
        kind = scheme.get("type")
        out: dict[str, Any] = {}
        if kind == "basic":
            out["type"] = "http"
            out["scheme"] = "basic"
            add(f"{at}/scheme", f"{old}/type")
            skip: tuple[str, ...] = ("type",)
        elif kind == "oauth2" and isinstance(scheme.get("flow"), str):
            written: str = scheme["flow"]
            flow_name = _OAUTH2_FLOWS.get(written, written)
            flow: dict[str, Any] = {}
            flow_at = f"{at}/flows/{escape(flow_name)}"
            for key in ("authorizationUrl", "tokenUrl"):
                if key in scheme:
                    flow[key] = _copy(scheme[key])
            flow["scopes"] = _copy(scheme.get("scopes", {}))
            add(f"{at}/flows", f"{old}/flow")
            add(flow_at, f"{old}/flow")
            for key in flow:
                add(f"{flow_at}/{key}", f"{old}/{key}" if key in scheme else f"{old}/flow")
            out["type"] = "oauth2"
            out["flows"] = {flow_name: flow}
            skip = ("type", "flow", "authorizationUrl", "tokenUrl", "scopes")
        else:
            skip = ()
        for key, value in scheme.items():
            if key not in skip:
                out[key] = self._ext(value, None) if _is_ext(key) else _copy(value)
        return out

    # ------------------------------------------------------------------ paths

    def _paths(self, paths: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, item in paths.items():
            if _is_ext(key) or not isinstance(item, Mapping):
                out[key] = self._ext(item, None)
            else:
                out[key] = self._path_item(item, f"/paths/{escape(key)}")
        return out

    def _path_item(self, item: Mapping[str, Any], at: str) -> dict[str, Any]:
        shared = self._split(item.get("parameters"), f"{at}/parameters")
        out: dict[str, Any] = {}
        for key, value in item.items():
            if key in _METHODS and isinstance(value, Mapping):
                out[key] = self._operation(value, f"{at}/{key}", shared)
            elif key == "parameters" and isinstance(value, list):
                params = self._parameter_list(shared, f"{at}/parameters")
                if params:
                    out["parameters"] = params
            elif key == "$ref" and isinstance(value, str):
                out[key] = self._ref(value, None)
            else:
                out[key] = self._ext(value, None) if _is_ext(key) else _copy(value)
        return out

    def _operation(self, op: Mapping[str, Any], at: str, shared: _Split) -> dict[str, Any]:
        consumes = (
            self._media_types(op["consumes"], f"{at}/consumes")
            if "consumes" in op
            else self._consumes
        )
        produces = (
            self._media_types(op["produces"], f"{at}/produces")
            if "produces" in op
            else self._produces
        )
        own = self._split(op.get("parameters"), f"{at}/parameters")

        request_body: Any = None
        body_at = f"{at}/requestBody"
        if own.body is not None:
            request_body = self._request_body(*own.body, consumes, body_at)
        elif own.form or (shared.form and shared.body is None):
            names = {f.name for _, f in own.form}
            fields = [(u, f) for u, f in shared.form if f.name not in names] + own.form
            request_body = self._form_body(fields, consumes, body_at)
        elif shared.body is not None:
            request_body = self._request_body(*shared.body, consumes, body_at)

        out: dict[str, Any] = {}
        for key, value in op.items():
            if key == "parameters" and isinstance(value, list):
                params = self._parameter_list(own, f"{at}/parameters")
                if params:
                    out["parameters"] = params
            elif key == "responses" and isinstance(value, Mapping):
                if request_body is not None:
                    out["requestBody"] = request_body
                    request_body = None
                out["responses"] = self._responses_map(value, f"{at}/responses", produces)
            elif key in ("consumes", "produces"):
                continue
            elif key == "schemes":
                servers = self._operation_servers(value, at)
                if servers:
                    out["servers"] = servers
            else:
                out[key] = self._ext(value, None) if _is_ext(key) else _copy(value)
        if request_body is not None:
            out["requestBody"] = request_body
        return out

    def _operation_servers(self, schemes: Any, at: str) -> list[dict[str, Any]]:
        """An operation's own `schemes` become its own `servers` when they differ."""
        doc = self._doc
        host, base_path, top = doc.get("host"), doc.get("basePath"), doc.get("schemes")
        if not (isinstance(host, str) and host and isinstance(schemes, list)):
            return []
        names = [s for s in schemes if isinstance(s, str)]
        top_names = {s for s in top if isinstance(s, str)} if isinstance(top, list) else set()
        if not names or set(names) == top_names:
            return []
        base = base_path if isinstance(base_path, str) else ""
        self.origins.add(f"{at}/servers", f"{at}/schemes")
        for i in range(len(names)):
            self.origins.add(f"{at}/servers/{i}", f"{at}/schemes/{i}")
        return [{"url": f"{name}://{host}{base}"} for name in names]

    # ------------------------------------------------------------------ parameters

    def _split(self, params: Any, at: str) -> _Split:
        split = _Split()
        if not isinstance(params, list):
            return split
        for i, param in enumerate(params):
            if not isinstance(param, Mapping):
                continue
            resolved = self._param(param, f"{at}/{i}")
            if resolved.kind == "body":
                if split.body is None:  # 2.0 allows one; the first one wins
                    split.body = (resolved, self._body(resolved))
            elif resolved.kind == "formData":
                split.form.append((resolved, self._field(resolved)))
            else:
                split.others.append((param, resolved))
        return split

    def _param(self, param: Mapping[str, Any], anchor: str) -> _Param:
        ref = param.get("$ref")
        if not isinstance(ref, str):
            return _Param(param, anchor, anchor, None, None, _kind(param))
        if ref in self._resolved:
            target = self._resolved[ref]
        else:
            target = self._resolved[ref] = self._resolve_ref(ref)
        if not isinstance(target, Mapping):
            return _Param(param, anchor, anchor, None, ref, "other")
        if ref.startswith("#"):
            return _Param(target, unquote(ref[1:]), anchor, None, ref, _kind(target))
        return _Param(target, None, anchor, ref.partition("#")[0], ref, _kind(target))

    def _parameter_list(self, split: _Split, at: str) -> list[Any]:
        return [
            self._parameter_at(param, resolved, f"{at}/{i}")
            for i, (param, resolved) in enumerate(split.others)
        ]

    def _parameter_at(self, written: Mapping[str, Any], resolved: _Param, at: str) -> Any:
        """A non-body parameter at `at`: a rewritten `$ref`, or the converted object."""
        if resolved.ref is not None:
            self.origins.add(at, resolved.anchor)
            out = {"$ref": self._ref(resolved.ref, None)}
            for key, value in written.items():
                if key != "$ref":
                    out[key] = self._ext(value, None) if _is_ext(key) else _copy(value)
            return out
        piece = self._parameter(resolved)
        self._place(piece, at, resolved.anchor)
        return piece.node

    def _parameter(self, param: _Param) -> _Piece:
        node, base = param.node, param.base
        old = _P.at(param.old) if param.old is not None else None
        new = _P.at("")
        moves: _Moves = []
        out: dict[str, Any] = {}
        schema: dict[str, Any] = {}
        kind = node.get("type")
        for key, value in node.items():
            if key in _SCHEMA_FIELDS:
                if key == "type" and value == "file":
                    schema["type"], schema["format"] = "string", "binary"
                    _record(moves, new / "schema" / "format", _sub(old, "type"))
                elif not (key == "format" and kind == "file"):
                    schema[key] = _copy(value)
            elif key == "items":
                schema["items"] = self._items(
                    value, new / "schema" / "items", _sub(old, key), base, moves
                )
            elif key == "collectionFormat":
                continue
            elif key == "schema":
                explicit = self._schema(value, new / "schema", _sub(old, key), base, moves)
                if isinstance(explicit, dict):
                    schema = {**explicit, **schema}
            elif _is_ext(key):
                out[key] = self._ext(value, base)
            else:
                out[key] = _copy(value)
        if schema:
            out["schema"] = schema
            if "schema" not in node:
                _record(moves, new / "schema", old)
        if kind == "array":
            self._collection_format(node, out, new, old, moves)
        return _Piece(out, param.old, moves)

    def _collection_format(
        self, node: Mapping[str, Any], out: dict[str, Any], new: _P, old: _P | None, moves: _Moves
    ) -> None:
        location = node.get("in")
        written = node.get("collectionFormat")
        explicit = isinstance(written, str)
        fmt = written if isinstance(written, str) else "csv"
        origin = _sub(old, "collectionFormat") if explicit else old
        if location == "query":
            style = _FORM_STYLES.get(fmt)
            if style is not None:
                out["style"] = style[0]
                _record(moves, new / "style", origin)
                if style[1] is not None:
                    out["explode"] = style[1]
                    _record(moves, new / "explode", origin)
                return
        elif location in ("path", "header") and fmt == "csv":
            if explicit:
                out["style"] = "simple"
                _record(moves, new / "style", origin)
            return
        if explicit:  # tsv, or a format the location cannot express in 3.0
            out["x-collectionFormat"] = fmt
            _record(moves, new / "x-collectionFormat", origin)

    def _items(self, node: Any, new: _P, old: _P | None, base: str | None, moves: _Moves) -> Any:
        """A 2.0 items object (of a parameter or header) as a schema."""
        if not isinstance(node, Mapping):
            return _copy(node)
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "collectionFormat":
                continue  # nested collection formats have no 3.0 counterpart
            if key == "items":
                out[key] = self._items(value, new / key, _sub(old, key), base, moves)
            elif key == "$ref" and isinstance(value, str):
                out[key] = self._ref(value, base)
            elif _is_ext(key):
                out[key] = self._ext(value, base)
            else:
                out[key] = _copy(value)
        if out.get("type") == "array" and "items" not in out:
            out["items"] = {}
            _record(moves, new / "items", _sub(old, "type"))
        return out

    # ------------------------------------------------------------------ request bodies

    def _body(self, param: _Param) -> _Body:
        if param.ref is not None and param.ref in self._bodies:
            return self._bodies[param.ref]
        node, base = param.node, param.base
        fields: list[tuple[str, Any]] = []
        for key, value in node.items():
            if key in ("description", "required"):
                fields.append((key, _copy(value)))
            elif _is_ext(key):
                fields.append((key, self._ext(value, base)))
        if param.old is not None:
            schema = self._schema_piece(node.get("schema", {}), f"{param.old}/schema", base)
        else:
            converted = self._schema(node.get("schema", {}), _P.at(""), None, base, [])
            schema = _Piece(converted, None)
        body = _Body(param.old, fields, schema)
        if param.ref is not None:
            self._bodies[param.ref] = body
        return body

    def _request_body(
        self, use: _Param, body: _Body, consumes: list[_Media], at: str
    ) -> dict[str, Any]:
        """The requestBody of one use of a body parameter (a component or an operation's)."""
        add = self.origins.add
        add(at, use.anchor)
        ref = use.ref
        if (
            ref is not None
            and _component_name(ref, "#/parameters/") in self._body_names
            and _names(consumes) == _names(self._consumes)
        ):
            return {"$ref": self._ref(ref, None)}
        moved = body.old is not None and body.old != use.anchor
        home = body.old if body.old is not None else use.anchor
        out: dict[str, Any] = {}
        for key, value in body.fields:
            out[key] = value
            if moved:
                add(f"{at}/{escape(key)}", f"{home}/{escape(key)}")
        out["content"] = {media.name: {"schema": body.schema.node} for media in consumes}
        add(f"{at}/content", home)
        for media in consumes:
            media_at = f"{at}/content/{escape(media.name)}"
            add(media_at, media.origin or home)
            self._place(body.schema, f"{media_at}/schema", use.anchor)
        return out

    def _field(self, param: _Param) -> _Field:
        if param.ref is not None and param.ref in self._fields:
            return self._fields[param.ref]
        node, base = param.node, param.base
        old = _P.at(param.old) if param.old is not None else None
        new = _P.at("")
        moves: _Moves = []
        prop: dict[str, Any] = {}
        is_file = node.get("type") == "file"
        for key, value in node.items():
            if key in ("name", "in", "required", "allowEmptyValue", "collectionFormat"):
                continue
            if key == "type" and is_file:
                prop["type"], prop["format"] = "string", "binary"
                _record(moves, new / "format", _sub(old, "type"))
            elif key == "format" and is_file:
                continue
            elif key == "items":
                prop[key] = self._items(value, new / key, _sub(old, key), base, moves)
            elif _is_ext(key):
                prop[key] = self._ext(value, base)
            else:
                prop[key] = _copy(value)
        encoding: dict[str, Any] | None = None
        encoding_key: str | None = None
        if node.get("type") == "array":
            written = node.get("collectionFormat")
            fmt = written if isinstance(written, str) else "csv"
            if isinstance(written, str):
                encoding_key = "collectionFormat"
            style = _FORM_STYLES.get(fmt)
            if style is None:
                prop["x-collectionFormat"] = fmt
                _record(moves, new / "x-collectionFormat", _sub(old, "collectionFormat"))
            elif fmt != "multi":  # multi is what a form sends by default
                encoding = {"style": style[0]}
                if style[1] is not None:
                    encoding["explode"] = style[1]
        name = node.get("name")
        result = _Field(
            str(name),
            _Piece(prop, param.old, moves),
            node.get("required") is True,
            is_file,
            encoding,
            encoding_key,
        )
        if param.ref is not None:
            self._fields[param.ref] = result
        return result

    def _form_body(
        self, uses: list[tuple[_Param, _Field]], consumes: list[_Media], at: str
    ) -> dict[str, Any]:
        """One requestBody from the formData parameters of an operation (and its path)."""
        add = self.origins.add
        named = {media.name: media for media in consumes}
        multipart = any(f.is_file for _, f in uses) or MULTIPART in named
        media_name = MULTIPART if multipart else URLENCODED
        origins = [f.prop.old if f.prop.old is not None else use.anchor for use, f in uses]
        first = origins[0]
        media_origin = named[media_name].origin if media_name in named else None
        media_at = f"{at}/content/{escape(media_name)}"
        schema_at = f"{media_at}/schema"
        add(at, uses[0][0].anchor)
        add(f"{at}/content", first)
        add(media_at, media_origin or first)
        for synthetic in ("", "/type", "/properties"):
            add(f"{schema_at}{synthetic}", first)

        properties: dict[str, Any] = {}
        required: list[str] = []
        required_origins: list[str] = []
        encoding: dict[str, Any] = {}
        for (use, f), origin in zip(uses, origins, strict=True):
            properties[f.name] = f.prop.node
            self._place(f.prop, f"{schema_at}/properties/{escape(f.name)}", use.anchor)
            if f.required:
                required.append(f.name)
                required_origins.append(f"{origin}/required")
            if f.encoding is not None and not multipart:
                encoding[f.name] = f.encoding
                where = f"{origin}/{f.encoding_key}" if f.encoding_key else origin
                add(f"{media_at}/encoding/{escape(f.name)}", where)
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            schema["required"] = required
            add(f"{schema_at}/required", required_origins[0])
            for i, origin in enumerate(required_origins):
                add(f"{schema_at}/required/{i}", origin)
        media: dict[str, Any] = {"schema": schema}
        if encoding:
            media["encoding"] = encoding
            add(f"{media_at}/encoding", first)
        out: dict[str, Any] = {"content": {media_name: media}}
        if required:
            out["required"] = True
            add(f"{at}/required", required_origins[0])
        return out

    # ------------------------------------------------------------------ responses

    def _responses_map(
        self, responses: Mapping[Any, Any], at: str, produces: list[_Media]
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for code, response in responses.items():
            key = str(code)
            response_at = f"{at}/{escape(key)}"
            if _is_ext(key) or not isinstance(response, Mapping):
                out[key] = self._ext(response, None)
                continue
            ref = response.get("$ref")
            if isinstance(ref, str):
                name = _component_name(ref, "#/responses/")
                parts = self._responses.get(name) if name is not None else None
                if (
                    parts is not None
                    and (parts.schema is not None or parts.examples)
                    and _names(produces) != _names(self._produces)
                ):
                    # its media types are the global ones: inline it with this operation's
                    out[key] = self._build_response(parts, produces, response_at, response_at)
                else:
                    out[key] = {"$ref": self._ref(ref, None)}
                continue
            parts = self._response_parts(response, response_at)
            out[key] = self._build_response(parts, produces, response_at, response_at)
        return out

    def _response_parts(self, response: Mapping[str, Any], old: str) -> _Response:
        fields: list[tuple[str, Any]] = []
        headers: _Piece | None = None
        schema: _Piece | None = None
        examples: list[tuple[str, Any, str]] = []
        for key, value in response.items():
            if key == "schema":
                schema = self._schema_piece(value, f"{old}/schema", None)
            elif key == "headers" and isinstance(value, Mapping):
                headers = self._headers(value, f"{old}/headers")
            elif key == "examples" and isinstance(value, Mapping):
                for media, example in value.items():
                    origin = f"{old}/examples/{escape(str(media))}"
                    examples.append((str(media), _copy(example), origin))
            elif _is_ext(key):
                fields.append((key, self._ext(value, None)))
            else:
                fields.append((key, _copy(value)))
        return _Response(old, fields, headers, schema, examples)

    def _build_response(
        self, parts: _Response, produces: list[_Media], at: str, anchor: str
    ) -> dict[str, Any]:
        add = self.origins.add
        add(at, anchor)
        moved = parts.old != anchor
        out: dict[str, Any] = {}
        for key, value in parts.fields:
            out[key] = value
            if moved:
                add(f"{at}/{escape(key)}", f"{parts.old}/{escape(key)}")
        if parts.headers is not None:
            out["headers"] = parts.headers.node
            self._place(parts.headers, f"{at}/headers")
        if parts.schema is None and not parts.examples:
            return out
        content: dict[str, Any] = {}
        content_at = f"{at}/content"
        if parts.schema is not None:
            schema_old = f"{parts.old}/schema"
            add(content_at, schema_old)
            for media in produces:
                media_at = f"{content_at}/{escape(media.name)}"
                content[media.name] = {"schema": parts.schema.node}
                add(media_at, media.origin or schema_old)
                self._place(parts.schema, f"{media_at}/schema")
        else:
            add(content_at, f"{parts.old}/examples")
        for media_name, example, origin in parts.examples:
            media_at = f"{content_at}/{escape(media_name)}"
            if media_name not in content:
                content[media_name] = {}
                add(media_at, origin)
            content[media_name]["example"] = example
            add(f"{media_at}/example", origin)
        out["content"] = content
        return out

    def _headers(self, headers: Mapping[str, Any], old_at: str) -> _Piece:
        moves: _Moves = []
        new, old = _P.at(""), _P.at(old_at)
        out: dict[str, Any] = {}
        for name, header in headers.items():  # every key is a header name, x-* ones too
            if not isinstance(header, Mapping):
                out[name] = _copy(header)
            else:
                out[name] = self._header(header, new / name, old / name, moves)
        return _Piece(out, old_at, moves)

    def _header(self, header: Mapping[str, Any], new: _P, old: _P, moves: _Moves) -> Any:
        out: dict[str, Any] = {}
        schema: dict[str, Any] = {}
        for key, value in header.items():
            if key in _SCHEMA_FIELDS:
                schema[key] = _copy(value)
            elif key == "items":
                schema[key] = self._items(value, new / "schema" / key, old / key, None, moves)
            elif key == "collectionFormat":
                continue
            elif key == "$ref" and isinstance(value, str):
                out[key] = self._ref(value, None)
            elif _is_ext(key):
                out[key] = self._ext(value, None)
            else:
                out[key] = _copy(value)
        if schema:
            out["schema"] = schema
            _record(moves, new / "schema", old)
        written = header.get("collectionFormat")
        if header.get("type") == "array" and isinstance(written, str):
            if written == "csv":
                out["style"] = "simple"
                _record(moves, new / "style", old / "collectionFormat")
            else:
                out["x-collectionFormat"] = written
                _record(moves, new / "x-collectionFormat", old / "collectionFormat")
        return out

    # ------------------------------------------------------------------ schemas

    def _schema_piece(self, schema: Any, old: str, base: str | None) -> _Piece:
        moves: _Moves = []
        node = self._schema(schema, _P.at(""), _P.at(old), base, moves)
        return _Piece(node, old, moves)

    def _schema(self, node: Any, new: _P, old: _P | None, base: str | None, moves: _Moves) -> Any:
        if not isinstance(node, Mapping):
            return _copy(node)
        out: dict[str, Any] = {}
        is_file = node.get("type") == "file"
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                out[key] = self._ref(value, base)
            elif key == "properties" and isinstance(value, Mapping):
                props_new, props_old = new / key, _sub(old, key)
                out[key] = {
                    name: self._schema(sub, props_new / name, _sub(props_old, name), base, moves)
                    for name, sub in value.items()
                }
            elif key in ("allOf", "anyOf", "oneOf") and isinstance(value, list):
                list_new, list_old = new / key, _sub(old, key)
                out[key] = [
                    self._schema(sub, list_new / i, _sub(list_old, i), base, moves)
                    for i, sub in enumerate(value)
                ]
            elif key in ("additionalProperties", "not"):
                out[key] = self._schema(value, new / key, _sub(old, key), base, moves)
            elif key == "items" and isinstance(value, list):
                out[key] = self._schema_items(value, new / key, _sub(old, key), base, moves)
            elif key == "items":
                out[key] = self._schema(value, new / key, _sub(old, key), base, moves)
            elif key == "type" and is_file:
                out["type"], out["format"] = "string", "binary"
                _record(moves, new / "format", _sub(old, "type"))
            elif key == "format" and is_file:
                continue
            elif key == "x-nullable" and isinstance(value, bool):
                out["nullable"] = value
                _record(moves, new / "nullable", _sub(old, key))
            elif key == "discriminator" and isinstance(value, str):
                out[key] = {"propertyName": value}
                _record(moves, new / key / "propertyName", _sub(old, key))
            elif _is_ext(key):
                out[key] = self._ext(value, base)
            else:
                out[key] = _copy(value)
        if out.get("type") == "array" and "items" not in out:
            out["items"] = {}
            _record(moves, new / "items", _sub(old, "type"))
        return out

    def _schema_items(
        self, value: list[Any], new: _P, old: _P | None, base: str | None, moves: _Moves
    ) -> Any:
        # a list of schemas (tuple validation) is not 3.0: one becomes itself, more an anyOf
        if not value:
            return {}
        if len(value) == 1:
            _record(moves, new, _sub(old, 0))
            return self._schema(value[0], new, _sub(old, 0), base, moves)
        _record(moves, new / "anyOf", old)
        return {
            "anyOf": [
                self._schema(sub, new / "anyOf" / i, _sub(old, i), base, moves)
                for i, sub in enumerate(value)
            ]
        }

    # ------------------------------------------------------------------ refs and copies

    def _ref(self, ref: str, base: str | None) -> str:
        if base is not None:
            return _rebase(base, ref)
        if ref.startswith("#/definitions/"):
            return "#/components/schemas/" + ref[len("#/definitions/") :]
        if ref.startswith("#/parameters/"):
            rest = ref[len("#/parameters/") :]
            name = unescape(unquote(rest.partition("/")[0]))
            section = "requestBodies" if name in self._body_names else "parameters"
            return f"#/components/{section}/{rest}"
        if ref.startswith("#/responses/"):
            return "#/components/responses/" + ref[len("#/responses/") :]
        return ref

    def _ext(self, value: Any, base: str | None) -> Any:
        """A deep copy of an extension's value, with its `$ref`s rewritten."""
        if isinstance(value, Mapping):
            return {
                k: self._ref(v, base) if k == "$ref" and isinstance(v, str) else self._ext(v, base)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self._ext(v, base) for v in value]
        return value

    def _place(self, piece: _Piece, at: str, anchor: str | None = None) -> None:
        """Record the origins of `piece`, now at `at`. `anchor`: the `$ref` node that pulled
        in content from another file."""
        if piece.old is None:
            if anchor is not None:
                self.origins.add(at, anchor)
            return
        if piece.home is not None:
            self.origins.alias(at, piece.home)
            return
        piece.home = at
        self.origins.add(at, piece.old)
        for relative, original in piece.moves:
            self.origins.add(at + relative, original)


def _kind(param: Mapping[str, Any]) -> str:
    location = param.get("in")
    return location if location in ("body", "formData") else "other"


def _record(moves: _Moves, new: _P, old: _P | None) -> None:
    if old is not None:
        moves.append((str(new), str(old)))


def _names(media: list[_Media]) -> list[str]:
    return [m.name for m in media]


def _component_name(ref: str, prefix: str) -> str | None:
    if not ref.startswith(prefix):
        return None
    rest = ref[len(prefix) :]
    if "/" in rest:
        return None
    return unescape(unquote(rest))


def _rebase(base: str, ref: str) -> str:
    """`ref`, written in the file `base`, as seen from the document that refers to `base`."""
    if ref.startswith("#"):
        return base + ref
    parts = urlsplit(ref)
    if parts.scheme or ref.startswith("/"):
        return ref
    if urlsplit(base).scheme:
        return urljoin(base, ref)
    path, hash_, fragment = ref.partition("#")
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(base), path))
    return joined + hash_ + fragment

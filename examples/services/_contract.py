"""Check requests against the service's OpenAPI document, the way a spec-first service does.

A provider asks `Contract.operation(operation_id).check(request)`: the security requirement
(a bearer token the fleet knows, or a carrier key), then every path, query and header parameter
(coerced from text by its schema type) and the JSON body, against the schemas of the document in
contracts/, with their `$ref`s into other files. Swagger 2.0 (shipping) is read in its own shape.
Problems are raised as `ProblemError`s with the status the operation documents for them.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import jsonschema
import referencing
import referencing.jsonschema
import yaml
from starlette.requests import Request

from examples.services._problems import ProblemError

REPO = Path(__file__).resolve().parents[2]
CONTRACTS = REPO / "contracts"

FLEET_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzZXJ2aWNlIn0.c2lnbmF0dXJl"
"""The placeholder service token the example consumers send (as in the fleet's pacts)."""
CARRIER_KEY = "carrier-key-dhl-0001"


def known_tokens() -> frozenset[str]:
    """Bearer tokens the providers accept: the fleet's, or `EXAMPLES_TOKENS` (comma-separated)."""
    configured = os.environ.get("EXAMPLES_TOKENS")
    if configured:
        return frozenset(t.strip() for t in configured.split(",") if t.strip())
    return frozenset({FLEET_TOKEN})


def known_carrier_keys() -> frozenset[str]:
    configured = os.environ.get("EXAMPLES_CARRIER_KEYS")
    if configured:
        return frozenset(k.strip() for k in configured.split(",") if k.strip())
    return frozenset({CARRIER_KEY})


_PARAMETER_KEYS = frozenset({"name", "in", "required", "description", "collectionFormat"})
_INTEGER = re.compile(r"^-?[0-9]+$")
_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$")
# ProblemError details bound their members (contracts/_shared/problem.yaml): keep within them.
_MAX_ERRORS = 100
_MAX_ERROR_DETAIL = 500


@dataclass
class Parameter:
    """One path, query or header parameter of an operation, as the contract declares it."""

    name: str
    location: str
    required: bool
    schema: dict[str, Any]
    """3.x: a `$ref` to where the schema lives (so relative refs inside it resolve); Swagger
    2.0: the parameter's own schema keywords."""
    kind: str | None
    """The schema's type, which says how to read the parameter's text."""
    item_kind: str | None


@dataclass
class Checked:
    """A request that passed its operation's checks, with typed parameters and parsed body."""

    path: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, Any] = field(default_factory=dict)
    body: Any = None


@dataclass
class Operation:
    """One operation of the contract, with what `check` needs to judge a request for it."""

    contract: Contract
    operation_id: str
    method: str
    template: str
    parameters: list[Parameter]
    body_schema: dict[str, Any] | None
    body_required: bool
    security: list[dict[str, Any]]
    statuses: frozenset[str]

    def status_for(self, *preferred: int) -> int:
        """The first of `preferred` this operation documents (the first one if none is)."""
        for status in preferred:
            if str(status) in self.statuses:
                return status
        return preferred[0]

    async def check(self, request: Request) -> Checked:
        self._check_security(request)
        checked = Checked()
        errors: list[dict[str, str]] = []
        for parameter in self.parameters:
            raw = self._raw_value(request, parameter)
            if raw is None:
                if parameter.required:
                    errors.append({"parameter": parameter.name, "detail": "is required"})
                continue
            value = _coerce(raw, parameter.kind, parameter.item_kind)
            problems = self.contract.errors(parameter.schema, value)
            if problems:
                if parameter.location == "path":
                    # A malformed id names no resource: answer as for an unknown one.
                    raise ProblemError.not_found(
                        self.status_for(404, 400), f"No such {parameter.name}."
                    )
                errors.extend({"parameter": parameter.name, "detail": p} for _, p in problems)
                continue
            by_location = {"path": checked.path, "query": checked.query, "header": checked.headers}
            by_location[parameter.location][parameter.name] = value
        if self.body_schema is not None:
            checked.body = await self._body(request, errors)
        if errors:
            raise ProblemError.invalid(self.status_for(400, 422, 404), errors[:_MAX_ERRORS])
        return checked

    def _raw_value(self, request: Request, parameter: Parameter) -> str | list[str] | None:
        if parameter.location == "path":
            value = request.path_params.get(parameter.name)
            return None if value is None else str(value)
        if parameter.location == "query":
            values = request.query_params.getlist(parameter.name)
            if not values:
                return None
            if parameter.kind == "array" and self.contract.swagger2:
                # collectionFormat csv: an empty value is an empty list, not one empty item.
                return [v for joined in values if joined for v in joined.split(",")]
            return values if parameter.kind == "array" else values[0]
        if parameter.location == "header":
            return request.headers.get(parameter.name)
        return None

    async def _body(self, request: Request, errors: list[dict[str, str]]) -> Any:
        raw = await request.body()
        if not raw:
            if self.body_required:
                errors.append({"pointer": "", "detail": "a JSON request body is required"})
            return None
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            errors.append({"pointer": "", "detail": "the body must be application/json"})
            return None
        try:
            body = json.loads(raw)
        except ValueError:
            errors.append({"pointer": "", "detail": "the body is not valid JSON"})
            return None
        assert self.body_schema is not None
        errors.extend(
            {"pointer": pointer, "detail": detail}
            for pointer, detail in self.contract.errors(self.body_schema, body)
        )
        return body

    def _check_security(self, request: Request) -> None:
        if not self.security or any(not alternative for alternative in self.security):
            return
        for alternative in self.security:
            if all(self._satisfied(name, request) for name in alternative):
                return
        raise ProblemError.unauthorized(self.status_for(401, 403))

    def _satisfied(self, scheme_name: str, request: Request) -> bool:
        scheme = self.contract.security_schemes.get(scheme_name, {})
        kind = scheme.get("type")
        if kind == "apiKey":
            header = str(scheme.get("name", ""))
            return request.headers.get(header) in known_carrier_keys()
        if kind in ("http", "oauth2"):
            scheme_word, _, token = request.headers.get("authorization", "").partition(" ")
            return scheme_word.lower() == "bearer" and token in known_tokens()
        return False


class Contract:
    """One service's OpenAPI document (with the files it refers to) as request checks."""

    def __init__(self, service: str) -> None:
        folder = CONTRACTS / service
        self.path = next(
            folder / name for name in ("openapi.yaml", "openapi.json") if (folder / name).is_file()
        )
        self._files: dict[str, Any] = {}
        self._validators: dict[str, jsonschema.Draft202012Validator] = {}
        self.document = self._load(self.path)
        self.swagger2 = str(self.document.get("swagger", "")).startswith("2.")
        self._operations = self._read_operations()

    @property
    def security_schemes(self) -> dict[str, Any]:
        if self.swagger2:
            return dict(self.document.get("securityDefinitions", {}))
        return dict(self.document.get("components", {}).get("securitySchemes", {}))

    def operation(self, operation_id: str) -> Operation:
        return self._operations[operation_id]

    def errors(self, schema: dict[str, Any], value: Any) -> list[tuple[str, str]]:
        """Every way `value` breaks `schema`: (JSON pointer, what is wrong), shortest first."""
        key = json.dumps(schema, sort_keys=True)
        validator = self._validators.get(key)
        if validator is None:
            validator = jsonschema.Draft202012Validator(
                schema, registry=self._registry, format_checker=self._formats
            )
            self._validators[key] = validator
        found = []
        for error in validator.iter_errors(value):
            pointer = "".join(
                "/" + str(p).replace("~", "~0").replace("/", "~1") for p in error.absolute_path
            )
            found.append((pointer[:_MAX_ERROR_DETAIL], error.message[:_MAX_ERROR_DETAIL]))
        return sorted(found)

    # ---- loading ---------------------------------------------------------------------

    def _load(self, path: Path) -> Any:
        key = path.resolve().as_uri()
        if key not in self._files:
            text = path.read_text(encoding="utf-8")
            data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
            self._files[key] = _nullable_as_type(data)
            for ref in _refs(data):
                file_part = ref.split("#", 1)[0]
                if file_part:
                    self._load((path.parent / file_part).resolve())
        return self._files[key]

    @cached_property
    def _registry(self) -> referencing.Registry[Any]:
        spec = referencing.jsonschema.DRAFT202012
        return referencing.Registry().with_resources(
            (uri, spec.create_resource(data)) for uri, data in self._files.items()
        )

    @cached_property
    def _formats(self) -> jsonschema.FormatChecker:
        return jsonschema.Draft202012Validator.FORMAT_CHECKER

    def _resolve(self, node: Any, base: str, pointer: str) -> tuple[Any, str, str]:
        """Follow `$ref`s from a node at (file URI, pointer): the node and where it lives."""
        for _ in range(32):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                break
            file_part, _, fragment = node["$ref"].partition("#")
            if file_part:
                base = (Path(base.removeprefix("file://")).parent / file_part).resolve().as_uri()
            pointer = fragment
            node = self._files[base]
            for token in [t for t in fragment.split("/") if t]:
                node = node[token.replace("~1", "/").replace("~0", "~")]
        return node, base, pointer

    def _kind(self, schema: Any, base: str, pointer: str) -> str | None:
        node, base, pointer = self._resolve(schema, base, pointer)
        kind = node.get("type") if isinstance(node, dict) else None
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), None)
        return kind if isinstance(kind, str) else None

    def _read_operations(self) -> dict[str, Operation]:
        root = self.path.resolve().as_uri()
        operations: dict[str, Operation] = {}
        for template, path_item in self.document.get("paths", {}).items():
            escaped = template.replace("~", "~0").replace("/", "~1")
            shared = [
                (p, f"/paths/{escaped}/parameters/{i}")
                for i, p in enumerate(path_item.get("parameters", []))
            ]
            for method, op in path_item.items():
                if method not in ("get", "put", "post", "delete", "patch", "head", "options"):
                    continue
                own = [
                    (p, f"/paths/{escaped}/{method}/parameters/{i}")
                    for i, p in enumerate(op.get("parameters", []))
                ]
                operations[op["operationId"]] = self._operation(
                    root, template, method, op, escaped, shared + own
                )
        return operations

    def _operation(
        self,
        root: str,
        template: str,
        method: str,
        op: dict[str, Any],
        escaped: str,
        raw_parameters: list[tuple[Any, str]],
    ) -> Operation:
        by_key: dict[tuple[str, str], Parameter] = {}
        body_schema: dict[str, Any] | None = None
        body_required = False
        for raw, pointer in raw_parameters:
            node, base, where = self._resolve(raw, root, pointer)
            if node["in"] == "body":
                body_schema = {"$ref": f"{base}#{where}/schema"}
                body_required = bool(node.get("required"))
                continue
            if "schema" in node:
                schema_node, schema_at = node["schema"], f"{where}/schema"
            else:  # Swagger 2.0: the parameter is its own schema
                schema_node = {k: v for k, v in node.items() if k not in _PARAMETER_KEYS}
                schema_at = where
            schema = {"$ref": f"{base}#{schema_at}"}
            kind = self._kind(schema_node, base, schema_at)
            item_kind = None
            if kind == "array":
                items_node, items_base, items_at = self._resolve(schema_node, base, schema_at)
                item_kind = self._kind(items_node.get("items", {}), items_base, f"{items_at}/items")
            if "schema" not in node:
                # A Swagger 2.0 parameter's own keywords are its schema (none of them refers out).
                schema = schema_node
            by_key[(node["in"], node["name"])] = Parameter(
                name=node["name"],
                location=node["in"],
                required=bool(node.get("required")),
                schema=schema,
                kind=kind,
                item_kind=item_kind,
            )
        request_body = op.get("requestBody")
        if request_body is not None:
            body_node, base, where = self._resolve(
                request_body, root, f"/paths/{escaped}/{method}/requestBody"
            )
            body_schema = {"$ref": f"{base}#{where}/content/application~1json/schema"}
            body_required = bool(body_node.get("required"))
        security = op.get("security", self.document.get("security", []))
        return Operation(
            contract=self,
            operation_id=op["operationId"],
            method=method.upper(),
            template=template,
            parameters=list(by_key.values()),
            body_schema=body_schema,
            body_required=body_required,
            security=list(security),
            statuses=frozenset(str(s) for s in op.get("responses", {})),
        )


def _coerce(raw: str | list[str], kind: str | None, item_kind: str | None) -> Any:
    """Text from a URL or header as the type its schema declares; left as text if it is not."""
    if isinstance(raw, list):
        return [_coerce(item, item_kind, None) for item in raw]
    if kind == "integer" and _INTEGER.match(raw):
        return int(raw)
    if kind == "number" and _NUMBER.match(raw):
        return float(raw) if any(c in raw for c in ".eE") else int(raw)
    if kind == "boolean" and raw in ("true", "false"):
        return raw == "true"
    if kind == "array":
        return [_coerce(item, item_kind, None) for item in raw.split(",")] if raw else []
    return raw


def _refs(node: Any) -> list[str]:
    found: list[str] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            ref = current.get("$ref")
            if isinstance(ref, str):
                found.append(ref)
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
    return found


def _nullable_as_type(node: Any) -> Any:
    """OpenAPI 3.0's `nullable: true` as JSON Schema's `type: [T, "null"]`, for the validator."""
    if isinstance(node, dict):
        converted = {k: _nullable_as_type(v) for k, v in node.items()}
        if converted.get("nullable") is True and isinstance(converted.get("type"), str):
            converted["type"] = [converted["type"], "null"]
        return converted
    if isinstance(node, list):
        return [_nullable_as_type(v) for v in node]
    return node

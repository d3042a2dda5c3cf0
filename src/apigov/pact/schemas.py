"""OpenAPI schemas as JSON Schema validators, in the two readings static compatibility needs.

*request* reading: the schema as written (a request the consumer sends must be acceptable).
*response* reading: Pact's subset semantics. A consumer names only the fields it uses, so
`required` is dropped; every field it does name must be defined, so objects that do not say
otherwise reject undeclared properties (`unevaluatedProperties: false`, which sees through
`allOf`). Both readings turn OpenAPI 3.0 dialect (`nullable`, boolean `exclusiveMinimum`) into
JSON Schema 2020-12, and every `$ref` becomes a reference into one `$defs` table so recursive
schemas work; the validators are compiled once per schema node and reading.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

import jsonschema_rs
from msgspec import Struct

from apigov.spec.model import ApiSpec, AsyncApiSpec
from apigov.spec.sources import Source

_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_DROPPED = frozenset({"discriminator", "xml", "externalDocs", "example", "examples"})
_SCHEMA_VALUES = (
    "items",
    "additionalItems",
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
)


class Problem(Struct, frozen=True):
    """One way a value fails a schema: a JSON pointer into the value and a sentence."""

    path: str
    message: str


class SchemaBook:
    """Compiles and caches validators for the schemas of one spec."""

    def __init__(self, spec: ApiSpec | AsyncApiSpec) -> None:
        self.spec = spec
        # OpenAPI before 3.1 has its own schema dialect; AsyncAPI payloads are JSON Schema.
        self.legacy = isinstance(spec, ApiSpec) and spec.major_minor in ("2.0", "3.0")
        self._validators: dict[tuple[int, bool], Any] = {}
        self._definitions: dict[tuple[str, bool], dict[str, Any]] = {}
        self._names: dict[tuple[str, str], str] = {}
        self._keep: list[Any] = []

    def problems(
        self, schema: Any, source: Source | None, value: Any, *, response: bool
    ) -> list[Problem]:
        validator = self._validator(schema, source, response)
        if validator.is_valid(value):
            return []  # the common case, and several times cheaper than collecting errors
        found: list[Problem] = []
        for error in validator.iter_errors(value):
            path = "".join(f"/{part}" for part in error.instance_path)
            found.append(Problem(path, _message(error)))
            if len(found) >= 20:
                break
        return found

    def _validator(self, schema: Any, source: Source | None, response: bool) -> Any:
        key = (id(schema), response)
        validator = self._validators.get(key)
        if validator is None:
            definitions: dict[str, Any] = {}
            root = self._convert(schema, source, response, definitions, member=False)
            if isinstance(root, dict):
                root = {**root, "$defs": definitions}
            elif definitions:
                root = {"allOf": [root], "$defs": definitions} if root is not True else root
            validator = jsonschema_rs.Draft202012Validator(root, validate_formats=True)
            self._validators[key] = validator
            self._keep.append(schema)  # keep id(schema) stable while it is a cache key
        return validator

    def _ref_name(self, source: Source | None, ref: str, member: bool) -> tuple[str, Any, Any]:
        local = ref.startswith("#")
        target = self.spec.resolve(urllib.parse.unquote(ref) if local else ref, source)
        target_source = None if target.source is self.spec.source else target.source
        file_key = target.source.key
        name_key = (file_key, target.pointer)
        name = self._names.get(name_key)
        if name is None:
            name = f"s{len(self._names)}"
            self._names[name_key] = name
        return (name + ("m" if member else ""), target.node, target_source)

    def _convert(
        self,
        node: Any,
        source: Source | None,
        response: bool,
        definitions: dict[str, Any],
        *,
        member: bool,
        conditional: bool = False,
    ) -> Any:
        if not isinstance(node, dict):
            return node if isinstance(node, bool) else True
        if response and isinstance(node.get("allOf"), list):
            node = self._merge_all_of(node, source)
        discriminated = isinstance(node.get("discriminator"), dict) and "$ref" not in node
        if discriminated:
            # Each branch closes itself; the holder stays open so its branch's fields pass.
            node = self._select_by_discriminator(node, source)
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref.startswith("#") and not ref.startswith("#/"):
                return True  # an anchor: not used by OpenAPI documents we read
            name, target, target_source = self._ref_name(source, ref, member)
            if conditional:
                name += "c"
            if name not in definitions:
                definitions[name] = True  # placeholder first: recursive schemas refer back
                definitions[name] = self._convert(
                    target,
                    target_source,
                    response,
                    definitions,
                    member=member,
                    conditional=conditional,
                )
            return {"$ref": f"#/$defs/{name}"}
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in _SCHEMA_LISTS and isinstance(value, list):
                # allOf members see only their own properties: closing them would reject the
                # siblings' fields, so the object holding the allOf is closed instead.
                out[key] = [
                    self._convert(
                        item,
                        source,
                        response,
                        definitions,
                        member=member or key == "allOf",
                        conditional=conditional,
                    )
                    for item in value
                ]
            elif key in _SCHEMA_MAPS and isinstance(value, dict):
                out[key] = {
                    name: self._convert(
                        item, source, response, definitions, member=False, conditional=conditional
                    )
                    for name, item in value.items()
                }
            elif key in _SCHEMA_VALUES and isinstance(value, dict | bool):
                out[key] = self._convert(
                    value,
                    source,
                    response,
                    definitions,
                    member=False,
                    conditional=conditional
                    or key == "if"
                    or (key in ("then", "else") and not node.get("x-apigov-branch")),
                )
            elif key == "required" and response and not conditional:
                # Subset semantics: a consumer may leave any field out. Conditional branches
                # keep theirs: there `required` decides which branch applies.
                continue
            elif key in _DROPPED or key.startswith("x-"):
                continue
            else:
                out[key] = value
        if self.legacy:
            _from_openapi30(out)
        if (
            response
            and not member
            and not conditional
            and not discriminated
            and _is_closable(out)
            and "additionalProperties" not in out
            and "unevaluatedProperties" not in out
        ):
            out["unevaluatedProperties"] = False
        return out

    def _merge_all_of(self, node: dict[str, Any], source: Source | None) -> dict[str, Any]:
        """One object out of an allOf, so the subset reading can close it as a whole.

        Members' properties are combined (a name defined twice must satisfy both definitions);
        members that say more than properties stay in the allOf, open.
        """
        merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
        properties: dict[str, Any] = dict(merged.get("properties") or {})
        rest: list[Any] = []
        for member in node["allOf"]:
            resolved, member_source = self.spec.deref(member, source)
            if not isinstance(resolved, dict) or member_source is not source:
                rest.append(member)
                continue
            if isinstance(resolved.get("allOf"), list):
                resolved = self._merge_all_of(resolved, member_source)
            plain = set(resolved) <= {"type", "properties", "required", "description", "title"}
            for name, definition in (resolved.get("properties") or {}).items():
                if name in properties:
                    properties[name] = {"allOf": [properties[name], definition]}
                else:
                    properties[name] = definition
            if not plain:
                rest.append({k: v for k, v in resolved.items() if k != "properties"})
            elif resolved.get("type") == "object":
                merged.setdefault("type", "object")
        if properties:
            merged["properties"] = properties
        if rest:
            merged["allOf"] = rest
        return merged

    def _select_by_discriminator(
        self, node: dict[str, Any], source: Source | None
    ) -> dict[str, Any]:
        """A discriminated oneOf/anyOf: the property's value picks the one schema that applies."""
        discriminator = node["discriminator"]
        prop = discriminator.get("propertyName")
        members = node.get("oneOf") or node.get("anyOf")
        if not isinstance(prop, str) or not isinstance(members, list):
            return node
        refs = [
            m["$ref"] for m in members if isinstance(m, dict) and isinstance(m.get("$ref"), str)
        ]
        if len(refs) != len(members):
            return node
        mapping = discriminator.get("mapping")
        chosen: dict[str, str] = {}
        if isinstance(mapping, dict):
            chosen.update({str(k): str(v) for k, v in mapping.items()})
        for ref in refs:
            implicit = ref.rsplit("/", 1)[-1]
            if ref not in chosen.values():
                chosen.setdefault(implicit, ref)
        branches: list[Any] = [
            {
                "x-apigov-branch": True,
                "if": {"properties": {prop: {"const": value}}, "required": [prop]},
                "then": {"$ref": ref},
            }
            for value, ref in chosen.items()
        ]
        rest = {k: v for k, v in node.items() if k not in ("oneOf", "anyOf", "discriminator")}
        branches.append({"properties": {prop: {"enum": list(chosen)}}})
        return {**rest, "allOf": [*rest.get("allOf", []), *branches]}


def _is_closable(schema: dict[str, Any]) -> bool:
    """Objects that list their properties; a bare `type: object` promises nothing to close."""
    return "properties" in schema


def _from_openapi30(schema: dict[str, Any]) -> None:
    """OpenAPI 3.0 (and 2.0) dialect -> JSON Schema 2020-12, in place."""
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        flag = schema.get(exclusive)
        if flag is True and bound in schema:
            schema[exclusive] = schema.pop(bound)
        elif isinstance(flag, bool):
            del schema[exclusive]
    if schema.pop("nullable", False) is True:
        declared = schema.get("type")
        if isinstance(declared, str):
            schema["type"] = [declared, "null"]
        if isinstance(schema.get("enum"), list) and None not in schema["enum"]:
            schema["enum"] = [*schema["enum"], None]
        for combiner in ("oneOf", "anyOf"):
            if isinstance(schema.get(combiner), list):
                schema[combiner] = [*schema[combiner], {"type": "null"}]
    if schema.get("format") in ("int32", "int64", "float", "double", "byte", "binary"):
        # OpenAPI's own formats carry no value constraint a JSON validator knows.
        schema.pop("format")


def _message(error: Any) -> str:
    return str(error.message)

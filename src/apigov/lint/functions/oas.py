"""The OpenAPI-specific functions Spectral's `oas` ruleset uses, with the same meanings."""

from __future__ import annotations

import copy
import functools
import itertools
import math
import re
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import orjson
from msgspec import Struct

from apigov.lint.context import FunctionContext, Path, Result
from apigov.lint.filters import UNDEFINED
from apigov.lint.functions import core
from apigov.lint.functions.core import (
    Results,
    build_validator,
    unreferenced_reusable_object,
)
from apigov.lint.functions.js_numbers import (
    Shown,
    as_js_numbers,
    may_need_js_numbers,
    schema_key,
    with_js_numbers,
)
from apigov.lint.resolve import RefCycleError, bundle_refs, inline_refs

OPERATION_KEYS = ("get", "head", "post", "put", "patch", "delete", "options", "trace")


def _operations(paths: Any) -> Iterator[tuple[str, str, dict[str, Any]]]:
    if not isinstance(paths, dict):
        return
    for url, item in paths.items():
        if not isinstance(item, dict):
            continue
        for method, operation in item.items():
            if method in OPERATION_KEYS and isinstance(operation, dict):
                yield url, method, operation


def op_success_response(target: Any, _options: Any, context: FunctionContext) -> Results:
    if not isinstance(target, dict):
        return None
    is_oas3 = "oas3" in context.formats
    for code in target:
        if is_oas3 and code in ("2XX", "3XX"):
            return None
        try:
            number = float(code)
        except ValueError:
            continue
        if 200 <= number < 400:
            return None
    return [Result("Operation must define at least a single 2xx or 3xx response")]


_FORM_MEDIA = re.compile(r"(application/x-www-form-urlencoded|multipart/form-data)")


def op_form_data_consume_check(target: Any, _options: Any, _context: FunctionContext) -> Results:
    if not isinstance(target, dict):
        return None
    parameters, consumes = target.get("parameters"), target.get("consumes")
    if not isinstance(parameters, list) or not isinstance(consumes, list):
        return None
    uses_form = any(isinstance(p, dict) and p.get("in") == "formData" for p in parameters)
    if uses_form and not _FORM_MEDIA.search(",".join(str(c) for c in consumes)):
        return [
            Result(
                "Consumes must include urlencoded, multipart, or form-data media type "
                "when using formData parameter."
            )
        ]
    return None


def op_id_unique(target: Any, _options: Any, _context: FunctionContext) -> Results:
    found = []
    seen: list[Any] = []
    for url, method, operation in _operations(target):
        if "operationId" not in operation:
            continue
        operation_id = operation["operationId"]
        if operation_id in seen:
            found.append(
                Result("operationId must be unique.", ("paths", url, method, "operationId"))
            )
        else:
            seen.append(operation_id)
    return found or None


def op_params(target: Any, _options: Any, context: FunctionContext) -> Results:
    if not isinstance(target, list) or len(target) < 2:
        return None
    seen: set[str] = set()
    duplicates: list[int] = []
    body: list[int] = []
    form: list[int] = []
    for index, parameter in enumerate(target):
        if not isinstance(parameter, dict) or "$ref" in parameter:
            continue
        fingerprint = f"{_js_str(parameter.get('in'))}-{_js_str(parameter.get('name'))}"
        if fingerprint in seen:
            duplicates.append(index)
        else:
            seen.add(fingerprint)
        if parameter.get("in") == "body":
            body.append(index)
        elif parameter.get("in") == "formData":
            form.append(index)
    found = [
        Result(
            'A parameter in this operation already exposes the same combination of "name" and '
            '"in" values.',
            (*context.path, index),
        )
        for index in duplicates
    ]
    if body and form:
        found.append(Result('Operation must not have both "in:body" and "in:formData" parameters.'))
    found.extend(
        Result(
            'Operation must not have more than a single instance of the "in:body" parameter.',
            (*context.path, index),
        )
        for index in body[1:]
    )
    return found or None


def _js_str(value: Any) -> str:
    if value is None:
        return "null"
    return "undefined" if value is UNDEFINED else str(value)


def tag_defined(target: Any, _options: Any, _context: FunctionContext) -> Results:
    if not isinstance(target, dict):
        return None
    declared = {
        tag["name"]
        for tag in target.get("tags") or []
        if isinstance(tag, dict) and isinstance(tag.get("name"), str)
    }
    found = []
    for url, method, operation in _operations(target.get("paths")):
        tags = operation.get("tags")
        if not isinstance(tags, list):
            continue
        for index, tag in enumerate(tags):
            if not (isinstance(tag, str) and tag in declared):
                found.append(
                    Result(
                        "Operation tags must be defined in global tags.",
                        ("paths", url, method, "tags", index),
                    )
                )
    return found or None


_PATH_TEMPLATE = re.compile(r"(\{;?\??[a-zA-Z0-9_-]+\*?\})")


def path_params(target: Any, _options: Any, _context: FunctionContext) -> Results:
    if not isinstance(target, dict):
        return None
    found: list[Result] = []
    normalized_seen: dict[str, str] = {}
    for url, item in target.items():
        if not isinstance(item, dict):
            continue
        normalized = _PATH_TEMPLATE.sub("%", url)
        if normalized in normalized_seen:
            found.append(
                Result(
                    f'Paths "{normalized_seen[normalized]}" and "{url}" must not be equivalent.',
                    ("paths", url),
                )
            )
        else:
            normalized_seen[normalized] = url
        in_path: list[str] = []
        for match in _PATH_TEMPLATE.finditer(url):
            name = re.sub(r"[{}?*;]", "", match.group())
            if name in in_path:
                found.append(
                    Result(
                        f'Path "{url}" must not use parameter "{{{name}}}" multiple times.',
                        ("paths", url),
                    )
                )
            else:
                in_path.append(name)
        top = _path_parameters(item.get("parameters"), ("paths", url, "parameters"), found)
        for method, operation in item.items():
            if method not in OPERATION_KEYS or not isinstance(operation, dict):
                continue
            where: Path = ("paths", url, method)
            own = _path_parameters(operation.get("parameters"), (*where, "parameters"), found)
            declared = {**top, **own}
            for name, at in declared.items():
                if name not in in_path:
                    found.append(Result(f'Parameter "{name}" must be used in path "{url}".', at))
            for name in in_path:
                if name not in declared:
                    found.append(
                        Result(
                            f'Operation must define parameter "{{{name}}}" as expected by path '
                            f'"{url}".',
                            where,
                        )
                    )
    return found or None


def _path_parameters(parameters: Any, where: Path, found: list[Result]) -> dict[str, Path]:
    named: dict[str, Path] = {}
    if not isinstance(parameters, list):
        return named
    for index, parameter in enumerate(parameters):
        if not isinstance(parameter, dict):
            continue
        if parameter.get("in") != "path" or "name" not in parameter:
            continue
        name = str(parameter["name"])
        at = (*where, index)
        if parameter.get("required") is not True:
            found.append(
                Result(
                    f'Path parameter "{name}" must have "required" property that is set to "true".',
                    at,
                )
            )
        if name in named:
            found.append(Result(f'Path parameter "{name}" must not be defined multiple times.', at))
            continue
        named[name] = at
    return named


def uniqueness_tags(target: Any, _options: Any, context: FunctionContext) -> Results:
    if not isinstance(target, list) or not all(
        isinstance(tag, dict) and isinstance(tag.get("name"), str) for tag in target
    ):
        return None
    names = [tag["name"] for tag in target]
    found = [
        Result(
            f'"tags" object contains duplicate tag name "{name}".', (*context.path, index, "name")
        )
        for index, name in enumerate(names)
        if names.index(name) != index
    ]
    return found or None


def ref_siblings(_target: Any, _options: Any, context: FunctionContext) -> Results:
    if not context.path:
        return None
    holder: Any = context.document
    for token in context.path[:-1]:
        if isinstance(holder, dict):
            holder = holder.get(token)
        elif isinstance(holder, list) and isinstance(token, int):
            holder = holder[token]
        else:
            return None
    if not isinstance(holder, dict) or len(holder) == 1:
        return None
    return [
        Result("$ref must not be placed next to any other properties", (*context.path[:-1], key))
        for key in holder
        if key != "$ref"
    ] or None


def discriminator(target: Any, _options: Any, context: FunctionContext) -> Results:
    if not isinstance(target, dict) or not isinstance(target.get("discriminator"), str):
        return None
    name = target["discriminator"]
    found = []
    properties = target.get("properties")
    if not isinstance(properties, dict) or name not in properties:
        found.append(
            Result(
                "The discriminator property must be defined in this schema.",
                (*context.path, "properties"),
            )
        )
    required = target.get("required")
    if not isinstance(required, list) or name not in required:
        found.append(
            Result(
                "The discriminator property must be in the required property list.",
                (*context.path, "required"),
            )
        )
    return found


def security_defined(target: Any, options: Any, context: FunctionContext) -> Results:
    if not isinstance(target, dict) or not target:
        return None
    if not all(
        isinstance(scopes, list) and all(isinstance(s, str) for s in scopes)
        for scopes in target.values()
    ):
        return None
    version = (options or {}).get("oasVersion", 3)
    document = context.document
    if not isinstance(document, dict):
        return None
    if version == 2:
        schemes = document.get("securityDefinitions")
    else:
        components = document.get("components")
        schemes = components.get("securitySchemes") if isinstance(components, dict) else None
    found = []
    for name, scopes in target.items():
        if not isinstance(schemes, dict) or name not in schemes:
            what = "API" if len(context.path) == 2 else "Operation"
            place = "securityDefinitions" if version == 2 else "components.securitySchemes"
            found.append(
                Result(
                    f'{what} "security" values must match a scheme defined in the "{place}" '
                    "object.",
                    (*context.path, name),
                )
            )
            continue
        for index, scope in enumerate(scopes):
            if not _scope_defined(version, scope, schemes[name]):
                found.append(
                    Result(f'"{scope}" must be listed among scopes.', (*context.path, name, index))
                )
    return found or None


def _scope_defined(version: int, scope: str, scheme: Any) -> bool:
    if not isinstance(scheme, dict):
        return False
    if version == 2:
        scopes = scheme.get("scopes")
        return isinstance(scopes, dict) and scope in scopes
    flows = scheme.get("flows")
    if isinstance(flows, dict):
        for flow in flows.values():
            scopes = flow.get("scopes") if isinstance(flow, dict) else None
            if isinstance(scopes, dict) and scope in scopes:
                return True
    return False


def unused_component(target: Any, _options: Any, context: FunctionContext) -> Results:
    if not isinstance(target, dict) or not isinstance(target.get("components"), dict):
        return None
    found: list[Result] = []
    kinds = (
        "schemas",
        "responses",
        "parameters",
        "examples",
        "requestBodies",
        "headers",
        "links",
        "callbacks",
    )
    for kind in kinds:
        value = target["components"].get(kind)
        if isinstance(value, dict):
            options = {"reusableObjectsLocation": f"#/components/{kind}"}
            found.extend(unreferenced_reusable_object(value, options, context) or [])
    return found or None


# ---- server variables --------------------------------------------------------------------

_URL_VARIABLE = re.compile(r"{([^}]+)}")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def server_variables(target: Any, options: Any, context: FunctionContext) -> Results:
    if not _is_server_object(target):
        # Spectral's serverVariables reports a malformed server rather than skipping it.
        return [Result("Invalid Server Object")]
    url: str = target["url"]
    variables = target.get("variables")
    options = options or {}
    found: list[Result] = []
    used = list(dict.fromkeys(_URL_VARIABLE.findall(url)))
    defined = list(variables or {})
    for name in defined:
        if name not in used:
            found.append(
                Result(
                    f'Server\'s "variables" object has unused defined "{name}" url variable.',
                    (*context.path, "variables", name),
                )
            )
    if not used:
        return found or None
    missing = [name for name in used if name not in defined]
    if missing:
        found.append(
            Result(
                'Not all server\'s variables are described with "variables" object. '
                f"Missed: {', '.join(missing)}.",
                (*context.path, "variables"),
            )
        )
    if variables is None:
        return found or None
    pairs: list[tuple[str, list[str]]] = []
    for name in defined:
        if name not in used:
            continue
        variable = variables[name]
        if not isinstance(variable, dict):
            continue
        if isinstance(variable.get("enum"), list):
            pairs.append((name, [str(v) for v in variable["enum"]]))
            if "default" in variable and variable["default"] not in variable["enum"]:
                found.append(
                    Result(
                        f'Server Variable "{name}" has a default not listed in the enum.',
                        (*context.path, "variables", name, "default"),
                    )
                )
        elif "default" in variable:
            pairs.append((name, [str(variable["default"])]))
        else:
            pairs.append((name, []))
        if "default" not in variable and options.get("requireDefault") is True:
            found.append(
                Result(
                    f'Server Variable "{name}" has a missing default.',
                    (*context.path, "variables", name),
                )
            )
    if options.get("checkSubstitutions") is True and pairs:
        invalid = _invalid_substitutions(url, pairs)
        if len(invalid) == 5:
            found.append(
                Result(
                    "At least 5 substitutions of server variables resulted in invalid URLs: "
                    f"{', '.join(invalid)} and more",
                    (*context.path, "variables"),
                )
            )
        elif invalid:
            found.append(
                Result(
                    "A few substitutions of server variables resulted in invalid URLs: "
                    f"{', '.join(invalid)}",
                    (*context.path, "variables"),
                )
            )
    return found or None


_VARIABLE_FIELDS = {"enum": list, "default": str, "description": str, "examples": str}


def _is_server_object(target: Any) -> bool:
    if not isinstance(target, dict) or not isinstance(target.get("url"), str):
        return False
    variables = target.get("variables")
    if variables is None:
        return True
    if not isinstance(variables, dict):
        return False
    for variable in variables.values():
        if not isinstance(variable, dict):
            return False
        for name, value in variable.items():
            kind = _VARIABLE_FIELDS.get(name)
            if kind is None:
                if not name.startswith("x-"):
                    return False
            elif not isinstance(value, kind):
                return False
        if "enum" in variable and not all(isinstance(v, str) for v in variable["enum"]):
            return False
    return True


def _invalid_substitutions(url: str, pairs: list[tuple[str, list[str]]]) -> list[str]:
    invalid: list[str] = []
    choices = [[(name, value) for value in values] for name, values in pairs if values]
    for combination in itertools.product(*choices):
        substituted = url
        for name, value in combination:
            substituted = substituted.replace("{" + name + "}", value)
        if not _is_absolute_url(substituted):
            invalid.append(substituted)
            if len(invalid) == 5:
                break
    return invalid


def _is_absolute_url(text: str) -> bool:
    # What WHATWG `new URL(text)` accepts, for the shapes server URLs take.
    if not _SCHEME.match(text) or any(c.isspace() for c in text.strip()):
        return False
    scheme, _, rest = text.partition(":")
    if scheme.lower() in ("http", "https", "ws", "wss", "ftp"):
        host = rest.lstrip("/").split("/")[0].split("?")[0].split("#")[0]
        return bool(host) and "{" not in host and "}" not in host
    return True


# ---- examples and schemas -------------------------------------------------------------------


def oas_schema(target: Any, options: Any, context: FunctionContext) -> Results:
    """Validate `target` against `options.schema` in the document's schema dialect."""
    if target is UNDEFINED:
        return None
    schema = (options or {}).get("schema", {})
    return _validate_with_dialect(target, schema, context, context.path) or None


def _dialect(context: FunctionContext) -> str:
    if "oas3_1" in context.formats:
        declared = (
            context.document.get("jsonSchemaDialect")
            if isinstance(context.document, dict)
            else None
        )
        if isinstance(declared, str) and "draft-04" in declared:
            return "draft4"
        if isinstance(declared, str) and "draft-07" in declared:
            return "draft7"
        if isinstance(declared, str) and "2019-09" in declared:
            return "draft2019-09"
        return "draft2020-12"
    return "draft4"


class _Checker(Struct, frozen=True):
    """How values are checked against one schema: `problem` is reported at every value when the
    schema cannot be used (as Spectral does); else `validator` (None: a schema the validator
    cannot compile, which the document schema rule reports, so values pass). `compares`: the
    schema compares numbers or asks for integers (else every number gets the verdict it would
    get as a JavaScript number as it is); `shown`: how the schema's own numbers that were made
    JavaScript numbers are named in messages."""

    problem: str | None
    validator: Any
    compares: bool = False
    shown: Shown = {}


def _validate_with_dialect(
    value: Any, schema: Any, context: FunctionContext, where: Path
) -> list[Result]:
    checker = _checker(schema, context)
    if checker.problem is not None:
        # Spectral (ajv) refuses such a schema and reports it at every value it would check.
        return [Result(checker.problem, where)]
    if checker.validator is None:
        return []
    shown = checker.shown
    if checker.compares and may_need_js_numbers(value):
        # Spectral's values are JavaScript numbers: compared as such (see `js_numbers`).
        value, own = as_js_numbers(value)
        shown = {**shown, **own} if own else shown
    found = []
    seen: set[Path] = set()
    for error in checker.validator.iter_errors(value):
        at = (*where, *error.instance_path)
        if at in seen:
            continue
        seen.add(at)
        name = str(at[-1]) if at else "document"
        found.append(Result(f'"{name}" property {with_js_numbers(error.message, shown)}', at))
    return found


def _checker(schema: Any, context: FunctionContext) -> _Checker:
    """The checker of `schema`, built once per schema object and run: a media type used by a
    hundred operations, or a rule's own schema, is prepared and compiled once."""
    dialect = _dialect(context)
    oas2 = "oas2" in context.formats
    memo = context.memo
    key = ("oas-checker", id(schema), dialect, oas2)
    entry = memo.get(key)
    if entry is not None and entry[0] is schema:
        checker: _Checker = entry[1]
        return checker
    # Schemas written alike in several places (or inlined alike) share one validator.
    usable, key_bytes, shown = schema_key(schema)
    content = ("oas-checker-content", key_bytes, dialect, oas2)
    checker = memo.get(content) or _build_checker(
        usable, key_bytes, dialect, oas2, shown, _NUMBER_SENSITIVE.search(key_bytes) is not None
    )
    memo[content] = checker
    memo[key] = (schema, checker)  # holding `schema` keeps its id from being reused
    return checker


# What gives a number another verdict in jsonschema-rs than in ajv unless it is first made a
# JavaScript number (`js_numbers`): a comparison of numbers, or `type: integer` (a whole float).
# A key's bytes are searched: a property of one of these names costs a needless check.
_NUMBER_SENSITIVE = re.compile(
    rb'"(?:maximum|minimum|exclusiveMaximum|exclusiveMinimum|multipleOf|enum|const|uniqueItems'
    rb'|integer)"'
)


def _build_checker(
    schema: Any, text: bytes, dialect: str, oas2: bool, shown: Shown, compares: bool
) -> _Checker:
    flag = "x-nullable" if oas2 else "nullable"
    untyped, flagged = _nullable_scan(schema, flag, text)
    problem = _schema_problem(schema, dialect, untyped)
    if problem is not None:
        return _Checker(problem, None)
    try:
        # Most schemas say nothing of nullability: no copy to convert, the schema as it is.
        usable = _nullable_to_type(schema, oas2=oas2) if flagged else schema
        if len(text) >= _SHARED_FORM_SIZE and b'"$ref":' not in text:
            usable = _shared_form(usable, dialect)
        validator = build_validator(
            usable,
            dialect,
            validate_formats=True,
            keywords={"format": _format_keyword(dialect)},
        )
    except (ValueError, TypeError):
        validator = None
    return _Checker(None, validator, compares, shown)


_SHARED_FORM_SIZE = 65536
"""Below this size of text, finding what a schema shares took longer than it saved in
compiling (measured on the corpus: a loss up to 48 KB on Adyen's, 2-8x gains from 77 KB on
DigitalOcean's, where 400 KB schemas compile in a seventh of the time)."""
# Where a subschema may be hoisted (`_shared_form`): keywords holding one schema (`items`: or
# a list), a list or a map of them, that every dialect here reads so. Others stay as written.
_ONE_OR_LIST = frozenset(("items", "additionalProperties", "additionalItems"))
_SCHEMA_LISTS = frozenset(("allOf", "anyOf", "oneOf"))
_SCHEMA_MAPS = frozenset(("properties", "patternProperties"))
_HOISTING = _ONE_OR_LIST | _SCHEMA_LISTS | _SCHEMA_MAPS
# Keywords that move the base a `$ref` is resolved against, or name one: where one is, the
# schema is compiled as it is.
_BASE_KEYWORDS = frozenset(
    (
        *("$ref", "$id", "id", "$anchor", "$dynamicAnchor", "$dynamicRef", "$recursiveAnchor"),
        *("$recursiveRef", "$schema", "unevaluatedProperties", "unevaluatedItems"),
    )
)


def _shared_form(schema: Any, dialect: str) -> Any:
    """`schema` with each subschema it holds more than once (a resolved view shares the schema
    a `$ref` led to) written once under the root's definitions and referred to, so that it is
    converted and compiled once: Spectral's example checks inline every reference, and
    DigitalOcean's largest such schema is a 400 KB tree of 780 distinct objects. jsonschema-rs
    compiles a `$ref`'s target once per validator; a reference reports the target's errors at
    the same places with the same messages. `not` is never entered (its message quotes its
    schema), nor a schema with any keyword of `_BASE_KEYWORDS`: then `schema` as it is."""
    if not isinstance(schema, dict):
        return schema
    holder = "definitions" if dialect in ("draft4", "draft6", "draft7") else "$defs"
    if holder in schema:
        return schema
    seen: dict[int, int] = {}
    shared = False
    stack: list[dict[str, Any]] = [schema]
    while stack:
        node = stack.pop()
        count = seen.get(id(node), 0)
        seen[id(node)] = count + 1
        if count:
            shared = True
            continue
        if not _BASE_KEYWORDS.isdisjoint(node):
            return schema
        for key in _HOISTING.intersection(node):
            value = node[key]
            if type(value) is dict:
                if key in _SCHEMA_MAPS:
                    stack.extend(item for item in value.values() if type(item) is dict)
                else:
                    stack.append(value)
            elif type(value) is list and key != "additionalProperties":
                stack.extend(item for item in value if type(item) is dict)
    if not shared:
        return schema
    names: dict[int, str] = {}
    hoisted: dict[str, Any] = {}

    def rewrite(node: dict[str, Any]) -> dict[str, Any]:
        keys = _HOISTING.intersection(node)
        if not keys:
            return node
        result = dict(node)
        for key in keys:
            value = node[key]
            if type(value) is dict:
                if key in _SCHEMA_MAPS:
                    result[key] = {
                        name: place(item) if type(item) is dict else item
                        for name, item in value.items()
                    }
                else:
                    result[key] = place(value)
            elif type(value) is list and key != "additionalProperties":
                result[key] = [place(item) if type(item) is dict else item for item in value]
        return result

    def place(node: dict[str, Any]) -> dict[str, Any]:
        if seen[id(node)] == 1:
            return rewrite(node)
        name = names.get(id(node))
        if name is None:
            name = names[id(node)] = str(len(names))
            hoisted[name] = rewrite(node)
        return {"$ref": f"#/{holder}/{name}"}

    return {**rewrite(schema), holder: hoisted}


@functools.cache
def _format_keyword(dialect: str) -> type:
    """`format` as Spectral's example checks read it (ajv with its formats): OpenAPI's `int32`
    and `int64` hold for numbers that are whole (`int32`: from -2**31 to 2**31 - 1; a number
    past the largest double is no number there); string formats are the validator's own for
    `dialect`, asked through a validator of that one keyword (so their verdicts and messages
    stay jsonschema-rs's); other values pass."""

    class OpenApiFormat:
        def __init__(self, parent_schema: Any, value: Any, schema_path: Any) -> None:
            self.name = value
            self.strings = _string_format(dialect, value) if isinstance(value, str) else None

        def validate(self, instance: Any) -> None:
            if isinstance(instance, str):
                if self.strings is not None:
                    for error in self.strings.iter_errors(instance):
                        raise ValueError(error.message)
            elif isinstance(instance, int | float) and not isinstance(instance, bool):
                bounds = _NUMBER_FORMATS.get(self.name)
                if bounds is not None and not _whole_within(instance, bounds):
                    raise ValueError(f'must match format "{self.name}"')

    return OpenApiFormat


_NUMBER_FORMATS: dict[Any, tuple[float, float]] = {
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-math.inf, math.inf),
}


def _whole_within(number: int | float, bounds: tuple[float, float]) -> bool:
    try:
        as_double = float(number)  # what JavaScript holds
    except OverflowError:
        return False  # Infinity in JavaScript: not an integer
    return as_double.is_integer() and bounds[0] <= number <= bounds[1]


@functools.cache
def _string_format(dialect: str, name: str) -> Any:
    return build_validator({"format": name}, dialect, validate_formats=True)


_META_SCHEMAS = {
    "draft4": "http://json-schema.org/draft-04/schema#",
    "draft7": "http://json-schema.org/draft-07/schema#",
    "draft2019-09": "https://json-schema.org/draft/2019-09/schema",
    "draft2020-12": "https://json-schema.org/draft/2020-12/schema",
}


def _schema_problem(schema: Any, dialect: str, untyped: bool) -> str | None:
    """Why a schema cannot be used to check values: not valid in its dialect, or `nullable`
    without `type` (`untyped`: which OpenAPI 3.0 forbids). None when it can be used."""
    if not isinstance(schema, dict):
        return None
    if untyped:
        return '"nullable" cannot be used without "type"'
    candidate = {**schema, "$schema": _META_SCHEMAS[dialect]}
    try:
        valid = jsonschema_rs.meta.is_valid(candidate)
    except (ValueError, TypeError):
        valid = True  # a meta-schema jsonschema-rs does not know: do not guess
    return None if valid else "schema is invalid"


def _nullable_scan(schema: Any, flag: str, text: bytes) -> tuple[bool, bool]:
    """(some `nullable: true` has no `type`, some `flag: true` is there), in one pass; none of
    it when `text` (the schema's key, orjson's compact text) has no `"nullable":true` and no
    `"<flag>":true`, as most schemas have not."""
    if (
        text[:1] != b"\0"
        and b'"nullable":true' not in text
        and f'"{flag}":true'.encode() not in text
    ):
        return False, False
    flagged = False
    for node in _containers(schema):
        if isinstance(node, dict):
            if node.get("nullable") is True and "type" not in node:
                return True, True
            if not flagged and node.get(flag) is True:
                flagged = True
    return False, flagged


def _containers(root: Any) -> Iterator[Any]:
    """Every dict and list in `root`, each object once: a resolved view shares the schema a
    `$ref` led to wherever it is used (DigitalOcean's largest example schema is a tree of
    13,000 nodes made of 780 objects). Not in document order."""
    if not isinstance(root, dict | list):
        return
    seen = {id(root)}
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        for value in node.values() if isinstance(node, dict) else node:
            if (
                type(value) not in _SCALARS
                and isinstance(value, dict | list)
                and id(value) not in seen
            ):
                seen.add(id(value))
                stack.append(value)


def _nullable_to_type(schema: Any, *, oas2: bool) -> Any:
    """OpenAPI's `nullable: true` (`x-nullable` in 2.0) as draft-4: `null` joins `type`. Only
    the objects on the way to a changed one are copied (the rest is shared: nothing changes
    a prepared schema afterwards)."""
    flag = "x-nullable" if oas2 else "nullable"
    # A resolved view shares each schema a `$ref` led to: converted once, and the copy shared
    # alike (which `_shared_form` relies on; a tree of copies cost 30x more to compile).
    done: dict[int, Any] = {}

    def convert(node: Any) -> Any:
        """The converted copy of `node`, None when nothing in it changes."""
        if type(node) in _SCALARS:
            return None
        known = done.get(id(node), _SKIP)
        if known is not _SKIP:
            return known
        result = convert_new(node)
        done[id(node)] = result
        return result

    def convert_new(node: Any) -> Any:
        result: Any = None
        if isinstance(node, list):
            for index, item in enumerate(node):
                new = convert(item)
                if new is not None:
                    if result is None:
                        result = list(node)
                    result[index] = new
            return result
        if not isinstance(node, dict):
            return None
        for key, value in node.items():
            new = convert(value)
            if new is not None:
                if result is None:
                    result = dict(node)
                result[key] = new
        if node.get(flag) is True:
            if result is None:
                result = dict(node)
            declared = result.get("type")
            if isinstance(declared, str):
                result["type"] = [declared, "null"]
            elif isinstance(declared, list) and "null" not in declared:
                result["type"] = [*declared, "null"]
            if isinstance(result.get("enum"), list) and None not in result["enum"]:
                result["enum"] = [*result["enum"], None]
        return result

    converted = convert(schema)
    return schema if converted is None else converted


def _relax_required(schema: Any, read_only: bool, write_only: bool) -> None:
    """Request examples may omit readOnly properties, response examples writeOnly ones."""
    if not (read_only or write_only):
        return
    for node in _containers(schema):
        if not isinstance(node, dict):
            continue
        properties = node.get("properties")
        if isinstance(properties, dict) and isinstance(node.get("required"), list):
            relaxed = [
                name
                for name in node["required"]
                if not (
                    isinstance(properties.get(name), dict)
                    and (
                        (read_only and properties[name].get("readOnly") is True)
                        or (write_only and properties[name].get("writeOnly") is True)
                    )
                )
            ]
            if relaxed:
                node["required"] = relaxed
            else:
                del node["required"]


def _is_under(path: Path, patterns: tuple[tuple[str, ...], ...]) -> bool:
    return any(
        len(path) >= len(pattern)
        and all(part == "*" or part == path[i] for i, part in enumerate(pattern))
        for pattern in patterns
    )


_REQUEST_MEDIA = {2: (), 3: (("components", "requestBodies"), ("paths", "*", "*", "requestBody"))}
_RESPONSE_MEDIA = {
    2: (("responses",), ("paths", "*", "*", "responses")),
    3: (("components", "responses"), ("paths", "*", "*", "responses")),
}
_SKIP: Any = object()
"""A prepared example schema that checks nothing (see `recursive`)."""


def oas_example(target: Any, options: Any, context: FunctionContext) -> Results:
    if not isinstance(target, dict):
        return None
    options = options or {}
    version = int(options.get("oasVersion", 3))
    field = options.get("schemaField", "$")
    kind = options.get("type", "schema")
    schema = target if field == "$" else target.get(field)
    if not isinstance(schema, dict):
        return None
    items: list[tuple[Any, Path]] = []
    if kind == "schema":
        names = ("example", "x-example", "default") if version == 2 else ("example", "default")
        items = [(target[name], (*context.path, name)) for name in names if name in target]
    elif version == 2:
        examples = target.get("examples")
        if isinstance(examples, dict):
            items = [(value, (*context.path, "examples", key)) for key, value in examples.items()]
    elif "example" in target:
        items = [(target["example"], (*context.path, "example"))]
    elif isinstance(target.get("examples"), dict):
        for key, example in target["examples"].items():
            if not isinstance(example, dict) or "externalValue" in example:
                continue
            items.append(
                (example.get("value", UNDEFINED), (*context.path, "examples", key, "value"))
            )
    if not items:
        return None
    # recursive: "skip" (Spectral's behaviour: a schema that refers to itself is not checked),
    # "follow" (every schema, recursion followed as deep as the example goes), "only" (only
    # recursive schemas, followed: what a ruleset adds to the Spectral rules).
    recursive = options.get("recursive", "skip")
    read_only = kind == "media" and _is_under(context.path, _REQUEST_MEDIA[version])
    write_only = kind == "media" and _is_under(context.path, _RESPONSE_MEDIA[version])
    prepared = _prepared_schema(schema, context, version, recursive, read_only, write_only)
    if prepared is _SKIP:
        return None
    found: list[Result] = []
    for value, where in items:
        if value is UNDEFINED:
            continue
        found.extend(_validate_with_dialect(value, prepared, context, where))
    return found or None


def _prepared_schema(
    schema: dict[str, Any],
    context: FunctionContext,
    version: int,
    recursive: str,
    read_only: bool,
    write_only: bool,
) -> Any:
    """`schema` made self-contained for checking examples (or `_SKIP`), once per schema object,
    place kind and run: the schemas of a resolved document are shared objects (each written
    node is resolved once), so the media types and parameters using one schema share this."""
    source_key = context.source.key if context.source is not None else None
    key = ("oas-example", id(schema), source_key, version, recursive, read_only, write_only)
    entry = context.memo.get(key)
    if entry is not None and entry[0] is schema:
        return entry[1]
    prepared: Any
    if not _holds_ref(schema):
        # Self-contained already (a resolved view keeps a `$ref` only where it loops back):
        # nothing to inline, and no copy unless something below is to change.
        prepared = _SKIP if recursive == "only" else schema
    else:
        try:
            prepared = inline_refs(schema, context)
            if recursive == "only":
                prepared = _SKIP
        except RefCycleError:
            prepared = _SKIP if recursive == "skip" else bundle_refs(schema, context)
    if prepared is not _SKIP:
        boolean_required = version == 2 and isinstance(prepared.get("required"), bool)
        if boolean_required or _relaxable(prepared, read_only, write_only):
            if prepared is schema:
                # Not copied so far: the changes below must not reach the document.
                prepared = copy.deepcopy(prepared)
            if boolean_required:
                del prepared["required"]
            _relax_required(prepared, read_only, write_only)
    context.memo[key] = (schema, prepared)
    return prepared


def _holds_ref(schema: Any) -> bool:
    text = _compact(schema)
    if text is not None and b'"$ref":"' not in text:
        return False  # orjson writes a string `$ref` so (see `_holds_no_schema_key`)
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _relaxable(schema: Any, read_only: bool, write_only: bool) -> bool:
    """Whether `_relax_required` would change `schema` (it reads the same places)."""
    if not (read_only or write_only):
        return False
    text = _compact(schema)
    if text is not None and not (
        (read_only and b'"readOnly":true' in text) or (write_only and b'"writeOnly":true' in text)
    ):
        return False  # no property it could relax: most schemas
    for node in _containers(schema):
        if not isinstance(node, dict):
            continue
        properties = node.get("properties")
        required = node.get("required")
        if isinstance(properties, dict) and isinstance(required, list):
            for name in required:
                held = properties.get(name)
                if isinstance(held, dict) and (
                    (read_only and held.get("readOnly") is True)
                    or (write_only and held.get("writeOnly") is True)
                ):
                    return True
    return False


def document_schema(target: Any, _options: Any, context: FunctionContext) -> Results:
    """The document against the official OpenAPI JSON Schema of its version."""
    from apigov.spec.validate import official_schema

    if not isinstance(target, dict):
        return None
    if "oas2" in context.formats:
        version = "2.0"
    elif "oas3_1" in context.formats:
        version = "3.1"
    elif "oas3_0" in context.formats:
        version = "3.0"
    else:
        return None
    found = []
    seen: set[Path] = set()
    official = official_schema(version)
    # Most documents pass, and telling that costs a fifth less than listing no errors; a
    # document that fails stops the check at its first error, which costs next to nothing.
    errors = () if official.is_valid(target) else official.iter_errors(target)
    for error in errors:
        at = tuple(error.instance_path)
        places = [at]
        if type(error.kind).__name__ == "AdditionalProperties":
            unexpected = [str(name) for name in error.kind.unexpected]
            if version == "2.0":
                # anyOf/oneOf in 2.0 schemas have rules of their own (oas2-anyOf, oas2-oneOf).
                unexpected = [name for name in unexpected if name not in ("anyOf", "oneOf")]
            places = [(*at, name) for name in unexpected]
        for place in places:
            if place not in seen:
                seen.add(place)
                found.append(Result(str(error.message)[:240], place))
    if version == "3.1" and _dialect(context) == "draft2020-12":
        # The OpenAPI 3.1 schema leaves Schema Objects to their dialect; Spectral checks them
        # against it as part of this rule, and so does apigov.
        objects = _schema_objects(target, ())
        validator = _dialect_meta_validator()
        # One call checks every Schema Object (most are valid); only the invalid ones are
        # checked again, one by one, for their errors in the order a check of each gives.
        if validator.is_valid([schema for _, schema in objects]):
            return found or None
        for where, schema in objects:
            if validator.is_valid([schema]):
                continue
            for error in validator.iter_errors([schema]):
                place = (*where, *error.instance_path[1:])
                if place not in seen:
                    seen.add(place)
                    found.append(Result(str(error.message)[:240], place))
    return found or None


@functools.cache
def _dialect_meta_validator() -> Any:
    """A list of Schema Objects against the 2020-12 meta-schema (a call per list, not per
    schema: a document holds a thousand of them)."""
    return jsonschema_rs.Draft202012Validator(
        {"type": "array", "items": {"$ref": _META_SCHEMAS["draft2020-12"]}}
    )


def _schema_objects(node: Any, where: Path) -> list[tuple[Path, Any]]:
    """Every outermost Schema Object of an OpenAPI 3.1 document (nested ones are inside), in
    document order. The whole document is walked: a path is built only for what is found (one
    per container cost more than the checks). Examples are skipped when orjson's text of them
    has no `"schema":` key (they are a third of a document such as Adyen's, and writing them
    in C costs a fraction of walking them)."""
    found: list[tuple[Path, Any]] = []
    at: list[str | int] = list(where)

    def visit(current: Any) -> None:
        if isinstance(current, list):
            for index, item in enumerate(current):
                if type(item) not in _SCALARS and isinstance(item, dict | list):
                    at.append(index)
                    visit(item)
                    at.pop()
            return
        if len(at) == 2 and at[0] == "components" and at[1] == "schemas":
            found.extend(((*at, name), schema) for name, schema in current.items())
            return
        for key, value in current.items():
            if key == "schema" and isinstance(value, dict | bool):
                found.append(((*at, key), value))
            elif (
                type(value) not in _SCALARS
                and isinstance(value, dict | list)
                and not (key in _EXAMPLE_KEYS and _holds_no_schema_key(value))
            ):
                at.append(key)
                visit(value)
                at.pop()

    if isinstance(node, dict | list):
        visit(node)
    return found


_SCALARS = frozenset((str, int, float, bool, type(None)))
_EXAMPLE_KEYS = frozenset(("example", "examples"))


def _holds_no_schema_key(value: Any) -> bool:
    """Whether no object below `value` has a `schema` key (False when unsure). In orjson's
    compact text such a key is `"schema":`; a string holding those characters has its quotes
    escaped, so the search can only find too much (then the value is walked)."""
    text = _compact(value)
    return text is not None and b'"schema":' not in text


def _compact(value: Any) -> bytes | None:
    """orjson's compact text of `value`, searched for keys before walking it in Python (which
    costs many times more); None when orjson does not write it (keys that are not strings,
    integers beyond 64 bits): the caller walks."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return None


ViewShape = dict[str, "ViewShape | None"]
"""The places below a target a function reads: key (or `*`) -> the shape below it, None for
all of it; `{}`: the target alone (its keys, length or truthiness)."""
_PARAMETERS: ViewShape = {"*": {"in": None, "name": None, "required": None}}
VIEW_SHAPES: dict[Any, ViewShape] = {
    # What these functions read of the resolved document: the rest is passed as written.
    # Resolving a whole document for a rule that reads its operations' tags cost more than
    # every schema rule together. Functions not listed get a full view.
    tag_defined: {
        "tags": {"*": {"name": None}},
        "paths": {"*": {"*": {"tags": {"*": None}}}},
    },
    op_id_unique: {"*": {"*": {"operationId": None}}},
    path_params: {"*": {"parameters": _PARAMETERS, "*": {"parameters": _PARAMETERS}}},
    op_success_response: {},  # the response codes
    op_params: _PARAMETERS,
    core.truthy: {},
    core.falsy: {},
    core.defined: {},
    core.undefined: {},
    core.length: {},
    core.enumeration: {},
    core.xor: {},
    core.or_: {},
}

OAS_FUNCTIONS = {
    "oasOpSuccessResponse": op_success_response,
    "oasOpFormDataConsumeCheck": op_form_data_consume_check,
    "oasOpIdUnique": op_id_unique,
    "oasOpParams": op_params,
    "oasTagDefined": tag_defined,
    "oasPathParam": path_params,
    "uniquenessTags": uniqueness_tags,
    "refSiblings": ref_siblings,
    "oasDiscriminator": discriminator,
    "oasSecurityDefined": security_defined,
    "oasUnusedComponent": unused_component,
    "serverVariables": server_variables,
    "oasSchema": oas_schema,
    "oasExample": oas_example,
    "oasDocumentSchema": document_schema,
}

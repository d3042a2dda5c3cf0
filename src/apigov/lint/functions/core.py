"""Spectral's core functions, with its meanings (so a Spectral ruleset gives the same findings).

Like Spectral, a function whose target is not of the kind it checks (a `pattern` on a number,
a `length` on `undefined`) says nothing: other rules (the document schema) cover the shape.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import jsonschema_rs
import orjson

from apigov.lint.context import FunctionContext, Result
from apigov.lint.filters import UNDEFINED, compile_js_regex
from apigov.lint.filters import truthy as js_truthy

Results = list[Result] | None


def _property(context: FunctionContext) -> str:
    return str(context.path[-1]) if context.path else "the document"


def truthy(target: Any, _options: Any, context: FunctionContext) -> Results:
    if js_truthy(target):
        return None
    return [Result(f'"{_property(context)}" property must be truthy')]


def falsy(target: Any, _options: Any, context: FunctionContext) -> Results:
    if not js_truthy(target):
        return None
    return [Result(f'"{_property(context)}" property must be falsy')]


def defined(target: Any, _options: Any, context: FunctionContext) -> Results:
    if target is not UNDEFINED:
        return None
    return [Result(f'"{_property(context)}" property must be defined')]


def undefined(target: Any, _options: Any, context: FunctionContext) -> Results:
    if target is UNDEFINED:
        return None
    return [Result(f'"{_property(context)}" property must be undefined')]


@functools.lru_cache(maxsize=1024)
def regex(pattern: str) -> re.Pattern[str]:
    """A ruleset's pattern: `/body/flags` (JavaScript literal form) or a plain body."""
    literal = re.fullmatch(r"/(.+)/([a-z]*)", pattern, re.DOTALL)
    if literal:
        return compile_js_regex(literal[1], literal[2])
    return compile_js_regex(pattern)


def pattern(target: Any, options: Any, _context: FunctionContext) -> Results:
    if not isinstance(target, str):
        return None
    options = options or {}
    found: list[Result] = []
    match = options.get("match")
    if isinstance(match, str) and not regex(match).search(target):
        found.append(Result(f'"{target}" must match the pattern "{match}"'))
    not_match = options.get("notMatch")
    if isinstance(not_match, str) and regex(not_match).search(target):
        found.append(Result(f'"{target}" must not match the pattern "{not_match}"'))
    return found or None


def pattern_passes(options: Any) -> Callable[[Any], bool] | None:
    """A test that `pattern` with these options has nothing to say of a value, so the engine
    need not call it (it is the function most rules use, at every description and title);
    None when the options are not what `pattern` reads (the call then reports them)."""
    try:
        match = options.get("match") if options else None
        not_match = options.get("notMatch") if options else None
        found = regex(match).search if isinstance(match, str) else None
        forbidden = regex(not_match).search if isinstance(not_match, str) else None
    except Exception:  # malformed options: the call reports them
        return None

    def passes(target: Any) -> bool:
        return not isinstance(target, str) or (
            (found is None or found(target) is not None)
            and (forbidden is None or forbidden(target) is None)
        )

    return passes


_CASES = {
    "flat": "[a-z][a-z{d}]*",
    "camel": "[a-z][a-z{d}]*(?:[A-Z{d}](?:[a-z{d}]+|$))*",
    "pascal": "[A-Z][a-z{d}]*(?:[A-Z{d}](?:[a-z{d}]+|$))*",
    "kebab": "[a-z][a-z{d}]*(?:-[a-z{d}]+)*",
    "cobol": "[A-Z][A-Z{d}]*(?:-[A-Z{d}]+)*",
    "snake": "[a-z][a-z{d}]*(?:_[a-z{d}]+)*",
    "macro": "[A-Z][A-Z{d}]*(?:_[A-Z{d}]+)*",
}
CASING_TYPES = tuple(_CASES)


@functools.lru_cache(maxsize=256)
def _casing_pattern(
    kind: str, disallow_digits: bool, separator: str | None, allow_leading: bool
) -> re.Pattern[str]:
    word = _CASES[kind].format(d="" if disallow_digits else "0-9")
    if separator is None:
        return re.compile(f"^{word}$")
    sep = re.escape(separator)
    leading = f"{sep}?" if allow_leading else ""
    return re.compile(f"^{leading}{word}(?:{sep}{word})*$")


def casing(target: Any, options: Any, _context: FunctionContext) -> Results:
    if not isinstance(target, str) or target == "":
        return None
    options = options or {}
    kind = options.get("type")
    if kind not in _CASES:
        raise ValueError(f"casing: unknown type {kind!r} (one of {', '.join(_CASES)})")
    separator = options.get("separator") or {}
    char = separator.get("char")
    allow_leading = bool(separator.get("allowLeading"))
    if char is not None and allow_leading and target == char:
        return None
    compiled = _casing_pattern(kind, bool(options.get("disallowDigits")), char, allow_leading)
    if compiled.match(target):
        return None
    return [Result(f'"{target}" must be {kind} case')]


def enumeration(target: Any, options: Any, _context: FunctionContext) -> Results:
    if target is UNDEFINED or isinstance(target, dict | list):
        return None
    values = (options or {}).get("values", [])
    if any(type(target) is type(value) and target == value for value in values):
        return None
    allowed = ",".join(str(value) for value in values)
    return [Result(f'"{target}" must be equal to one of the allowed values: {allowed}')]


def length(target: Any, options: Any, context: FunctionContext) -> Results:
    if isinstance(target, bool) or target is None or target is UNDEFINED:
        return None
    if isinstance(target, int | float):
        size: float = target
    elif isinstance(target, str | list | dict):
        size = len(target)
    else:
        return None
    options = options or {}
    low, high = options.get("min"), options.get("max")
    name = _property(context)
    if low is not None and size < low:
        return [Result(f'"{name}" must be longer than {low}')]
    if high is not None and size > high:
        return [Result(f'"{name}" must be shorter than {high}')]
    return None


def alphabetical(target: Any, options: Any, context: FunctionContext) -> Results:
    if not isinstance(target, list | dict) or len(target) < 2:
        return None
    keyed_by = (options or {}).get("keyedBy")
    items: list[Any]
    if isinstance(target, dict):
        items = list(target)
    elif keyed_by:
        items = [item.get(keyed_by) if isinstance(item, dict) else item for item in target]
    else:
        items = list(target)
    for index in range(len(items) - 1):
        left, right = items[index], items[index + 1]
        if _out_of_order(left, right):
            name = _property(context)
            if isinstance(target, dict):
                return [Result(f'"{name}" must be sorted alphabetically', (*context.path, left))]
            return [Result(f'"{name}" must be sorted alphabetically', (*context.path, index))]
    return None


def _out_of_order(left: Any, right: Any) -> bool:
    if isinstance(left, int | float) and isinstance(right, int | float):
        return bool(left > right)
    return str(left) > str(right)


def xor(target: Any, options: Any, _context: FunctionContext) -> Results:
    if not isinstance(target, dict):
        return None
    names = list((options or {}).get("properties", []))
    present = [name for name in names if name in target]
    if len(present) == 1:
        return None
    listed = " and ".join(f'"{name}"' for name in names)
    if not present:
        return [Result(f"{listed.replace(' and ', ' or ')} must be defined")]
    return [Result(f"{listed} must not be both defined")]


def or_(target: Any, options: Any, _context: FunctionContext) -> Results:
    if not isinstance(target, dict):
        return None
    names = list((options or {}).get("properties", []))
    if any(name in target for name in names):
        return None
    listed = " or ".join(f'"{name}"' for name in names)
    return [Result(f"at least one of {listed} must be defined")]


_DIALECTS = {
    "draft4": jsonschema_rs.Draft4Validator,
    "draft6": jsonschema_rs.Draft6Validator,
    "draft7": jsonschema_rs.Draft7Validator,
    "draft2019-09": jsonschema_rs.Draft201909Validator,
    "draft2020-12": jsonschema_rs.Draft202012Validator,
}


def _cache_key(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


_VALIDATORS: dict[tuple[bytes, str, bool], Any] = {}


def build_validator(
    schema: Any,
    dialect: str = "auto",
    *,
    validate_formats: bool = False,
    keywords: dict[str, Any] | None = None,
) -> Any:
    """A compiled validator for `schema` in `dialect` ("auto": the schema's `$schema`), with
    `keywords` (name -> jsonschema-rs keyword class) in place of the validator's own."""
    factory = _DIALECTS.get(dialect)
    if factory is not None:
        return factory(schema, validate_formats=validate_formats, keywords=keywords)
    return jsonschema_rs.validator_for(schema, validate_formats=validate_formats, keywords=keywords)


def schema_validator(schema: Any, dialect: str = "auto", *, validate_formats: bool = False) -> Any:
    """A compiled validator, cached by the schema's content (a ruleset's own schemas, which
    rules reuse; schemas taken from documents are cached per run by the functions using them)."""
    key = (_cache_key(schema), dialect, validate_formats)
    found = _VALIDATORS.get(key)
    if found is None:
        found = build_validator(schema, dialect, validate_formats=validate_formats)
        _VALIDATORS[key] = found
    return found


def schema_errors(
    target: Any, schema: Any, dialect: str, context: FunctionContext, *, all_errors: bool = True
) -> list[Result]:
    validator = schema_validator(schema, dialect)
    found: list[Result] = []
    for error in validator.iter_errors(target):
        where = tuple(error.instance_path)
        found.append(Result(_schema_message(error, where, context), (*context.path, *where)))
        if not all_errors:
            break
    return found


def _schema_message(error: Any, where: tuple[Any, ...], context: FunctionContext) -> str:
    place = ".".join(str(part) for part in (*context.path, *where)[-1:]) or "document"
    return f'"{place}" property {error.message}'


def schema(target: Any, options: Any, context: FunctionContext) -> Results:
    if target is UNDEFINED:
        return [Result(f'"{_property(context)}" property must exist')]
    options = options or {}
    dialect = str(options.get("dialect", "auto"))
    return (
        schema_errors(
            target,
            options.get("schema", {}),
            dialect,
            context,
            all_errors=bool(options.get("allErrors", False)),
        )
        or None
    )


def typed_enum(target: Any, _options: Any, context: FunctionContext) -> Results:
    if not isinstance(target, dict):
        return None
    values, declared = target.get("enum"), target.get("type")
    if not isinstance(values, list):
        return None
    if isinstance(declared, str):
        types: list[str] = [declared]
    elif isinstance(declared, list) and all(isinstance(t, str) for t in declared):
        types = list(declared)
    else:
        return None
    nullable = (target.get("nullable") is True and "oas3_0" in context.formats) or (
        target.get("x-nullable") is True and "oas2" in context.formats
    )
    if nullable:
        types.append("null")
    check_integer = "integer" in types
    found = []
    for index, value in enumerate(values):
        if _json_type(value, check_integer) not in types:
            shown = types[0] if isinstance(declared, str) and not nullable else ",".join(types)
            found.append(
                Result(
                    f'Enum value {_print(value)} must be "{shown}".', (*context.path, "enum", index)
                )
            )
    return found or None


def _json_type(value: Any, check_integer: bool) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        if check_integer and (isinstance(value, int) or value.is_integer()):
            return "integer"
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _print(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def unreferenced_reusable_object(target: Any, options: Any, context: FunctionContext) -> Results:
    if not isinstance(target, dict):
        return None
    location = str((options or {}).get("reusableObjectsLocation", ""))
    if not location.startswith("#/"):
        raise ValueError("unreferencedReusableObject: reusableObjectsLocation must start with #/")
    from apigov.spec import pointer as jp

    base = tuple(jp.split(location[1:]))
    found = []
    for name in target:
        if f"{location}/{jp.escape(name)}" not in context.referenced:
            found.append(
                Result("Potential orphaned reusable object has been detected", (*base, name))
            )
    return found or None


CORE_FUNCTIONS = {
    "truthy": truthy,
    "falsy": falsy,
    "defined": defined,
    "undefined": undefined,
    "pattern": pattern,
    "casing": casing,
    "enumeration": enumeration,
    "length": length,
    "alphabetical": alphabetical,
    "xor": xor,
    "or": or_,
    "schema": schema,
    "typedEnum": typed_enum,
    "unreferencedReusableObject": unreferenced_reusable_object,
}

"""The matching engine: does an actual request, response or message satisfy a pact's expected one?

`match_request`, `match_response` and `match_message` compare an actual against an expected
interaction part under that specification version's rules and return every `Mismatch`, each
explained (where, what was expected, what was found). An empty list means they match.

Semantics follow the Pact specification (V1 to V4) and its official test cases:

- bodies: objects match when every expected key is present and matches; unexpected keys are
  allowed in responses and messages, never in requests. Arrays match element by element and
  must have the expected length, unless a type matcher applies (then every actual element is
  compared with the expected example and min/max bound the length).
- matching rules apply to the path they name and everything below it; where several rules
  apply, the most specific path wins (`$.a.b` beats `$.a.*` beats `$.a`).
- headers: names are case-insensitive, values are compared as comma-separated lists (so
  whitespace after commas does not matter); Content-Type compares media types and parameters.
- queries: every expected parameter with the same values in the same order, nothing unexpected.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import orjson
from msgspec import Struct

from apigov.pact.model import (
    Body,
    HttpRequest,
    HttpResponse,
    Matcher,
    MatchingRules,
    Message,
    RuleList,
    normalise_rules,
)
from apigov.pact.xml import XmlError, XmlNode, parse_xml

PathToken = str | int


class Mismatch(Struct, frozen=True):
    """One way the actual differs from the expected: the part, the place, and why."""

    part: str
    """`method`, `path`, `query`, `header`, `status`, `body` or `metadata`."""
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.part} {self.path}: {self.message}" if self.path else self.message


# ---- rule paths --------------------------------------------------------------------------

_STAR = "*"
_ANY_INDEX = -1


@lru_cache(maxsize=4096)
def parse_rule_path(path: str) -> tuple[PathToken, ...]:
    """`$.a.b[0]['c d'].*[*]` -> ("a", "b", 0, "c d", "*", -1). `$` alone is the root ()."""
    text = path.strip()
    if text.startswith("$"):
        text = text[1:]
    tokens: list[PathToken] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == ".":
            end = index + 1
            while end < len(text) and text[end] not in ".[":
                end += 1
            name = text[index + 1 : end]
            tokens.append(_STAR if name == "*" else name)
            index = end
        elif char == "[":
            end = text.index("]", index)
            inner = text[index + 1 : end].strip()
            if inner == "*":
                tokens.append(_ANY_INDEX)
            elif inner.isdigit():
                tokens.append(int(inner))
            else:
                quote = inner[:1]
                if quote in ("'", '"'):
                    end = text.index(quote + "]", index + 2) + 1
                    inner = text[index + 2 : end - 1]
                tokens.append(inner)
            index = end + 1
        else:
            # A bare name with no leading dot (V2 writes `$.body` prefixes only; be lenient).
            end = index
            while end < len(text) and text[end] not in ".[":
                end += 1
            tokens.append(text[index:end])
            index = end
    return tuple(tokens)


def _weight(rule: Sequence[PathToken], actual: Sequence[PathToken]) -> int:
    """How specifically `rule` names `actual` (0: not at all). Exact tokens weigh more.

    `[*]` matches any index; before an element name it may also match nothing, because XML
    rules are written both as `$.animals[*].alligator` and as `$.animals.alligator`.
    """
    if not rule:
        return 1
    if not actual:
        return 0
    want, have = rule[0], actual[0]
    if want == _ANY_INDEX:
        if isinstance(have, int):
            return _weight(rule[1:], actual[1:])
        return _weight(rule[1:], actual) or _weight(rule[1:], actual[1:])
    if want == _STAR:
        return _weight(rule[1:], actual[1:])
    if want != have:
        return 0
    return 2 * _weight(rule[1:], actual[1:])


class Rules:
    """The rules of one category (body, header, ...), looked up by the path of a value."""

    def __init__(self, rules: Mapping[str, RuleList] | None, *, names: bool = False) -> None:
        self.names = names
        self.entries: list[tuple[tuple[PathToken, ...], RuleList]] = []
        for key, rule_list in (rules or {}).items():
            tokens: tuple[PathToken, ...] = (key.lower(),) if names else parse_rule_path(key)
            self.entries.append((tokens, rule_list))

    def __bool__(self) -> bool:
        return bool(self.entries)

    def find(self, path: Sequence[PathToken], *, exact: bool = False) -> RuleList | None:
        """The most specific rule for `path`.

        Rules cascade to what lies below their path, minus what only makes sense where they
        are written: length bounds and the structural matchers (values, eachKey, ...).
        """
        best: RuleList | None = None
        best_key = (0, 0)
        for tokens, rule_list in self.entries:
            if exact and len(tokens) != len(path):
                continue
            weight = _weight(tokens, path)
            if weight == 0:
                continue
            key = (len(tokens), weight)
            if key > best_key:
                best, best_key = rule_list, key
        if best is None or best_key[0] == len(path):
            return best
        return _cascaded(best)

    def for_name(self, name: str) -> RuleList | None:
        return self.find((name.lower(),), exact=True)


_NOT_CASCADING = frozenset({"values", "eachKey", "eachValue", "arrayContains", "ignoreKeys"})


def _cascaded(rule_list: RuleList) -> RuleList | None:
    kept = tuple(
        Matcher(
            "type" if m.kind in ("min", "max", "minType", "maxType", "minmax") else m.kind,
            {k: v for k, v in m.options.items() if k not in ("min", "max")},
        )
        for m in rule_list.matchers
        if m.kind not in _NOT_CASCADING
    )
    return RuleList(kept, rule_list.combine) if kept else None


def _path_text(path: Sequence[PathToken]) -> str:
    text = "$"
    for token in path:
        if isinstance(token, int):
            text += f"[{token}]"
        elif re.fullmatch(r"[A-Za-z_@#][\w@#-]*", token):
            text += f".{token}"
        else:
            text += f"['{token}']"
    return text


# ---- single values -----------------------------------------------------------------------


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, XmlNode):
        return "element"
    return type(value).__name__


def _show(value: Any) -> str:
    if isinstance(value, XmlNode):
        return f"<{value.name}>"
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _text_of(value: Any) -> str | None:
    """A scalar as the text a regex or string matcher sees (None for structures)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, XmlNode):
        return value.text
    return None


_STATUS_CLASSES: dict[str, Callable[[int], bool]] = {
    "information": lambda s: 100 <= s < 200,
    "success": lambda s: 200 <= s < 300,
    "redirect": lambda s: 300 <= s < 400,
    "clientError": lambda s: 400 <= s < 500,
    "serverError": lambda s: 500 <= s < 600,
    "nonError": lambda s: s < 400,
    "error": lambda s: s >= 400,
}
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


@lru_cache(maxsize=1024)
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


@lru_cache(maxsize=256)
def datetime_pattern(java_format: str) -> re.Pattern[str]:
    """A Java/Unicode date-time pattern (`yyyy-MM-dd'T'HH:mm:ssXXX`) as a regex."""
    pieces = {
        "yyyy": r"\d{4}",
        "uuuu": r"\d{4}",
        "yy": r"\d{2}",
        "MMMM": r"[A-Za-z]+",
        "MMM": r"[A-Za-z]{3}",
        "MM": r"(0[1-9]|1[0-2])",
        "M": r"([1-9]|1[0-2])",
        "dd": r"(0[1-9]|[12]\d|3[01])",
        "d": r"([1-9]|[12]\d|3[01])",
        "HH": r"([01]\d|2[0-3])",
        "H": r"(1?\d|2[0-3])",
        "hh": r"(0[1-9]|1[0-2])",
        "h": r"([1-9]|1[0-2])",
        "mm": r"[0-5]\d",
        "ss": r"[0-5]\d",
        "SSSSSSSSS": r"\d{9}",
        "SSSSSS": r"\d{6}",
        "SSS": r"\d{3}",
        "SS": r"\d{2}",
        "S": r"\d",
        "XXX": r"(Z|[+-]\d{2}:\d{2})",
        "XX": r"(Z|[+-]\d{4})",
        "X": r"(Z|[+-]\d{2}(\d{2})?)",
        "xxx": r"[+-]\d{2}:\d{2}",
        "Z": r"[+-]\d{4}",
        "z": r"[A-Za-z]{1,5}",
        "a": r"(AM|PM|am|pm)",
        "EEEE": r"[A-Za-z]+",
        "EEE": r"[A-Za-z]{3}",
        "D": r"\d{1,3}",
    }
    regex = ""
    index = 0
    keys = sorted(pieces, key=len, reverse=True)
    while index < len(java_format):
        char = java_format[index]
        if char == "'":
            end = java_format.find("'", index + 1)
            end = len(java_format) if end < 0 else end
            literal = java_format[index + 1 : end]
            regex += re.escape(literal) if literal else "'"
            index = end + 1
            continue
        for key in keys:
            if java_format.startswith(key, index):
                regex += pieces[key]
                index += len(key)
                break
        else:
            regex += re.escape(char)
            index += 1
    return re.compile(f"^{regex}$")


_DEFAULT_FORMATS = {
    "date": "yyyy-MM-dd",
    "time": "HH:mm:ss",
    "datetime": "yyyy-MM-dd'T'HH:mm:ss",
    "timestamp": "yyyy-MM-dd'T'HH:mm:ss",
}


def check_value(matcher: Matcher, expected: Any, actual: Any) -> str | None:
    """Apply one matcher to one value: None when it matches, else why not.

    Structure (array length for min/max, element types) is judged here; the walk over
    children is the caller's.
    """
    kind = matcher.kind
    options = matcher.options
    if kind == "equality":
        if isinstance(expected, XmlNode) or isinstance(actual, XmlNode):
            return None if _text_of(expected) == _text_of(actual) else "values differ"
        return None if _equal(expected, actual) else f"expected {_show(expected)}"
    if kind in ("type", "min", "max", "minType", "maxType", "minmax"):
        if not _same_type(expected, actual):
            return f"expected a {_json_type(expected)} like {_show(expected)}"
        return _length_problem(options, actual)
    if kind == "regex":
        text = _text_of(actual)
        pattern = str(options.get("regex", ""))
        if text is None or not _compile(pattern).fullmatch(text):
            return f"expected a value matching /{pattern}/"
        return None
    if kind == "include":
        text = _text_of(actual)
        wanted = str(options.get("value", ""))
        return None if text is not None and wanted in text else f"expected to include {wanted!r}"
    if kind == "integer":
        ok = isinstance(actual, int) and not isinstance(actual, bool)
        ok = ok or (isinstance(actual, str | XmlNode) and _is_integer_text(_text_of(actual)))
        return None if ok else "expected an integer"
    if kind == "decimal":
        ok = isinstance(actual, float) and not isinstance(actual, bool)
        ok = ok or (isinstance(actual, str | XmlNode) and _is_decimal_text(_text_of(actual)))
        return None if ok else "expected a decimal number"
    if kind == "number":
        ok = isinstance(actual, int | float) and not isinstance(actual, bool)
        text = _text_of(actual) if isinstance(actual, str | XmlNode) else None
        ok = ok or (text is not None and (_is_integer_text(text) or _is_decimal_text(text)))
        return None if ok else "expected a number"
    if kind == "boolean":
        ok = isinstance(actual, bool) or _text_of(actual) in ("true", "false")
        return None if ok else "expected a boolean"
    if kind == "null":
        return None if actual is None else "expected null"
    if kind in ("date", "time", "datetime", "timestamp"):
        text = _text_of(actual)
        java = str(options.get("format") or options.get(kind) or _DEFAULT_FORMATS[kind])
        if text is None or not datetime_pattern(java).match(text):
            return f"expected a {kind} in the format {java!r}"
        return None
    if kind == "contentType":
        return None  # judged on the whole body by the caller (it needs the body's bytes)
    if kind == "semver":
        text = _text_of(actual)
        return None if text is not None and _SEMVER.match(text) else "expected a semantic version"
    if kind == "notEmpty":
        empty = actual is None or actual in ("", [], {})
        return "expected a non-empty value" if empty else None
    if kind == "statusCode":
        status = options.get("status")
        code = actual if isinstance(actual, int) else None
        if code is None:
            return "expected a status code"
        if isinstance(status, list):
            return None if code in status else f"expected one of {status}"
        test = _STATUS_CLASSES.get(str(status))
        return None if test is not None and test(code) else f"expected a {status} status"
    if kind in ("values", "eachKey", "eachValue", "arrayContains", "ignoreKeys"):
        return None  # structural: applied by the walk
    return f"unknown matcher {kind!r}"


def _length_problem(options: Mapping[str, Any], actual: Any) -> str | None:
    size = (
        len(actual)
        if isinstance(actual, list)
        else len(actual.children)
        if isinstance(actual, XmlNode) and actual.is_list
        else None
    )
    if size is None:
        return None
    minimum = options.get("min")
    maximum = options.get("max")
    if isinstance(minimum, int) and size < minimum:
        return f"expected at least {minimum} element(s), found {size}"
    if isinstance(maximum, int) and size > maximum:
        return f"expected at most {maximum} element(s), found {size}"
    return None


def _is_integer_text(text: str | None) -> bool:
    return text is not None and re.fullmatch(r"-?\d+", text) is not None


def _is_decimal_text(text: str | None) -> bool:
    return text is not None and re.fullmatch(r"-?\d*\.\d+", text) is not None


def _same_type(expected: Any, actual: Any) -> bool:
    if isinstance(expected, XmlNode) or isinstance(actual, XmlNode):
        return isinstance(expected, XmlNode) == isinstance(actual, XmlNode)
    return _json_type(expected) == _json_type(actual)


def _equal(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return expected == actual  # 1 and 1.0 are the same JSON number
    return bool(expected == actual) and _json_type(expected) == _json_type(actual)


def _apply(rule_list: RuleList, expected: Any, actual: Any) -> list[str]:
    """Every matcher's verdict combined: AND needs all, OR needs one. Returns the reasons."""
    problems = [check_value(m, expected, actual) for m in rule_list.matchers]
    failed = [p for p in problems if p is not None]
    if rule_list.combine == "OR" and len(failed) < len(problems):
        return []
    return failed


def _is_structural(rule_list: RuleList) -> bool:
    """Does the rule relax structure (any element may follow the first example)?"""
    return any(
        m.kind in ("type", "min", "max", "minType", "maxType", "minmax", "values", "eachValue")
        for m in rule_list.matchers
    )


# ---- bodies ------------------------------------------------------------------------------


class _BodyWalk:
    def __init__(self, rules: Rules, *, allow_unexpected_keys: bool) -> None:
        self.rules = rules
        self.allow_unexpected_keys = allow_unexpected_keys
        self.mismatches: list[Mismatch] = []

    def fail(self, path: Sequence[PathToken], message: str) -> None:
        self.mismatches.append(Mismatch("body", _path_text(path), message))

    def compare(self, expected: Any, actual: Any, path: tuple[PathToken, ...]) -> None:
        rule_list = self.rules.find(path) if self.rules else None
        if rule_list is not None:
            for problem in _apply(rule_list, expected, actual):
                self.fail(path, f"{problem}, found {_show(actual)}")
            if not _same_type(expected, actual):
                return
            self.children(expected, actual, path, rule_list)
            return
        if not _same_type(expected, actual):
            self.fail(
                path,
                f"expected {_show(expected)} ({_json_type(expected)}), found "
                f"{_show(actual)} ({_json_type(actual)})",
            )
            return
        if isinstance(expected, dict | list):
            self.children(expected, actual, path, None)
        elif not _equal(expected, actual):
            self.fail(path, f"expected {_show(expected)}, found {_show(actual)}")

    def children(
        self, expected: Any, actual: Any, path: tuple[PathToken, ...], rule_list: RuleList | None
    ) -> None:
        kinds = {m.kind for m in rule_list.matchers} if rule_list else set()
        if isinstance(expected, dict) and isinstance(actual, dict):
            self.compare_objects(expected, actual, path, rule_list, kinds)
        elif isinstance(expected, list) and isinstance(actual, list):
            self.compare_arrays(expected, actual, path, rule_list, kinds)

    def compare_objects(
        self,
        expected: dict[str, Any],
        actual: dict[str, Any],
        path: tuple[PathToken, ...],
        rule_list: RuleList | None,
        kinds: set[str],
    ) -> None:
        if rule_list is not None and kinds & {"eachKey", "eachValue", "values"}:
            self.compare_each(expected, actual, path, rule_list, kinds)
            return
        for key, value in expected.items():
            if key not in actual:
                self.fail((*path, key), f"expected key {key!r}, which is missing")
                continue
            self.compare(value, actual[key], (*path, key))
        if not self.allow_unexpected_keys:
            for key in actual:
                if key not in expected and self.rules.find((*path, key)) is None:
                    self.fail((*path, key), f"unexpected key {key!r}")

    def compare_each(
        self,
        expected: dict[str, Any],
        actual: dict[str, Any],
        path: tuple[PathToken, ...],
        rule_list: RuleList,
        kinds: set[str],
    ) -> None:
        template = next(iter(expected.values()), None)
        for matcher in rule_list.matchers:
            if matcher.kind == "eachKey":
                for key in actual:
                    for sub in _inner_rules(matcher):
                        problem = check_value(sub, key, key)
                        if problem:
                            self.fail((*path, key), f"key {key!r}: {problem}")
        for key, value in actual.items():
            sample = expected.get(key, template)
            if "eachValue" in kinds:
                matcher = next(m for m in rule_list.matchers if m.kind == "eachValue")
                for sub in _inner_rules(matcher):
                    problem = check_value(sub, sample, value)
                    if problem:
                        self.fail((*path, key), f"{problem}, found {_show(value)}")
                if self.rules.find((*path, key)) is None:
                    continue  # the inner rules are this value's whole contract
            if sample is not None or key in expected:
                self.compare(sample, value, (*path, key))

    def compare_arrays(
        self,
        expected: list[Any],
        actual: list[Any],
        path: tuple[PathToken, ...],
        rule_list: RuleList | None,
        kinds: set[str],
    ) -> None:
        contains = (
            next((m for m in rule_list.matchers if m.kind == "arrayContains"), None)
            if (rule_list)
            else None
        )
        if contains is not None:
            self.array_contains(contains, expected, actual, path)
            return
        each = (
            next((m for m in rule_list.matchers if m.kind == "eachValue"), None)
            if (rule_list)
            else None
        )
        if each is not None:
            sample = expected[0] if expected else None
            for index, value in enumerate(actual):
                for sub in _inner_rules(each):
                    problem = check_value(sub, sample, value)
                    if problem:
                        self.fail((*path, index), f"{problem}, found {_show(value)}")
            return
        if rule_list is not None and _is_structural(rule_list):
            if not expected:
                return
            for index, value in enumerate(actual):
                sample = expected[index] if index < len(expected) else expected[0]
                self.compare(sample, value, (*path, index))
            return
        if len(actual) != len(expected):
            self.fail(
                path,
                f"expected an array of {len(expected)} element(s), found {len(actual)}",
            )
        for index, value in enumerate(expected):
            if index < len(actual):
                self.compare(value, actual[index], (*path, index))

    def array_contains(
        self, matcher: Matcher, expected: list[Any], actual: list[Any], path: tuple[PathToken, ...]
    ) -> None:
        variants = matcher.options.get("variants")
        for variant in variants if isinstance(variants, list) else []:
            index = variant.get("index", 0) if isinstance(variant, dict) else 0
            if not isinstance(index, int) or index >= len(expected):
                continue
            raw_rules = variant.get("rules") if isinstance(variant, dict) else None
            inner = Rules(_inner_rule_map(raw_rules))
            found = False
            for value in actual:
                walk = _BodyWalk(inner, allow_unexpected_keys=True)
                walk.compare(expected[index], value, ())
                if not walk.mismatches:
                    found = True
                    break
            if not found:
                self.fail(path, f"no element matches variant {index}: {_show(expected[index])}")


def _inner_rules(matcher: Matcher) -> list[Matcher]:
    """The matchers nested in eachKey/eachValue (`rules: [{match: ...}]`)."""
    found: list[Matcher] = []
    for item in matcher.options.get("rules") or []:
        if isinstance(item, dict):
            kind = item.get("match", "equality")
            found.append(Matcher(str(kind), {k: v for k, v in item.items() if k != "match"}))
    return found


def _inner_rule_map(raw: Any) -> dict[str, RuleList]:
    if not isinstance(raw, dict):
        return {}
    return normalise_rules({"body": raw}).get("body", {})


def match_body(
    expected: Body,
    actual: Body,
    rules: MatchingRules,
    *,
    allow_unexpected_keys: bool,
    expected_type: str | None = None,
    actual_type: str | None = None,
) -> list[Mismatch]:
    """Compare bodies by their media type: JSON, XML, form, or text."""
    if not expected.present:
        return []
    body_rules = Rules(rules.get("body"))
    media = _media_type(expected_type or expected.content_type) or _guess_media(expected.value)
    if not actual.present or actual.value is None or actual.value == "":
        if (
            expected.value is None
            or expected.value == ""
            or (expected.value in ({}, []) and not actual.present)
        ):
            return []
        return [Mismatch("body", "$", f"expected a body ({_show(expected.value)}), found none")]
    content_rule = body_rules.find(()) if body_rules else None
    if content_rule is not None and any(m.kind == "contentType" for m in content_rule.matchers):
        wanted = next(m for m in content_rule.matchers if m.kind == "contentType")
        have = _media_type(actual_type or actual.content_type)
        if have != _media_type(str(wanted.options.get("value", ""))):
            return [Mismatch("body", "$", f"expected content type {wanted.options.get('value')}")]
        return []
    if media is not None and media.endswith("xml"):
        return _match_xml(expected.value, actual.value, body_rules, allow_unexpected_keys)
    if media == "application/x-www-form-urlencoded" and isinstance(expected.value, str):
        return _match_form(expected.value, actual.value, body_rules)
    if (media is not None and _is_json(media)) or not isinstance(expected.value, str):
        expected_value = _as_json(expected.value)
        actual_value = _as_json(actual.value)
        walk = _BodyWalk(body_rules, allow_unexpected_keys=allow_unexpected_keys)
        walk.compare(expected_value, actual_value, ())
        return walk.mismatches
    # Plain text: equal, or as the root rule says.
    root_rule = body_rules.find(()) if body_rules else None
    if root_rule is not None:
        return [
            Mismatch("body", "$", f"{problem}, found {_show(actual.value)}")
            for problem in _apply(root_rule, expected.value, actual.value)
        ]
    if expected.value != actual.value:
        return [
            Mismatch("body", "$", f"expected {_show(expected.value)}, found {_show(actual.value)}")
        ]
    return []


def _as_json(value: Any) -> Any:
    if isinstance(value, str | bytes):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def _guess_media(value: Any) -> str | None:
    if isinstance(value, str):
        stripped = value.lstrip()
        if stripped.startswith("<?xml") or (stripped.startswith("<") and stripped.endswith(">")):
            return "application/xml"
        return "text/plain"
    return "application/json"


def _is_json(media: str) -> bool:
    return media.endswith("/json") or media.endswith("+json")


def _media_type(value: str | None) -> str | None:
    if not value:
        return None
    return value.split(";")[0].strip().lower() or None


def _match_form(expected: str, actual: Any, rules: Rules) -> list[Mismatch]:
    want = _parse_query_string(expected)
    have = _parse_query_string(actual if isinstance(actual, str) else "")
    return [
        Mismatch("body", m.path, m.message)
        for m in _compare_multi(want, have, rules, "body", allow_unexpected=False)
    ]


# ---- XML ---------------------------------------------------------------------------------


def _match_xml(expected: Any, actual: Any, rules: Rules, allow_unexpected: bool) -> list[Mismatch]:
    try:
        want = parse_xml(str(expected))
    except XmlError as error:
        return [Mismatch("body", "$", f"the expected XML cannot be read: {error}")]
    try:
        have = parse_xml(str(actual))
    except XmlError as error:
        return [Mismatch("body", "$", f"the actual body is not XML: {error}")]
    walk = _XmlWalk(rules, allow_unexpected)
    if want.name != have.name:
        walk.fail((), f"expected element <{want.name}>, found <{have.name}>")
    else:
        walk.compare(want, have, (want.local,))
    return walk.mismatches


class _XmlWalk:
    def __init__(self, rules: Rules, allow_unexpected: bool) -> None:
        self.rules = rules
        self.allow_unexpected = allow_unexpected
        self.mismatches: list[Mismatch] = []

    def fail(self, path: Sequence[PathToken], message: str) -> None:
        self.mismatches.append(Mismatch("body", _path_text(path), message))

    def rule(self, path: Sequence[PathToken]) -> RuleList | None:
        return self.rules.find(path) if self.rules else None

    def compare(self, expected: XmlNode, actual: XmlNode, path: tuple[PathToken, ...]) -> None:
        rule_list = self.rule(path)
        if rule_list is not None:
            for problem in _apply(rule_list, expected, actual):
                self.fail(path, problem)
        if expected.name != actual.name:
            self.fail(path, f"expected element <{expected.name}>, found <{actual.name}>")
            return
        self.attributes(expected, actual, path)
        self.text(expected, actual, path)
        self.children(expected, actual, path, rule_list)

    def attributes(self, expected: XmlNode, actual: XmlNode, path: tuple[PathToken, ...]) -> None:
        for name, value in expected.attributes.items():
            attribute_path = (*path, "@" + _local(name))
            if name not in actual.attributes:
                self.fail(attribute_path, f"expected attribute {name!r}, which is missing")
                continue
            found = actual.attributes[name]
            rule_list = self.rule(attribute_path)
            if rule_list is not None:
                for problem in _apply(rule_list, value, found):
                    self.fail(attribute_path, f"{problem}, found {found!r}")
            elif value != found:
                self.fail(attribute_path, f"expected {value!r}, found {found!r}")
        if not self.allow_unexpected:
            for name in actual.attributes:
                if name not in expected.attributes:
                    self.fail((*path, "@" + _local(name)), f"unexpected attribute {name!r}")

    def text(self, expected: XmlNode, actual: XmlNode, path: tuple[PathToken, ...]) -> None:
        text_path = (*path, "#text")
        rule_list = self.rule(text_path)
        want = expected.text
        have = actual.text
        if rule_list is not None and not _rule_is_only_structural(rule_list):
            if want or have:
                for problem in _apply(rule_list, want, have):
                    self.fail(text_path, f"{problem}, found {have!r}")
            return
        if rule_list is not None:
            return
        if want != have:
            self.fail(text_path, f"expected text {want!r}, found {have!r}")

    def children(
        self,
        expected: XmlNode,
        actual: XmlNode,
        path: tuple[PathToken, ...],
        rule_list: RuleList | None,
    ) -> None:
        structural = rule_list is not None and _is_structural(rule_list)
        if structural and expected.children:
            template = expected.children[0]
            for index, child in enumerate(actual.children):
                sample = expected.children[index] if index < len(expected.children) else template
                self.compare(sample, child, (*path, child.local))
            return
        groups: dict[str, list[XmlNode]] = {}
        for child in actual.children:
            groups.setdefault(child.name, []).append(child)
        expected_groups: dict[str, list[XmlNode]] = {}
        for child in expected.children:
            expected_groups.setdefault(child.name, []).append(child)
        for name, wanted in expected_groups.items():
            found = groups.get(name, [])
            child_path = (*path, wanted[0].local)
            child_rule = self.rule(child_path)
            if child_rule is not None and _is_structural(child_rule):
                for problem in _group_length(child_rule, found):
                    self.fail(child_path, problem)
                for index, node in enumerate(found):
                    sample = wanted[index] if index < len(wanted) else wanted[0]
                    self.compare(sample, node, (*path, node.local))
                continue
            if len(found) < len(wanted):
                self.fail(
                    child_path,
                    f"expected {len(wanted)} <{wanted[0].name}> element(s), found {len(found)}",
                )
            elif len(found) > len(wanted) and not self.allow_unexpected:
                self.fail(child_path, f"unexpected <{wanted[0].name}> element(s)")
            for index, node in enumerate(wanted):
                if index < len(found):
                    self.compare(node, found[index], (*path, node.local))
        if not self.allow_unexpected:
            for name in groups:
                if name not in expected_groups:
                    self.fail((*path, _local(name)), f"unexpected element <{name}>")


def _group_length(rule_list: RuleList, found: list[XmlNode]) -> list[str]:
    problems = []
    for matcher in rule_list.matchers:
        minimum = matcher.options.get("min")
        maximum = matcher.options.get("max")
        if isinstance(minimum, int) and len(found) < minimum:
            problems.append(f"expected at least {minimum} element(s), found {len(found)}")
        if isinstance(maximum, int) and len(found) > maximum:
            problems.append(f"expected at most {maximum} element(s), found {len(found)}")
    return problems


def _rule_is_only_structural(rule_list: RuleList) -> bool:
    return all(m.kind in ("type", "min", "max", "minType", "maxType") for m in rule_list.matchers)


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


# ---- headers, query, path ----------------------------------------------------------------


def _split_header(value: str) -> list[str]:
    return [part.strip() for part in value.split(",")]


def _media_equal(expected: str, actual: str) -> bool:
    """Content-Type: same media type, and every expected parameter present with its value."""
    want_type, want_params = _media_parameters(expected)
    have_type, have_params = _media_parameters(actual)
    if want_type != have_type:
        return False
    for key, value in want_params.items():
        found = have_params.get(key)
        if found is None:
            return False
        if key == "charset" and found.lower() == value.lower():
            continue
        if found != value:
            return False
    return True


def _media_parameters(value: str) -> tuple[str, dict[str, str]]:
    main, *params = re.split(r";\s*", value.strip())
    parsed: dict[str, str] = {}
    for param in params:
        key, _, text = param.partition("=")
        parsed[key.strip().lower()] = text.strip().strip('"')
    return main.strip().lower(), parsed


def match_headers(
    expected: Mapping[str, Sequence[str]],
    actual: Mapping[str, Sequence[str]],
    rules: MatchingRules,
    part: str = "header",
) -> list[Mismatch]:
    header_rules = Rules(rules.get(part), names=True)
    found = {name.lower(): ", ".join(values) for name, values in actual.items()}
    mismatches: list[Mismatch] = []
    for name, values in expected.items():
        want = ", ".join(values)
        have = found.get(name.lower())
        if have is None:
            mismatches.append(Mismatch(part, name, f"expected header {name!r}, which is missing"))
            continue
        rule_list = header_rules.for_name(name)
        if rule_list is not None:
            for problem in _apply(rule_list, want, have):
                mismatches.append(Mismatch(part, name, f"{problem}, found {have!r}"))
            continue
        if name.lower() in ("content-type", "accept") and "/" in want:
            wanted = _split_header(want)
            got = _split_header(have)
            same = len(wanted) == len(got) and all(
                _media_equal(w, g) for w, g in zip(wanted, got, strict=True)
            )
            if name.lower() == "content-type" and not same:
                same = _media_equal(want, have)
        else:
            same = _split_header(want) == _split_header(have)
        if not same:
            mismatches.append(Mismatch(part, name, f"expected {want!r}, found {have!r}"))
    return mismatches


def _parse_query_string(text: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for name, value in urllib.parse.parse_qsl(text.lstrip("?"), keep_blank_values=True):
        parsed.setdefault(name, []).append(value)
    return parsed


def _compare_multi(
    expected: Mapping[str, Sequence[str]],
    actual: Mapping[str, Sequence[str]],
    rules: Rules,
    part: str,
    *,
    allow_unexpected: bool,
) -> list[Mismatch]:
    mismatches: list[Mismatch] = []
    for name, values in expected.items():
        if name not in actual:
            mismatches.append(Mismatch(part, name, f"expected {name!r}, which is missing"))
            continue
        found = list(actual[name])
        rule_list = rules.find((name,)) if rules else None
        if rule_list is not None:
            for problem in _length_problems(rule_list, found):
                mismatches.append(Mismatch(part, name, problem))
            for index, value in enumerate(found):
                sample = values[index] if index < len(values) else (values[0] if values else "")
                for problem in _apply(rule_list, sample, value):
                    mismatches.append(Mismatch(part, name, f"{problem}, found {value!r}"))
            continue
        if list(values) != found:
            mismatches.append(Mismatch(part, name, f"expected {list(values)!r}, found {found!r}"))
    if not allow_unexpected:
        for name in actual:
            if name not in expected:
                mismatches.append(Mismatch(part, name, f"unexpected {name!r}"))
    return mismatches


def _length_problems(rule_list: RuleList, values: list[str]) -> Iterable[str]:
    for matcher in rule_list.matchers:
        problem = _length_problem(matcher.options, values)
        if problem:
            yield problem


def match_query(
    expected: Mapping[str, Sequence[str]] | None,
    actual: Mapping[str, Sequence[str]] | None,
    rules: MatchingRules,
) -> list[Mismatch]:
    return _compare_multi(
        expected or {},
        actual or {},
        Rules(rules.get("query"), names=False),
        "query",
        allow_unexpected=False,
    )


def match_path(expected: str, actual: str, rules: MatchingRules) -> list[Mismatch]:
    path_rules = Rules(rules.get("path"))
    rule_list = path_rules.find(()) if path_rules else None
    if rule_list is not None:
        return [
            Mismatch("path", "", f"path {problem}, found {actual!r}")
            for problem in _apply(rule_list, expected, actual)
        ]
    if expected != actual:
        return [Mismatch("path", "", f"expected path {expected!r}, found {actual!r}")]
    return []


# ---- whole parts -------------------------------------------------------------------------


def match_request(
    expected: HttpRequest, actual: HttpRequest, *, exact_query: bool = False
) -> list[Mismatch]:
    """Every way `actual` fails `expected` (an empty list: it matches).

    `exact_query`: compare query strings as written (specification V1.0, before V1.1 made
    parameter order and a trailing `&` irrelevant).
    """
    mismatches: list[Mismatch] = []
    if expected.method.upper() != actual.method.upper():
        mismatches.append(
            Mismatch("method", "", f"expected method {expected.method}, found {actual.method}")
        )
    mismatches.extend(match_path(expected.path, actual.path, expected.rules))
    if exact_query and expected.query_text is not None:
        if urllib.parse.unquote(expected.query_text) != urllib.parse.unquote(
            actual.query_text or ""
        ):
            mismatches.append(
                Mismatch(
                    "query",
                    "",
                    f"expected query {expected.query_text!r}, found {actual.query_text!r}",
                )
            )
    elif expected.query is not None or actual.query:
        mismatches.extend(match_query(expected.query, actual.query, expected.rules))
    mismatches.extend(match_headers(expected.headers, actual.headers, expected.rules))
    mismatches.extend(
        match_body(
            expected.body,
            actual.body,
            expected.rules,
            allow_unexpected_keys=False,
            expected_type=_content_type(expected.headers) or expected.body.content_type,
            actual_type=_content_type(actual.headers) or actual.body.content_type,
        )
    )
    return mismatches


def match_response(expected: HttpResponse, actual: HttpResponse) -> list[Mismatch]:
    mismatches: list[Mismatch] = []
    if expected.status is not None:
        status_rules = Rules(expected.rules.get("status"))
        rule_list = status_rules.find(()) if status_rules else None
        if rule_list is not None:
            mismatches.extend(
                Mismatch("status", "", f"status {problem}, found {actual.status}")
                for problem in _apply(rule_list, expected.status, actual.status)
            )
        elif expected.status != actual.status:
            mismatches.append(
                Mismatch("status", "", f"expected status {expected.status}, found {actual.status}")
            )
    mismatches.extend(match_headers(expected.headers, actual.headers, expected.rules))
    mismatches.extend(
        match_body(
            expected.body,
            actual.body,
            expected.rules,
            allow_unexpected_keys=True,
            expected_type=_content_type(expected.headers) or expected.body.content_type,
            actual_type=_content_type(actual.headers) or actual.body.content_type,
        )
    )
    return mismatches


def match_message(expected: Message, actual: Message) -> list[Mismatch]:
    mismatches = match_body(
        expected.contents,
        actual.contents,
        expected.rules,
        allow_unexpected_keys=True,
        expected_type=expected.contents.content_type,
        actual_type=actual.contents.content_type,
    )
    metadata_rules = Rules(expected.rules.get("metadata"), names=True)
    for key, value in expected.metadata.items():
        if key in ("contentType", "content-type"):
            continue
        if key not in actual.metadata:
            mismatches.append(Mismatch("metadata", key, f"expected metadata {key!r}"))
            continue
        found = actual.metadata[key]
        rule_list = metadata_rules.for_name(key)
        if rule_list is not None:
            mismatches.extend(
                Mismatch("metadata", key, f"{problem}, found {_show(found)}")
                for problem in _apply(rule_list, value, found)
            )
        elif not _equal(value, found):
            mismatches.append(
                Mismatch("metadata", key, f"expected {_show(value)}, found {_show(found)}")
            )
    return mismatches


def _content_type(headers: Mapping[str, Sequence[str]]) -> str | None:
    for name, values in headers.items():
        if name.lower() == "content-type" and values:
            return values[0]
    return None

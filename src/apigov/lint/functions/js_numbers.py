"""Numbers as Spectral's validator (ajv) sees them: JavaScript numbers, which are doubles.

In JavaScript an integer written with more than 53 bits is the double nearest to it:
123456789012345678901234567890 and 123456789012345678901234567891 are one number there, so
both pass `maximum: 123456789012345678901234567890`; and 1.0 is 1, an integer. jsonschema-rs
compares Python integers exactly (and orjson, which keys compiled schemas, refuses integers
beyond 64 bits), refuses floats such as 1.0 or 1e29 (what orjson reads from JSON for an
integer beyond 64 bits) as draft 4 integers, and finds no huge float equal to an integer in an
`enum`. So before
validation every integer of 2**53 or more is replaced by the integer value of its double, and
every whole float by its integer: compared as JavaScript compares them, integers to every
dialect, and equal to themselves however they were written.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

_SAFE = 2**53
_STRICT = orjson.OPT_STRICT_INTEGER
_LONG_DIGITS = re.compile(r"\d{16,}")
_DIGITS = frozenset(b"0123456789")
_DIGITS_OR_POINT = frozenset(b"0123456789.")
_BEFORE_VALUE = frozenset(b":,[")
_AFTER_VALUE = frozenset(b",]}")


def _whole_float_in(text: bytes) -> bool:
    """Whether orjson's `text` of a container holds a whole float: digits and `.0` below 1e16,
    exponent form above, a number token starting after `:`, `,` or `[` (orjson writes no
    spaces). A string holding `:1.0,` only costs a walk that changes nothing. The literal
    searches run in C; only their few hits are looked at here."""
    at = text.find(b".0")
    while at != -1:
        after = at + 2
        if after < len(text) and text[after] in _AFTER_VALUE and _starts_number(text, at, _DIGITS):
            return True
        at = text.find(b".0", at + 2)
    return _huge_float_in(text)


def _huge_float_in(text: bytes) -> bool:
    """Whether orjson's `text` of a container holds a float of 1e16 or more (exponent form)."""
    at = text.find(b"e+")
    while at != -1:
        if _starts_number(text, at, _DIGITS_OR_POINT):
            return True
        at = text.find(b"e+", at + 2)
    return False


def _starts_number(text: bytes, end: int, allowed: frozenset[int]) -> bool:
    start = end
    while start > 0 and text[start - 1] in allowed:
        start -= 1
    if start == end or text[start] not in _DIGITS:
        return False
    if start > 0 and text[start - 1] == 45:  # `-`
        start -= 1
    return start > 0 and text[start - 1] in _BEFORE_VALUE


Shown = dict[str, str]
"""The digits of a replaced number's integer -> how JavaScript writes that number, so messages
name the number compared rather than the digits of the double's integer value."""


def may_need_js_numbers(value: Any) -> bool:
    """Whether `value` may hold an integer of 2**53 or more or a whole float (False is
    certain). Containers are written by orjson, which refuses such integers, and such floats
    are searched for in its text (a string that looks like one costs a walk that changes
    nothing)."""
    kind = type(value)
    if kind is int:
        return not -_SAFE < value < _SAFE
    if kind is float:
        return bool(value.is_integer())
    if kind is dict or kind is list:
        try:
            text = orjson.dumps(value, option=_STRICT)
        except orjson.JSONEncodeError:
            return True  # or something else orjson does not write: the walk finds out
        return _whole_float_in(text)
    return False


def as_js_numbers(value: Any, *, whole: bool = True) -> tuple[Any, Shown]:
    """`value` with those numbers replaced (see the module; `whole`: whole floats below 2**53
    too), and how the replaced ones of 2**53 or more are shown. Containers are copied only
    where something changes."""
    shown: Shown = {}

    def convert(node: Any) -> Any:
        kind = type(node)
        if kind is int:
            if -_SAFE < node < _SAFE:
                return node
            try:
                double = float(node)
            except OverflowError:  # beyond any double (Infinity in JavaScript): as written
                return node
        elif kind is float:
            if not node.is_integer():  # also Infinity and NaN
                return node
            double = node
            if -_SAFE < node < _SAFE:
                # JavaScript writes it as Python writes the integer: nothing to show
                return int(node) if whole else node
        elif kind is dict:
            changed = {key: convert(item) for key, item in node.items()}
            same = all(changed[key] is item for key, item in node.items())
            return node if same else changed
        elif kind is list:
            items = [convert(item) for item in node]
            return node if all(new is old for new, old in zip(items, node, strict=True)) else items
        else:
            return node
        rounded = int(double)
        shown[str(abs(rounded))] = _js_text(abs(double))
        return rounded

    return convert(value), shown


def _js_text(number: float) -> str:
    """`String(number)` for a whole double: digits below 1e21, else exponent form (which
    Python's repr writes the same way, `1.2345678901234568e+29`)."""
    return str(int(number)) if number < 1e21 else repr(number)


def with_js_numbers(message: str, shown: Shown) -> str:
    if not shown:
        return message
    return _LONG_DIGITS.sub(lambda match: shown.get(match.group(), match.group()), message)


def schema_key(schema: Any) -> tuple[Any, bytes, Shown]:
    """(`schema` with JavaScript's numbers, a key of its content, how replaced numbers are
    shown). Whole floats below 2**53 are left: jsonschema-rs compares a schema's numbers with
    a value's by value (`maximum: 10.0`, `enum: [1.0]`), as ajv does, and looking for them in
    every schema cost more than the rest of the key."""
    key: bytes | None
    try:
        key = orjson.dumps(schema, option=orjson.OPT_SORT_KEYS | _STRICT)
    except orjson.JSONEncodeError:
        key = None
    if key is not None and not _huge_float_in(key):
        return schema, key, {}
    converted, shown = as_js_numbers(schema, whole=False)
    if converted is schema and key is not None:
        return schema, key, shown
    try:
        return converted, orjson.dumps(converted, option=orjson.OPT_SORT_KEYS), shown
    except orjson.JSONEncodeError:
        # Integers beyond 64 bits, which orjson does not write at all: the standard library's
        # writer, for the rare schema holding one (marked, so no key of orjson's equals it).
        text = json.dumps(converted, sort_keys=True, default=repr)
        return converted, b"\0" + text.encode(), shown

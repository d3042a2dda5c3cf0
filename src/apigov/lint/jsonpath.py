"""JSONPath as Spectral rulesets write it, compiled to segments that a single walk can match.

Supported: `$`, `.key`, `['key']`, `["key"]`, `[key1,key2]` (bare names too), `*`, `..`
(recursive descent), `[n]`, `[a,b]`, `[start:end:step]`, filter expressions `[?(...)]` in the
JavaScript subset Spectral's rulesets use (see `lint/filters.py`), and a trailing `~` (the key
of each match instead of its value). `#Alias` references are expanded before compiling
(`lint/engine.py::expand_aliases`).

A compiled path is a tuple of `Segment`s. Matching never evaluates a path against the
document on its own: `lint/engine.py` walks the document once and advances every path's
position at every node (an NFA whose states are `(path index, segment index)`).
"""

from __future__ import annotations

import re
from typing import Any

from msgspec import Struct

from apigov.lint.filters import FilterContext, Predicate, compile_filter


class JsonPathError(ValueError):
    """A `given` or `field` expression that cannot be compiled."""


class Selector(Struct, frozen=True):
    """What one segment accepts: names, indices, a slice, any child, or a filter."""

    names: frozenset[str] | None = None
    indices: tuple[int, ...] = ()
    slice_: tuple[int | None, int | None, int | None] | None = None
    wildcard: bool = False
    predicate: Predicate | None = None
    text: str = ""

    def accepts(self, key: str | int, value: Any, parent: Any, path: tuple[str | int, ...]) -> bool:
        if self.wildcard:
            return True
        if self.names is not None:
            return str(key) in self.names
        if self.indices or self.slice_ is not None:
            if not isinstance(key, int) or not isinstance(parent, list):
                return False
            length = len(parent)
            if self.indices:
                return any(key == (i if i >= 0 else length + i) for i in self.indices)
            assert self.slice_ is not None
            start, stop, step = self.slice_
            return key in range(length)[slice(start, stop, step)]
        if self.predicate is not None:
            return self.predicate(FilterContext(value, key, parent, path))
        return False


class Segment(Struct, frozen=True):
    """One step: a selector applied to the children (or, with `descendant`, to every level)."""

    selector: Selector
    descendant: bool = False


CompiledPath = tuple[Segment, ...]

_NAME = re.compile(r"[A-Za-z0-9_$@\-]+")


def compile_given(text: str) -> tuple[CompiledPath, bool]:
    """A `given` path, and whether it ends in `~` (select the keys of the matches, not values)."""
    text = text.strip()
    if text.endswith("~"):
        return compile_path(text[:-1]), True
    return compile_path(text), False


def compile_path(text: str) -> CompiledPath:
    """`$.paths[*][get,put]..parameters[?(@.in == 'path')]` -> segments."""
    text = text.strip()
    if not text.startswith("$"):
        raise JsonPathError(f"JSONPath must start with '$': {text!r}")
    segments: list[Segment] = []
    position = 1
    while position < len(text):
        descendant = False
        if text.startswith("..", position):
            descendant = True
            position += 2
        elif text[position] == ".":
            position += 1
        elif text[position] != "[":
            raise JsonPathError(f"unexpected {text[position]!r} at {position} in {text!r}")
        if position >= len(text):
            raise JsonPathError(f"JSONPath ends after a dot: {text!r}")
        if text[position] == "[":
            selector, position = _bracket(text, position)
        elif text[position] == "*":
            selector, position = Selector(wildcard=True, text="*"), position + 1
        else:
            match = _NAME.match(text, position)
            if not match:
                raise JsonPathError(f"expected a name at {position} in {text!r}")
            name = match.group()
            selector, position = Selector(names=frozenset({name}), text=name), match.end()
        segments.append(Segment(selector, descendant))
    return tuple(segments)


def _bracket(text: str, start: int) -> tuple[Selector, int]:
    """Parse `[...]` starting at `start` (the `[`); return the selector and the next position."""
    end = _closing_bracket(text, start)
    inner = text[start + 1 : end].strip()
    after = end + 1
    if inner == "*":
        return Selector(wildcard=True, text="*"), after
    if inner.startswith("?"):
        expression = inner[1:].strip()
        if expression.startswith("(") and expression.endswith(")"):
            expression = expression[1:-1]
        try:
            predicate = compile_filter(expression)
        except ValueError as error:
            raise JsonPathError(f"{error} in {text!r}") from None
        return Selector(predicate=predicate, text=inner), after
    if ":" in inner and not inner.startswith(("'", '"')):
        parts = [p.strip() for p in inner.split(":")]
        if len(parts) > 3 or not all(p == "" or _is_integer(p) for p in parts):
            raise JsonPathError(f"bad slice [{inner}] in {text!r}")
        numbers = [int(p) if p else None for p in parts] + [None] * (3 - len(parts))
        return Selector(slice_=(numbers[0], numbers[1], numbers[2]), text=inner), after
    items = _split_union(inner, text)
    if all(_is_integer(item) for item in items):
        return Selector(indices=tuple(int(item) for item in items), text=inner), after
    names = []
    for item in items:
        if item[:1] in ("'", '"'):
            if len(item) < 2 or item[-1] != item[0]:
                raise JsonPathError(f"unterminated string {item!r} in {text!r}")
            names.append(item[1:-1].replace("\\" + item[0], item[0]))
        else:
            names.append(item)
    return Selector(names=frozenset(names), text=inner), after


def _is_integer(text: str) -> bool:
    """`-?\\d+` in full (a string method: each regular expression compiled costs start-up)."""
    return (text[1:] if text.startswith("-") else text).isdecimal()


def _closing_bracket(text: str, start: int) -> int:
    depth = 0
    quote: str | None = None
    position = start
    while position < len(text):
        char = text[position]
        if quote:
            if char == "\\":
                position += 1
            elif char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
            if depth == 0:
                if char != "]":
                    raise JsonPathError(f"unbalanced brackets in {text!r}")
                return position
        position += 1
    raise JsonPathError(f"unclosed '[' at {start} in {text!r}")


def _split_union(inner: str, text: str) -> list[str]:
    items: list[str] = []
    current: list[str] = []
    quote: str | None = None
    for char in inner:
        if quote:
            current.append(char)
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
            current.append(char)
        elif char == ",":
            items.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    items.append("".join(current).strip())
    if any(not item for item in items):
        raise JsonPathError(f"empty member in [{inner}] of {text!r}")
    return items


def query(document: Any, path: CompiledPath) -> list[tuple[tuple[str | int, ...], Any]]:
    """All matches of one path in `document` (paths and values), in document order.

    For `field` expressions and tests; rule `given`s go through the one-walk dispatcher.
    """
    found: list[tuple[tuple[str | int, ...], Any]] = []

    def visit(node: Any, position: frozenset[int], where: tuple[str | int, ...]) -> None:
        if len(path) in position:
            found.append((where, node))
        children: Any
        if isinstance(node, dict):
            children = node.items()
        elif isinstance(node, list):
            children = enumerate(node)
        else:
            return
        for key, value in children:
            following = advance(path, position, key, value, node, (*where, key))
            if following:
                visit(value, following, (*where, key))

    visit(document, frozenset({0}), ())
    return found


def advance(
    path: CompiledPath,
    position: frozenset[int],
    key: str | int,
    value: Any,
    parent: Any,
    where: tuple[str | int, ...],
) -> frozenset[int]:
    """Positions reached in `path` after stepping from `parent` to its child `key`."""
    reached: set[int] = set()
    for index in position:
        if index >= len(path):
            continue
        segment = path[index]
        if segment.descendant:
            reached.add(index)
        if segment.selector.accepts(key, value, parent, where):
            reached.add(index + 1)
    return frozenset(reached)

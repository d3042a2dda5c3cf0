"""Source positions for JSON pointers, computed lazily and cheaply.

Parsing keeps no positions (that would slow every document down); only when a document has
findings does `LineMap` parse it a second time with rapidyaml, a C++ parser that builds a tree of
views into the source buffer in a few tens of milliseconds even for multi-megabyte documents.
A pointer is then located by walking the tree along the pointer's tokens and turning the
address of the key (or value) view back into an offset in the source.

JSON written the way pretty printers write it needs no second parse at all (`_PrettyJson`).
"""

from __future__ import annotations

import bisect
import ctypes
import re
from collections.abc import Sequence
from typing import Any

import orjson
import ryml


class _PyBuffer(ctypes.Structure):
    _fields_ = [
        ("buf", ctypes.c_void_p),
        ("obj", ctypes.py_object),
        ("len", ctypes.c_ssize_t),
        ("itemsize", ctypes.c_ssize_t),
        ("readonly", ctypes.c_int),
        ("ndim", ctypes.c_int),
        ("format", ctypes.c_char_p),
        ("shape", ctypes.c_void_p),
        ("strides", ctypes.c_void_p),
        ("suboffsets", ctypes.c_void_p),
        ("internal", ctypes.c_void_p),
    ]


_get_buffer = ctypes.pythonapi.PyObject_GetBuffer
_get_buffer.argtypes = [ctypes.py_object, ctypes.POINTER(_PyBuffer), ctypes.c_int]
_release_buffer = ctypes.pythonapi.PyBuffer_Release
_release_buffer.argtypes = [ctypes.POINTER(_PyBuffer)]


def _address(buffer: Any) -> int:
    """Memory address of a buffer (rapidyaml hands out read-only memoryviews into the source)."""
    view = _PyBuffer()
    _get_buffer(buffer, ctypes.byref(view), 0)
    try:
        return int(view.buf or 0)
    finally:
        _release_buffer(ctypes.byref(view))


class _Tree:
    """A rapidyaml tree over a private copy of the source, plus its base address."""

    def __init__(self, raw: bytes) -> None:
        self.buffer = bytearray(raw)
        self.base = _address(self.buffer)
        self.tree = ryml.parse_in_place(self.buffer)
        self._items: dict[int, list[int]] = {}

    def items(self, node: int) -> list[int]:
        """The children of a sequence, listed once: indexing a long array must not walk it."""
        found = self._items.get(node)
        if found is None:
            tree = self.tree
            found = []
            child = tree.first_child(node)
            while child >= 0 and child != ryml.NONE:
                found.append(child)
                child = tree.next_sibling(child)
            self._items[node] = found
        return found

    def key_offset(self, node: int) -> int | None:
        if not self.tree.has_key(node):
            return None
        return self._offset(self.tree.key(node))

    def val_offset(self, node: int) -> int | None:
        if not self.tree.has_val(node):
            return None
        return self._offset(self.tree.val(node))

    def _offset(self, view: Any) -> int | None:
        if view is None or len(view) == 0:
            return None
        offset = _address(view) - self.base
        return offset if 0 <= offset <= len(self.buffer) else None

    def node_offset(self, node: int) -> int | None:
        """Where a node starts: its key, its value, or its first child's."""
        tree = self.tree
        seen = 0
        while node >= 0 and seen < 64:
            offset = self.key_offset(node)
            if offset is None:
                offset = self.val_offset(node)
            if offset is not None:
                return offset
            if not tree.has_children(node):
                return None
            node = tree.first_child(node)
            seen += 1
        return None


class LineMap:
    """Maps JSON pointers of one document to (line, column), 1-based.

    `pretty`, when given, is the document `raw` holds, and `raw` is exactly what orjson's
    pretty printer writes for it (`parse.py` checks that while parsing: `Parsed.layout`):
    positions are then computed from the data alone.
    """

    def __init__(self, raw: bytes, pretty: dict[str, Any] | None = None) -> None:
        self._raw = raw
        self._tree: _Tree | None = None
        self._known_offsets: list[int] = [0]
        self._known_lines: list[int] = [0]
        self._broken = False
        self._pretty = _PrettyJson(raw, pretty) if pretty else None

    def position(self, tokens: Sequence[str]) -> tuple[int, int] | None:
        """The position of the deepest node along `tokens` that exists in the source."""
        if self._pretty is not None:
            try:
                found = self._pretty.offset(tokens)
            except ValueError:  # the data no longer matches the text (changed since parsing)
                self._pretty, found = None, _UNKNOWN
            if found != _UNKNOWN:
                return None if found is None else self.offset_position(found)
        tree = self._load()
        if tree is None:
            return None
        t = tree.tree
        node = t.root_id()
        if t.is_stream(node):
            node = t.first_child(node)
        # Walk to the deepest node that exists first, then ask for offsets from there upwards:
        # each offset costs a buffer-address lookup, so computing one per level would multiply
        # the cost of locating a finding by the pointer's depth.
        path = [node]
        for token in tokens:
            if t.is_map(node):
                found = t.find_child(node, token.encode("utf-8"))
                if found < 0 or found == ryml.NONE:
                    break
                node = found
            elif t.is_seq(node):
                items = tree.items(node)
                if not token.isdigit() or int(token) >= len(items):
                    break
                node = items[int(token)]
            else:
                break
            path.append(node)
        best: int | None = None
        for node in reversed(path):
            best = tree.node_offset(node)
            if best is not None:
                break
        if best is None:
            return None
        return self.offset_position(best)

    def offset_position(self, offset: int) -> tuple[int, int]:
        line_start = self._raw.rfind(b"\n", 0, offset) + 1
        # A quoted key's view starts after its quote: point at the quote.
        if offset > line_start and self._raw[offset - 1 : offset] in (b'"', b"'"):
            offset -= 1
        # Columns count characters, not bytes (SARIF's unicodeCodePoints); decoding is only
        # needed when the line so far is not plain ASCII.
        prefix = self._raw[line_start:offset]
        column = (len(prefix) if prefix.isascii() else len(prefix.decode("utf-8", "replace"))) + 1
        return self._line_index(line_start) + 1, column

    def _line_index(self, offset: int) -> int:
        """0-based line of an offset, counting newlines from the nearest known offset before it.

        Findings arrive roughly in document order, so each count scans only the stretch since
        the previous finding; no table of every line start is built for a 25 MB document.
        """
        offsets, lines = self._known_offsets, self._known_lines
        index = bisect.bisect_right(offsets, offset) - 1
        line = lines[index] + self._raw.count(b"\n", offsets[index], offset)
        if offsets[index] != offset:
            offsets.insert(index + 1, offset)
            lines.insert(index + 1, line)
        return line

    def _load(self) -> _Tree | None:
        if self._tree is None and not self._broken:
            try:
                self._tree = _Tree(self._raw)
            except Exception:  # a document yaml-rs accepted but rapidyaml does not: no lines
                self._broken = True
        return self._tree


_UNKNOWN = -1
"""An offset `_PrettyJson` does not model (rare shapes): the rapidyaml tree answers instead."""


class _PrettyJson:
    """Offsets in JSON laid out as pretty printers write it, found without parsing again.

    orjson's `OPT_INDENT_2` layout is also serde_json's (pact_ffi, so every pact-rust-based
    library), `JSON.stringify(v, null, 2)`'s (pact-js) and `json.dumps(v, indent=2,
    ensure_ascii=False)`'s. In it every member and array element starts a line of its own,
    indented two spaces per level, and no string holds a line break. So the children of a
    container at depth d are the lines below it indented exactly 2(d+1) spaces that do not
    close a bracket, in order: a C-speed search skips everything deeper. Which child a token
    names, and whether it is a container, the parsed data says. Whether a document is laid out
    so is checked while parsing (`Parsed.layout`, by comparing its bytes with orjson's output),
    and then locating a finding in interaction 9,999 of a 25 MB pact costs one scan of the
    interactions array, shared by all findings, instead of a second parse of the whole file.

    Answers are the rapidyaml tree's: a member is located at its key's opening quote; an array
    element at its value, or, for a container, at its first descendant; an empty container at
    its parent.
    """

    def __init__(self, raw: bytes, data: dict[str, Any]) -> None:
        self.raw = raw
        self.data = data
        self.root = 3 if raw.startswith(b"\xef\xbb\xbf") else 0
        # offset of a container's line -> (offsets of its children found so far, where the
        # search for the next one resumes)
        self._children: dict[int, tuple[list[int], list[int]]] = {}
        self._indexes: dict[int, tuple[dict[str, Any], dict[str, int]]] = {}

    def offset(self, tokens: Sequence[str]) -> int | None:
        node: Any = self.data
        at, depth = self.root, 0  # where `node`'s line starts its text; its nesting depth
        best = self._first_inside(node, at, depth)
        for token in tokens:
            if isinstance(node, dict):
                if token not in node:
                    break
                if not token:
                    return _UNKNOWN  # rapidyaml locates an empty key by its value
                child = node[token]
                at = best = self._member(node, at, depth, token)
            elif isinstance(node, list):
                if not (token.isascii() and token.isdigit()) or int(token) >= len(node):
                    break
                child = node[int(token)]
                at = self._child(at, depth, int(token))
                if isinstance(child, dict | list):
                    inside = self._first_inside(child, at, depth + 1)
                    if inside == _UNKNOWN:
                        return _UNKNOWN
                    best = best if inside is None else inside
                elif child == "":
                    return _UNKNOWN  # no text to point at
                else:
                    best = at
            else:
                break
            node, depth = child, depth + 1
        return best

    def _first_inside(self, node: Any, at: int, depth: int) -> int | None:
        """Where a container element is located: its first descendant (None when empty)."""
        for _ in range(64):
            if not (isinstance(node, dict | list) and node):
                return None
            # The first child starts the next line, one level deeper.
            at = self.raw.index(b"\n", at) + 1 + 2 * (depth + 1)
            if isinstance(node, dict):
                return at if next(iter(node)) else _UNKNOWN
            node, depth = node[0], depth + 1
            if not isinstance(node, dict | list):
                return None if node == "" else at
        return _UNKNOWN

    def _member(self, node: dict[str, Any], at: int, depth: int, key: str) -> int:
        """The offset of member `key`'s opening quote in the object at `at`."""
        indent = 2 * (depth + 1)
        if len(node) <= 32:
            # Most objects: the key's own line, found directly. The first line below `at`
            # indented exactly so and holding this key and a colon is the member: deeper lines
            # are indented more, a string array element has no colon after its closing quote,
            # and the data says the key is there before the object ends.
            line = b"\n" + b" " * indent + orjson.dumps(key) + b":"
            return self.raw.index(line, at) + 1 + indent
        # Large objects (the paths of a spec) are listed once, member by member, as arrays are.
        known = self._indexes.get(id(node))
        if known is None or known[0] is not node:
            known = (node, {name: index for index, name in enumerate(node)})
            self._indexes[id(node)] = known
        return self._child(at, depth, known[1][key])

    def _child(self, at: int, depth: int, index: int) -> int:
        """The offset of the first character of child `index` of the container at `at`."""
        known = self._children.get(at)
        if known is None:
            known = ([], [at])
            self._children[at] = known
        found, resume = known
        if index >= len(found):
            pattern = _child_line(2 * (depth + 1))
            while len(found) <= index:
                match = pattern.search(self.raw, resume[0])
                if match is None:
                    raise ValueError("the data says the child exists")
                found.append(match.end() - 1)
                resume[0] = match.end()
        return found[index]


_CHILD_LINES: dict[int, re.Pattern[bytes]] = {}


def _child_line(indent: int) -> re.Pattern[bytes]:
    """A line indented exactly `indent` spaces that does not close a bracket."""
    pattern = _CHILD_LINES.get(indent)
    if pattern is None:
        pattern = re.compile(rb"\n {%d}[^ \]}]" % indent)
        _CHILD_LINES[indent] = pattern
    return pattern


def find_duplicate_key(raw: bytes) -> tuple[str, int, int] | None:
    """The first duplicated mapping key: (key, line of the first, line of the second)."""
    try:
        tree = _Tree(raw)
    except Exception:
        return None
    lines = LineMap(raw)
    t = tree.tree
    for node in range(t.size()):
        if not t.is_map(node):
            continue
        seen: dict[bytes, int] = {}
        child = t.first_child(node)
        while child >= 0 and child != ryml.NONE:
            if t.has_key(child):
                key = bytes(t.key(child))
                if key in seen:
                    first = tree.key_offset(seen[key])
                    second = tree.key_offset(child)
                    if first is not None and second is not None:
                        return (
                            key.decode("utf-8", "replace"),
                            lines.offset_position(first)[0],
                            lines.offset_position(second)[0],
                        )
                seen[key] = child
            child = t.next_sibling(child)
    return None


def find_tag(raw: bytes) -> tuple[str, int] | None:
    """The first explicit YAML tag in a document: (tag, line)."""
    try:
        tree = _Tree(raw)
    except Exception:
        return None
    lines = LineMap(raw)
    t = tree.tree
    for node in range(t.size()):
        for has, get, offset in (
            (t.has_key_tag, t.key_tag, tree.key_offset),
            (t.has_val_tag, t.val_tag, tree.val_offset),
        ):
            if has(node):
                where = offset(node) or tree.node_offset(node) or 0
                return bytes(get(node)).decode("utf-8", "replace"), lines.offset_position(where)[0]
    return None

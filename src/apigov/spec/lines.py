"""Source positions for JSON pointers, computed lazily and cheaply.

Parsing keeps no positions (that would slow every document down); only when a document has
findings does `LineMap` parse it a second time with rapidyaml, a C++ parser that builds a tree of
views into the source buffer in a few tens of milliseconds even for multi-megabyte documents.
A pointer is then located by walking the tree along the pointer's tokens and turning the
address of the key (or value) view back into an offset in the source.

JSON written the way pretty printers write it needs no second parse at all (`_PrettyJson`),
and neither does YAML written in block style (`_BlockYaml`): both are located from the parsed
data and searches of the text, and the tree is only built for what they cannot answer. JSON of
any other layout is located by scanning its text along the pointer (`_ScannedJson`); the tree
is left for YAML in flow style and what the text searches cannot answer.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import msgspec
import orjson

from apigov.memory import release_freed_memory

if TYPE_CHECKING:
    import ryml

# rapidyaml and ctypes are imported when a first tree is built: a run whose documents need no
# line numbers (no findings, or pretty-printed JSON) does not pay for their import (rapidyaml's
# brings `packaging` and `deprecation` along).


@functools.cache
def _buffer_address() -> Callable[[Any], int]:
    """A function giving the memory address of a buffer (rapidyaml hands out read-only
    memoryviews into the source)."""
    import ctypes

    class PyBuffer(ctypes.Structure):
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

    get_buffer = ctypes.pythonapi.PyObject_GetBuffer
    get_buffer.argtypes = [ctypes.py_object, ctypes.POINTER(PyBuffer), ctypes.c_int]
    release_buffer = ctypes.pythonapi.PyBuffer_Release
    release_buffer.argtypes = [ctypes.POINTER(PyBuffer)]

    def address(buffer: Any) -> int:
        view = PyBuffer()
        get_buffer(buffer, ctypes.byref(view), 0)
        try:
            return int(view.buf or 0)
        finally:
            release_buffer(ctypes.byref(view))

    return address


def _address(buffer: Any) -> int:
    return _buffer_address()(buffer)


class _Tree:
    """A rapidyaml tree over a private copy of the source, plus its base address."""

    def __init__(self, raw: bytes) -> None:
        import ryml

        self.none = ryml.NONE
        self.buffer = bytearray(raw)
        self.base = _address(self.buffer)
        self.tree: ryml.Tree = ryml.parse_in_place(self.buffer)
        self._items: dict[int, list[int]] = {}

    def items(self, node: int) -> list[int]:
        """The children of a sequence, listed once: indexing a long array must not walk it."""
        found = self._items.get(node)
        if found is None:
            tree = self.tree
            found = []
            child = tree.first_child(node)
            while child >= 0 and child != self.none:
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
    positions are then computed from the data alone. `block`, when given, is the document a
    YAML `raw` holds: members and items written in block style are found from it and a few
    scans of the text (`_BlockYaml`), and only what that cannot answer parses `raw` again.
    """

    def __init__(
        self,
        raw: bytes,
        pretty: dict[str, Any] | None = None,
        block: dict[str, Any] | None = None,
        *,
        scan: bool = True,
    ) -> None:
        self._raw = raw
        self._ascii: bool | None = None
        self._tree: _Tree | None = None
        # _block_lines[i]: the newlines before offset i * _BLOCK, extended as far as asked.
        self._block_lines: list[int] = [0]
        self._broken = False
        self._pretty = _PrettyJson(raw, pretty) if pretty else None
        self._block = _BlockYaml(raw, block) if block and _BlockYaml.applies(raw) else None
        # Any other JSON object is located by scanning its text (`_ScannedJson`), built when
        # a first position is asked for. `scan=False` keeps to the tree (tests compare both).
        self._scan = scan and not pretty and not block and _ScannedJson.applies(raw)
        self._scanned: _ScannedJson | None = None

    def position(self, tokens: Sequence[str]) -> tuple[int, int] | None:
        """The position of the deepest node along `tokens` that exists in the source."""
        if self._pretty is not None:
            try:
                found = self._pretty.offset(tokens)
            except ValueError:  # the data no longer matches the text (changed since parsing)
                self._pretty, found = None, _UNKNOWN
            if found != _UNKNOWN:
                return None if found is None else self.offset_position(found)
        if self._block is not None:
            found = self._block.offset(tokens)
            if found != _UNKNOWN:
                return None if found is None else self.offset_position(found)
        if self._scan:
            try:
                if self._scanned is None:
                    self._scanned = _ScannedJson(self._raw)
                found = self._scanned.offset(tokens)
            except (ValueError, IndexError, RecursionError):  # not JSON (YAML flow style)
                self._scan, self._scanned, found = False, None, _UNKNOWN
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
                if found < 0 or found == tree.none:
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
        # needed when the line so far is not plain ASCII. Asking the whole text once spares
        # copying each line's start (a JSON document on one line is one megabyte-long line).
        if self._ascii is None:
            self._ascii = self._raw.isascii()
        if self._ascii:
            column = offset - line_start + 1
        else:
            prefix = self._raw[line_start:offset]
            column = len(prefix.decode("utf-8", "replace")) + 1
        return self._line_index(line_start) + 1, column

    def _line_index(self, offset: int) -> int:
        """0-based line of an offset: newlines counted per block of the source, once, as far
        as the furthest offset asked for, then only within the offset's own block.

        Findings do not arrive in document order (a diff's findings alternate between paths
        and the schemas they use), so counting from the previous finding rescanned megabytes;
        a table of every line start would cost a 25 MB document far more than its findings.
        """
        raw, blocks = self._raw, self._block_lines
        block = offset // _BLOCK
        while len(blocks) <= block:
            start = (len(blocks) - 1) * _BLOCK
            blocks.append(blocks[-1] + raw.count(b"\n", start, start + _BLOCK))
        return blocks[block] + raw.count(b"\n", block * _BLOCK, offset)

    def _load(self) -> _Tree | None:
        if self._tree is None and not self._broken:
            if len(self._raw) >= _RELEASE_BEFORE_TREE:
                # The tree takes fresh pages: without this, what the run freed before asking
                # for positions (a lint's resolved view, its validators) stays resident beside
                # it, and the peak is the sum of both.
                release_freed_memory()
            try:
                self._tree = _Tree(self._raw)
            except Exception:  # a document yaml-rs accepted but rapidyaml does not: no lines
                self._broken = True
        return self._tree


_RELEASE_BEFORE_TREE = 100_000
"""From this size of text, freed memory is given back before a tree is built (under a
millisecond, ctypes' import included; the tree of a smaller text is too small to matter)."""
_BLOCK = 1 << 14
"""Bytes per entry of `LineMap`'s newline table: a lookup counts at most this many bytes."""
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


_SPACE = re.compile(rb"[ \t\n\r]*")
_STRING = re.compile(rb'"[^"\\\x00-\x1f]*+(?:\\.[^"\\\x00-\x1f]*+)*+"', re.DOTALL)
_SCALAR = re.compile(
    rb"true|false|null|-?+(?:0|[1-9][0-9]*+)(?:\.[0-9]++)?+(?:[eE][-+]?+[0-9]++)?+"
)
_LBRACE, _RBRACE, _LBRACKET, _RBRACKET, _QUOTE, _COMMA, _COLON = b'{}[]",:'
_DECODER = json.JSONDecoder()
_JSON_OBJECT = re.compile(rb"(?:\xef\xbb\xbf)?[ \t\n\r]*\{")


class _ScannedJson:
    """Offsets in a JSON object of any layout, found by scanning its text along the pointer.

    JSON holds no line break inside a token, but its layout is free (any indent, spaces
    around `:` and `,`, several members on a line, one line for everything), so the text is
    read as JSON: along the pointer, each container's members are listed in order, key by key,
    and the values before the one wanted are skipped. Only the containers along the pointers
    asked for are listed, each once, and no tree is built (a rapidyaml tree costs about 4-8
    bytes per byte of JSON, and rapidyaml's import 27 ms of CPU).

    A container passed over is skipped by msgspec, which reads it without building it and
    says where it ends (`_container_end`): one pass over its bytes at about 8 instructions per
    byte, against 37 for the standard library's C scanner, which builds every string, list and
    dict it passes. Locating the one finding of Adyen Management (1.4 MB, near its end) cost
    61 M instructions with that scanner, 32 M when the end was guessed from the layout and the
    guess checked by msgspec (a search and a parse of each container), and 25 M now, of which
    counting newlines up to the finding (`LineMap._line_index`, about 5 per byte) is 7 M. Text
    msgspec refuses is skipped by that C scanner, on a Latin-1 copy made when first needed
    (offsets stay byte offsets). Strings and scalars are matched by regular expressions.

    Answers are the tree's, worked out the way `_Tree.node_offset` does on the deepest node
    along the pointer: a member at its key (after its quote: `offset_position` steps back),
    or, for an empty key, at its value; a scalar at its value (an empty string has no text:
    the node above answers); a container at its first child's answer.
    """

    @staticmethod
    def applies(raw: bytes) -> bool:
        return _JSON_OBJECT.match(raw) is not None

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self._text: str | None = None  # for the C scanner: built when first needed
        start = 3 if raw.startswith(b"\xef\xbb\xbf") else 0
        self.root = _space_end(raw, start)
        # container's offset -> (its children so far, [where the last child's value starts;
        # -1 once the container is closed])
        self._children: dict[int, tuple[list[_Child], list[int]]] = {}
        # object's offset -> ({key as UTF-8: index of its member}, [members named so far])
        self._keys: dict[int, tuple[dict[bytes, int], list[int]]] = {}

    def offset(self, tokens: Sequence[str]) -> int | None:
        raw = self.raw
        if raw[self.root] != _LBRACE:
            raise ValueError("not a JSON object")
        path: list[_Child] = [(-1, -1, self.root)]
        value = self.root
        for token in tokens:
            opening = raw[value]
            if opening == _LBRACE:
                found = self._member(value, token)
                if found is None:
                    break
            elif opening == _LBRACKET:
                if not token.isdigit():
                    break
                children = self._list(value, int(token))
                if int(token) >= len(children):
                    break
                found = children[int(token)]
            else:
                break
            path.append(found)
            value = found[2]
        for node in reversed(path):
            best = self._node_offset(node)
            if best is not None:
                return best
        return None

    def _node_offset(self, node: _Child) -> int | None:
        """Where the tree says a node starts: its key, its scalar value, or its first child's."""
        raw = self.raw
        for _ in range(64):
            key, key_end, value = node
            if key >= 0 and key_end > key + 2:
                return key + 1  # a key's view starts after its quote; an empty key has none
            opening = raw[value]
            if opening == _QUOTE:
                return None if raw[value + 1] == _QUOTE else value + 1
            if opening != _LBRACE and opening != _LBRACKET:
                return value
            children = self._list(value, 0)
            if not children:
                return None
            node = children[0]
        return None

    def _member(self, at: int, token: str) -> _Child | None:
        """The member of the object at `at` named `token`, listing its members as needed."""
        wanted = token.encode("utf-8")
        keys, named = self._keys.setdefault(at, ({}, [0]))
        while True:
            index = keys.get(wanted)
            if index is not None:
                return self._children[at][0][index]
            listed = named[0]
            children = self._list(at, listed)
            if len(children) <= listed:
                return None  # the object ends without it
            key, key_end, _ = children[listed]
            name = self.raw[key + 1 : key_end - 1]
            if b"\\" in name:
                name = orjson.loads(self.raw[key:key_end]).encode("utf-8")
            keys.setdefault(name, listed)  # the first of duplicate keys, as the tree finds
            named[0] = listed + 1

    def _list(self, at: int, index: int) -> list[_Child]:
        """The children of the container at `at`, listed at least up to `index`.

        A value passed over is skipped (`_skip`), not listed: listing it member by member
        instead (so that a later pointer into it finds its members listed) cost more than it
        saved when values were skipped by decoding them (on Adyen Checkout's diff, 7% more
        instructions for the whole command), and skipping is cheaper now.
        """
        known = self._children.get(at)
        if known is None:
            known = ([], [at + 1])
            self._children[at] = known
        children, resume = known
        raw = self.raw
        is_object = raw[at] == _LBRACE
        closing = _RBRACE if is_object else _RBRACKET
        while len(children) <= index and resume[0] >= 0:
            position = _space_end(raw, resume[0])
            if children:
                position = _space_end(raw, self._skip(children[-1][2]))
                if raw[position] == closing:
                    resume[0] = -1
                    break
                if raw[position] != _COMMA:
                    raise ValueError("not JSON")
                position = _space_end(raw, position + 1)
            elif raw[position] == closing:
                resume[0] = -1
                break
            key = key_end = -1
            if is_object:
                if raw[position] != _QUOTE:
                    raise ValueError("not JSON")
                key = position
                key_end = _string_end(raw, key)
                position = _space_end(raw, key_end)
                if raw[position] != _COLON:
                    raise ValueError("not JSON")
                position = _space_end(raw, position + 1)
            children.append((key, key_end, position))
            resume[0] = position
        return children

    def _skip(self, at: int) -> int:
        """An offset past the value at `at` and no further than the byte after it that is not
        a JSON space (the caller skips spaces from there): for a container, that byte."""
        opening = self.raw[at]
        if opening == _QUOTE:
            return _string_end(self.raw, at)
        if opening != _LBRACE and opening != _LBRACKET:
            scalar = _SCALAR.match(self.raw, at)
            if scalar is None:
                raise ValueError("not JSON")
            return scalar.end()
        end = _container_end(self.raw, at)
        if end is not None:
            return end
        if self._text is None:
            self._text = self.raw.decode("latin-1")  # one character per byte, offset per byte
        return int(_DECODER.raw_decode(self._text, at)[1])


def _container_end(raw: bytes, at: int) -> int | None:
    """The offset of the first byte after the container at `at` that is not a JSON space, as
    msgspec finds it; None when msgspec cannot tell (the C scanner decides then).

    msgspec is asked to parse all of `raw[at:]` as one JSON value without building it
    (`msgspec.Raw`). JSON is read left to right and a container is complete at its closing
    bracket whatever follows it, so msgspec reads the container's bytes, and only them, as a
    parse of the whole text does, and completes it at the same byte. It then skips JSON spaces
    and, finding a byte there (a container inside a container is always followed by `,` or a
    closing bracket), refuses it as trailing characters, giving its position. No layout is
    assumed: one line, containers closed mid-line, `[ {`, misleading indents, brackets and
    escaped quotes in strings are all read as JSON, each byte once (a guess from the layout
    searched the container's bytes for its closing line and then parsed them). If msgspec
    refuses the container itself (text it does not accept, such as YAML's flow style or a
    NaN), or finds nothing after it, or numbers positions otherwise (`_skipping_decoder`),
    the answer is None.
    """
    decode = _skipping_decoder()
    if decode is None:
        return None
    try:
        decode(memoryview(raw)[at:])
    except msgspec.DecodeError as error:
        trailing = _TRAILING.fullmatch(str(error))
        if trailing is None:
            return None
        return at + int(trailing.group(1)) - 1
    except RecursionError:
        return None
    return None


_TRAILING = re.compile(r"JSON is malformed: trailing characters \(byte ([0-9]+)\)")


@functools.cache
def _skipping_decoder() -> Callable[[Any], Any] | None:
    """msgspec's decoder that reads a JSON value without building it, if it numbers a refused
    trailing byte as `_container_end` reads it: the offset just past it (the comma of
    `[ ] \\n ,` is byte 6, refused "at byte 7"). Made when first needed: most runs never
    locate anything in JSON of another layout."""
    decode = msgspec.json.Decoder(msgspec.Raw).decode
    try:
        decode(b"[ ] \n ,")
    except msgspec.DecodeError as error:
        if str(error) == "JSON is malformed: trailing characters (byte 7)":
            return decode
    return None


_Child = tuple[int, int, int]
"""A container's child in `_ScannedJson`: (key offset, offset past the key; -1 for an array
element, value offset)."""


def _space_end(raw: bytes, at: int) -> int:
    return _SPACE.match(raw, at).end()  # type: ignore[union-attr]


def _string_end(raw: bytes, quote: int) -> int:
    """The offset past the string whose opening quote is at `quote`."""
    string = _STRING.match(raw, quote)
    if string is None:
        raise ValueError("not JSON")
    return string.end()


class _BlockYaml:
    """Offsets in YAML written in block style, found from the parsed data and the text.

    In block style, within the lines of a mapping indented c columns, a line indented exactly c
    spaces that starts with a member's key and its colon *is* that member: deeper lines are
    indented more (block scalars and continued scalars included; the parser refused the
    document otherwise), comments start with `#`, items with `- `. So a member is found with
    one search of its mapping's lines for the key as written (plain, or quoted without
    escapes), and its own lines end where the next member (the data says which) starts. The
    items of a sequence are its lines at its indentation starting with `- `. Anything else on
    the way down (flow style, anchors, aliases, tags, a key written some other way, an item
    that is not a plain scalar or a block mapping) returns `_UNKNOWN`: the rapidyaml tree
    answers that pointer.

    Answers are the tree's: a member is located at its key (a quoted key at its quote); an item
    at its value, or, for a mapping, at its first key.

    Locating a finding costs a few searches of the text instead of a second parse of the whole
    document, and no tree (about 4 bytes of tree per byte of YAML) stays in memory.
    """

    @staticmethod
    def applies(raw: bytes) -> bool:
        """Only `\\n` line ends and no byte-order mark: what the searches below assume."""
        return b"\r" not in raw and not raw.startswith(b"\xef\xbb\xbf")

    def __init__(self, raw: bytes, data: dict[str, Any]) -> None:
        self.raw = raw
        self.data = data
        # id(mapping) -> (mapping, its keys, each key's index, each key's offset once found)
        self._maps: dict[
            int, tuple[dict[str, Any], list[str], dict[str, int], list[int | None]]
        ] = {}
        # id(sequence) -> (sequence, offsets of its `-`s found so far, where the next search
        # resumes, end of its lines)
        self._items: dict[int, tuple[list[Any], list[int], list[int], int]] = {}
        # offset of a member's key -> what `_below` found for its value
        self._inside: dict[int, tuple[int, int, int] | None] = {}

    def offset(self, tokens: Sequence[str]) -> int | None:
        raw = self.raw
        node: Any = self.data
        if not node:
            return _UNKNOWN
        # The root mapping: its members start lines indented by nothing, anywhere.
        start, end, indent = 0, len(raw), 0
        first = self._member(node, next(iter(node)), start, end, indent)
        if first is None:
            return _UNKNOWN
        best: int | None = first[0]  # the root is located at its first key
        for token in tokens:
            if isinstance(node, dict):
                if token not in node:
                    break
                if not token:
                    return _UNKNOWN  # rapidyaml locates an empty key by its value
                found = self._member(node, token, start, end, indent)
                if found is None:
                    return _UNKNOWN
                best, end = found
                child = node[token]
                if not isinstance(child, dict | list):
                    node = child
                    continue
                inside = self._inside.get(best, _NOT_FOUND)
                if inside is _NOT_FOUND:
                    inside = self._inside[best] = self._below(best, end)
                if inside is None:
                    return _UNKNOWN
                start, indent, key_indent = inside
                # A mapping's members are indented deeper than its key; a sequence's `- ` may
                # sit at its key's own indentation.
                if indent < key_indent or (isinstance(child, dict) and indent == key_indent):
                    return _UNKNOWN
            elif isinstance(node, list):
                if not (token.isascii() and token.isdigit()) or int(token) >= len(node):
                    break
                index = int(token)
                dash_end = self._item(node, index, start, end, indent)
                if dash_end is None:
                    return _UNKNOWN
                dash, end = dash_end
                child = node[index]
                at = dash + 1
                while raw[at : at + 1] == b" ":
                    at += 1
                head = raw[at : at + 1]
                if isinstance(child, str) and child and head in (b"'", b'"'):
                    best = at  # the tree points inside the quote; the column is the quote's
                    node = child
                    continue
                if not head or head in b"\n#" or head in _NOT_PLAIN_START:
                    return _UNKNOWN  # on the next lines, or not plain block content
                if isinstance(child, dict) and child:
                    # `- key: value`: the first member on the dash's line, the others below it
                    # at the same column.
                    start, indent = at, at - self._line_start(at)
                    found = self._member(child, next(iter(child)), start, end, indent)
                    if found is None or found[0] != at:
                        return _UNKNOWN
                    best = at
                elif isinstance(child, list) or child == "" or child is None:
                    return _UNKNOWN
                else:
                    best = at
                    node = child
                    continue
            else:
                break
            node = child
        return best

    def _line_start(self, offset: int) -> int:
        return self.raw.rfind(b"\n", 0, offset) + 1

    def _below(self, key_at: int, end: int) -> tuple[int, int, int] | None:
        """Where the lines of a member's value start, their indentation and the key's: below
        the key (nothing but a comment may follow the key's colon)."""
        raw = self.raw
        line_end = raw.find(b"\n", key_at, end)
        if line_end < 0:
            return None
        colon = _key_end(raw, key_at, line_end)
        if colon is None:
            return None
        rest = raw[colon + 1 : line_end].strip()
        if rest and not rest.startswith(b"#"):
            return None  # flow style, an anchor, a tag or an alias
        first = _first_content(raw, line_end + 1, end)
        if first is None:
            return None
        return line_end + 1, first - self._line_start(first), key_at - self._line_start(key_at)

    def _member(
        self, node: dict[str, Any], key: str, start: int, end: int, indent: int
    ) -> tuple[int, int] | None:
        """(offset of `key`, end of its member's lines) in the mapping whose members are
        indented `indent` spaces in [start, end)."""
        known = self._maps.get(id(node))
        if known is None or known[0] is not node:
            names = list(node)
            indexes = {name: index for index, name in enumerate(names)}
            known = (node, names, indexes, [None] * len(names))
            self._maps[id(node)] = known
        _, names, indexes, offsets = known
        index = indexes[key]
        at = offsets[index]
        if at is None:
            # Members are written in the data's order: search from the nearest member before
            # this one that was found already, so that a large mapping (the paths, the
            # schemas) is not searched from its start for every member asked for.
            before = index - 1
            while before >= 0 and offsets[before] is None:
                before -= 1
            from_at = start if before < 0 else offsets[before]
            assert from_at is not None
            at = self._find_key(key, from_at, end, indent)
            if at is None:
                return None
            offsets[index] = at
        if index + 1 == len(offsets):
            return at, end
        following = offsets[index + 1]
        if following is None:
            following = self._find_key(names[index + 1], at, end, indent)
            if following is None:
                return None
            offsets[index + 1] = following
        return at, self._line_start(following)

    def _find_key(self, key: str, start: int, end: int, indent: int) -> int | None:
        """The first line in [start, end) indented `indent` spaces that starts with `key`
        as written (plain, single- or double-quoted) and its colon; None when there is none."""
        raw = self.raw
        text = key.encode("utf-8")
        if b"\n" in text:
            return None
        spellings = []
        plain = text == text.strip() and b": " not in text and b" #" not in text
        if text and plain and text[:1] not in _NOT_PLAIN_START:
            spellings.append(text)
        spellings.append(b"'" + text.replace(b"'", b"''") + b"'")
        if b'"' not in text and b"\\" not in text and key.isascii() and key.isprintable():
            spellings.append(b'"' + text + b'"')
        margin = b" " * indent
        line_start = start == 0 or raw[start - 1 : start] == b"\n"
        # A key is written one way only: two spellings of one key would be a duplicate key,
        # or, for `200` and `'200'` (an int and a text), keys merged by the parser
        # (`Parsed.keys_merged`: then no `_BlockYaml` at all). So the first spelling found is
        # the member; the plain one, the most common, is tried first.
        for spelling in spellings:
            needle = b"\n" + margin + spelling + b":"
            # The region's first member may start it: at a line's start (no newline before it
            # in the region), or on an item's `- ` line.
            head = needle[1:] if line_start else spelling + b":"
            if raw.startswith(head, start) and _ends_key(raw, start + len(head)):
                return start + indent if line_start else start
            at = raw.find(needle, start, end)
            while at >= 0 and not _ends_key(raw, at + len(needle)):
                at = raw.find(needle, at + 1, end)
            if at >= 0:
                return at + 1 + indent
        return None

    def _item(
        self, node: list[Any], index: int, start: int, end: int, indent: int
    ) -> tuple[int, int] | None:
        """(offset of item `index`'s `-`, end of its lines) in the sequence whose `- ` lines
        are indented `indent` spaces in [start, end)."""
        raw = self.raw
        known = self._items.get(id(node))
        if known is None or known[0] is not node:
            known = (node, [], [start], end)
            self._items[id(node)] = known
            if raw[start : start + indent + 2] in (b" " * indent + b"- ", b" " * indent + b"-\n"):
                known[1].append(start + indent)
        _, dashes, resume, sequence_end = known
        while len(dashes) <= index + 1 and resume[0] >= 0:
            found = _next_dash(raw, indent, resume[0], sequence_end)
            if found is None:
                resume[0] = -1
                break
            dashes.append(found)
            resume[0] = found + 1
        if index >= len(dashes):
            return None
        item_end = self._line_start(dashes[index + 1]) if index + 1 < len(dashes) else sequence_end
        return dashes[index], item_end


def _next_dash(raw: bytes, indent: int, start: int, end: int) -> int | None:
    """The offset of the next `-` starting an item line indented `indent` spaces."""
    needle = b"\n" + b" " * indent + b"-"
    at = raw.find(needle, start, end)
    while at >= 0:
        after = raw[at + len(needle) : at + len(needle) + 1]
        if after in (b" ", b"\n", b""):
            return at + 1 + indent
        at = raw.find(needle, at + 1, end)
    return None


def _ends_key(raw: bytes, colon_after: int) -> bool:
    """Whether the colon just before `colon_after` ends a key: a space, the line's or the
    document's end follows it."""
    return raw[colon_after : colon_after + 1] in (b" ", b"\n", b"")


_NOT_FOUND: Any = object()
# A plain scalar cannot start with these; `_BlockYaml` leaves such items to the tree.
_NOT_PLAIN_START = b"&*!{}[]|>'\"%@`?,#-"


def _first_content(raw: bytes, start: int, end: int) -> int | None:
    """The first character of the first line in [start, end) holding more than a comment."""
    at = start
    while at < end:
        line_end = raw.find(b"\n", at, end)
        line_end = end if line_end < 0 else line_end
        text = raw[at:line_end].lstrip(b" ")
        if text and not text.startswith(b"#"):
            return line_end - len(text)
        at = line_end + 1
    return None


def _key_end(raw: bytes, at: int, line_end: int) -> int | None:
    """The offset of the colon ending the implicit key that starts at `at`."""
    first = raw[at : at + 1]
    if first in (b'"', b"'"):
        close = raw.find(first, at + 1, line_end)
        while first == b"'" and close >= 0 and raw[close + 1 : close + 2] == b"'":
            close = raw.find(first, close + 2, line_end)
        if close < 0:
            return None
        colon = close + 1
        return colon if raw[colon : colon + 1] == b":" else None
    colon = raw.find(b":", at, line_end)
    while colon >= 0 and raw[colon + 1 : colon + 2] not in (b" ", b"\n", b""):
        colon = raw.find(b":", colon + 1, line_end)
    return colon if colon >= 0 else None


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
        while child >= 0 and child != tree.none:
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

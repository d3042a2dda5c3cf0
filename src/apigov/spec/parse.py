"""Turn bytes into plain data (dict/list/str/int/float/bool/None), safely and fast.

JSON goes through orjson. YAML goes through yaml-rs (Rust, YAML 1.2 core schema, alias-replay
limits, duplicate keys rejected). Both are fast enough that parsing is never the bottleneck.
The slow, precise tools only run on the rare documents that need them: PyYAML's event stream
when a document might nest deeper than the limit (yaml-rs recurses on the native stack), and the
rapidyaml tree (`lines.py`) to name the lines of duplicate keys and tags.

One iterative walk (`_walk`) after parsing checks depth, JSON duplicate keys, normalises
non-string mapping keys (`200:` in YAML is an int) and collects every `$ref`, so no analyzer has
to walk the document again to find them. JSON that is exactly orjson's own output for its data
(`Parsed.layout`: what pact libraries and most pretty printers write) needs no duplicate-key
scan, and, pretty-printed without `$ref`s, no walk either.
"""

from __future__ import annotations

import contextlib
import functools
import re
from typing import Any

import orjson
from msgspec import Struct, field

from apigov.spec.errors import InputError
from apigov.spec.limits import Limits, size_message

_UTF8_BOM = b"\xef\xbb\xbf"
_JSON_START = re.compile(rb"[ \t\r\n]*[{\[]")
_UNPARSED: Any = object()
# A `$ref` found under one of these keys is data (an example value), not a reference.
_DATA_KEYS = frozenset({"example", "default", "enum", "const"})
# ...unless the mapping holding that key is a map of names (a response or property may be
# called `default`).
_NAME_MAPS = frozenset(
    {
        "properties",
        "patternProperties",
        "responses",
        "schemas",
        "definitions",
        "parameters",
        "examples",
        "headers",
        "securitySchemes",
        "securityDefinitions",
        "links",
        "callbacks",
        "requestBodies",
        "pathItems",
        "webhooks",
        "$defs",
        "dependentSchemas",
        "content",
        "encoding",
        "variables",
        "mapping",
        "scopes",
        "paths",
    }
)


@functools.cache
def _json_string() -> re.Pattern[bytes]:
    """Every JSON string literal, and whether a colon follows it (then it is a key). Matching
    every literal keeps the scan in step: a quote outside a literal always starts one.

    Compiled on first use: only a JSON document where a key may hide another needs it. With
    the module's other patterns that rare documents need (`_yaml_position`, and the tag
    pattern `_may_have_tag` replaces), compiling it at import cost every process 1.7 million
    instructions.
    """
    return re.compile(rb'"(?:[^"\\]++|\\.)*+"(\s*:)?', re.DOTALL)


_deep_prefixes: dict[int, re.Pattern[bytes]] = {}
_INDENT_TO_NUL = bytes.maketrans(b" \t-", b"\x00\x00\x00")
# A `!` where a YAML tag may start: where a node starts (a line's indentation, after `- `,
# `? `, `: `, `--- `, flow punctuation, or an anchor). A `!` elsewhere (`if err != nil` in
# a code sample) cannot be a tag, and would cost a full second parse to rule out.
# `_may_have_tag` does this pattern's work, faster; it is kept as text, never compiled here,
# for the tests that check the two agree.
_TAG_CANDIDATE_PATTERN = rb"(?m)(?:^[ \t]*|^---[ \t]+|[-?:][ \t]+|[\[{,][ \t]*|&[^\s]+[ \t]+)!"
_WHITESPACE = frozenset(b" \t\r\n\f\v")


def _may_have_tag(raw: bytes) -> bool:
    """Whether `_TAG_CANDIDATE_PATTERN` matches `raw`, looking only at the line before each `!`.

    The pattern has no literal prefix, so a regex search tries it at every byte (0.12 s on a
    3 MB document); real documents hold a few dozen `!`, each checked here with a short walk
    back over its line.
    """
    at = raw.find(b"!")
    while at >= 0:
        line_start = raw.rfind(b"\n", 0, at) + 1
        before = at
        while before > line_start and raw[before - 1] in b" \t":
            before -= 1
        if before == line_start:  # only indentation before it: a node starts here
            return True
        previous = raw[before - 1]
        if previous in b"[{,":
            return True
        if before < at:
            if previous in b"-?:":  # `- `, `? `, `: ` and `--- `
                return True
            word = before
            while word > line_start and raw[word - 1] not in _WHITESPACE:
                word -= 1
            if b"&" in raw[word : before - 1]:  # an anchor `&name` just before the tag
                return True
        at = raw.find(b"!", at + 1)
    return False


class Parsed(Struct):
    """A parsed document and the facts the one walk found."""

    data: dict[str, Any]
    format: str  # "json" | "yaml"
    refs: list[tuple[tuple[str, ...], str]] = field(default_factory=list)
    """Every `$ref`: (path of the mapping that holds it, the reference string)."""
    layout: str | None = None
    """For JSON written exactly as orjson writes `data`: "indent2" (two-space pretty printing,
    as pact libraries, `JSON.stringify(v, null, 2)` and serde_json write) or "compact"."""
    keys_merged: bool = False
    """Two keys of one YAML mapping became one text key (`200` and `'200'`): the later value
    is kept, and the text holds a key the data no longer has."""


def parse_bytes(raw: bytes, name: str, limits: Limits) -> Parsed:
    if len(raw) > limits.max_bytes:
        raise InputError(name, size_message(len(raw), limits))
    if raw.startswith(_UTF8_BOM):
        raw = raw[len(_UTF8_BOM) :]
    nul = raw.find(b"\x00")
    if nul >= 0:
        line, column = _position(raw, nul)
        raise InputError(
            name, "binary content (a NUL byte), not a text document", line=line, column=column
        )
    data: Any = _UNPARSED
    if _JSON_START.match(raw):
        # orjson checks UTF-8 itself: decoding a large JSON document to text first would cost
        # time and its size again in memory. Anything orjson refuses takes the path below,
        # which explains the problem (invalid UTF-8, the line of a syntax error, YAML flow).
        with contextlib.suppress(orjson.JSONDecodeError):
            data, fmt = orjson.loads(raw), "json"
    if data is _UNPARSED:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line, column = _position(raw, exc.start)
            raise InputError(
                name, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x})", line=line, column=column
            ) from None
        stripped = text.lstrip()
        if not stripped or not _has_content(stripped):
            raise InputError(name, "empty document")

        if stripped[0] in "{[":
            data, fmt = _parse_json(raw, text, name, limits), "json"
        else:
            data, fmt = _parse_yaml(raw, text, name, limits), "yaml"

    if not isinstance(data, dict):
        kind = (
            "a sequence (or several YAML documents)"
            if isinstance(data, list)
            else ("empty" if data is None else f"a single {type(data).__name__} value")
        )
        raise InputError(name, f"the top level is {kind}, not a mapping")
    parsed = Parsed(data=data, format=fmt)
    if fmt == "json":
        parsed.layout = _json_layout(raw, data)
    if (
        parsed.layout == "indent2"
        and b'"$ref":' not in raw
        and raw.find(b"\n" + b" " * (2 * (limits.max_depth + 1))) < 0
    ):
        # Pretty-printed JSON without references (a pact, most often) leaves the walk nothing
        # to do: no duplicate keys (the text is orjson's own output for the data), no `$ref`
        # (orjson writes that key as is), nothing nested past the limit (a container at depth
        # d starts a line indented 2d spaces, and no line is indented that far) and no
        # non-string keys (JSON has none).
        return parsed
    if fmt == "json" and _json_checked(raw, parsed, limits):
        _collect_refs(parsed)
        return parsed
    key_count = _walk(parsed, name, limits)
    if fmt == "json" and parsed.layout is None:
        _check_json_duplicates(raw, name, parsed.data, key_count)
    return parsed


def _has_content(text: str) -> bool:
    if text[:1] != "#":
        return True  # `text` starts with no whitespace: its first line has content
    return any(ln.strip() and not ln.lstrip().startswith("#") for ln in text.splitlines())


def _json_layout(raw: bytes, data: dict[str, Any]) -> str | None:
    """ "indent2" or "compact" when `raw` is exactly orjson's output for `data`, else None.

    Such a text has no duplicate keys (it was written from a dict), which spares the scan of
    every string literal, and its positions can be computed from the data (`lines.py`). One
    serialisation and one comparison cost a fraction of that scan; the cheap look at the first
    bytes skips them for documents written another way.
    """
    # orjson writes `"key": value` indented and `"key":value` compact; Python's json module
    # writes `{"key": value` on one line, which the colon's next byte tells apart.
    colon = raw.find(b":")
    space_after_colon = raw[colon + 1 : colon + 2] == b" "
    if raw.startswith(b'{\n  "') and space_after_colon:
        layout, option = "indent2", orjson.OPT_INDENT_2
    elif raw.startswith(b'{"') and not space_after_colon:
        layout, option = "compact", 0
    else:
        return None
    try:
        written = orjson.dumps(data, option=option)
    except orjson.JSONEncodeError:  # nested past orjson's writing limit
        return None
    if not raw.startswith(written) or raw[len(written) :].strip():
        return None
    return layout


def _position(raw: bytes, offset: int) -> tuple[int, int]:
    line = raw.count(b"\n", 0, offset) + 1
    column = offset - (raw.rfind(b"\n", 0, offset) + 1) + 1
    return line, column


def _parse_json(raw: bytes, text: str, name: str, limits: Limits) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in str(exc) or "recursion" in str(exc).lower():
            raise InputError(name, f"nesting deeper than the limit of {limits.max_depth}") from None
        if name.endswith(".json"):
            raise InputError(
                name, f"invalid JSON: {exc.msg}", line=exc.lineno, column=exc.colno
            ) from None
    # Not JSON after all: a YAML flow mapping such as `{a: 1}` is legal YAML.
    return _parse_yaml(raw, text, name, limits)


def _parse_yaml(raw: bytes, text: str, name: str, limits: Limits) -> Any:
    import yaml_rs  # JSON documents never need it (7 ms of imports)

    _guard_yaml_depth(raw, text, name, limits)
    try:
        data = yaml_rs.loads(
            text,
            parse_datetime=False,
            alias_limits=yaml_rs.AliasLimits(
                max_total_replayed_events=limits.max_alias_events,
                max_replay_stack_depth=64,
            ),
            duplicate_key_policy=yaml_rs.DuplicateKeyPolicy.Error,
        )
    except yaml_rs.YAMLDecodeError as exc:
        raise _yaml_error(raw, name, str(exc), limits) from None
    except RecursionError:  # pragma: no cover - the depth guard runs first
        raise InputError(name, f"nesting deeper than the limit of {limits.max_depth}") from None
    if b"!" in raw and _may_have_tag(raw):
        _reject_tags(raw, name)
    return data


def _guard_yaml_depth(raw: bytes, text: str, name: str, limits: Limits) -> None:
    """yaml-rs recurses on the native stack: never hand it a document nested past the limit.

    Each block nesting level costs at least one column of indentation or one `- ` indicator, so
    the widest line prefix bounds the block depth (flow nesting is bounded by yaml-rs itself).
    Only when that cheap bound exceeds the limit do we count real depth on PyYAML's event stream.
    """
    # Such a prefix is a run of that many spaces, tabs and dashes: look for the run first, at
    # C speed on a copy with those three bytes made NUL (the document has no NUL of its own),
    # since the anchored pattern below is tried at every byte (25 ms on 3 MB).
    if b"\x00" * limits.max_depth not in raw.translate(_INDENT_TO_NUL):
        return
    deep = _deep_prefixes.get(limits.max_depth)
    if deep is None:
        # A line starting with that many spaces, tabs or dashes: the only way to nest that deep.
        deep = re.compile(rb"^[ \t-]{%d}" % limits.max_depth, re.MULTILINE)
        _deep_prefixes[limits.max_depth] = deep
    if deep.search(raw) is None:
        return
    import yaml  # the precise, slow path: rare

    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > limits.max_depth:
                    start = event.start_mark
                    raise InputError(
                        name,
                        f"nesting deeper than the limit of {limits.max_depth}",
                        line=start.line + 1 if start is not None else None,
                        column=start.column + 1 if start is not None else None,
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(
            name,
            f"invalid YAML: {getattr(exc, 'problem', None) or exc}",
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        ) from None


@functools.cache
def _yaml_position() -> re.Pattern[str]:
    """Where PyYAML's message says the problem is (compiled on first use: errors are rare)."""
    return re.compile(r"line (\d+), column (\d+)")


def _yaml_error(raw: bytes, name: str, message: str, limits: Limits) -> InputError:
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()]
    first = lines[0] if lines else message
    if first.startswith("duplicate mapping key"):
        from apigov.spec.lines import find_duplicate_key

        dup = find_duplicate_key(raw)
        if dup is not None:
            key, first_line, second_line = dup
            return InputError(
                name,
                f"duplicate mapping key {key!r} (first at line {first_line})",
                line=second_line,
            )
        return InputError(name, first)
    if "recursion limit" in message:
        return InputError(name, f"nesting deeper than the limit of {limits.max_depth}")
    if "alias" in first and "limit" in first:
        return InputError(
            name,
            "YAML aliases expand past the limit of "
            f"{limits.max_alias_events:,} nodes (an alias bomb?)",
        )
    match = _yaml_position().search(first)
    reason = lines[-1] if len(lines) > 1 else first
    if match:
        return InputError(name, f"invalid YAML: {reason}", line=int(match[1]), column=int(match[2]))
    return InputError(name, f"invalid YAML: {reason}")


def _reject_tags(raw: bytes, name: str) -> None:
    from apigov.spec.lines import find_tag

    found = find_tag(raw)
    if found is not None:
        tag, line = found
        raise InputError(
            name,
            f"YAML tag {tag!r} is not allowed (tags could construct objects; plain data only)",
            line=line,
        )


def _walk(parsed: Parsed, name: str, limits: Limits) -> int:
    """One pass over the tree: depth limit, string keys, `$ref` collection. Returns key count.

    Paths are kept as links `(parent link, key)` and only spelled out for the few nodes that
    need them (`$ref`s, the node past the depth limit): building a tuple per node would make
    the walk cost grow with depth.
    """
    max_depth = limits.max_depth
    refs = parsed.refs
    yaml_keys = parsed.format == "yaml"  # YAML `200:` is an int key; JSON keys are strings
    keys = 0
    stack: list[tuple[Any, Any, int, bool]] = [(parsed.data, None, 0, False)]
    pop, push = stack.pop, stack.append
    while stack:
        node, link, depth, in_data = pop()
        if depth > max_depth:
            from apigov.spec.pointer import join

            raise InputError(
                name,
                f"nesting deeper than the limit of {max_depth}",
                pointer=join(_spell(link)[:max_depth]),
            )
        if type(node) is dict:
            keys += len(node)
            ref = node.get("$ref")  # no key that is not a string spells "$ref" as text
            if type(ref) is str and not in_data:
                refs.append((_spell(link), ref))
            names_here = link is not None and link[1] in _NAME_MAPS
            children = len(stack)
            # YAML keys are checked here, one type test per key, rather than with a set of
            # the key types per mapping (a quarter of the walk's time on a YAML spec).
            for key, value in node.items():
                if yaml_keys and type(key) is not str:
                    break
                kind = type(value)
                if kind is dict or kind is list:
                    data_here = in_data or (key in _DATA_KEYS and not names_here)
                    push((value, (link, key), depth + 1, data_here))
            else:
                continue
            # A key that is not a string (YAML `200:` is an int): spell every key of this
            # mapping as text, then push its children again under their text keys.
            del stack[children:]
            if not _stringify_keys(node):
                parsed.keys_merged = True
            for key, value in node.items():
                kind = type(value)
                if kind is dict or kind is list:
                    data_here = in_data or (key in _DATA_KEYS and not names_here)
                    push((value, (link, key), depth + 1, data_here))
        else:
            for index, value in enumerate(node):
                kind = type(value)
                if kind is dict or kind is list:
                    push((value, (link, str(index)), depth + 1, in_data))
    return keys


def _json_checked(raw: bytes, parsed: Parsed, limits: Limits) -> bool:
    """Whether the JSON text `raw` is known, without a walk, to nest no deeper than the limit
    and to hold no key that hid another: then only its `$ref`s remain to be found.

    Both follow from orjson writing the data: a document it writes nests no deeper than its
    writing limit (see `_orjson_refuses_past`), and `_json_layout` (the text is that
    writing) or `_no_key_hidden` (the colons add up) rule out duplicate keys.
    """
    if not _orjson_refuses_past(limits.max_depth):
        return False
    return parsed.layout is not None or _no_key_hidden(raw, parsed.data)


_orjson_refuses: dict[int, bool] = {}


def _orjson_refuses_past(max_depth: int) -> bool:
    """Whether orjson refuses to write data nested deeper than `max_depth`.

    Then any data it writes nests no deeper, and the depth check needs no walk. Asked of
    orjson itself, once per limit, on the shallowest data past the limit (empty innermost
    containers, of either kind), rather than assumed from the limit of one orjson version.
    """
    known = _orjson_refuses.get(max_depth)
    if known is None:
        known = True
        for kind in (dict, list):
            probe: Any = kind()
            for _ in range(max_depth + 1):  # the innermost container at depth max_depth + 1
                probe = {"a": probe} if kind is dict else [probe]
            try:
                orjson.dumps(probe)
            except orjson.JSONEncodeError:
                continue
            known = False
        _orjson_refuses[max_depth] = known
    return known


def _collect_refs(parsed: Parsed) -> None:
    """Every `$ref` outside data values, in `_walk`'s order, for JSON proven within limits.

    What `_walk` does besides is not needed here: JSON keys are strings, and the caller has
    ruled out excess depth and duplicate keys, so data values (examples, defaults) need no
    visit at all.
    """
    refs = parsed.refs
    stack: list[tuple[Any, Any]] = [(parsed.data, None)]
    pop, push = stack.pop, stack.append
    while stack:
        node, link = pop()
        if type(node) is dict:
            ref = node.get("$ref")
            if type(ref) is str:
                refs.append((_spell(link), ref))
            if link is not None and link[1] in _NAME_MAPS:
                for key, value in node.items():
                    kind = type(value)
                    if kind is dict or kind is list:
                        push((value, (link, key)))
            else:
                for key, value in node.items():
                    kind = type(value)
                    if (kind is dict or kind is list) and key not in _DATA_KEYS:
                        push((value, (link, key)))
        else:
            for index, value in enumerate(node):
                kind = type(value)
                if kind is dict or kind is list:
                    push((value, (link, index)))  # spelled as text only when a path needs it


def _spell(link: Any) -> tuple[str, ...]:
    """The path of a link chain, root first."""
    parts: list[str] = []
    while link is not None:
        link, key = link
        parts.append(key if type(key) is str else str(key))
    parts.reverse()
    return tuple(parts)


def _stringify_keys(node: dict[Any, Any]) -> bool:
    """Spell every key of `node` as text; False when two keys became one."""
    items = list(node.items())
    node.clear()
    for key, value in items:
        node[_key_text(key)] = value
    return len(node) == len(items)


def _key_text(key: Any) -> str:
    if isinstance(key, str):
        return key
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


def _no_key_hidden(raw: bytes, data: Any) -> bool:
    """True when no key of the JSON text `raw` hid another in `data`, orjson's parse of it;
    False when that cannot be told this way (then the exact scan decides).

    Colons are counted in the text and in orjson's compact writing of the data. Outside
    strings, a colon follows each key written, and nothing else; the writing has one per key
    kept. Inside strings, a colon is written either as itself or as the escape `\\u003a`, and
    orjson writes it as itself. So, when the text holds no such escape: the text's colons are
    the keys written plus the colons of every string written, the writing's are the keys kept
    plus the colons of every string kept, and the strings kept are some of those written. A
    key that hid another leaves one key (and perhaps strings) fewer in the writing than in the
    text: the counts differ exactly when some key hid another.
    """
    if b"\\u003a" in raw or b"\\u003A" in raw:
        return False
    try:
        written = orjson.dumps(data)
    except orjson.JSONEncodeError:  # nested past orjson's writing limit
        return False
    return raw.count(b":") == written.count(b":")


def _check_json_duplicates(raw: bytes, name: str, data: Any, parsed_keys: int) -> None:
    """orjson keeps the last of duplicate keys silently; look at the text to notice."""
    if _no_key_hidden(raw, data):
        return  # one serialisation in C: a fraction of the exact scan's cost
    colons = _json_string().findall(raw)
    text_keys = len(colons) - colons.count(b"")
    if text_keys == parsed_keys:
        return
    # Some keys hid others (or sit under example values we skipped): find a real duplicate.
    from apigov.spec.lines import find_duplicate_key

    dup = find_duplicate_key(raw)
    if dup is not None:
        key, first_line, second_line = dup
        raise InputError(
            name, f"duplicate mapping key {key!r} (first at line {first_line})", line=second_line
        )

"""Semantic comparison of two schemas, memoised so shared and recursive schemas cost one visit.

The result of comparing two schemas is a list of `Delta`s relative to the compared pair (a
property path inside it, the keyword action, where it is on each side). The engine turns deltas
into `Change`s once per place the schema is used, adding the operation and the id prefix
(`request-body-`, `response-property-`, ...).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Self

import orjson
from msgspec import Struct, field, structs

from apigov.diff.changes import Place
from apigov.diff.keywords import NESTED_SCHEMA_KEYWORDS as _NESTED
from apigov.diff.keywords import OPAQUE_KEYWORDS
from apigov.diff.unchanged import Unchanged
from apigov.spec import pointer as jp
from apigov.spec.deprecation import sunset_of, unreadable_sunset
from apigov.spec.model import ApiSpec
from apigov.spec.sources import Source

REQUEST, RESPONSE = "request", "response"
# Parameters and headers travel as text: the receiver parses what the sender wrote by the
# schema, so a `string` accepts the text of any scalar and an array accepts a single value as a
# one-item array. `as_text(direction)` compares them that way (a direction of its own, so the
# memo keeps the two readings apart).
_TEXT = "-text"
_SCALARS = frozenset({"string", "number", "integer", "boolean"})


def as_text(direction: str) -> str:
    return direction + _TEXT


def _is_request(direction: str) -> bool:
    return direction in (REQUEST, REQUEST + _TEXT)


class Ref(Struct, frozen=True):
    """A schema node and where it lives (`source` None: the spec's root file)."""

    node: Any
    pointer: str
    source: Source | None = None

    @property
    def place(self) -> Place:
        return Place(self.pointer, self.source)


class Delta(Struct, frozen=True):
    """One keyword action at `path` (property names, `[]` for items) inside a compared pair.

    A large diff creates hundreds of thousands (each parent re-roots its children's deltas):
    a Struct, frozen or not, is built in C (a frozen dataclass cost five times a plain one).
    """

    action: str
    path: tuple[str, ...]
    detail: str
    base: Place | None
    head: Place | None
    # True for property existence/requiredness actions, named per direction, not per place.
    about_property: bool = False

    def within(self, tokens: tuple[str, ...]) -> Self:
        """The same delta seen from a schema `tokens` above (a copy of the same class)."""
        if not tokens:
            return self
        return structs.replace(self, path=(*tokens, *self.path))

    def under(self, token: str) -> Self:
        return structs.replace(self, path=(token, *self.path))


class SunsetDelta(Delta, frozen=True):
    """A schema that became deprecated (`became-deprecated`), or whose `x-sunset` date was set
    or moved earlier while deprecated (`sunset-moved`), with the head's sunset date (None: no
    date, or for `sunset-moved` one changed to a value that is not a date).

    Whether the date leaves enough notice depends on the operation using the schema (its
    stability level), so the engine decides what to report; the delta only carries the date.
    """

    sunset: dt.date | None = None


class StabilityDelta(Delta, frozen=True):
    """A schema whose `x-stability-level` changed, with both values as written.

    The engine ranks them (the one ordering it uses for operations) and reports only moves
    between known levels.
    """

    was: Any = None
    now: Any = None


# Where subschemas sit, for the walk over equal nodes: maps of schemas, lists of schemas, and
# single schemas (with the token naming them in a property path; "" adds none).
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "dependentSchemas"})
_SCHEMA_LISTS = frozenset({"allOf", "oneOf", "anyOf", "prefixItems"})
_SCHEMA_VALUES = {
    "items": "[]",
    "additionalProperties": "{*}",
    "not": "not",
    "contains": "contains",
    "propertyNames": "propertyNames",
    "if": "if",
    "then": "then",
    "else": "else",
    "unevaluatedItems": "unevaluatedItems",
    "unevaluatedProperties": "unevaluatedProperties",
    "contentSchema": "contentSchema",
}


def deref(spec: ApiSpec, ref: Ref) -> Ref:
    """Follow `$ref`s, keeping track of the pointer and file of the node reached."""
    node, pointer, source = ref.node, ref.pointer, ref.source
    if not (isinstance(node, dict) and "$ref" in node):
        return ref  # most nodes are not references: no new Ref
    for _ in range(64):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
            break
        target = spec.resolve(node["$ref"], source)
        node, pointer = target.node, target.pointer
        source = None if target.source is spec.source else target.source
    return Ref(node, pointer, source)


class Merged(Struct):
    """A schema with `allOf` folded in: what a value must satisfy, keyword by keyword."""

    ref: Ref
    keywords: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, Ref] = field(default_factory=dict)
    required: set[str] = field(default_factory=set)
    items: Ref | None = None
    additional: Ref | bool | None = None
    one_of: list[Ref] = field(default_factory=list)
    any_of: list[Ref] = field(default_factory=list)


_UPPER = {"maximum": "exclusiveMaximum"}
_LOWER = {"minimum": "exclusiveMinimum"}
# For each bound keyword: the family name used in ids and whether it is an upper bound.
_BOUNDS = {
    "maxLength": ("max-length", True),
    "minLength": ("min-length", False),
    "maxItems": ("max-items", True),
    "minItems": ("min-items", False),
    "maxProperties": ("max-properties", True),
    "minProperties": ("min-properties", False),
    "maxContains": ("max-contains", True),
    "minContains": ("min-contains", False),
}


# The type each bound keyword constrains.
_BOUND_TYPE = {
    "maxLength": "string",
    "minLength": "string",
    "maxItems": "array",
    "minItems": "array",
    "maxContains": "array",
    "minContains": "array",
    "maxProperties": "object",
    "minProperties": "object",
}


def _applies(b_types: frozenset[str] | None, h_types: frozenset[str] | None, kind: str) -> bool:
    """Whether a bound on values of `kind` can constrain either side (None: any type)."""
    kinds = {"number", "integer"} if kind == "number" else {kind}
    return any(types is None or not kinds.isdisjoint(types) for types in (b_types, h_types))


def _merge(spec: ApiSpec, ref: Ref, depth: int = 0) -> Merged:
    merged = Merged(ref)
    _fold(spec, ref, merged, depth)
    return merged


def _fold(spec: ApiSpec, ref: Ref, into: Merged, depth: int) -> None:
    node = ref.node
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key in ("properties", "required", "items", "additionalProperties", "allOf"):
            continue
        if key in ("oneOf", "anyOf") and isinstance(value, list):
            target = into.one_of if key == "oneOf" else into.any_of
            if not target:
                target.extend(
                    deref(spec, Ref(v, jp.child(jp.child(ref.pointer, key), i), ref.source))
                    for i, v in enumerate(value)
                )
            continue
        # allOf members constrain together: keep the tighter bound, the first of anything else.
        if key in into.keywords and key in _TIGHTER:
            into.keywords[key] = _TIGHTER[key](into.keywords[key], value)
        else:
            into.keywords.setdefault(key, value)
    properties = node.get("properties")
    if isinstance(properties, dict):
        at = jp.child(ref.pointer, "properties")
        for name, schema in properties.items():
            if name not in into.properties:
                into.properties[name] = deref(spec, Ref(schema, jp.child(at, name), ref.source))
    required = node.get("required")
    if isinstance(required, list):
        into.required.update(r for r in required if isinstance(r, str))
    items = node.get("items")
    if isinstance(items, dict) and into.items is None:
        into.items = deref(spec, Ref(items, jp.child(ref.pointer, "items"), ref.source))
    additional = node.get("additionalProperties")
    if isinstance(additional, bool):
        if into.additional is None or additional is False:
            into.additional = additional
    elif isinstance(additional, dict) and into.additional is None:
        at = jp.child(ref.pointer, "additionalProperties")
        into.additional = deref(spec, Ref(additional, at, ref.source))
    members = node.get("allOf")
    if isinstance(members, list) and depth < 32:
        at = jp.child(ref.pointer, "allOf")
        for index, member in enumerate(members):
            _fold(spec, deref(spec, Ref(member, jp.child(at, index), ref.source)), into, depth + 1)


def _number_min(a: Any, b: Any) -> Any:
    return min(a, b) if _is_number(a) and _is_number(b) else a


def _number_max(a: Any, b: Any) -> Any:
    return max(a, b) if _is_number(a) and _is_number(b) else a


_TIGHTER = {
    "maximum": _number_min,
    "maxLength": _number_min,
    "maxItems": _number_min,
    "maxProperties": _number_min,
    "minimum": _number_max,
    "minLength": _number_max,
    "minItems": _number_max,
    "minProperties": _number_max,
}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _types(keywords: Mapping[str, Any]) -> tuple[frozenset[str] | None, bool]:
    """The non-null types allowed (None: any) and whether null is allowed (3.0 and 3.1 forms)."""
    raw = keywords.get("type")
    if isinstance(raw, str):
        types = {raw}
    elif isinstance(raw, list):
        types = {t for t in raw if isinstance(t, str)}
    else:
        types = None
    nullable = keywords.get("nullable") is True
    if types is not None and "null" in types:
        nullable = True
        types.discard("null")
        if not types:
            types = None
    return (frozenset(types) if types is not None else None), nullable


def _covers(wide: frozenset[str], narrow: frozenset[str], text: bool = False) -> bool:
    """Every value of a `narrow` type is a value of a `wide` type (integer is a number; as
    text, a string is also the text of any scalar)."""
    expanded = set(wide) | ({"integer"} if "number" in wide else set())
    if text and "string" in wide:
        expanded |= _SCALARS
    return narrow <= expanded


def _bound(keywords: Mapping[str, Any], name: str, exclusive_name: str) -> tuple[Any, bool] | None:
    """(value, exclusive) of a numeric bound, in either the 3.0 (boolean) or 3.1 (number) form."""
    exclusive = keywords.get(exclusive_name)
    if _is_number(exclusive):
        return exclusive, True
    value = keywords.get(name)
    if _is_number(value):
        return value, exclusive is True
    return None


def _show(value: Any) -> str:
    text = (
        _fingerprint(value, sort_keys=False).decode() if not isinstance(value, str) else repr(value)
    )
    return text if len(text) <= 60 else text[:57] + "..."


# Subschemas that apply only when `if` holds (`then`) or fails (`else`): compared keyword by
# keyword when `if` is the same on both sides, else as a whole.
_CONDITIONAL = frozenset({"then", "else"})


def _same_condition(b: Mapping[str, Any], h: Mapping[str, Any]) -> bool:
    return _fingerprint(b.get("if")) == _fingerprint(h.get("if"))


def _fingerprint(value: Any, *, sort_keys: bool = True) -> bytes:
    """`value` as JSON text, keys sorted (by default): equal values, equal bytes."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS if sort_keys else 0)
    except orjson.JSONEncodeError:
        # An integer beyond 64 bits (YAML reads `123456789012345678901234567890` as an int),
        # which orjson does not write: the standard library writes any. A value goes one way
        # or the other by its content, so equal values still give equal bytes.
        import json

        return json.dumps(value, sort_keys=sort_keys, separators=(",", ":")).encode()


def _text_fingerprint(value: Any) -> bytes:
    """A value as it is written in a parameter or header: a string as itself, a number or
    boolean as its JSON text (so `1` and `"1"`, `true` and `"true"` are one value)."""
    return value.encode() if isinstance(value, str) else _fingerprint(value)


class SchemaComparer:
    """Compares schemas of a base and a head spec; one instance per diff, memo shared."""

    def __init__(
        self,
        base: ApiSpec,
        head: ApiSpec,
        unchanged: Unchanged | None = None,
        today: dt.date | None = None,
    ) -> None:
        self.base = base
        self.head = head
        # For properties removed after their `x-sunset` date (None: no date has passed).
        self.today = today
        self.unchanged = unchanged or Unchanged(base, head)
        self._memo: dict[tuple[int, int, str], list[Delta]] = {}
        self._active: set[tuple[int, int, str]] = set()
        self.visits = 0
        self._targets: dict[tuple[int, int, int], Ref] = {}

    def deref(self, spec: ApiSpec, ref: Ref) -> Ref:
        """`deref`, remembered: the same `$ref` node in the same file always leads to one place."""
        if not (isinstance(ref.node, dict) and "$ref" in ref.node):
            return ref
        key = (id(spec), id(ref.node), id(ref.source))
        found = self._targets.get(key)
        if found is None:
            found = deref(spec, ref)
            self._targets[key] = found
        return found

    def compare(self, base: Ref, head: Ref, direction: str) -> list[Delta]:
        """Deltas between two (already dereferenced) schemas, seen from `direction`."""
        key = (id(base.node), id(head.node), direction)
        known = self._memo.get(key)
        if known is not None:
            return known
        if (
            base.pointer == head.pointer
            and base.source is None
            and head.source is None
            and self.unchanged.component(base.pointer)
        ):
            # The same component, equal in both versions with all it refers to.
            self._memo[key] = []
            return self._memo[key]
        if key in self._active:
            # A recursive schema met itself: its differences are reported at the outer visit.
            return []
        self._active.add(key)
        try:
            # Most schemas of two versions are equal node for node: then only the schemas they
            # refer to can differ, and a plain walk to the `$ref`s is far cheaper than the full
            # keyword-by-keyword comparison.
            same = base.node == head.node and isinstance(base.node, dict)
            deltas = self._same_shape(base, head, direction) if same else None
            if deltas is None:
                deltas = self._compare(base, head, direction)
        finally:
            self._active.discard(key)
        self._memo[key] = deltas
        return deltas

    def _same_shape(self, b_ref: Ref, h_ref: Ref, direction: str) -> list[Delta] | None:
        """Deltas of two equal nodes: those of the schemas their `$ref`s lead to.

        None when a referenced property changes visibility (readOnly/writeOnly): that needs
        the full comparison of the holding object.
        """
        out: list[Delta] = []
        # (node, property-path tokens, pointer relative to the compared node, is a property)
        stack: list[tuple[Any, tuple[str, ...], str, bool]] = [(b_ref.node, (), "", False)]
        while stack:
            node, tokens, at, is_property = stack.pop()
            if not isinstance(node, dict):
                continue
            ref = node.get("$ref")
            if isinstance(ref, str) and at:
                b_target = self.deref(self.base, Ref(node, b_ref.pointer + at, b_ref.source))
                h_target = self.deref(self.head, Ref(node, h_ref.pointer + at, h_ref.source))
                if is_property and self._visible(b_target, direction) != self._visible(
                    h_target, direction
                ):
                    return None
                deltas = self.compare(b_target, h_target, direction)
                out.extend(d.within(tokens) for d in deltas)
                continue
            for key, value in node.items():
                if key in _SCHEMA_MAPS and isinstance(value, dict):
                    key_at = f"{at}/{key}"
                    for name, child in value.items():
                        token = name if key == "properties" else f"{key}.{name}"
                        stack.append(
                            (child, (*tokens, token), jp.child(key_at, name), key == "properties")
                        )
                elif key in _SCHEMA_LISTS and isinstance(value, list):
                    for index, child in enumerate(value):
                        child_at = f"{at}/{key}/{index}"
                        if key == "allOf":
                            stack.append((child, tokens, child_at, False))
                        else:
                            stack.append((child, (*tokens, f"{key}[{index}]"), child_at, False))
                elif key in _SCHEMA_VALUES:
                    token = _SCHEMA_VALUES[key]
                    stack.append((value, (*tokens, token), f"{at}/{key}", False))
        return out

    def _compare(self, b_ref: Ref, h_ref: Ref, direction: str) -> list[Delta]:
        self.visits += 1
        b = _merge(self.base, b_ref)
        h = _merge(self.head, h_ref)
        out: list[Delta] = []
        bp, hp = b_ref.place, h_ref.place
        wrapped = _wrapping(b, h)
        if wrapped is not None:
            # A schema wrapped into (or unwrapped from) `oneOf`/`anyOf`, e.g. [it, null]: the
            # plain side is one alternative, matched by content with the other side's.
            family, b_alts, h_alts = wrapped
            self._alternatives(out, family, b_alts, h_alts, direction, bp, hp)
            return out

        def add(action: str, detail: str) -> None:
            out.append(Delta(action, (), detail, bp, hp))

        bk, hk = b.keywords, h.keywords
        b_types, b_null = _types(bk)
        h_types, h_null = _types(hk)
        text = direction.endswith(_TEXT)
        if text:
            one_item = self._one_item_array(b, h, b_types, h_types, direction)
            if one_item is not None:
                return one_item
        if b_types is not None and h_types is not None and b_types != h_types:
            shown = f"type changed from {'/'.join(sorted(b_types))} to {'/'.join(sorted(h_types))}"
            if _covers(h_types, b_types, text):
                add("type-widened", shown)
            elif _covers(b_types, h_types, text):
                add("type-narrowed", shown)
            else:
                add("type-changed", shown)
        if b_null != h_null:
            add("became-nullable" if h_null else "became-not-nullable", "nullable changed")
        self._keyword(out, bk, hk, "format", bp, hp)
        self._keyword(out, bk, hk, "const", bp, hp)
        self._pattern(out, bk.get("pattern"), hk.get("pattern"), bp, hp)
        self._keyword(out, bk, hk, "multipleOf", bp, hp, family="multiple-of")
        self._enum(out, bk.get("enum"), hk.get("enum"), bp, hp, text)
        for keyword, (family, _, _) in OPAQUE_KEYWORDS.items():
            b_value, h_value = bk.get(keyword), hk.get(keyword)
            if keyword == "prefixItems":
                self._prefix_items(out, b, h, direction)
                continue
            if (
                keyword == "x-extensible-enum"
                and isinstance(b_value, list)
                and isinstance(h_value, list)
            ):
                # Known values, not a closed list: compared value by value like `enum`.
                self._enum(out, b_value, h_value, bp, hp, text, family=keyword)
                continue
            if (keyword in _NESTED or (keyword in _CONDITIONAL and _same_condition(bk, hk))) and (
                isinstance(b_value, dict) and isinstance(h_value, dict)
            ):
                # A subschema on both sides: compare what it says, not how it is written.
                b_sub = self.deref(
                    self.base, Ref(b_value, jp.child(b_ref.pointer, keyword), b_ref.source)
                )
                h_sub = self.deref(
                    self.head, Ref(h_value, jp.child(h_ref.pointer, keyword), h_ref.source)
                )
                out.extend(d.under(keyword) for d in self.compare(b_sub, h_sub, direction))
                continue
            if (
                keyword in _SCHEMA_MAPS
                and isinstance(b_value, dict)
                and isinstance(h_value, dict)
                and b_value.keys() == h_value.keys()
            ):
                # The same patterns / dependent names: each subschema constrains the value the
                # same way as its parent, so compare them one by one (added or removed names
                # change the map as a whole, below).
                self._schema_map(out, keyword, b_ref, h_ref, b_value, h_value, direction)
                continue
            self._keyword(out, bk, hk, keyword, bp, hp, family=family)
        # A bound constrains only values of its type (`minimum` on an object schema says
        # nothing): skipped when both sides name types it cannot apply to.
        if _applies(b_types, h_types, "number"):
            self._numeric_bound(out, bk, hk, "maximum", "exclusiveMaximum", "max", True, bp, hp)
            self._numeric_bound(out, bk, hk, "minimum", "exclusiveMinimum", "min", False, bp, hp)
        for keyword, (family, upper) in _BOUNDS.items():
            if _applies(b_types, h_types, _BOUND_TYPE[keyword]):
                self._plain_bound(
                    out, bk.get(keyword), hk.get(keyword), keyword, family, upper, bp, hp
                )
        if (bk.get("uniqueItems") is True) != (hk.get("uniqueItems") is True):
            add(
                "unique-items-added" if hk.get("uniqueItems") is True else "unique-items-removed",
                "uniqueItems changed",
            )
        if "default" in bk or "default" in hk:
            if "default" not in bk:
                add("default-added", f"default {_show(hk['default'])} added")
            elif "default" not in hk:
                add("default-removed", f"default {_show(bk['default'])} removed")
            elif _fingerprint(bk["default"]) != _fingerprint(hk["default"]):
                add(
                    "default-changed",
                    f"default changed from {_show(bk['default'])} to {_show(hk['default'])}",
                )
        self._discriminator(out, bk.get("discriminator"), hk.get("discriminator"), bp, hp)
        b_deprecated, h_deprecated = bk.get("deprecated") is True, hk.get("deprecated") is True
        if h_deprecated:
            h_sunset = sunset_of(hk)
            if not b_deprecated:
                detail = "deprecated changed"
                out.append(SunsetDelta("became-deprecated", (), detail, bp, hp, False, h_sunset))
            elif h_sunset is not None:
                b_sunset = sunset_of(bk)
                if b_sunset is None or h_sunset < b_sunset:
                    # Clients planned for the old date (or for none): the new one needs notice.
                    how = "set to" if b_sunset is None else "moved earlier to"
                    detail = f"x-sunset {how} {h_sunset}"
                    out.append(SunsetDelta("sunset-moved", (), detail, bp, hp, False, h_sunset))
            elif hk.get("x-sunset") is not None and hk["x-sunset"] != bk.get("x-sunset"):
                # Changed to a sunset that is not a date (`sunset_of` read none): no date for
                # clients. The engine names the value; the delta says what it was.
                was = sunset_of(bk) or unreadable_sunset(bk) or "none"
                detail = f"sunset changed from {was}"
                out.append(SunsetDelta("sunset-moved", (), detail, bp, hp, False, None))
        elif b_deprecated:
            add("deprecation-removed", "deprecated changed")
        b_level, h_level = bk.get("x-stability-level"), hk.get("x-stability-level")
        if b_level != h_level:
            detail = "x-stability-level changed"
            out.append(
                StabilityDelta("stability-changed", (), detail, bp, hp, False, b_level, h_level)
            )
        self._properties(out, b, h, direction)
        self._additional(out, b, h, direction)
        if b.items is not None and h.items is not None:
            out.extend(d.under("[]") for d in self.compare(b.items, h.items, direction))
        # A discriminator picks the alternative by name: values then never match two of them.
        picked = "discriminator" in hk
        self._alternatives(out, "one-of", b.one_of, h.one_of, direction, bp, hp, picked)
        self._alternatives(out, "any-of", b.any_of, h.any_of, direction, bp, hp)
        return out

    def _one_item_array(
        self,
        b: Merged,
        h: Merged,
        b_types: frozenset[str] | None,
        h_types: frozenset[str] | None,
        direction: str,
    ) -> list[Delta] | None:
        """A scalar parameter that became an array of them (or the reverse), read as text.

        `?token=a` is a valid one-item array in every serialisation style, so a scalar that
        became an array is a widening, and the scalar is compared with the array's items.
        None when the pair is not a scalar and an array.
        """
        if b_types is None or h_types is None:
            return None
        if b_types <= _SCALARS and h_types == {"array"} and h.items is not None:
            action, scalar, items = "type-widened", b.ref, h.items
            min_items: Any = h.keywords.get("minItems")
        elif h_types <= _SCALARS and b_types == {"array"} and b.items is not None:
            action, scalar, items = "type-narrowed", h.ref, b.items
            min_items = None  # several values are rejected: the narrowing says it all
        else:
            return None
        shown = f"type changed from {'/'.join(sorted(b_types))} to {'/'.join(sorted(h_types))}"
        out = [
            Delta(action, (), f"{shown} (one value is a one-item array)", b.ref.place, h.ref.place)
        ]
        if min_items is not None and _is_number(min_items) and min_items > 1:
            detail = f"minItems {min_items} added: a single value is rejected"
            out.append(Delta("min-items-added", (), detail, b.ref.place, h.ref.place))
        pair = (scalar, items) if action == "type-widened" else (items, scalar)
        # A type change of the same way between the scalar and the items is the one above.
        out.extend(
            d.under("[]") for d in self.compare(*pair, direction) if d.path or d.action != action
        )
        return out

    # ---- keywords ------------------------------------------------------------------------------

    @staticmethod
    def _keyword(
        out: list[Delta],
        bk: Mapping[str, Any],
        hk: Mapping[str, Any],
        keyword: str,
        bp: Place,
        hp: Place,
        family: str | None = None,
    ) -> None:
        name = family or keyword
        if keyword not in bk and keyword not in hk:
            return
        if keyword not in bk:
            out.append(Delta(f"{name}-added", (), f"{keyword} {_show(hk[keyword])} added", bp, hp))
        elif keyword not in hk:
            out.append(
                Delta(f"{name}-removed", (), f"{keyword} {_show(bk[keyword])} removed", bp, hp)
            )
        elif _fingerprint(bk[keyword]) != _fingerprint(hk[keyword]):
            detail = f"{keyword} changed from {_show(bk[keyword])} to {_show(hk[keyword])}"
            out.append(Delta(f"{name}-changed", (), detail, bp, hp))

    @classmethod
    def _pattern(cls, out: list[Delta], b: Any, h: Any, bp: Place, hp: Place) -> None:
        # An empty pattern matches every string: it is no pattern at all.
        b_side = {"pattern": b} if b is not None and b != "" else {}
        h_side = {"pattern": h} if h is not None and h != "" else {}
        cls._keyword(out, b_side, h_side, "pattern", bp, hp)

    def _schema_map(
        self,
        out: list[Delta],
        keyword: str,
        b_ref: Ref,
        h_ref: Ref,
        b_map: dict[str, Any],
        h_map: dict[str, Any],
        direction: str,
    ) -> None:
        b_at, h_at = jp.child(b_ref.pointer, keyword), jp.child(h_ref.pointer, keyword)
        for name, b_value in b_map.items():
            h_value = h_map[name]
            if not (isinstance(b_value, dict) and isinstance(h_value, dict)):
                if _fingerprint(b_value) != _fingerprint(h_value):
                    detail = f"{keyword} {name!r} changed"
                    family = OPAQUE_KEYWORDS[keyword][0]
                    out.append(Delta(f"{family}-changed", (), detail, b_ref.place, h_ref.place))
                continue
            b_sub = self.deref(self.base, Ref(b_value, jp.child(b_at, name), b_ref.source))
            h_sub = self.deref(self.head, Ref(h_value, jp.child(h_at, name), h_ref.source))
            token = f"{keyword}.{name}"
            out.extend(d.under(token) for d in self.compare(b_sub, h_sub, direction))

    def _prefix_items(self, out: list[Delta], b: Merged, h: Merged, direction: str) -> None:
        """prefixItems position by position (JSON Schema 2020-12).

        Position i is constrained by prefixItems[i], or by `items` past the end of prefixItems
        (or by nothing). Adding `prefixItems: [integer]` beside `items: string` therefore
        changes what the first item may be from string to integer, whichever way the
        message goes.
        """
        b_list = b.keywords.get("prefixItems")
        h_list = h.keywords.get("prefixItems")
        b_items = b_list if isinstance(b_list, list) else []
        h_items = h_list if isinstance(h_list, list) else []
        if not b_items and not h_items:
            return
        for index in range(max(len(b_items), len(h_items))):
            b_sub = self._position(self.base, b, b_items, index)
            h_sub = self._position(self.head, h, h_items, index)
            if b_sub is not None and h_sub is not None:
                token = f"prefixItems[{index}]"
                out.extend(d.under(token) for d in self.compare(b_sub, h_sub, direction))
        if len(b_items) == len(h_items):
            return
        shorter = b if len(b_items) < len(h_items) else h
        if shorter.items is not None:
            return  # its `items` stood for the missing positions: compared above
        # Positions that allowed anything are now constrained (or the reverse).
        if not b_items:
            action = "prefix-items-added"
        elif not h_items:
            action = "prefix-items-removed"
        else:
            action = "prefix-items-changed"
        detail = f"prefixItems went from {len(b_items)} to {len(h_items)} positions"
        out.append(Delta(action, (), detail, b.ref.place, h.ref.place))

    def _position(self, spec: ApiSpec, merged: Merged, prefix: list[Any], index: int) -> Ref | None:
        if index >= len(prefix):
            return merged.items
        at = jp.child(jp.child(merged.ref.pointer, "prefixItems"), index)
        return self.deref(spec, Ref(prefix[index], at, merged.ref.source))

    @staticmethod
    def _enum(
        out: list[Delta],
        b_enum: Any,
        h_enum: Any,
        bp: Place,
        hp: Place,
        text: bool = False,
        family: str = "enum",
    ) -> None:
        b_list = b_enum if isinstance(b_enum, list) else None
        h_list = h_enum if isinstance(h_enum, list) else None
        if b_list is None and h_list is None:
            return
        if b_list is None:
            out.append(Delta("enum-added", (), "enum restriction added", bp, hp))
            return
        if h_list is None:
            out.append(Delta("enum-removed", (), "enum restriction removed", bp, hp))
            return
        # As text (parameters, headers), 1 and "1" are the same value on the wire.
        key = _text_fingerprint if text else _fingerprint
        b_values = {key(v): v for v in b_list}
        h_values = {key(v): v for v in h_list}
        added = [h_values[k] for k in h_values if k not in b_values]
        removed = [b_values[k] for k in b_values if k not in h_values]
        if added:
            shown = ", ".join(_show(v) for v in added)
            out.append(
                Delta(f"{family}-value-added", (), f"{family} value(s) {shown} added", bp, hp)
            )
        if removed:
            shown = ", ".join(_show(v) for v in removed)
            detail = f"{family} value(s) {shown} removed"
            out.append(Delta(f"{family}-value-removed", (), detail, bp, hp))

    @staticmethod
    def _numeric_bound(
        out: list[Delta],
        bk: Mapping[str, Any],
        hk: Mapping[str, Any],
        keyword: str,
        exclusive_keyword: str,
        family: str,
        upper: bool,
        bp: Place,
        hp: Place,
    ) -> None:
        b = _bound(bk, keyword, exclusive_keyword)
        h = _bound(hk, keyword, exclusive_keyword)
        if b is None and h is None:
            return
        if b is None:
            out.append(Delta(f"{family}-added", (), f"{keyword} {_show(h[0])} added", bp, hp))  # type: ignore[index]
            return
        if h is None:
            out.append(Delta(f"{family}-removed", (), f"{keyword} {_show(b[0])} removed", bp, hp))
            return
        if b[0] != h[0]:
            action = "increased" if h[0] > b[0] else "decreased"
            detail = f"{keyword} {action} from {_show(b[0])} to {_show(h[0])}"
            out.append(Delta(f"{family}-{action}", (), detail, bp, hp))
        elif b[1] != h[1]:
            action = "became-exclusive" if h[1] else "became-inclusive"
            out.append(Delta(f"{family}-{action}", (), f"{keyword} {_show(h[0])} {action}", bp, hp))

    @staticmethod
    def _plain_bound(
        out: list[Delta],
        b: Any,
        h: Any,
        keyword: str,
        family: str,
        upper: bool,
        bp: Place,
        hp: Place,
    ) -> None:
        b = b if _is_number(b) else None
        h = h if _is_number(h) else None
        if b is None and h is None:
            return
        if b is None:
            out.append(Delta(f"{family}-added", (), f"{keyword} {h} added", bp, hp))
        elif h is None:
            out.append(Delta(f"{family}-removed", (), f"{keyword} {b} removed", bp, hp))
        elif b != h:
            action = "increased" if h > b else "decreased"
            out.append(
                Delta(f"{family}-{action}", (), f"{keyword} {action} from {b} to {h}", bp, hp)
            )

    @staticmethod
    def _discriminator(out: list[Delta], b: Any, h: Any, bp: Place, hp: Place) -> None:
        b_name = b.get("propertyName") if isinstance(b, dict) else None
        h_name = h.get("propertyName") if isinstance(h, dict) else None
        if b_name == h_name:
            if b_name is not None:
                SchemaComparer._discriminator_mapping(out, b, h, bp, hp)
            return
        if b_name is None:
            out.append(Delta("discriminator-added", (), f"discriminator {h_name!r} added", bp, hp))
        elif h_name is None:
            out.append(
                Delta("discriminator-removed", (), f"discriminator {b_name!r} removed", bp, hp)
            )
        else:
            detail = f"discriminator property changed from {b_name!r} to {h_name!r}"
            out.append(Delta("discriminator-property-changed", (), detail, bp, hp))

    @staticmethod
    def _discriminator_mapping(out: list[Delta], b: Any, h: Any, bp: Place, hp: Place) -> None:
        """The names a discriminator maps to schemas: the values its property may take."""
        b_map, h_map = b.get("mapping"), h.get("mapping")
        b_map = b_map if isinstance(b_map, dict) else {}
        h_map = h_map if isinstance(h_map, dict) else {}
        added = [name for name in h_map if name not in b_map]
        removed = [name for name in b_map if name not in h_map]
        changed = [name for name in b_map if name in h_map and b_map[name] != h_map[name]]
        for action, names in (("added", added), ("removed", removed), ("changed", changed)):
            if names:
                shown = ", ".join(repr(str(n)) for n in names)
                detail = f"discriminator mapping {shown} {action}"
                out.append(Delta(f"discriminator-mapping-{action}", (), detail, bp, hp))

    # ---- structure ------------------------------------------------------------------------------

    @staticmethod
    def _visible(ref: Ref, direction: str) -> bool:
        """readOnly properties are not sent in requests; writeOnly ones not returned."""
        node = ref.node
        if not isinstance(node, dict):
            return True
        if _is_request(direction):
            return node.get("readOnly") is not True
        return node.get("writeOnly") is not True

    def _properties(self, out: list[Delta], b: Merged, h: Merged, direction: str) -> None:
        # Names required without a definition in `properties` (on either side) are required
        # all the same: a value must have them.
        for name in sorted(b.required ^ h.required):
            if name in b.properties or name in h.properties:
                continue
            action = (
                "property-became-required" if name in h.required else "property-became-optional"
            )
            detail = f"became {action.rsplit('-', 1)[-1]}"
            out.append(Delta(action, (name,), detail, b.ref.place, h.ref.place, True))
        for name in _ordered_union(b.properties, h.properties):
            b_prop, h_prop = b.properties.get(name), h.properties.get(name)
            b_seen = b_prop is not None and self._visible(b_prop, direction)
            h_seen = h_prop is not None and self._visible(h_prop, direction)
            if b_seen and h_seen:
                assert b_prop is not None and h_prop is not None
                out.extend(d.under(name) for d in self.compare(b_prop, h_prop, direction))
                if (name in b.required) != (name in h.required):
                    action = (
                        "property-became-required"
                        if name in h.required
                        else "property-became-optional"
                    )
                    out.append(
                        Delta(
                            action,
                            (name,),
                            f"became {action.rsplit('-', 1)[-1]}",
                            b_prop.place,
                            h_prop.place,
                            True,
                        )
                    )
            elif b_seen:
                assert b_prop is not None
                if h_prop is not None:
                    action = (
                        "property-became-read-only"
                        if _is_request(direction)
                        else "property-became-write-only"
                    )
                    out.append(
                        Delta(
                            action,
                            (name,),
                            "became " + action.split("became-")[-1],
                            b_prop.place,
                            h_prop.place,
                            True,
                        )
                    )
                elif self._past_sunset(b_prop):
                    # Announced and past its date, like an operation removed after its sunset.
                    detail = f"removed after its sunset {sunset_of(b_prop.node)}"
                    out.append(
                        Delta(
                            "property-removed-after-sunset",
                            (name,),
                            detail,
                            b_prop.place,
                            None,
                            True,
                        )
                    )
                else:
                    kind = "required" if name in b.required else "optional"
                    out.append(
                        Delta(
                            f"{kind}-property-removed",
                            (name,),
                            f"{kind} property removed",
                            b_prop.place,
                            None,
                            True,
                        )
                    )
            elif h_seen:
                assert h_prop is not None
                kind = "required" if name in h.required else "optional"
                out.append(
                    Delta(
                        f"{kind}-property-added",
                        (name,),
                        f"{kind} property added",
                        None,
                        h_prop.place,
                        True,
                    )
                )

    def _past_sunset(self, prop: Ref) -> bool:
        node = prop.node
        if self.today is None or not isinstance(node, dict) or node.get("deprecated") is not True:
            return False
        sunset = sunset_of(node)
        return sunset is not None and sunset <= self.today

    def _additional(self, out: list[Delta], b: Merged, h: Merged, direction: str) -> None:
        b_add, h_add = b.additional, h.additional
        if (b_add is False) != (h_add is False):
            action = (
                "additional-properties-restricted"
                if h_add is False
                else "additional-properties-allowed"
            )
            out.append(Delta(action, (), "additionalProperties changed", b.ref.place, h.ref.place))
        elif isinstance(b_add, Ref) and isinstance(h_add, Ref):
            out.extend(d.under("{*}") for d in self.compare(b_add, h_add, direction))

    def _alternatives(
        self,
        out: list[Delta],
        family: str,
        b_alts: list[Ref],
        h_alts: list[Ref],
        direction: str,
        bp: Place,
        hp: Place,
        picked: bool = False,
    ) -> None:
        """Match alternatives by content: identical first, then the closest remaining pairs.

        `picked`: a discriminator chooses the alternative (so overlapping ones are no
        ambiguity)."""
        if not b_alts and not h_alts:
            return
        h_left = list(range(len(h_alts)))
        b_left: list[int] = []
        by_print: dict[bytes, list[int]] = {}
        for index in h_left:
            by_print.setdefault(_fingerprint(h_alts[index].node), []).append(index)
        pairs: list[tuple[int, int]] = []
        for index, alt in enumerate(b_alts):
            same = by_print.get(_fingerprint(alt.node))
            if same:
                match = same.pop(0)
                h_left.remove(match)
                pairs.append((index, match))
            else:
                b_left.append(index)
        # Alternatives are few; pairing the leftovers by fewest differences is cheap.
        for index in list(b_left):
            if not h_left:
                break
            scored = [(len(self.compare(b_alts[index], h_alts[j], direction)), j) for j in h_left]
            score, best = min(scored)
            if score <= 2 or len(b_left) == len(h_left):
                h_left.remove(best)
                b_left.remove(index)
                pairs.append((index, best))
        for b_index, h_index in pairs:
            token = f"{'oneOf' if family == 'one-of' else 'anyOf'}[{h_index}]"
            out.extend(
                d.under(token) for d in self.compare(b_alts[b_index], h_alts[h_index], direction)
            )
        if family == "any-of":
            # anyOf accepts a value matching any alternative: one that says what another on
            # the same side says adds or takes away no value. (Not so for oneOf, where a
            # value matching two alternatives is rejected.)
            b_prints = {_fingerprint(alt.node) for alt in b_alts}
            h_prints = {_fingerprint(alt.node) for alt in h_alts}
            b_left = [i for i in b_left if _fingerprint(b_alts[i].node) not in h_prints]
            h_left = [i for i in h_left if _fingerprint(h_alts[i].node) not in b_prints]
        for index in b_left:
            out.append(
                Delta(f"{family}-removed", (), f"{family} alternative {index} removed", bp, hp)
            )
        for index in h_left:
            out.append(Delta(f"{family}-added", (), f"{family} alternative {index} added", bp, hp))
        if family == "one-of" and not picked and h_left:
            # oneOf rejects a value matching two alternatives: a new alternative that may match
            # the values of an old one turns those values away. Only old alternatives that were
            # distinct from the others count: where they already overlapped, the schema was
            # ambiguous before (a loose oneOf of similar objects) and the new one changes little.
            distinct = [
                i
                for i, alt in enumerate(b_alts)
                if not any(
                    self._may_overlap(alt, other, base_only=True)
                    for j, other in enumerate(b_alts)
                    if j != i
                )
            ]
            for index in h_left:
                old = next(
                    (i for i in distinct if self._may_overlap(b_alts[i], h_alts[index])), None
                )
                if old is not None:
                    detail = (
                        f"one-of alternative {index} added that may match the values of "
                        f"alternative {old}: a value matching both is rejected"
                    )
                    out.append(Delta("one-of-became-ambiguous", (), detail, bp, hp))

    def _may_overlap(
        self, b_ref: Ref, h_ref: Ref, depth: int = 0, *, base_only: bool = False
    ) -> bool:
        """Whether a value may satisfy both a base and a head schema (two base schemas with
        `base_only`).

        False only when they provably exclude each other: types with no value in common,
        `const`/`enum` sets with no value in common, strings of two formats no string has
        both of, or two patterns anchored on literal prefixes that differ, or a property one
        side requires that the other forbids or constrains to other values (a tag property
        such as `kind: {const: cat}`). Anything else may overlap.
        """
        if depth > 4:
            return True
        b = _merge(self.base, b_ref)
        h = _merge(self.base if base_only else self.head, h_ref)
        b_types, b_null = _types(b.keywords)
        h_types, h_null = _types(h.keywords)
        if b_null and h_null:
            return True
        # `type: "null"` reads as "any type, nullable" above; here it allows null alone.
        b_only_null, h_only_null = _only_null(b.keywords), _only_null(h.keywords)
        if b_only_null or h_only_null:
            return (b_only_null or b_types is None) and (h_only_null or h_types is None)
        if (
            b_types is not None
            and h_types is not None
            and not _widened(b_types) & _widened(h_types)
        ):
            return False
        b_values, h_values = _allowed_values(b.keywords), _allowed_values(h.keywords)
        if b_values is not None and h_values is not None and not b_values & h_values:
            return False
        if (
            b_types is not None
            and h_types is not None
            and _ranges_apart(b.keywords, h.keywords, b_types | h_types)
        ):
            return False
        # `format` and `pattern` constrain strings only: they keep two schemas apart when one
        # of them accepts nothing but strings.
        if (b_types == _STRING or h_types == _STRING) and _strings_apart(b.keywords, h.keywords):
            return False
        for name in b.required | h.required:
            b_prop, h_prop = b.properties.get(name), h.properties.get(name)
            if b_prop is None and h_prop is None:
                continue
            if b_prop is None or h_prop is None:
                if (b.additional if b_prop is None else h.additional) is False:
                    return False
                continue
            if not self._may_overlap(b_prop, h_prop, depth + 1, base_only=base_only):
                return False
        return True


def _widened(types: frozenset[str]) -> frozenset[str]:
    """The types, with integer where number is (every integer is a number)."""
    return types | {"integer"} if "number" in types else types


# (lower, upper) bound keywords and the type whose values they bound.
_RANGES = (
    ("minLength", "maxLength", "string"),
    ("minItems", "maxItems", "array"),
    ("minProperties", "maxProperties", "object"),
)


def _ranges_apart(b: Mapping[str, Any], h: Mapping[str, Any], types: frozenset[str]) -> bool:
    """Whether the bounds of two schemas leave no value in common (`maxLength: 3` against
    `minLength: 4`). Only for values of one kind on both sides (`types`): a bound ignores values
    of other types."""
    for low_keyword, high_keyword, kind in _RANGES:
        if types == {kind}:
            for upper, lower in ((b, h), (h, b)):
                high: Any = upper.get(high_keyword)
                low: Any = lower.get(low_keyword)
                if _is_number(high) and _is_number(low) and high < low:
                    return True
    if types <= {"number", "integer"}:
        for upper, lower in ((b, h), (h, b)):
            high = _bound(upper, "maximum", "exclusiveMaximum")
            low = _bound(lower, "minimum", "exclusiveMinimum")
            if (
                high is not None
                and low is not None
                and (high[0] < low[0] or (high[0] == low[0] and (high[1] or low[1])))
            ):
                return True
    return False


_STRING = frozenset({"string"})

# String formats no two of which share a value, so that two alternatives of different formats
# are told apart (apigov reads `format` as an assertion, as `...-format-added` does):
# a date-time holds ':' and a date does not, a time has ':' where a date-time has a digit of
# its year, an email holds '@' and none of the others do, a uuid has '-' and no ':' or '.',
# an IPv4 address only digits and dots, an IPv6 address ':' but none of '-', '@', 'T' or '+'.
# Formats whose values other formats may spell (hostname, uri, byte, password, ...) are left
# out: two alternatives with one of them may overlap.
_DISJOINT_FORMATS = frozenset({"date", "date-time", "time", "email", "uuid", "ipv4", "ipv6"})


def _strings_apart(b: Mapping[str, Any], h: Mapping[str, Any]) -> bool:
    """Whether no string satisfies both the `format`s or both the `pattern`s of two schemas."""
    b_format, h_format = b.get("format"), h.get("format")
    if b_format != h_format and b_format in _DISJOINT_FORMATS and h_format in _DISJOINT_FORMATS:
        return True
    b_prefix, h_prefix = _literal_prefix(b.get("pattern")), _literal_prefix(h.get("pattern"))
    if b_prefix and h_prefix:
        shorter = min(len(b_prefix), len(h_prefix))
        return b_prefix[:shorter] != h_prefix[:shorter]
    return False


# Characters that mean something in an ECMA-262 pattern (anything else stands for itself).
_REGEX_SYNTAX = frozenset("\\^$.|?*+()[]{}")
# Escapes of characters that stand for themselves (`\.`, `\-`); letters and digits after a
# backslash name classes (`\d`), anchors (`\b`) or code points (`\u0041`): not literal.
_ESCAPED_LITERALS = frozenset("\\^$.|?*+()[]{}/-")


def _literal_prefix(pattern: Any) -> str:
    """The text every match of `pattern` starts with: the literal characters right after a
    leading `^`, e.g. "ORD-" for `^ORD-[0-9]+$`. Empty when there is no anchor, when an
    alternation outside any group (`^a|b`) lets a match start elsewhere, or when in doubt."""
    if not isinstance(pattern, str) or not pattern.startswith("^") or _top_level_bar(pattern):
        return ""
    prefix: list[str] = []
    index = 1
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            escaped = pattern[index + 1 : index + 2]
            if escaped not in _ESCAPED_LITERALS:
                break
            char, width = escaped, 2
        elif char in _REGEX_SYNTAX:
            break
        else:
            width = 1
        following = pattern[index + width : index + width + 1]
        if following in ("?", "*", "{"):
            break  # the character may be absent (or repeated a number of times we don't read)
        prefix.append(char)
        if following == "+":
            break  # at least once: it is part of the prefix, what follows is not
        index += width
    return "".join(prefix)


def _top_level_bar(pattern: str) -> bool:
    """Whether `pattern` has an alternation `|` outside every group and character class."""
    depth, in_class, escaped = 0, False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth <= 0:
            return True
    return False


def _only_null(keywords: Mapping[str, Any]) -> bool:
    raw = keywords.get("type")
    return raw == "null" or (isinstance(raw, list) and bool(raw) and set(raw) == {"null"})


def _allowed_values(keywords: Mapping[str, Any]) -> set[bytes] | None:
    """The values `const` or `enum` allow (as fingerprints), None when either allows any."""
    if "const" in keywords:
        return {_fingerprint(keywords["const"])}
    enum = keywords.get("enum")
    if isinstance(enum, list):
        return {_fingerprint(v) for v in enum}
    return None


# Keywords that say nothing about which values are valid.
_ANNOTATIONS = frozenset(
    {"title", "description", "example", "examples", "$comment", "externalDocs", "deprecated"}
)


def _wrapping(b: Merged, h: Merged) -> tuple[str, list[Ref], list[Ref]] | None:
    """(family, base alternatives, head alternatives) when one side is only a `oneOf` or
    `anyOf` and the other side has no alternatives: the plain side is its one alternative."""
    for plain, wrapper, plain_is_base in ((b, h, True), (h, b, False)):
        if plain.one_of or plain.any_of or not (wrapper.one_of or wrapper.any_of):
            continue
        if wrapper.one_of and wrapper.any_of:
            continue
        if wrapper.properties or wrapper.required or wrapper.items or wrapper.additional:
            continue
        if any(key not in _ANNOTATIONS for key in wrapper.keywords):
            continue
        family = "one-of" if wrapper.one_of else "any-of"
        alternatives = wrapper.one_of or wrapper.any_of
        if plain_is_base:
            return family, [plain.ref], alternatives
        return family, alternatives, [plain.ref]
    return None


def property_path_step(text: str, token: str) -> str:
    """A property path as shown (`items[].name`, `meta{*}.id`: names joined by dots, `[]` for
    array items), from that of its parent path (`text`) and its last token."""
    if token in ("[]", "{*}"):
        return text + token
    return f"{text}.{token}" if text else token


def _ordered_union(first: Iterable[str], second: Iterable[str]) -> list[str]:
    seen = dict.fromkeys(first)
    seen.update(dict.fromkeys(second))
    return list(seen)

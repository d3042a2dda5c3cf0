"""The change engine: one walk over two `ApiSpec`s (their 3.x-shaped views) emitting `Change`s.

Paths are matched with path-parameter names normalised (`/pets/{id}` is `/pets/{petId}`), path
parameters by their position in the template, other parameters by (in, name). Schemas are
compared by `SchemaComparer`, memoised on the pair of nodes and the direction, so a schema shared
by a hundred operations is compared once and its differences reported for each operation.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from msgspec import Struct

from apigov.diff.changes import Change, Place
from apigov.diff.levels import LEVELS
from apigov.diff.policy import SunsetNotice
from apigov.diff.schemas import (
    REQUEST,
    RESPONSE,
    Delta,
    Ref,
    SchemaComparer,
    StabilityDelta,
    SunsetDelta,
    as_text,
    deref,
    property_path_step,
)
from apigov.diff.unchanged import Unchanged
from apigov.findings import Level
from apigov.spec import pointer as jp
from apigov.spec.deprecation import sunset_of, unreadable_sunset
from apigov.spec.model import ApiSpec

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace", "query")
_TEMPLATE = re.compile(r"\{[^}/]*\}")
_STABILITY = {"draft": 0, "alpha": 1, "beta": 2, "stable": 3}
_DEFAULT_STYLE = {"query": "form", "cookie": "form", "path": "simple", "header": "simple"}
_PATHS = Place("/paths")
# Where the path items the engine may skip when unchanged live (callbacks are inside them).
_TOP_CONTAINERS = frozenset({"/paths", "/webhooks"})
# Property-path tokens that are not property names, as JSON pointer steps.
_LOGICAL = {"[]": "/items", "{*}": "/additionalProperties"}
_INDEXED = re.compile(r"^(oneOf|anyOf|prefixItems)\[(\d+)\]$")
_KEYWORD_TOKENS = frozenset(
    {
        "contains",
        "propertyNames",
        "contentSchema",
        "unevaluatedItems",
        "unevaluatedProperties",
        "then",
        "else",
        "not",
        "if",
    }
)
_SEMVER = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?")


class DiffResult(Struct, frozen=True):
    """Every change between two specs, in walk order, with how much work the walk did."""

    changes: list[Change]
    schema_visits: int


def diff_specs(
    base: ApiSpec,
    head: ApiSpec,
    *,
    today: dt.date | None = None,
    notice: SunsetNotice | None = None,
) -> DiffResult:
    """`today` is the date of the change: sunsets that passed allow removals, and a new sunset
    needs `notice` days from it (default `SunsetNotice()`)."""
    walker = _Walker(base, head, today or dt.datetime.now(dt.UTC).date(), notice or SunsetNotice())
    walker.run()
    return DiffResult(walker.changes, walker.schemas.visits)


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _media_key(name: str) -> str:
    """`application/json; charset=utf-8` serves the same clients as `application/json`."""
    return name.split(";", 1)[0].strip().lower()


class _Walker:
    def __init__(self, base: ApiSpec, head: ApiSpec, today: dt.date, notice: SunsetNotice) -> None:
        self.base = base
        self.head = head
        self.today = today
        self.notice = notice
        # The head operation's `x-stability-level`: how much notice a sunset in it needs.
        self.stability: Any = None
        self.unchanged = Unchanged(base, head)
        self.schemas = SchemaComparer(base, head, self.unchanged, today)
        self.changes: list[Change] = []
        # Inside webhooks and callbacks the API sends the request and its users answer it.
        self.reversed_roles = False
        # The logical pointer of the element being compared (`Change.touched`), e.g.
        # /paths/~1orders/get/responses/200: the default `logical` of every change emitted.
        self.scope: str | None = None
        self._spellings: dict[tuple[str, ...], tuple[str, str]] = {}

    @contextmanager
    def at(self, *tokens: str, root: str | None = None) -> Iterator[None]:
        """Compare the element `tokens` below the current scope (below `root` when given),
        restoring the scope afterwards."""
        outer = self.scope
        pointer = root if root is not None else outer or ""
        for token in tokens:
            pointer = jp.child(pointer, token)
        self.scope = pointer
        try:
            yield
        finally:
            self.scope = outer

    # ---- emitting -------------------------------------------------------------------------------

    def emit(
        self,
        change_id: str,
        message: str,
        operation: str | None,
        base: Place | None,
        head: Place | None,
        touched: tuple[str, ...] = (),
        logical: str | None = None,
    ) -> None:
        level = LEVELS[change_id]
        if self.reversed_roles:
            level = _reversed_level(change_id, level)
        if logical is None:
            logical = self.scope
        if not touched:
            # The element's place in the operation's message first (what a consumer-aware
            # diff matches interactions against), then where the change is written.
            where = head if head is not None else base
            written = where.pointer if where is not None else None
            touched = tuple(dict.fromkeys(p for p in (logical, written) if p is not None))
        self.changes.append(Change(change_id, level, message, operation, base, head, touched))

    def emit_deltas(
        self,
        deltas: list[Delta],
        place: str,
        direction: str,
        label: str,
        operation: str | None,
        site: str,
    ) -> None:
        """Changes from schema deltas found at `site` (the schema's pointer in the operation)."""
        for delta in deltas:
            action, detail = delta.action, delta.detail
            if isinstance(delta, SunsetDelta):
                decided = self.property_deprecation(delta)
                if decided is None:
                    continue
                action, detail = decided
            elif isinstance(delta, StabilityDelta):
                decided = _property_stability(delta)
                if decided is None:
                    continue
                action, detail = decided
            if delta.about_property:
                change_id = f"{direction}-{action}"
            elif delta.path:
                change_id = f"{direction}-property-{action}"
            else:
                change_id = f"{place}-{action}"
            if change_id not in LEVELS:
                # A keyword action that has no id for this place (e.g. a header's property).
                change_id = f"{direction}-property-{action}"
                if change_id not in LEVELS:
                    continue
            where = f"{label} property '{self.spelled(delta.path)[0]}'" if delta.path else label
            # Where the change sits inside the operation's message, through any `$ref`s, and
            # where it is written: what a consumer-aware diff needs to match interactions.
            logical = site + self.spelled(delta.path)[1]
            written = delta.head if delta.head is not None else delta.base
            touched = (logical, written.pointer) if written is not None else (logical,)
            self.emit(
                change_id,
                f"{where}: {detail}",
                operation,
                delta.base,
                delta.head,
                touched,
            )

    def property_deprecation(self, delta: SunsetDelta) -> tuple[str, str] | None:
        """(action, detail) to report for a schema that became deprecated or whose sunset was
        set or moved earlier; None: nothing to report.

        A property is held to the rules of operations and parameters: deprecated without a
        date, or with too little notice for the operation's stability level. A body, parameter
        or header schema as a whole is reported only as deprecated.
        """
        deprecated = delta.action == "became-deprecated"
        if not delta.path:
            return (delta.action, delta.detail) if deprecated else None
        if delta.sunset is None:
            head = self.head_node(delta.head) if delta.head is not None else None
            unreadable = unreadable_sunset(head) if isinstance(head, dict) else None
            if not deprecated:
                # Deprecated before, its sunset changed to one that is not a date.
                if unreadable is None:
                    return None
                return "sunset-invalid", f"{delta.detail}: {_not_a_date(unreadable)}"
            if unreadable is not None:
                return "sunset-invalid", f"deprecated: {_not_a_date(unreadable)}"
            return "deprecated-without-sunset", "deprecated without an x-sunset date"
        short = self.sunset_too_soon(delta.sunset)
        if short is not None:
            return "sunset-too-soon", short
        return (delta.action, f"deprecated, sunset {delta.sunset}") if deprecated else None

    def head_node(self, place: Place) -> Any:
        """The node of the head document at `place` (None: not there)."""
        document = self.head.document if place.source is None else place.source.data
        try:
            return jp.resolve(document, place.pointer)
        except jp.PointerError:
            return None

    def sunset_too_soon(self, sunset: dt.date) -> str | None:
        """Why `sunset`, set by this change, gives clients too little notice (None: enough).

        The one rule for operations, parameters and properties: at least the policy's days
        for the operation's stability level between the change (`today`) and the sunset.
        """
        needed = self.notice.days(self.stability)
        given = (sunset - self.today).days
        if given >= needed:
            return None
        level = self.stability if self.stability in ("beta", "alpha", "draft") else "stable"
        return (
            f"sunset {sunset} is {given} days after {self.today}; "
            f"{level} operations give at least {needed} days' notice"
        )

    def spelled(self, path: tuple[str, ...]) -> tuple[str, str]:
        """A delta path as shown (`items[].total`) and as pointer steps, once per path: a
        shared schema's deltas come back for every operation using it."""
        found = self._spellings.get(path)
        if found is None:
            if not path:
                found = ("", "")
            else:
                # From the parent path's spelling: deltas of nested schemas share prefixes, so
                # each new path costs one step instead of one per token.
                shown, steps = self.spelled(path[:-1])
                found = (property_path_step(shown, path[-1]), steps + _logical_step(path[-1]))
            self._spellings[path] = found
        return found

    def compare_schema(
        self,
        b_node: Any,
        b_at: Place,
        h_node: Any,
        h_at: Place,
        place: str,
        direction: str,
        label: str,
        operation: str | None,
        site: str,
        text: bool = False,
    ) -> None:
        """`site` is the schema's logical pointer in the operation (see `Change.touched`);
        `text`: the values travel as text (parameters and headers, see `as_text`)."""
        b_ref = self.schemas.deref(self.base, Ref(b_node, b_at.pointer, b_at.source))
        h_ref = self.schemas.deref(self.head, Ref(h_node, h_at.pointer, h_at.source))
        deltas = self.schemas.compare(b_ref, h_ref, as_text(direction) if text else direction)
        if deltas:
            self.emit_deltas(deltas, place, direction, label, operation, site)

    # ---- document -------------------------------------------------------------------------------

    def run(self) -> None:
        b_doc, h_doc = self.base.document, self.head.document
        self.paths(_as_dict(b_doc.get("paths")), _as_dict(h_doc.get("paths")))
        # Webhooks are operations the API's users implement: they keep the ids of paths, with
        # levels seen from the receiving side (see `_reversed_level`).
        self.reversed_roles = True
        self.paths(
            _as_dict(b_doc.get("webhooks")),
            _as_dict(h_doc.get("webhooks")),
            "webhook",
            Place("/webhooks"),
            Place("/webhooks"),
            "webhook ",
            "/webhooks",
        )
        self.reversed_roles = False
        self.security_schemes(
            _as_dict(_as_dict(b_doc.get("components")).get("securitySchemes")),
            _as_dict(_as_dict(h_doc.get("components")).get("securitySchemes")),
        )
        self.global_security(b_doc.get("security"), h_doc.get("security"))
        self.servers(b_doc.get("servers"), h_doc.get("servers"))
        self.version(
            _as_dict(b_doc.get("info")).get("version"), _as_dict(h_doc.get("info")).get("version")
        )

    def paths(
        self,
        b_paths: dict[str, Any],
        h_paths: dict[str, Any],
        kind: str = "path",
        b_container: Place = _PATHS,
        h_container: Place = _PATHS,
        prefix: str = "",
        logical: str = "/paths",
    ) -> None:
        """Paths, webhooks (by name) or a callback's expressions: path items matched by shape.

        `logical` is the container's logical pointer (`/paths`, `/webhooks`, or a callback's
        place below its operation)."""
        # Same path first; otherwise the same shape, for a path whose parameters were renamed
        # (documents may hold several paths of one shape: each head path matches once).
        h_by_shape: dict[str, list[str]] = {}
        for path in h_paths:
            if path not in b_paths:
                h_by_shape.setdefault(_TEMPLATE.sub("{}", path), []).append(path)
        matched: set[str] = set()
        for b_path, b_item_raw in b_paths.items():
            shape = _TEMPLATE.sub("{}", b_path)
            same_shape = h_by_shape.get(shape)
            h_path = b_path if b_path in h_paths else (same_shape.pop(0) if same_shape else None)
            b_item = deref(
                self.base,
                Ref(b_item_raw, jp.child(b_container.pointer, b_path), b_container.source),
            )
            if h_path is None:
                for method, op in self.operations(self.base, b_item):
                    with self.at(b_path, method, root=logical):
                        if kind == "path":
                            self.operation_removed(b_path, method, op, True)
                        else:
                            label = f"{method.upper()} {prefix}{b_path}"
                            self.emit(f"{kind}-removed", f"{label} removed", label, op.place, None)
                continue
            matched.add(h_path)
            if (
                h_path == b_path
                and b_container.source is None
                and h_container.source is None
                and b_container.pointer in _TOP_CONTAINERS
                and b_container.pointer == h_container.pointer
                and self.unchanged.container((b_container.pointer[1:], b_path))
            ):
                continue  # equal, and so is everything it refers to: nothing to report
            h_item = deref(
                self.head,
                Ref(h_paths[h_path], jp.child(h_container.pointer, h_path), h_container.source),
            )
            with self.at(root=logical):
                self.path_item(b_path, b_item, h_path, h_item, prefix)
        for h_path in h_paths:
            if h_path not in matched:
                item = deref(
                    self.head,
                    Ref(h_paths[h_path], jp.child(h_container.pointer, h_path), h_container.source),
                )
                for method, op in self.operations(self.head, item):
                    label = f"{method.upper()} {prefix}{h_path}"
                    with self.at(h_path, method, root=logical):
                        self.emit(f"{kind}-added", f"{label} added", label, None, op.place)
                        self.stability_level(label, {}, None, _as_dict(op.node), op.place)

    def callbacks(
        self, label: str, b_op: dict[str, Any], b_at: Place, h_op: dict[str, Any], h_at: Place
    ) -> None:
        b_all, h_all = _as_dict(b_op.get("callbacks")), _as_dict(h_op.get("callbacks"))
        for name in {**b_all, **h_all}:
            b_cb_at = jp.child(jp.child(b_at.pointer, "callbacks"), name)
            h_cb_at = jp.child(jp.child(h_at.pointer, "callbacks"), name)
            b_ref = self.schemas.deref(self.base, Ref(b_all.get(name), b_cb_at, b_at.source))
            h_ref = self.schemas.deref(self.head, Ref(h_all.get(name), h_cb_at, h_at.source))
            b_cb, h_cb = _as_dict(b_ref.node), _as_dict(h_ref.node)
            outer = self.reversed_roles
            self.reversed_roles = not outer
            self.paths(
                b_cb,
                h_cb,
                "callback",
                b_ref.place,
                h_ref.place,
                f"{label} callback {name} ",
                jp.child(jp.child(self.scope or "", "callbacks"), name),
            )
            self.reversed_roles = outer

    @staticmethod
    def operations(spec: ApiSpec, item: Ref) -> Iterator[tuple[str, Ref]]:
        """The operations of a path item, each followed to the file it lives in."""
        node = _as_dict(item.node)
        for method in METHODS:
            op = node.get(method)
            if isinstance(op, dict):
                found = deref(spec, Ref(op, jp.child(item.pointer, method), item.source))
                if isinstance(found.node, dict):
                    yield method, found

    def operation_removed(self, path: str, method: str, op_ref: Ref, whole_path: bool) -> None:
        label = f"{method.upper()} {path}"
        op: dict[str, Any] = op_ref.node
        sunset = sunset_of(op)
        if op.get("deprecated") is True and sunset is not None:
            if sunset <= self.today:
                change_id, why = "operation-removed-after-sunset", f"after its sunset {sunset}"
            else:
                change_id, why = "operation-removed-before-sunset", f"before its sunset {sunset}"
            self.emit(change_id, f"{label} removed {why}", label, op_ref.place, None)
            return
        change_id = "path-removed" if whole_path else "operation-removed"
        qualifier = "" if op.get("deprecated") is True else " without deprecation"
        if op.get("deprecated") is True and (unreadable := unreadable_sunset(op)) is not None:
            # No date anyone can read has passed: removed before its sunset, as far as clients know.
            qualifier = f" before a readable sunset: its {_not_a_date(unreadable)}"
        self.emit(change_id, f"{label} removed{qualifier}", label, op_ref.place, None)

    def path_item(
        self, b_path: str, b_item: Ref, h_path: str, h_item: Ref, prefix: str = ""
    ) -> None:
        h_ops = dict(self.operations(self.head, h_item))
        for method, b_op in self.operations(self.base, b_item):
            h_op = h_ops.pop(method, None)
            if h_op is None:
                with self.at(b_path, method):
                    self.operation_removed(f"{prefix}{b_path}", method, b_op, False)
                continue
            label = f"{method.upper()} {prefix}{h_path}"
            with self.at(h_path, method):
                self.operation(label, b_item, b_op, h_item, h_op, b_path, h_path)
        for method, h_op in h_ops.items():
            label = f"{method.upper()} {prefix}{h_path}"
            with self.at(h_path, method):
                self.emit("operation-added", f"{label} added", label, None, h_op.place)
                self.stability_level(label, {}, None, _as_dict(h_op.node), h_op.place)

    # ---- operation ------------------------------------------------------------------------------

    def operation(
        self,
        label: str,
        b_item: Ref,
        b_op_ref: Ref,
        h_item: Ref,
        h_op_ref: Ref,
        b_path: str,
        h_path: str,
    ) -> None:
        with self.stability_of(_as_dict(h_op_ref.node)):
            b_op, b_at = _as_dict(b_op_ref.node), b_op_ref.place
            h_op, h_at = _as_dict(h_op_ref.node), h_op_ref.place
            self.lifecycle(label, b_op, b_at, h_op, h_at)
            self.metadata(label, b_op, b_at, h_op, h_at)
            self.parameters(
                label,
                self.collect_parameters(self.base, b_item, b_op_ref, b_path),
                self.collect_parameters(self.head, h_item, h_op_ref, h_path),
            )
            with self.at("requestBody"):
                self.request_body(label, b_op, b_at, h_op, h_at)
            with self.at("responses"):
                self.responses(
                    label,
                    _as_dict(b_op.get("responses")),
                    Place(jp.child(b_at.pointer, "responses"), b_at.source),
                    _as_dict(h_op.get("responses")),
                    Place(jp.child(h_at.pointer, "responses"), h_at.source),
                )
            with self.at("security"):
                self.operation_security(label, b_op, b_at, h_op, h_at)
            self.operation_servers(label, b_item, b_op, b_at, h_item, h_op, h_at)
            self.callbacks(label, b_op, b_at, h_op, h_at)

    @contextmanager
    def stability_of(self, h_op: dict[str, Any]) -> Iterator[None]:
        """Compare an operation's parts under its `x-stability-level` (how much notice a sunset
        in it needs), restoring the outer one afterwards."""
        outer = self.stability
        self.stability = h_op.get("x-stability-level")
        try:
            yield
        finally:
            self.stability = outer

    def lifecycle(
        self, label: str, b_op: dict[str, Any], b_at: Place, h_op: dict[str, Any], h_at: Place
    ) -> None:
        b_dep, h_dep = b_op.get("deprecated") is True, h_op.get("deprecated") is True
        b_sunset, h_sunset = sunset_of(b_op), sunset_of(h_op)
        unreadable = unreadable_sunset(h_op) if h_dep else None
        if unreadable is not None and (not b_dep or b_op.get("x-sunset") != h_op["x-sunset"]):
            # Deprecated, or the date changed, to a sunset nobody can read: clients get no date.
            # The same unreadable value on both sides is no change of this diff's making.
            was = b_sunset or unreadable_sunset(b_op) or "none"
            how = "deprecated" if not b_dep else f"sunset changed from {was}"
            message = f"{label} {how}: {_not_a_date(unreadable)}"
            self.emit("operation-sunset-invalid", message, label, b_at, h_at)
        elif h_dep and not b_dep:
            if h_sunset is None:
                self.emit(
                    "operation-deprecated-without-sunset",
                    f"{label} deprecated without an x-sunset date",
                    label,
                    b_at,
                    h_at,
                )
            elif (short := self.sunset_too_soon(h_sunset)) is not None:
                self.emit(
                    "operation-sunset-too-soon", f"{label} deprecated: {short}", label, b_at, h_at
                )
            else:
                self.emit(
                    "operation-deprecated",
                    f"{label} deprecated, sunset {h_sunset}",
                    label,
                    b_at,
                    h_at,
                )
        elif b_dep and not h_dep:
            self.emit(
                "operation-reactivated", f"{label} is no longer deprecated", label, b_at, h_at
            )
        elif b_dep and h_dep:
            # A sunset set or moved earlier: clients planned for the old date (or for none).
            earlier = h_sunset is not None and _earlier(h_sunset, b_sunset)
            short = self.sunset_too_soon(h_sunset) if h_sunset is not None and earlier else None
            changed = f"{label} sunset changed from {b_sunset or 'none'} to {h_sunset}"
            if short is not None:
                self.emit("operation-sunset-too-soon", f"{changed}: {short}", label, b_at, h_at)
            elif b_sunset is not None and b_sunset != h_sunset:
                self.emit("operation-sunset-changed", changed, label, b_at, h_at)
        self.stability_level(label, b_op, b_at, h_op, h_at)

    def stability_level(
        self,
        label: str,
        b_op: dict[str, Any],
        b_at: Place | None,
        h_op: dict[str, Any],
        h_at: Place,
    ) -> None:
        """A stability level that moved (towards draft: clients lose guarantees), or that the
        change set to a value that is not a level (`b_op` is empty for an added operation)."""
        h_raw = h_op.get("x-stability-level")
        if h_raw is not None and _stability(h_raw) is None:
            # Only a value this change wrote: an old unknown level left as it was is not news.
            if "x-stability-level" not in b_op or b_op["x-stability-level"] != h_raw:
                message = (
                    f"{label} x-stability-level {_shown(h_raw)} is not one of "
                    "draft, alpha, beta, stable (sunset notice counts it as stable)"
                )
                self.emit("operation-stability-level-invalid", message, label, b_at, h_at)
            return
        b_level = _stability(b_op.get("x-stability-level"))
        h_level = _stability(h_raw)
        if b_level is not None and h_level is not None and b_level != h_level:
            change_id = (
                "operation-stability-decreased"
                if h_level < b_level
                else "operation-stability-increased"
            )
            message = (
                f"{label} stability changed from {b_op['x-stability-level']} "
                f"to {h_op['x-stability-level']}"
            )
            self.emit(change_id, message, label, b_at, h_at)

    def metadata(
        self, label: str, b_op: dict[str, Any], b_at: Place, h_op: dict[str, Any], h_at: Place
    ) -> None:
        b_id, h_id = b_op.get("operationId"), h_op.get("operationId")
        if b_id != h_id:
            if b_id is None:
                self.emit("operation-id-added", f"operationId {h_id!r} added", label, b_at, h_at)
            elif h_id is None:
                self.emit(
                    "operation-id-removed", f"operationId {b_id!r} removed", label, b_at, h_at
                )
            else:
                message = f"operationId changed from {b_id!r} to {h_id!r}"
                self.emit("operation-id-changed", message, label, b_at, h_at)
        b_tags = [t for t in b_op.get("tags") or [] if isinstance(t, str)]
        h_tags = [t for t in h_op.get("tags") or [] if isinstance(t, str)]
        for tag in h_tags:
            if tag not in b_tags:
                self.emit("operation-tag-added", f"tag {tag!r} added", label, b_at, h_at)
        for tag in b_tags:
            if tag not in h_tags:
                self.emit("operation-tag-removed", f"tag {tag!r} removed", label, b_at, h_at)
        for key in ("summary", "description"):
            if b_op.get(key) != h_op.get(key):
                self.emit(f"operation-{key}-changed", f"{key} changed", label, b_at, h_at)

    # ---- parameters -----------------------------------------------------------------------------

    def collect_parameters(
        self, spec: ApiSpec, item: Ref, op: Ref, path: str
    ) -> dict[tuple[str, str], tuple[dict[str, Any], Place]]:
        """Parameters by (in, name), operation over path item; path ones keyed by position."""
        positions = {name[1:-1]: i for i, name in enumerate(_TEMPLATE.findall(path))}
        found: dict[tuple[str, str], tuple[dict[str, Any], Place]] = {}
        for owner in (item, op):
            params = _as_dict(owner.node).get("parameters")
            if not isinstance(params, list):
                continue
            for index, raw in enumerate(params):
                at = jp.child(jp.child(owner.pointer, "parameters"), index)
                ref = deref(spec, Ref(raw, at, owner.source))
                param = ref.node
                if not isinstance(param, dict):
                    continue
                where, name = str(param.get("in")), str(param.get("name"))
                if where == "path":
                    name = f"#{positions.get(name, name)}"
                elif where == "header":
                    name = name.lower()
                found[(where, name)] = (param, ref.place)
        return found

    def parameters(
        self,
        label: str,
        b_params: dict[tuple[str, str], tuple[dict[str, Any], Place]],
        h_params: dict[tuple[str, str], tuple[dict[str, Any], Place]],
    ) -> None:
        for key, (b_param, b_at) in b_params.items():
            where = key[0]
            name = str(b_param.get("name"))
            found = h_params.get(key)
            if found is None:
                sunset = sunset_of(b_param)
                if (
                    where in ("query", "header", "cookie")
                    and b_param.get("deprecated") is True
                    and sunset is not None
                    and sunset <= self.today
                ):
                    # Announced and past its date, like an operation removed after its sunset.
                    with self.at("parameters", where, name):
                        self.emit(
                            "request-parameter-removed-after-sunset",
                            f"{where} parameter {name!r} removed after its sunset {sunset}",
                            label,
                            b_at,
                            None,
                        )
                elif where in ("path", "query", "header", "cookie"):
                    unreadable = (
                        unreadable_sunset(b_param) if b_param.get("deprecated") is True else None
                    )
                    qualifier = (
                        f" before a readable sunset: its {_not_a_date(unreadable)}"
                        if unreadable is not None and where != "path"
                        else ""
                    )
                    with self.at("parameters", where, name):
                        self.emit(
                            f"request-{where}-parameter-removed",
                            f"{where} parameter {name!r} removed{qualifier}",
                            label,
                            b_at,
                            None,
                        )
                continue
            h_param, h_at = found
            with self.at("parameters", where, str(h_param.get("name"))):
                self.parameter(label, where, name, b_param, b_at, h_param, h_at)
        for key, (h_param, h_at) in h_params.items():
            if key in b_params or key[0] not in ("query", "header", "cookie"):
                continue
            name = str(h_param.get("name"))
            kind = "required" if h_param.get("required") is True else "optional"
            with self.at("parameters", key[0], name):
                self.emit(
                    f"new-{kind}-request-{key[0]}-parameter",
                    f"{kind} {key[0]} parameter {name!r} added",
                    label,
                    None,
                    h_at,
                )

    def parameter(
        self,
        label: str,
        where: str,
        name: str,
        b: dict[str, Any],
        b_at: Place,
        h: dict[str, Any],
        h_at: Place,
    ) -> None:
        what = f"{where} parameter {name!r}"
        if where != "path" and (b.get("required") is True) != (h.get("required") is True):
            state = "required" if h.get("required") is True else "optional"
            self.emit(
                f"request-{where}-parameter-became-{state}",
                f"{what} became {state}",
                label,
                b_at,
                h_at,
            )
        default_style = _DEFAULT_STYLE.get(where, "simple")
        b_style, h_style = b.get("style", default_style), h.get("style", default_style)
        if b_style != h_style and where in _DEFAULT_STYLE:
            message = f"{what} style changed from {b_style} to {h_style}"
            self.emit(f"request-{where}-parameter-style-changed", message, label, b_at, h_at)
        b_explode = b.get("explode", b_style == "form")
        h_explode = h.get("explode", h_style == "form")
        if b_explode != h_explode and b_style == h_style and where in _DEFAULT_STYLE:
            message = f"{what} explode changed from {b_explode} to {h_explode}"
            self.emit(f"request-{where}-parameter-explode-changed", message, label, b_at, h_at)
        if where == "query":
            b_empty, h_empty = b.get("allowEmptyValue") is True, h.get("allowEmptyValue") is True
            if b_empty != h_empty:
                change_id = (
                    "request-query-parameter-allow-empty-value-added"
                    if h_empty
                    else "request-query-parameter-allow-empty-value-removed"
                )
                self.emit(change_id, f"{what} allowEmptyValue changed", label, b_at, h_at)
        # A path parameter cannot be left out: deprecating it says nothing clients can act on.
        b_dep = b.get("deprecated") is True and where != "path"
        h_dep = h.get("deprecated") is True and where != "path"
        sunset = sunset_of(h)
        unreadable = unreadable_sunset(h) if h_dep else None
        if (
            unreadable is not None
            and where in _DEFAULT_STYLE
            and (not b_dep or b.get("x-sunset") != h["x-sunset"])
        ):
            was = sunset_of(b) or unreadable_sunset(b) or "none"
            how = "deprecated" if not b_dep else f"sunset changed from {was}"
            self.emit(
                "request-parameter-sunset-invalid",
                f"{what} {how}: {_not_a_date(unreadable)}",
                label,
                b_at,
                h_at,
            )
        elif h_dep and not b_dep and where in _DEFAULT_STYLE:
            short = self.sunset_too_soon(sunset) if sunset is not None else None
            if short is not None:
                self.emit(
                    "request-parameter-sunset-too-soon",
                    f"{what} deprecated: {short}",
                    label,
                    b_at,
                    h_at,
                )
            elif sunset is None:
                # Like an operation: clients are told it goes, not when.
                self.emit(
                    f"request-{where}-parameter-deprecated-without-sunset",
                    f"{what} deprecated without an x-sunset date",
                    label,
                    b_at,
                    h_at,
                )
            else:
                self.emit(
                    f"request-{where}-parameter-deprecated",
                    f"{what} deprecated, sunset {sunset}",
                    label,
                    b_at,
                    h_at,
                )
        elif b_dep and not h_dep and where in _DEFAULT_STYLE:
            self.emit(
                f"request-{where}-parameter-reactivated",
                f"{what} is no longer deprecated",
                label,
                b_at,
                h_at,
            )
        elif b_dep and h_dep and sunset is not None and _earlier(sunset, sunset_of(b)):
            short = self.sunset_too_soon(sunset)
            if short is not None:
                was = sunset_of(b) or "none"
                message = f"{what} sunset changed from {was} to {sunset}: {short}"
                self.emit("request-parameter-sunset-too-soon", message, label, b_at, h_at)
        b_schema, b_schema_at = _parameter_schema(b, b_at)
        h_schema, h_schema_at = _parameter_schema(h, h_at)
        if b_schema is not None and h_schema is not None:
            self.compare_schema(
                b_schema,
                b_schema_at,
                h_schema,
                h_schema_at,
                "request-parameter",
                REQUEST,
                what,
                label,
                jp.child(self.scope or "", "schema"),
                # A parameter with `content` carries that media type (JSON), not plain text.
                text="schema" in b and "schema" in h,
            )

    # ---- bodies ---------------------------------------------------------------------------------

    def request_body(
        self, label: str, b_op: dict[str, Any], b_op_at: Place, h_op: dict[str, Any], h_op_at: Place
    ) -> None:
        b_raw, h_raw = b_op.get("requestBody"), h_op.get("requestBody")
        if b_raw is None and h_raw is None:
            return
        b_ref = deref(
            self.base, Ref(b_raw, jp.child(b_op_at.pointer, "requestBody"), b_op_at.source)
        )
        h_ref = deref(
            self.head, Ref(h_raw, jp.child(h_op_at.pointer, "requestBody"), h_op_at.source)
        )
        if b_raw is None:
            kind = "required" if _as_dict(h_ref.node).get("required") is True else "optional"
            self.emit(
                f"request-body-added-{kind}", f"{kind} request body added", label, None, h_ref.place
            )
            return
        if h_raw is None:
            self.emit("request-body-removed", "request body removed", label, b_ref.place, None)
            return
        b_body, h_body = _as_dict(b_ref.node), _as_dict(h_ref.node)
        b_req, h_req = b_body.get("required") is True, h_body.get("required") is True
        if b_req != h_req:
            state = "required" if h_req else "optional"
            self.emit(
                f"request-body-became-{state}",
                f"request body became {state}",
                label,
                b_ref.place,
                h_ref.place,
            )
        self.content(
            label,
            _as_dict(b_body.get("content")),
            jp.child(b_ref.pointer, "content"),
            b_ref.place,
            _as_dict(h_body.get("content")),
            jp.child(h_ref.pointer, "content"),
            h_ref.place,
            REQUEST,
            "request body",
        )

    def content(
        self,
        label: str,
        b_content: dict[str, Any],
        b_at: str,
        b_owner: Place,
        h_content: dict[str, Any],
        h_at: str,
        h_owner: Place,
        direction: str,
        what: str,
    ) -> None:
        prefix = "request-body" if direction == REQUEST else "response"
        h_by_key = {_media_key(name): name for name in h_content}
        seen: set[str] = set()
        for b_name, b_media in b_content.items():
            h_name = h_by_key.get(_media_key(b_name))
            b_media_at = Place(jp.child(b_at, b_name), b_owner.source)
            if h_name is None:
                with self.at("content", b_name):
                    self.emit(
                        f"{prefix}-media-type-removed",
                        f"{what} media type {b_name} removed",
                        label,
                        b_media_at,
                        None,
                    )
                continue
            seen.add(h_name)
            h_media_at = Place(jp.child(h_at, h_name), h_owner.source)
            b_media, h_media = _as_dict(b_media), _as_dict(h_content[h_name])
            if ("schema" in b_media) != ("schema" in h_media):
                # No schema: any content. A schema where there was none constrains it.
                action = "added" if "schema" in h_media else "removed"
                with self.at("content", h_name):
                    self.emit(
                        f"{prefix}-media-type-schema-{action}",
                        f"{what} media type {h_name} schema {action}",
                        label,
                        b_media_at,
                        h_media_at,
                    )
            elif "schema" in b_media:
                self.compare_schema(
                    b_media["schema"],
                    Place(jp.child(b_media_at.pointer, "schema"), b_owner.source),
                    h_media["schema"],
                    Place(jp.child(h_media_at.pointer, "schema"), h_owner.source),
                    f"{direction}-body",
                    direction,
                    what,
                    label,
                    jp.join((*jp.split(self.scope or ""), "content", h_name, "schema")),
                )
        for h_name in h_content:
            if h_name not in seen:
                with self.at("content", h_name):
                    self.emit(
                        f"{prefix}-media-type-added",
                        f"{what} media type {h_name} added",
                        label,
                        b_owner,
                        Place(jp.child(h_at, h_name), h_owner.source),
                    )

    # ---- responses ------------------------------------------------------------------------------

    def responses(
        self, label: str, b_all: dict[str, Any], b_at: Place, h_all: dict[str, Any], h_at: Place
    ) -> None:
        h_upper = {str(code).upper(): str(code) for code in h_all}
        b_upper = {str(code).upper() for code in b_all}
        for b_code_raw, b_raw in b_all.items():
            b_code = str(b_code_raw)
            h_code = h_upper.get(b_code.upper()) or h_upper.get(f"{b_code[:1]}XX")
            b_ref = self.schemas.deref(
                self.base, Ref(b_raw, jp.child(b_at.pointer, b_code), b_at.source)
            )
            kind = "success" if b_code.startswith("2") else "non-success"
            if h_code is None:
                with self.at(b_code):
                    self.emit(
                        f"response-{kind}-status-removed",
                        f"response {b_code} removed",
                        label,
                        b_ref.place,
                        None,
                    )
                continue
            h_ref = deref(
                self.head, Ref(h_all[h_code], jp.child(h_at.pointer, h_code), h_at.source)
            )
            with self.at(h_code):
                self.response(label, b_code, b_ref, h_ref)
        for h_code_raw in h_all:
            h_code = str(h_code_raw)
            if h_code.upper() in b_upper or f"{h_code[:1]}XX" in b_upper:
                continue
            kind = "success" if h_code.startswith("2") else "non-success"
            with self.at(h_code):
                self.emit(
                    f"response-{kind}-status-added",
                    f"response {h_code} added",
                    label,
                    None,
                    Place(jp.child(h_at.pointer, h_code), h_at.source),
                )

    def response(self, label: str, code: str, b_ref: Ref, h_ref: Ref) -> None:
        b, h = _as_dict(b_ref.node), _as_dict(h_ref.node)
        what = f"response {code}"
        b_headers = _as_dict(b.get("headers"))
        h_headers = {name.lower(): name for name in _as_dict(h.get("headers"))}
        matched: set[str] = set()
        b_headers_at = jp.child(b_ref.pointer, "headers")
        h_headers_at = jp.child(h_ref.pointer, "headers")
        for b_name, b_raw in b_headers.items():
            b_header = self.schemas.deref(
                self.base, Ref(b_raw, jp.child(b_headers_at, b_name), b_ref.source)
            )
            b_required = _as_dict(b_header.node).get("required") is True
            h_name = h_headers.get(b_name.lower())
            if h_name is None:
                kind = "required" if b_required else "optional"
                with self.at("headers", b_name):
                    self.emit(
                        f"response-{kind}-header-removed",
                        f"{what} {kind} header {b_name} removed",
                        label,
                        b_header.place,
                        None,
                    )
                continue
            matched.add(h_name)
            h_header = deref(
                self.head,
                Ref(
                    _as_dict(h.get("headers"))[h_name], jp.child(h_headers_at, h_name), h_ref.source
                ),
            )
            with self.at("headers", h_name):
                self.response_header(label, what, h_name, b_header, h_header)
        for h_name in _as_dict(h.get("headers")):
            if h_name not in matched:
                with self.at("headers", h_name):
                    self.emit(
                        "response-header-added",
                        f"{what} header {h_name} added",
                        label,
                        b_ref.place,
                        Place(jp.child(h_headers_at, h_name), h_ref.source),
                    )
        self.content(
            label,
            _as_dict(b.get("content")),
            jp.child(b_ref.pointer, "content"),
            b_ref.place,
            _as_dict(h.get("content")),
            jp.child(h_ref.pointer, "content"),
            h_ref.place,
            RESPONSE,
            what,
        )

    def response_header(
        self, label: str, what: str, h_name: str, b_header: Ref, h_header: Ref
    ) -> None:
        b_required = _as_dict(b_header.node).get("required") is True
        h_node = _as_dict(h_header.node)
        h_required = h_node.get("required") is True
        if b_required != h_required:
            state = "required" if h_required else "optional"
            self.emit(
                f"response-header-became-{state}",
                f"{what} header {h_name} became {state}",
                label,
                b_header.place,
                h_header.place,
            )
        b_node = _as_dict(b_header.node)
        if "schema" in b_node and "schema" in h_node:
            self.compare_schema(
                b_node["schema"],
                Place(jp.child(b_header.pointer, "schema"), b_header.source),
                h_node["schema"],
                Place(jp.child(h_header.pointer, "schema"), h_header.source),
                "response-header",
                RESPONSE,
                f"{what} header {h_name}",
                label,
                jp.child(self.scope or "", "schema"),
                text=True,
            )

    # ---- security -------------------------------------------------------------------------------

    def operation_security(
        self, label: str, b_op: dict[str, Any], b_at: Place, h_op: dict[str, Any], h_at: Place
    ) -> None:
        # Operations inheriting the global requirement on both sides are covered by
        # `global_security`, reported once rather than once per operation.
        if "security" not in b_op and "security" not in h_op:
            return
        b_sec = b_op.get("security", self.base.document.get("security"))
        h_sec = h_op.get("security", self.head.document.get("security"))
        self.security(label, b_sec, h_sec, b_at, h_at, "operation")

    def global_security(self, b_sec: Any, h_sec: Any) -> None:
        self.security(None, b_sec, h_sec, Place("/security"), Place("/security"), "api")

    def security(
        self, label: str | None, b_sec: Any, h_sec: Any, b_at: Place, h_at: Place, scope: str
    ) -> None:
        b_reqs, h_reqs = _requirements(b_sec), _requirements(h_sec)
        b_open, h_open = _is_open(b_reqs), _is_open(h_reqs)
        b_place = b_at if b_sec is not None else None
        h_place = h_at if h_sec is not None else None
        if b_open and not h_open:
            names = " or ".join("+".join(sorted(r)) for r in h_reqs)
            self.emit(
                f"{scope}-security-added", f"security {names} now required", label, b_place, h_place
            )
            return
        if h_open and not b_open:
            self.emit(
                f"{scope}-security-removed", "security no longer required", label, b_place, h_place
            )
            return
        # Identical alternatives first; then alternatives naming the same schemes are the same
        # alternative with other scopes (an API may list one scheme twice with other scopes).
        b_keys = {_requirement_key(r) for r in b_reqs}
        h_keys = {_requirement_key(r) for r in h_reqs}
        h_left = [r for r in h_reqs if _requirement_key(r) not in b_keys]
        b_left = [r for r in b_reqs if _requirement_key(r) not in h_keys]
        for b_req in b_left:
            scheme_names = frozenset(b_req)
            h_req = next((h for h in h_left if frozenset(h) == scheme_names), None)
            shown = "+".join(sorted(scheme_names))
            if h_req is None:
                self.emit(
                    f"{scope}-security-alternative-removed",
                    f"security alternative {shown} removed",
                    label,
                    b_place,
                    h_place,
                )
                continue
            h_left.remove(h_req)
            for scheme in sorted(scheme_names):
                b_scopes, h_scopes = set(b_req[scheme]), set(h_req[scheme])
                for added in sorted(h_scopes - b_scopes):
                    self.emit(
                        f"{scope}-security-scope-added",
                        f"{scheme} now requires scope {added!r}",
                        label,
                        b_place,
                        h_place,
                    )
                for removed in sorted(b_scopes - h_scopes):
                    self.emit(
                        f"{scope}-security-scope-removed",
                        f"{scheme} no longer requires scope {removed!r}",
                        label,
                        b_place,
                        h_place,
                    )
        for h_req in h_left:
            self.emit(
                f"{scope}-security-alternative-added",
                f"security alternative {'+'.join(sorted(h_req))} added",
                label,
                b_place,
                h_place,
            )

    def security_schemes(self, b_schemes: dict[str, Any], h_schemes: dict[str, Any]) -> None:
        at = "/components/securitySchemes"
        for name, b_raw in b_schemes.items():
            b_ref = self.schemas.deref(self.base, Ref(b_raw, jp.child(at, name)))
            if name not in h_schemes:
                self.emit(
                    "security-scheme-removed",
                    f"security scheme {name!r} removed",
                    None,
                    b_ref.place,
                    None,
                )
                continue
            h_ref = self.schemas.deref(self.head, Ref(h_schemes[name], jp.child(at, name)))
            b, h = _as_dict(b_ref.node), _as_dict(h_ref.node)
            if b.get("type") != h.get("type") or b.get("scheme") != h.get("scheme"):
                message = (
                    f"security scheme {name!r} changed type from {b.get('type')} to {h.get('type')}"
                )
                self.emit("security-scheme-type-changed", message, None, b_ref.place, h_ref.place)
                continue
            if (b.get("name"), b.get("in")) != (h.get("name"), h.get("in")):
                message = f"security scheme {name!r} now reads {h.get('in')} {h.get('name')!r}"
                self.emit(
                    "security-scheme-api-key-changed", message, None, b_ref.place, h_ref.place
                )
            if _flow_urls(b) != _flow_urls(h):
                message = f"security scheme {name!r} OAuth URLs changed"
                self.emit(
                    "security-scheme-oauth-url-changed", message, None, b_ref.place, h_ref.place
                )
            b_scopes, h_scopes = _flow_scopes(b), _flow_scopes(h)
            for action, scopes in (
                ("added", h_scopes - b_scopes),
                ("removed", b_scopes - h_scopes),
            ):
                for flow, scope in sorted(scopes):
                    message = f"security scheme {name!r} {flow} flow scope {scope!r} {action}"
                    self.emit(
                        f"security-scheme-oauth-scope-{action}",
                        message,
                        None,
                        b_ref.place,
                        h_ref.place,
                    )
        for name in h_schemes:
            if name not in b_schemes:
                place = Place(jp.child(at, name))
                self.emit(
                    "security-scheme-added", f"security scheme {name!r} added", None, None, place
                )

    # ---- servers and version --------------------------------------------------------------------

    def operation_servers(
        self,
        label: str,
        b_item: Ref,
        b_op: dict[str, Any],
        b_at: Place,
        h_item: Ref,
        h_op: dict[str, Any],
        h_at: Place,
    ) -> None:
        """Servers an operation or its path item names instead of the document's.

        Operations using the document's servers on both sides are covered by `servers`,
        reported once rather than once per operation."""
        b_own = b_op.get("servers") or _as_dict(b_item.node).get("servers")
        h_own = h_op.get("servers") or _as_dict(h_item.node).get("servers")
        if b_own is None and h_own is None:
            return
        b_urls = _server_urls(b_own if b_own is not None else self.base.document.get("servers"))
        h_urls = _server_urls(h_own if h_own is not None else self.head.document.get("servers"))
        for url in h_urls:
            if url not in b_urls:
                self.emit("operation-server-added", f"server {url} added", label, b_at, h_at)
        for url in b_urls:
            if url not in h_urls:
                self.emit("operation-server-removed", f"server {url} removed", label, b_at, h_at)

    def servers(self, b_servers: Any, h_servers: Any) -> None:
        b_urls = _server_urls(b_servers)
        h_urls = _server_urls(h_servers)
        for index, url in enumerate(h_urls):
            if url not in b_urls:
                place = Place(f"/servers/{index}")
                self.emit("server-added", f"server {url} added", None, None, place)
        for index, url in enumerate(b_urls):
            if url not in h_urls:
                place = Place(f"/servers/{index}")
                self.emit("server-removed", f"server {url} removed", None, place, None)

    def version(self, b_version: Any, h_version: Any) -> None:
        b_parts, h_parts = _semver(b_version), _semver(h_version)
        if b_parts is None or h_parts is None:
            return
        at = Place("/info/version")
        if h_parts < b_parts:
            message = f"info.version went down from {b_version} to {h_version}"
            self.emit("api-version-decreased", message, None, at, at)
            return
        if b_parts == h_parts:
            # The version is often bumped when releasing, not in every change.
            return
        breaking = any(c.level is Level.ERROR for c in self.changes)
        # Before 1.0.0 a minor version may break (semver's initial-development rule).
        bumped = h_parts[0] > b_parts[0] or (b_parts[0] == 0 and h_parts[1] > b_parts[1])
        if breaking and not bumped:
            message = (
                f"breaking changes found but info.version went from {b_version} to {h_version} "
                "without a new major version"
            )
            self.emit("api-version-not-bumped-for-breaking-change", message, None, at, at)


def _logical_step(token: str) -> str:
    """One property-path token as JSON pointer steps: `name` is /properties/name."""
    if token in _LOGICAL:
        return _LOGICAL[token]
    indexed = _INDEXED.match(token)
    if indexed:
        return f"/{indexed[1]}/{indexed[2]}"
    if token in _KEYWORD_TOKENS:
        return f"/{token}"
    keyword, dot, name = token.partition(".")
    if dot and keyword in ("patternProperties", "dependentSchemas"):
        return f"/{keyword}/{jp.escape(name)}"
    return "/properties/" + jp.escape(token)


def _reversed_level(change_id: str, level: Level) -> Level:
    """The level of a change when the API sends the request (webhooks, callbacks).

    Tightening what the API sends is then safe and loosening it breaks the receivers: the
    level of the same change on the other side (`response-body-...` for `request-body-...`).
    """
    for side, other in (("request-", "response-"), ("response-", "request-")):
        if change_id.startswith(side):
            return LEVELS.get(other + change_id[len(side) :], level)
    return level


def _not_a_date(unreadable: str) -> str:
    """How messages name an `x-sunset` that is not a date."""
    return f"x-sunset {unreadable!r} is not a date (YYYY-MM-DD)"


def _stability(value: Any) -> int | None:
    """The rank of an `x-stability-level` (draft 0 .. stable 3); None: absent or unknown."""
    return _STABILITY.get(value) if isinstance(value, str) else None


def _property_stability(delta: StabilityDelta) -> tuple[str, str] | None:
    """(action, detail) for a property whose `x-stability-level` moved between two known
    levels, ranked as operations' are; None: nothing to report (not a property, a level
    added or removed, or one that is not a level)."""
    if not delta.path:
        # A body, parameter or header schema as a whole: the operation's level speaks for it.
        return None
    b_level, h_level = _stability(delta.was), _stability(delta.now)
    if b_level is None or h_level is None or b_level == h_level:
        return None
    action = "stability-decreased" if h_level < b_level else "stability-increased"
    return action, f"stability changed from {delta.was} to {delta.now}"


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _earlier(new: dt.date, old: dt.date | None) -> bool:
    """Whether a sunset `new` gives clients less time than `old` (None: no date was set)."""
    return old is None or new < old


def _parameter_schema(param: dict[str, Any], at: Place) -> tuple[Any, Place]:
    if "schema" in param:
        return param["schema"], Place(jp.child(at.pointer, "schema"), at.source)
    content = param.get("content")
    if isinstance(content, dict):
        for media, value in content.items():
            if isinstance(value, dict) and "schema" in value:
                pointer = jp.child(jp.child(jp.child(at.pointer, "content"), media), "schema")
                return value["schema"], Place(pointer, at.source)
    return None, at


def _requirements(value: Any) -> list[dict[str, list[str]]]:
    if not isinstance(value, list):
        return []
    found: list[dict[str, list[str]]] = []
    for requirement in value:
        if isinstance(requirement, dict):
            found.append(
                {
                    str(name): [str(s) for s in scopes] if isinstance(scopes, list) else []
                    for name, scopes in requirement.items()
                }
            )
    return found


def _requirement_key(requirement: dict[str, list[str]]) -> frozenset[tuple[str, frozenset[str]]]:
    return frozenset((name, frozenset(scopes)) for name, scopes in requirement.items())


def _is_open(requirements: list[dict[str, list[str]]]) -> bool:
    """No requirement, or an empty one among the alternatives: anonymous calls are allowed."""
    return not requirements or any(not r for r in requirements)


def _flow_urls(scheme: dict[str, Any]) -> list[tuple[str, Any, Any, Any]]:
    flows = _as_dict(scheme.get("flows"))
    return sorted(
        (
            str(name),
            _as_dict(flow).get("authorizationUrl"),
            _as_dict(flow).get("tokenUrl"),
            _as_dict(flow).get("refreshUrl"),
        )
        for name, flow in flows.items()
    )


def _flow_scopes(scheme: dict[str, Any]) -> set[tuple[str, str]]:
    """(flow, scope) for every scope an OAuth scheme's flows define."""
    return {
        (str(flow_name), str(scope))
        for flow_name, flow in _as_dict(scheme.get("flows")).items()
        for scope in _as_dict(_as_dict(flow).get("scopes"))
    }


def _server_urls(value: Any) -> list[str]:
    urls = (
        [str(s.get("url")) for s in value if isinstance(s, dict) and "url" in s]
        if isinstance(value, list)
        else []
    )
    # No servers means one server, "/" (OpenAPI 3), which is also what 2.0 without host becomes.
    return urls or ["/"]


def _semver(value: Any) -> tuple[int, int, int] | None:
    if not isinstance(value, str):
        return None
    match = _SEMVER.match(value.strip())
    if not match:
        return None
    return int(match[1]), int(match[2] or 0), int(match[3] or 0)

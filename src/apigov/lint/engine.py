"""Run a ruleset over a document: compile every `given` once, then walk the document once.

The walk carries, for every node, the set of (path, position) states of all compiled `given`
paths (an NFA over the node's path). Entering a child advances every state; a state at the end
of its path dispatches its rule on that node. Transitions that depend only on the key are
cached per state set, so the cost per node is a dictionary lookup for most nodes.

Rules that read the resolved document (Spectral's default) see a `$ref` replaced by its target;
rules with `resolved: false` see the `$ref` itself. Both kinds ride the same walk: at a `$ref`
the state set splits, the unresolved states step into the `$ref` object and the resolved ones
into its target. A target is walked with each resolved state once, whichever routes lead to it
and where it is written: states evolve independently of each other, and a state's findings at a
target do not depend on the route (they are reported where the node is written, deduplicated
like Spectral's (rule, path, file, message)), so a route, or the written place, walks only the
states no other has walked there yet.

On a large document the costliest calls (the document schema, examples, the checks that read
the whole document) may be made by a helper process while the walk goes on: `dispatch` sends
them there (`helper.py`), and the run gathers the helper's results at its end.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from apigov.findings import Finding
from apigov.lint.context import FunctionContext, Path, Result
from apigov.lint.filters import FILTER_ERRORS, UNDEFINED
from apigov.lint.functions import core
from apigov.lint.functions.oas import VIEW_SHAPES, ViewShape
from apigov.lint.helper import MIN_DOCUMENT_BYTES, Helper, can_fork, heavy_numbers
from apigov.lint.jsonpath import (
    CompiledPath,
    JsonPathError,
    Selector,
    compile_given,
    compile_path,
    query,
)
from apigov.lint.resolve import follow, is_ref
from apigov.lint.ruleset import Rule, Ruleset, Then, document_formats
from apigov.spec import pointer as jp
from apigov.spec.errors import InputError
from apigov.spec.model import ApiSpec
from apigov.spec.sources import Source

_POSITIONS = 256  # positions per path in the state encoding (no `given` has 256 segments)
_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
# Built-in functions that never read their context (their results carry no path): they share
# one context per run instead of one each call, and most calls are theirs (every description
# and title of a document is checked twice for markup).
CONTEXT_FREE = frozenset({core.pattern, core.casing, core.enumeration, core.xor, core.or_})


def expand_aliases(
    given: str, ruleset: Ruleset, formats: frozenset[str], depth: int = 0
) -> list[str]:
    """`#OperationObject.responses` -> every path the alias stands for, for these formats."""
    if not given.startswith("#"):
        return [given]
    if depth > 16:
        raise InputError(given, "aliases refer to each other in a cycle")
    name_end = 1
    while name_end < len(given) and (given[name_end].isalnum() or given[name_end] in "_-"):
        name_end += 1
    name, rest = given[1:name_end], given[name_end:]
    targets = ruleset.aliases.get(name)
    if targets is None:
        raise InputError(given, f"unknown alias #{name}")
    expanded: list[str] = []
    for target in targets:
        if target.formats is not None and not (target.formats & formats):
            continue
        for path in target.given:
            expanded.extend(expand_aliases(path + rest, ruleset, formats, depth + 1))
    return expanded


class CompiledRuleset:
    """The rules that apply to one set of formats, with every `given` compiled once."""

    def __init__(self, ruleset: Ruleset, formats: frozenset[str]) -> None:
        self.ruleset = ruleset
        self.formats = formats
        self.rules: list[Rule] = []
        self.paths: list[tuple[CompiledPath, int]] = []  # (segments, index into self.rules)
        self.resolved: list[bool] = []
        self.keys_only: list[bool] = []
        for rule in ruleset.enabled():
            if rule.formats is not None and not (rule.formats & formats):
                continue
            index = len(self.rules)
            self.rules.append(rule)
            for given in rule.given:
                for text in expand_aliases(given, ruleset, formats):
                    try:
                        compiled, keys_only = compile_given(text)
                    except JsonPathError as error:
                        raise InputError(
                            rule.name, f"cannot compile given {text!r}: {error}"
                        ) from None
                    if len(compiled) >= _POSITIONS:
                        raise InputError(rule.name, f"given {text!r} is too long")
                    self.paths.append((compiled, index))
                    self.resolved.append(rule.resolved)
                    self.keys_only.append(keys_only)
        # What a path that reaches its end dispatches: its rule, and whether it selects keys.
        # Each `then` with the test that spares calling its function, where there is one.
        thens = [tuple((then, _quick_pass(then)) for then in rule.then) for rule in self.rules]
        self.targets = [
            (self.rules[index], keys_only, thens[index])
            for (_, index), keys_only in zip(self.paths, self.keys_only, strict=True)
        ]
        self._infos: dict[frozenset[int], _StateInfo] = {}
        self.pairs: dict[tuple[_StateInfo | None, _StateInfo | None], _Pair] = {}

    def pair(self, info_u: _StateInfo | None, info_r: _StateInfo | None) -> _Pair:
        """The one `_Pair` of the two state sets a node is walked with (cached)."""
        found = self.pairs[info_u, info_r] = _Pair(info_u, info_r)
        return found

    def initial(self, resolved: bool) -> frozenset[int]:
        return frozenset(
            number * _POSITIONS for number, flag in enumerate(self.resolved) if flag == resolved
        )

    def info(self, states: frozenset[int]) -> _StateInfo:
        """The one `_StateInfo` of a set of states (so its caches serve every node)."""
        found = self._infos.get(states)
        if found is None:
            found = _StateInfo(states, self)
            self._infos[states] = found
        return found


class _StateInfo:
    """Everything about a set of states that does not depend on the node being entered."""

    __slots__ = (
        "by_name",
        "compiled",
        "dynamic",
        "dynamic_keys",
        "for_lists",
        "for_scalars",
        "keep",
        "matched",
        "named_keys",
        "scalars_dispatch",
        "states",
        "static",
    )

    def __init__(self, states: frozenset[int], compiled: CompiledRuleset) -> None:
        self.states = states
        self.compiled = compiled
        paths = compiled.paths
        self.matched: list[int] = []
        keep: set[int] = set()
        wildcard: set[int] = set()
        self.by_name: dict[str, set[int]] = {}
        grouped: dict[Selector, list[int]] = {}
        for state in states:
            number, position = divmod(state, _POSITIONS)
            segments = paths[number][0]
            if position == len(segments):
                self.matched.append(number)
                continue
            segment = segments[position]
            following = state + 1
            if segment.descendant:
                keep.add(state)
            selector = segment.selector
            if selector.wildcard:
                wildcard.add(following)
            elif selector.names is not None:
                for name in selector.names:
                    self.by_name.setdefault(name, set()).add(following)
            else:
                grouped.setdefault(selector, []).append(following)
        self.matched.sort()
        # Identical selectors (the same filter in several rules) are evaluated once per node;
        # filters that only objects and arrays can pass are not evaluated on scalars.
        # A filter that reads `@.name` cannot hold for an object without `name`: that is
        # checked here, without building the filter's context, for most nodes of a document.
        self.dynamic = [
            (selector, tuple(found), selector.predicate.keys if selector.predicate else None)
            for selector, found in grouped.items()
        ]
        # When every filter needs one of some keys, an object with none of them is passed over
        # with one set operation instead of one per filter.
        needed = [entry[2] for entry in self.dynamic if entry[2] is not None]
        self.dynamic_keys: frozenset[str] | None = (
            frozenset().union(*needed) if needed and len(needed) == len(self.dynamic) else None
        )
        self.for_lists = [entry for entry in self.dynamic if entry[2] is None]
        self.for_scalars = [
            entry
            for entry in self.for_lists
            if entry[0].predicate is None or not entry[0].predicate.containers_only
        ]
        self.keep = frozenset(keep | wildcard)
        # Whether a scalar child whose key no selector names can end a path (a wildcard last
        # segment) or be filtered; if not, such a child only needs counting.
        self.scalars_dispatch = bool(self.for_scalars) or any(
            state % _POSITIONS == len(paths[state // _POSITIONS][0]) for state in self.keep
        )
        # The keys `static_step` looks up by name, also as the index of an array item.
        named: set[str | int] = set(self.by_name)
        named.update(int(name) for name in self.by_name if name.isdigit() and name.isascii())
        self.named_keys = frozenset(named)
        # key -> the states after entering a child of that name, when no filter adds any
        self.static: dict[str | int, _StateInfo | None] = {}

    def step(self, key: str | int, value: Any, parent: Any, where: Path) -> _StateInfo | None:
        """The states after entering child `key` (holding `value`) of `parent`, which is at
        `where`; None: no state is left."""
        try:
            static = self.static[key]
        except KeyError:
            static = self.static_step(key)
        if isinstance(value, dict):
            if self.dynamic and (
                self.dynamic_keys is None or not self.dynamic_keys.isdisjoint(value)
            ):
                return self.dynamic_step(key, value, parent, where, static, self.dynamic)
        elif isinstance(value, list):
            if self.for_lists:
                return self.dynamic_step(key, value, parent, where, static, self.for_lists)
        elif self.for_scalars:
            return self.dynamic_step(key, value, parent, where, static, self.for_scalars)
        return static

    def static_step(self, key: str | int) -> _StateInfo | None:
        """The states after entering child `key` that do not depend on its value (cached)."""
        named = self.by_name.get(str(key))
        states = self.keep | named if named else self.keep
        static = self.compiled.info(states) if states else None
        self.static[key] = static
        return static

    def dynamic_step(
        self,
        key: str | int,
        value: Any,
        parent: Any,
        where: Path,
        static: _StateInfo | None,
        candidates: list[tuple[Selector, tuple[int, ...], frozenset[str] | None]],
    ) -> _StateInfo | None:
        """`static` plus the states the filters among `candidates` add for this child (the
        caller has checked `dynamic_keys` for an object)."""
        path: Path | None = None
        extra: list[int] = []
        for selector, found, keys in candidates:
            if keys is not None and keys.isdisjoint(value):
                continue
            predicate = selector.predicate
            if predicate is None:
                if path is None:
                    path = (*where, key)
                if not selector.accepts(key, value, parent, path):
                    continue
            else:
                if predicate.reads_path and path is None:
                    path = (*where, key)
                # `Predicate.test` without its checks of `keys`, made above.
                function = predicate.function or predicate.compiled()
                try:
                    if not function(value, key, parent, path):
                        continue
                except FILTER_ERRORS:
                    continue
            extra.extend(found)
        if not extra:
            return static
        return self.compiled.info(static.states.union(extra) if static else frozenset(extra))


class _Pair:
    """What the walk reads, for every child of a node, about the two state sets it carries
    (`info_u` over the document as written, `info_r` over its resolved view): one tuple,
    unpacked once per node rather than attributes read per child."""

    __slots__ = ("fields",)

    def __init__(self, info_u: _StateInfo | None, info_r: _StateInfo | None) -> None:
        infos = [info for info in (info_u, info_r) if info is not None]
        # A scalar child is entered (and counted) when some state survives it; it needs the
        # full step only where a selector names its key or could end a path at any key.
        named = frozenset[str | int]().union(*(info.named_keys for info in infos))
        every_scalar = any(info.scalars_dispatch for info in infos)
        alive = int(any(info.keep for info in infos))
        self.fields = (
            *_side_fields(info_u),
            *_side_fields(info_r),
            named,
            every_scalar,
            alive,
        )


def _side_fields(info: _StateInfo | None) -> tuple[Any, ...]:
    if info is None:
        return (None, (), None, ())
    return (info.static, info.dynamic, info.dynamic_keys, info.for_lists)


_MISSING: Any = object()


class _Raw:
    """A finding before it has a place: the rule, the path in the walked view, the message."""

    __slots__ = ("message", "path", "resolved", "rule")

    def __init__(self, rule: Rule, path: Path, message: str, resolved: bool) -> None:
        self.rule = rule
        self.path = path
        self.message = message
        self.resolved = resolved


class LintRun:
    """One document through one compiled ruleset."""

    def __init__(
        self,
        spec: ApiSpec,
        compiled: CompiledRuleset,
        referenced: frozenset[str] = frozenset(),
        *,
        helper: bool = False,
    ) -> None:
        self.spec = spec
        self.compiled = compiled
        self.referenced = referenced
        self.raw: list[_Raw] = []
        self._walked: dict[tuple[str, str], frozenset[int]] = {}
        """The resolved states each `$ref` target (file key, pointer) has been walked with, by
        every route and where it is written: each state is walked there once."""
        self._written: dict[int, tuple[Path, tuple[str, str]]] = {}
        """By id of a node of the root document that some `$ref` names: where it is written, and
        its place as the `$ref`s name it."""
        self._written_keys: frozenset[str | int] = frozenset()
        """The last key of every place in `_written`: the walk's first, cheap test."""
        self._views: dict[int, Any] = {}
        self._shaped_views: dict[tuple[int, int], Any] = {}
        self._memo: dict[Any, Any] = {}
        """What functions keep for the run (`FunctionContext.memo`)."""
        self._follows: dict[tuple[int, str], tuple[Any, Source, str] | None] = {}
        """`follow` per (id of the referring file's `Source`, `$ref`): most refs repeat."""
        self._context: FunctionContext | None = None
        """The one context of the functions that never read theirs (`CONTEXT_FREE`)."""
        self.nodes_visited = 0
        """How many nodes the walk entered (each at most once per state set it is walked with)."""
        self._use_helper = helper
        self.helper: Helper | None = None
        """The process the heaviest calls go to while the walk goes on (`helper.py`), if any."""
        self._to_helper: frozenset[int] = frozenset()
        """The path numbers whose dispatches go to `helper`."""

    def run(self) -> list[Finding]:
        root = self.spec.source.data
        compiled = self.compiled
        self._find_written()
        unresolved = compiled.initial(False)
        resolved = compiled.initial(True)
        helper = self.helper = self._start_helper()
        try:
            self.walk(
                root,
                "",
                None,
                (),
                self.spec.source,
                compiled.info(unresolved) if unresolved else None,
                compiled.info(resolved) if resolved else None,
                (),
            )
            self.helper, self._to_helper = None, frozenset()
            if helper is not None:
                helper.close()
            # The resolved view and the functions' compiled validators are done with: released
            # before finding positions, which may parse the document a second time (`LineMap`
            # then gives the freed memory back to the system first).
            self._views.clear()
            self._shaped_views.clear()
            self._memo.clear()
            self._follows.clear()
            if helper is None:
                return self.findings(self.raw)
            # This process's own findings are placed while the helper finishes its calls.
            seen: set[tuple[str, str, str, str]] = set()
            found = self.findings(self.raw, seen)
            found.extend(self.findings(self._helper_results(helper), seen))
            return found
        except BaseException:
            if helper is not None:
                helper.stop()
            raise

    def _start_helper(self) -> Helper | None:
        """A helper for this run (`helper.py`), when asked for and worth its cost."""
        if not self._use_helper or not can_fork():
            return None
        if sum(len(source.raw) for source in self.spec.files.values()) < MIN_DOCUMENT_BYTES:
            return None
        numbers = heavy_numbers(self.compiled)
        if not numbers:
            return None
        try:
            helper = Helper(self)
        except OSError:  # no process to be had (a limit on processes): none is needed
            return None
        # Set after the fork: the helper makes the calls it is sent instead of sending them on.
        self._to_helper = numbers
        return helper

    def _helper_results(self, helper: Helper) -> list[_Raw]:
        """What the helper found; if it failed, the calls it was sent are made here."""
        results = helper.results()
        if results is None:
            mine, self.raw = self.raw, []
            try:
                for task in helper.pending:
                    self.dispatch(*task)
                return self.raw
            finally:
                self.raw = mine
        targets = self.compiled.targets
        return [
            _Raw(targets[number][0], tuple(path), message, resolved)
            for number, path, message, resolved in results
        ]

    def _find_written(self) -> None:
        """The places of the root document that `$ref`s name (`_written`)."""
        spec = self.spec
        root = spec.source
        found: list[tuple[Any, str]] = []
        for ref in dict.fromkeys(ref for _path, ref in root.parsed.refs):
            step = self._follow(ref, root)  # the walk follows them too: cached
            if step is not None and step[1] is root:
                found.append((step[0], step[2]))
        found.extend(
            (target.node, target.pointer)
            for target in spec.targets.values()
            if target.source is root
        )
        # A place is known by its node and where the walk finds it: the node alone could be
        # written at two places (a YAML alias). An index into a list stays a string here, so
        # a place below a list is walked as before (`where` holds an int there).
        for node, pointer in found:
            if (type(node) is dict or type(node) is list) and pointer.startswith("/"):
                where = tuple(jp.split(pointer) if "~" in pointer else pointer[1:].split("/"))
                self._written[id(node)] = (where, (root.key, pointer))
        self._written_keys = frozenset(where[-1] for where, _ in self._written.values())

    def _unwalked(self, place: tuple[str, str], info_r: _StateInfo) -> _StateInfo | None:
        """The states of `info_r` not yet walked at `place`, which are then counted as walked."""
        done = self._walked.get(place)
        if done is None:
            self._walked[place] = info_r.states
            return info_r
        states = info_r.states
        if states <= done:
            return None
        self._walked[place] = done | states
        return self.compiled.info(states - done)

    def _written_states(self, node: Any, where: Path, info_r: _StateInfo) -> _StateInfo | None:
        """At a node some `$ref` names, reached where it is written: the resolved states not
        yet walked there through a `$ref` (every other node: `info_r`)."""
        found = self._written.get(id(node))
        if found is None or found[0] != where:
            return info_r
        return self._unwalked(found[1], info_r)

    # ---- the one walk ----------------------------------------------------------------------

    def walk(
        self,
        node: Any,
        key: str | int,
        parent: Any,
        where: Path,
        source: Source,
        info_u: _StateInfo | None,
        info_r: _StateInfo | None,
        stack: tuple[tuple[str, str], ...],
    ) -> None:
        """Dispatch the rules whose paths end at `node`, then walk its children with the states
        each child leaves alive (`info_u`: paths over the document as written, `info_r`: over
        its resolved view)."""
        if info_u is not None:
            for number in info_u.matched:
                self.dispatch(number, node, key, where, source, False)
        if info_r is not None:
            for number in info_r.matched:
                self.dispatch(number, node, key, where, source, True)
        # The parser gives plain dicts and lists (never subclasses): a type test is cheaper
        # than `isinstance`, and the walk makes two per child.
        kind = type(node)
        if kind is dict:
            children: Iterable[tuple[str | int, Any]] = node.items()
        elif kind is list:
            children = enumerate(node)
        else:
            self.nodes_visited += 1
            return
        try:
            pair = self.compiled.pairs[info_u, info_r]
        except KeyError:
            pair = self.compiled.pair(info_u, info_r)
        (
            static_u,
            dynamic_u,
            keys_u,
            lists_u,
            static_r,
            dynamic_r,
            keys_r,
            lists_r,
            named,
            every_scalar,
            alive,
        ) = pair.fields
        visited = 1  # this node, and the scalars below it that some state enters
        # `_StateInfo.step`, inlined for the common case (the states after a key are cached;
        # filters only run where some could hold for this kind of child): the walk enters
        # every node of most documents, and a call per node and view was a third of its time.
        for child_key, child in children:
            kind = type(child)
            if kind is dict:
                next_u = None
                if static_u is not None:
                    next_u = static_u.get(child_key, _MISSING)
                    if next_u is _MISSING:
                        next_u = info_u.static_step(child_key)  # type: ignore[union-attr]
                    # An object with none of the keys every filter needs is passed over here.
                    if dynamic_u and (keys_u is None or not keys_u.isdisjoint(child)):
                        next_u = info_u.dynamic_step(  # type: ignore[union-attr]
                            child_key, child, node, where, next_u, dynamic_u
                        )
                next_r = None
                if static_r is not None:
                    if type(child.get("$ref")) is str:
                        self._walk_ref(
                            child_key,
                            child,
                            node,
                            where,
                            source,
                            next_u,
                            info_r,  # type: ignore[arg-type]
                            stack,
                        )
                        continue
                    next_r = static_r.get(child_key, _MISSING)
                    if next_r is _MISSING:
                        next_r = info_r.static_step(child_key)  # type: ignore[union-attr]
                    if dynamic_r and (keys_r is None or not keys_r.isdisjoint(child)):
                        next_r = info_r.dynamic_step(  # type: ignore[union-attr]
                            child_key, child, node, where, next_r, dynamic_r
                        )
                    if next_r is not None and child_key in self._written_keys:
                        next_r = self._written_states(child, (*where, child_key), next_r)
                if next_u is not None or next_r is not None:
                    self.walk(
                        child, child_key, node, (*where, child_key), source, next_u, next_r, stack
                    )
                continue
            if kind is list:
                next_u = None
                if static_u is not None:
                    next_u = static_u.get(child_key, _MISSING)
                    if next_u is _MISSING:
                        next_u = info_u.static_step(child_key)  # type: ignore[union-attr]
                    if lists_u:
                        next_u = info_u.dynamic_step(  # type: ignore[union-attr]
                            child_key, child, node, where, next_u, lists_u
                        )
                next_r = None
                if static_r is not None:
                    next_r = static_r.get(child_key, _MISSING)
                    if next_r is _MISSING:
                        next_r = info_r.static_step(child_key)  # type: ignore[union-attr]
                    if lists_r:
                        next_r = info_r.dynamic_step(  # type: ignore[union-attr]
                            child_key, child, node, where, next_r, lists_r
                        )
                    if next_r is not None and child_key in self._written_keys:
                        next_r = self._written_states(child, (*where, child_key), next_r)
                if next_u is not None or next_r is not None:
                    self.walk(
                        child, child_key, node, (*where, child_key), source, next_u, next_r, stack
                    )
                continue
            # A scalar: most of a document's nodes. Unless a selector names its key (or could
            # end a path at any key), no rule's path ends here and the states that survive it
            # are the ones kept at any key: nothing to do but count it.
            if not every_scalar and child_key not in named:
                visited += alive
                continue
            next_u = info_u.step(child_key, child, node, where) if info_u is not None else None
            next_r = info_r.step(child_key, child, node, where) if info_r is not None else None
            if next_u is None and next_r is None:
                continue
            visited += 1
            if (next_u is None or not next_u.matched) and (next_r is None or not next_r.matched):
                continue
            child_where = (*where, child_key)
            if next_u is not None:
                for number in next_u.matched:
                    self.dispatch(number, child, child_key, child_where, source, False)
            if next_r is not None:
                for number in next_r.matched:
                    self.dispatch(number, child, child_key, child_where, source, True)
        self.nodes_visited += visited

    def _walk_ref(
        self,
        child_key: str | int,
        child: dict[str, Any],
        node: Any,
        where: Path,
        source: Source,
        next_u: _StateInfo | None,
        info_r: _StateInfo,
        stack: tuple[tuple[str, str], ...],
    ) -> None:
        """A child holding a `$ref`: the written `$ref` object for the unresolved states, its
        target (with the states not yet walked there) for the resolved ones."""
        target = self.target(child, source, stack)
        if target is None:
            # Not followed (missing, or looping back): the `$ref` object is walked as written.
            next_r = info_r.step(child_key, child, node, where)
            if next_u is not None or next_r is not None:
                self.walk(
                    child, child_key, node, (*where, child_key), source, next_u, next_r, stack
                )
            return
        value, target_source, pointer = target
        child_where = (*where, child_key)
        next_r = info_r.step(child_key, value, node, where)
        if next_u is not None:
            if (
                len(child) == 1
                and not next_u.matched
                and not next_u.scalars_dispatch
                and "$ref" not in next_u.named_keys
            ):
                # `{"$ref": ...}` alone, where no unresolved path ends at it or at its `$ref`
                # (most are walked only for a descendant path): counted as `walk` would.
                self.nodes_visited += 2 if next_u.keep else 1
            else:
                self.walk(child, child_key, node, child_where, source, next_u, None, stack)
        if next_r is not None:
            place = (target_source.key, pointer)
            # Only the states not yet walked at the target (by any route, or where it is
            # written): a state's findings there do not depend on the route.
            next_r = self._unwalked(place, next_r)
            if next_r is not None:
                self.walk(
                    value,
                    child_key,
                    node,
                    child_where,
                    target_source,
                    None,
                    next_r,
                    (*stack, place),
                )

    def _follow(self, ref: str, source: Source) -> tuple[Any, Source, str] | None:
        key = (id(source), ref)
        try:
            return self._follows[key]
        except KeyError:
            found = self._follows[key] = follow(self.spec, ref, source)
            return found

    def target(
        self, node: Any, source: Source, stack: tuple[tuple[str, str], ...]
    ) -> tuple[Any, Source, str] | None:
        """Follow a chain of `$ref`s; None when it cannot be followed or loops back."""
        chain: list[tuple[str, str]] = []
        current, current_source = node, source
        found: tuple[Any, Source, str] | None = None
        for _ in range(32):
            if type(current) is not dict or type(current.get("$ref")) is not str:
                return found
            step = self._follow(current["$ref"], current_source)
            if step is None:
                return None
            current, current_source, pointer = step
            place = (current_source.key, pointer)
            if place in stack or place in chain:
                return None
            chain.append(place)
            found = step
        return None

    # ---- rules -------------------------------------------------------------------------------

    def dispatch(
        self, number: int, node: Any, key: str | int, where: Path, source: Source, resolved: bool
    ) -> None:
        if number in self._to_helper:
            self.helper.send((number, node, key, where, source, resolved))  # type: ignore[union-attr]
            return
        rule, keys_only, thens = self.compiled.targets[number]
        if keys_only:
            node = key
        for then, passes in thens:
            if then.field is None or (type(node) is not dict and type(node) is not list):
                # Most rules check the node itself: no field to look up.
                if passes is None or not passes(node):
                    self._call(rule, then, node, where, source, resolved)
                continue
            for relative, value, value_source in self._targets(
                node, key, then.field, resolved, source
            ):
                if passes is None or not passes(value):
                    self._call(rule, then, value, (*where, *relative), value_source, resolved)

    def _call(
        self, rule: Rule, then: Then, value: Any, path: Path, source: Source, resolved: bool
    ) -> None:
        if resolved and (type(value) is dict or type(value) is list):
            value = self.resolved_view(value, source, VIEW_SHAPES.get(then.function))
        if then.function in CONTEXT_FREE:
            context = self._shared_context()
        else:
            context = FunctionContext(
                self.spec.source.data,
                path,
                self.compiled.formats,
                self.spec,
                source,
                rule.name,
                self.referenced,
                self._memo,
            )
        try:
            results = then.function(value, then.options, context)
        except (MemoryError, RecursionError):
            raise
        except Exception as error:  # a custom function's bug: name the rule and file
            raise InputError(
                self.spec.name,
                f"rule {rule.name!r}: function {then.function_name} failed: "
                f"{type(error).__name__}: {error}",
            ) from error
        for result in results or ():
            self.raw.append(_Raw(rule, _result_path(result, path), result.message, resolved))

    def _shared_context(self) -> FunctionContext:
        """The context of the functions that never read theirs (`CONTEXT_FREE`)."""
        if self._context is None:
            self._context = FunctionContext(
                self.spec.source.data, (), self.compiled.formats, self.spec, memo=self._memo
            )
        return self._context

    def _targets(
        self, node: Any, key: str | int, field_name: str, resolved: bool, source: Source
    ) -> Iterator[tuple[Path, Any, Source]]:
        if field_name == "@key":
            if isinstance(node, dict) and node:
                for name in node:
                    yield (name,), name, source
            else:
                yield (), UNDEFINED, source
            return
        if field_name == "$" or field_name.startswith(("$.", "$[")):
            matches = query(node, _field_path(field_name))
            if not matches:
                yield (), UNDEFINED, source
            for relative, match in matches:
                yield relative, match, source
            return
        tokens = _field_tokens(field_name)
        value: Any = node
        current = source
        for token in tokens:
            if resolved and is_ref(value):
                step = self._follow(value["$ref"], current)
                if step is not None:
                    value, current, _ = step
            value = _get(value, token)
            if value is UNDEFINED:
                break
        if resolved and is_ref(value):
            step = self._follow(value["$ref"], current)
            if step is not None:
                value, current, _ = step
        yield tokens, value, current

    def resolved_view(self, node: Any, source: Source, shape: ViewShape | None = None) -> Any:
        """`node` with every `$ref` below it replaced by its target, as Spectral's functions see it.

        Each written node is resolved once and shared (as in Spectral's resolved document), so
        a schema used a thousand times costs one copy; a node with no `$ref` below it is its own
        view (no copy); a `$ref` that loops back stays a `$ref`.

        `shape`: resolve only the places a function reads (`VIEW_SHAPES`): `node` itself, and
        below it the keys the shape names (`*`: any key) as far as it goes; a key mapped to
        None is resolved whole. The operations of a document without every schema they use.
        Shaped views are cached by the shape's identity: shapes are constants.
        """
        if not isinstance(node, (dict, list)):
            return node
        try:
            return self._resolve(node, source, (), shape)
        except RecursionError:
            return node

    def _resolve(
        self,
        node: Any,
        source: Source,
        stack: tuple[tuple[str, str], ...],
        shape: ViewShape | None,
    ) -> Any:
        memo = self._views.get(id(node))  # a full view serves any shape
        if memo is not None:
            return memo
        if shape is not None:
            memo = self._shaped_views.get((id(node), id(shape)))
            if memo is not None:
                return memo
        is_dict = type(node) is dict
        if is_dict and type(node.get("$ref")) is str:
            target = self.target(node, source, stack)
            if target is None:
                return node
            value, target_source, pointer = target
            if type(value) is not dict and type(value) is not list:
                return value
            place = (target_source.key, pointer)
            return self._resolve(value, target_source, (*stack, place), shape)
        # Copied only where something below changes: most of a document holds no `$ref`.
        result: Any = node
        if shape is None or shape:
            children = node.items() if is_dict else enumerate(node)
            for key, value in children:
                kind = type(value)
                if kind is not dict and kind is not list:
                    continue
                if shape is None:
                    below = None
                elif key in shape:
                    below = shape[key]
                elif "*" in shape:
                    below = shape["*"]
                else:
                    continue
                view = self._resolve(value, source, stack, below)
                if view is not value:
                    if result is node:
                        result = dict(node) if is_dict else list(node)
                    result[key] = view
        if shape is None:
            self._views[id(node)] = result
        else:
            self._shaped_views[(id(node), id(shape))] = result
        return result

    # ---- places ------------------------------------------------------------------------------

    def findings(
        self, raws: list[_Raw], seen: set[tuple[str, str, str, str]] | None = None
    ) -> list[Finding]:
        """The findings of `raws`, placed in their files; `seen`: the fingerprints of findings
        already made (Spectral reports a (rule, path, file, message) once)."""
        found: list[Finding] = []
        seen = set() if seen is None else seen
        for raw in raws:
            source, tokens = self.place(raw.path, raw.resolved)
            pointer = jp.join(tokens)
            message = _message(raw.rule, raw.message, tokens, source)
            fingerprint = (raw.rule.name, pointer, source.key, message)
            if fingerprint in seen:
                continue
            seen.add(fingerprint)
            level = self.compiled.ruleset.severity_for(raw.rule, source.key, pointer)
            if level is None:
                continue
            location = source.locate(pointer)
            found.append(
                Finding(
                    id=raw.rule.name,
                    level=level,
                    message=message,
                    location=location,
                    service=self.spec.service,
                    operation=_operation(tokens) if source is self.spec.source else None,
                )
            )
        return found

    def place(self, path: Path, resolved: bool) -> tuple[Source, list[str | int]]:
        """Where a path of the walked view is written: the file and the closest existing path."""
        source = self.spec.source
        node: Any = source.data
        tokens: list[str | int] = []
        for token in path:
            if resolved and is_ref(node) and not (isinstance(node, dict) and token in node):
                step = self.target(node, source, ())
                if step is None:
                    break
                node, source, pointer = step
                tokens = list(jp.split(pointer))
            child = _get(node, token)
            if child is UNDEFINED:
                break
            node = child
            tokens.append(token)
        return source, tokens


def _quick_pass(then: Then) -> Callable[[Any], bool] | None:
    if then.function is core.pattern:
        return core.pattern_passes(then.options)
    return None


def _result_path(result: Result, target_path: Path) -> Path:
    return tuple(result.path) if result.path is not None else target_path


@functools.lru_cache(maxsize=256)
def _field_path(field_name: str) -> CompiledPath:
    try:
        return compile_path(field_name)
    except JsonPathError as error:
        raise InputError(field_name, f"cannot compile field: {error}") from None


@functools.lru_cache(maxsize=256)
def _field_tokens(field_name: str) -> tuple[str | int, ...]:
    tokens: list[str | int] = []
    for part in field_name.replace("]", "").replace("[", ".").split("."):
        if part == "":
            continue
        part = part.strip("'\"")
        tokens.append(int(part) if part.isdigit() else part)
    return tuple(tokens)


def _get(node: Any, token: str | int) -> Any:
    if isinstance(node, dict):
        return node.get(str(token), UNDEFINED)
    if isinstance(node, list):
        index = token if isinstance(token, int) else int(token) if str(token).isdigit() else -1
        return node[index] if 0 <= index < len(node) else UNDEFINED
    return UNDEFINED


def _message(rule: Rule, error: str, tokens: list[str | int], source: Source) -> str:
    if not rule.message:
        # As Spectral: a rule without a message speaks with its description.
        return rule.description or error or rule.name
    text = rule.message
    if "{{" not in text:
        return text.strip()
    value: Any = source.data
    for token in tokens:
        value = _get(value, token)
    replacements = {
        "error": error,
        "property": str(tokens[-1]) if tokens else "",
        "path": jp.join(tokens),
        "description": rule.description,
        "value": "" if value is UNDEFINED else str(value),
    }
    for name, replacement in replacements.items():
        text = text.replace("{{" + name + "}}", replacement)
    return text.strip()


def _operation(tokens: list[str | int]) -> str | None:
    if len(tokens) >= 3 and tokens[0] == "paths" and str(tokens[2]) in _METHODS:
        return f"{str(tokens[2]).upper()} {tokens[1]}"
    return None


def referenced_targets(spec: ApiSpec) -> frozenset[str]:
    """Every place in the root document some `$ref` names (`#/components/schemas/Pet`)."""
    found: set[str] = set()
    for _path, ref in spec.source.parsed.refs:
        if ref.startswith("#"):
            found.add(ref)
    for target in spec.targets.values():
        if target.source is spec.source:
            found.add("#" + target.pointer)
    for source in spec.files.values():
        if source is spec.source:
            continue
        for _path, ref in source.parsed.refs:
            file_part, _, fragment = ref.partition("#")
            found_target = spec.targets.get((source.key, ref))
            if file_part and found_target is not None and found_target.source is spec.source:
                found.add("#" + fragment)
    return frozenset(found)


class Linter:
    """A ruleset, compiled once per set of formats, applied to any number of documents."""

    def __init__(self, ruleset: Ruleset, *, helper: bool = False) -> None:
        self.ruleset = ruleset
        self.helper = helper
        """Whether large documents may hand their heaviest calls to a helper process."""
        # by (id of the ruleset for a file, formats); `Ruleset.for_file` keeps those alive
        self._compiled: dict[tuple[int, frozenset[str]], CompiledRuleset] = {}

    def compiled_for(
        self, formats: frozenset[str], ruleset: Ruleset | None = None
    ) -> CompiledRuleset:
        ruleset = ruleset or self.ruleset
        key = (id(ruleset), formats)
        found = self._compiled.get(key)
        if found is None:
            found = CompiledRuleset(ruleset, formats)
            self._compiled[key] = found
        return found

    def lint(self, spec: ApiSpec) -> list[Finding]:
        ruleset = self.ruleset.for_file(spec.source.key)
        compiled = self.compiled_for(document_formats(spec.version), ruleset)
        return LintRun(spec, compiled, referenced_targets(spec), helper=self.helper).run()

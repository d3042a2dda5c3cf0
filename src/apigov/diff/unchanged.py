"""Which parts of two versions are unchanged, `$ref`s included, found once before the walk.

Most of a pull request's two versions are the same. A component is *clean* when its node is
equal in both documents and every component it refers to, directly or through others, is clean
too; a path item is clean when its node is equal and everything it refers to is clean. The
engine skips a clean path item without looking inside, and compares a clean component with
itself in O(1) instead of walking it and every schema it reaches.

Built from the `$ref` list the loader collected while parsing (no second walk of the
documents). Only for single-file 3.x documents, where pointers in `ApiSpec.document` are the
pointers the loader saw; for anything else nothing is clean and the engine compares everything.
"""

from __future__ import annotations

import bisect
import urllib.parse
from collections import defaultdict
from typing import Any

from apigov.spec import pointer as jp
from apigov.spec.model import ApiSpec

Tokens = tuple[str, ...]
# Past every string a JSON key can hold: the end of the range of paths below a prefix.
_AFTER_ALL = "\U0010ffff"


class Unchanged:
    def __init__(self, base: ApiSpec, head: ApiSpec) -> None:
        self._base = base.document
        self._head = head.document
        self.enabled = _plain(base) and _plain(head)
        # (path of the mapping holding a `$ref`, its target's tokens or None), sorted by path.
        self._refs: list[tuple[Tokens, Tokens | None]] = []
        self._paths: list[Tokens] = []
        self._clean_units: set[Tokens] = set()
        self._clean_pointers: set[str] = set()
        if self.enabled:
            self._build(base)

    def _build(self, base: ApiSpec) -> None:
        refs = base.source.parsed.refs
        # A reference is written many times (openai: 2,811 `$ref`s, 1,338 distinct): each
        # distinct one is split once.
        targets = {ref: _local_target(ref) for ref in {ref for _, ref in refs}}
        self._refs = sorted(((path, targets[ref]) for path, ref in refs), key=lambda e: e[0])
        self._paths = [path for path, _ in self._refs]
        units: list[Tokens] = []
        dirty: set[Tokens] = set()
        b_components = _mapping(self._base.get("components"))
        h_components = _mapping(self._head.get("components"))
        for kind in b_components.keys() | h_components.keys():
            b_kind, h_kind = _mapping(b_components.get(kind)), _mapping(h_components.get(kind))
            for name in b_kind.keys() | h_kind.keys():
                unit = ("components", kind, name)
                units.append(unit)
                if name not in b_kind or name not in h_kind or b_kind[name] != h_kind[name]:
                    dirty.add(unit)
        # Who refers to whom, reversed: a dirty component makes every referrer dirty.
        referrers: dict[Tokens, list[Tokens]] = defaultdict(list)
        for path, target in self._refs:
            if len(path) < 3 or path[0] != "components":
                continue
            source = path[:3]
            target_unit = _unit(target)
            if target_unit is None:
                dirty.add(source)  # refers outside the components (or to another file)
            else:
                referrers[target_unit].append(source)
        queue = list(dirty)
        while queue:
            for source in referrers.get(queue.pop(), ()):
                if source not in dirty:
                    dirty.add(source)
                    queue.append(source)
        self._clean_units = {unit for unit in units if unit not in dirty}
        self._clean_pointers = {jp.join(unit) for unit in self._clean_units}

    def component(self, pointer: str) -> bool:
        """True when the component at `pointer` (e.g. /components/schemas/Pet, the same in both
        documents) is clean: comparing it with itself finds nothing."""
        return pointer in self._clean_pointers

    def container(self, tokens: Tokens) -> bool:
        """True when the node at `tokens` (e.g. ("paths", "/pets")) is equal in both documents
        and refers only to clean components."""
        if not self.enabled:
            return False
        b_node, h_node = _at(self._base, tokens), _at(self._head, tokens)
        if b_node is None or b_node != h_node:
            return False
        start = bisect.bisect_left(self._paths, tokens)
        end = bisect.bisect_left(self._paths, (*tokens, _AFTER_ALL))
        # A component neither document has is not clean either: the walk reports that ref.
        return all(_unit(target) in self._clean_units for _, target in self._refs[start:end])


def _plain(spec: ApiSpec) -> bool:
    """A single-file 3.x document: its pointers are the ones the loader's `$ref` list uses."""
    return (
        not spec.is_swagger2
        and spec.document is spec.source.data
        and len(spec.files) == 1
        and spec.origins is None
    )


def _local_target(ref: str) -> Tokens | None:
    if not ref.startswith("#/"):
        return None
    fragment = ref[1:]
    if "%" in fragment:
        fragment = urllib.parse.unquote(fragment)
    return tuple(jp.split(fragment))


def _unit(target: Tokens | None) -> Tokens | None:
    if target is None or len(target) < 3 or target[0] != "components":
        return None
    return target[:3]


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _at(document: dict[str, Any], tokens: Tokens) -> Any:
    node: Any = document
    for token in tokens:
        if not isinstance(node, dict) or token not in node:
            return None
        node = node[token]
    return node

"""`$ref`s as lint sees them: the unresolved document, followed on demand.

Lint walks the document as written. Rules that want the resolved view (Spectral's default) see
a `$ref` replaced by its target; the walker and the functions follow references through these
helpers, which know the file each node lives in.
"""

from __future__ import annotations

import urllib.parse
from typing import TYPE_CHECKING, Any

from apigov.spec import pointer as jp

if TYPE_CHECKING:
    from apigov.lint.context import FunctionContext
    from apigov.spec.model import ApiSpec
    from apigov.spec.sources import Source


def is_ref(node: Any) -> bool:
    return isinstance(node, dict) and isinstance(node.get("$ref"), str)


def follow(spec: ApiSpec, ref: str, source: Source) -> tuple[Any, Source, str] | None:
    """The node a `$ref` written in `source` names, its file and pointer; None if unknown."""
    file_part, _, fragment = ref.partition("#")
    fragment = urllib.parse.unquote(fragment)
    if fragment and not fragment.startswith("/"):
        return None  # a JSON Schema anchor: not a place lint can follow
    if not file_part:
        try:
            return jp.resolve(source.data, fragment), source, fragment
        except jp.PointerError:
            return None
    target = spec.targets.get((source.key, ref))
    if target is None:
        return None
    return target.node, target.source, target.pointer


def inline_refs(schema: Any, context: FunctionContext) -> Any:
    """A copy of `schema` with every `$ref` replaced by its target (cycles become `{}`).

    Example validation needs a self-contained schema; Spectral validates against the
    resolved document, where references are already inlined.
    """
    spec = context.spec
    if spec is None:
        return schema
    source = context.source or spec.source

    def copy(node: Any, where: Source, stack: tuple[tuple[str, str], ...]) -> Any:
        if isinstance(node, list):
            return [copy(item, where, stack) for item in node]
        if not isinstance(node, dict):
            return node
        if is_ref(node):
            found = follow(spec, node["$ref"], where)
            if found is None:
                return {}
            target, target_source, pointer = found
            key = (target_source.key, pointer)
            if key in stack or len(stack) > 64:
                return {}
            inlined = copy(target, target_source, (*stack, key))
            siblings = {k: copy(v, where, stack) for k, v in node.items() if k != "$ref"}
            if siblings and isinstance(inlined, dict) and "oas3_1" in context.formats:
                return {**siblings, "allOf": [inlined]}
            return inlined
        return {key: copy(value, where, stack) for key, value in node.items()}

    return copy(schema, source, ())

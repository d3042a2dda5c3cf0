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


class RefCycleError(Exception):
    """A schema refers back to itself: it cannot be inlined into a finite copy."""


def inline_refs(schema: Any, context: FunctionContext) -> Any:
    """A copy of `schema` with every `$ref` replaced by its target.

    Raises RefCycleError when a reference loops back (a recursive schema). Spectral's example rules
    validate against the resolved document, where references are inlined; a recursive schema
    cannot be copied out of it, and Spectral then checks nothing (its example function fails
    on the circular value and the failure is dropped).
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
                raise RefCycleError(node["$ref"])
            inlined = copy(target, target_source, (*stack, key))
            siblings = {k: copy(v, where, stack) for k, v in node.items() if k != "$ref"}
            if siblings and isinstance(inlined, dict) and "oas3_1" in context.formats:
                return {**siblings, "allOf": [inlined]}
            return inlined
        return {key: copy(value, where, stack) for key, value in node.items()}

    return copy(schema, source, ())


BUNDLED = "x-apigov-bundled"
"""Where `bundle_refs` puts the schemas references lead to, in the schema it returns."""


def bundle_refs(schema: Any, context: FunctionContext) -> Any:
    """A self-contained copy of `schema` that keeps recursion: each schema a `$ref` leads to is
    copied once under `BUNDLED` in the root and the reference points there, so a validator
    follows a recursive schema as deep as the value goes."""
    spec = context.spec
    if spec is None or not isinstance(schema, dict):
        return schema
    bundled: dict[str, Any] = {}
    names: dict[tuple[str, str], str] = {}

    def copy(node: Any, where: Source) -> Any:
        if isinstance(node, list):
            return [copy(item, where) for item in node]
        if not isinstance(node, dict):
            return node
        if is_ref(node):
            found = follow(spec, node["$ref"], where)
            if found is None:
                return {}
            target, target_source, pointer = found
            key = (target_source.key, pointer)
            name = names.get(key)
            if name is None:
                name = names[key] = str(len(names))
                bundled[name] = {}  # a placeholder while the target (maybe recursive) is copied
                bundled[name] = copy(target, target_source)
            reference = {"$ref": f"#/{BUNDLED}/{name}"}
            siblings = {k: copy(v, where) for k, v in node.items() if k != "$ref"}
            if siblings and "oas3_1" in context.formats:
                return {**siblings, "allOf": [reference]}
            return reference
        return {key: copy(value, where) for key, value in node.items()}

    root = copy(schema, context.source or spec.source)
    if not bundled:
        return root
    # The root may itself be a reference (whose siblings draft 4 ignores): wrap it.
    return {"allOf": [root], BUNDLED: bundled}

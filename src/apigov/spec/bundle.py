"""One self-contained document from a spec that spans several files.

Tools that take a document as data (schemathesis's `from_dict`, a registry client, a browser)
cannot follow `../_shared/common.yaml#/components/schemas/Money`: they have no file to read it
from. `bundle(spec)` copies every node another file contributes into the document, under
`x-apigov-bundled`, and rewrites the references to point there; local references keep their
meaning. Each target is copied once however many references lead to it, and recursive schemas
stay recursive (the copy refers to itself), so the result is never larger than the files it
came from.
"""

from __future__ import annotations

import re
from typing import Any

from apigov.spec import pointer as jp
from apigov.spec.model import ApiSpec
from apigov.spec.sources import Source

BUNDLED = "x-apigov-bundled"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def bundle(spec: ApiSpec) -> dict[str, Any]:
    """A copy of `spec.document` with no reference to another file."""
    return _Bundler(spec).run()


class _Bundler:
    def __init__(self, spec: ApiSpec) -> None:
        self.spec = spec
        self.names: dict[tuple[str, str], str] = {}
        self.bundled: dict[str, Any] = {}

    def run(self) -> dict[str, Any]:
        document = self.rewrite(self.spec.document, None)
        if self.bundled:
            document[BUNDLED] = self.bundled
        return document  # type: ignore[no-any-return]

    def rewrite(self, node: Any, holder: Source | None) -> Any:
        """Copy `node`, written in `holder` (None: the root document), with refs made local."""
        if isinstance(node, list):
            return [self.rewrite(item, holder) for item in node]
        if not isinstance(node, dict):
            return node
        copied = {key: self.rewrite(value, holder) for key, value in node.items()}
        ref = node.get("$ref")
        if isinstance(ref, str) and (holder is not None or not ref.startswith("#")):
            copied["$ref"] = self.local_ref(ref, holder)
        return copied

    def local_ref(self, ref: str, holder: Source | None) -> str:
        try:
            target = self.spec.resolve(ref, holder)
        except (KeyError, jp.PointerError):
            return ref  # JSON Schema anchors and `$id` URIs: left to the schema engine
        if target.source is self.spec.source:
            return "#" + target.pointer
        key = (target.source.key, target.pointer)
        name = self.names.get(key)
        if name is None:
            name = self.name_for(target.source, target.pointer)
            self.names[key] = name
            self.bundled[name] = None  # reserved first: a recursive target refers to itself
            self.bundled[name] = self.rewrite(target.node, target.source)
        return f"#/{BUNDLED}/{jp.escape(name)}"

    def name_for(self, source: Source, pointer: str) -> str:
        """`common.yaml-Money`: readable in error messages, unique within the bundle."""
        file = source.name.replace("\\", "/").rsplit("/", 1)[-1]
        last = jp.unescape(pointer.rsplit("/", 1)[-1]) if pointer else "root"
        base = _UNSAFE.sub("_", f"{file}-{last}")
        name, index = base, 2
        while name in self.bundled:
            name, index = f"{base}-{index}", index + 1
        return name

"""What a rule function receives and returns (the documented signature for custom functions).

A function is any callable `function(target, options, context) -> Iterable[Result] | None`:

- `target`: the value the rule's `given` (and `then.field`) selected; `UNDEFINED` when the
  field is missing;
- `options`: the rule's `functionOptions` (or None);
- `context`: a `FunctionContext` (the document, the target's path, the document's formats).

It returns nothing when the target passes, or one `Result` per problem. A result without a
`path` points at the target; a result with a `path` gives the whole path from the document root
(as Spectral's functions do, usually `[*context.path, ...]`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from msgspec import Struct, field

if TYPE_CHECKING:
    from apigov.spec.model import ApiSpec
    from apigov.spec.sources import Source

Path = tuple[str | int, ...]


class Result(Struct, frozen=True):
    """One problem a function found."""

    message: str
    path: Path | None = None


class FunctionContext(Struct):
    """Everything a function may look at besides its target and options."""

    document: Any
    """The root of the document as written (unresolved)."""
    path: Path
    """Where the target is: the given path plus the field."""
    formats: frozenset[str]
    """Spectral format names that apply: oas2, oas3, oas3_0, oas3_1."""
    spec: ApiSpec | None = None
    source: Source | None = None
    """The file the target lives in (where its own `$ref`s are resolved); None: the root."""
    rule_name: str = ""
    referenced: frozenset[str] = field(default_factory=frozenset)
    """Every local `$ref` target in the document (`#/components/schemas/Pet`)."""
    memo: dict[Any, Any] = field(default_factory=dict)
    """Work a function may keep for the rest of one document's run (one dict per run, shared by
    every rule): a compiled validator per schema, say. Nodes of the document (and of its
    resolved view) keep their identity for the whole run, so `id(node)` is a sound key part
    while the node itself is kept in the entry; everything is released when the run ends."""


RuleFunction = Callable[[Any, Any, FunctionContext], Iterable[Result] | None]

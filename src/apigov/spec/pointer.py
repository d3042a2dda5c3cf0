"""JSON pointers (RFC 6901): the one way apigov names a place inside a document."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def escape(token: str | int) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def join(parts: Iterable[str | int]) -> str:
    """`["paths", "/pets", "get"]` -> `/paths/~1pets/get`."""
    return "".join("/" + escape(part) for part in parts)


def child(pointer: str, token: str | int) -> str:
    return f"{pointer}/{escape(token)}"


def split(pointer: str) -> list[str]:
    """`/paths/~1pets/get` -> `["paths", "/pets", "get"]`. The empty pointer is the root."""
    if not pointer:
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"not a JSON pointer: {pointer!r}")
    return [unescape(token) for token in pointer[1:].split("/")]


class PointerError(LookupError):
    """A pointer names nothing in the document."""


def resolve(document: Any, pointer: str) -> Any:
    """The node at `pointer`; raises PointerError naming the first token that is missing."""
    if not pointer:
        return document
    # A load resolves every distinct `$ref` target: split and unescape only when needed.
    tokens = split(pointer) if "~" in pointer or pointer[0] != "/" else pointer[1:].split("/")
    node = document
    for at, token in enumerate(tokens):
        if isinstance(node, dict):
            if token in node:
                node = node[token]
                continue
            raise PointerError(f"no {token!r} at {join(tokens[:at]) or '/'}")
        if isinstance(node, list):
            if not token.isdigit() or int(token) >= len(node):
                raise PointerError(f"no index {token!r} at {join(tokens[:at]) or '/'}")
            node = node[int(token)]
        else:
            raise PointerError(f"{join(tokens[:at]) or '/'} is a scalar, cannot take {token!r}")
    return node

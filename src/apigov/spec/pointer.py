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
    node = document
    walked: list[str] = []
    for token in split(pointer):
        if isinstance(node, dict):
            if token not in node:
                raise PointerError(f"no {token!r} at {join(walked) or '/'}")
            node = node[token]
        elif isinstance(node, list):
            if not token.isdigit() or int(token) >= len(node):
                raise PointerError(f"no index {token!r} at {join(walked) or '/'}")
            node = node[int(token)]
        else:
            raise PointerError(f"{join(walked) or '/'} is a scalar, cannot take {token!r}")
        walked.append(token)
    return node

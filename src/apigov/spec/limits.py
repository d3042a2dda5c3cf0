"""Limits that keep hostile input from hanging or exhausting the machine."""

from __future__ import annotations

from msgspec import Struct

MIB = 1024 * 1024


class Limits(Struct, frozen=True):
    max_bytes: int = 64 * MIB
    """Largest document accepted, in bytes (`--max-size`)."""
    max_depth: int = 256
    """Deepest nesting of mappings and sequences accepted."""
    max_alias_events: int = 1_000_000
    """YAML events that alias expansion may replay in one document (alias bombs)."""
    max_files: int = 20_000
    """Most files one document may pull in through relative `$ref`s."""
    allow_remote_refs: bool = False
    remote_timeout_s: float = 10.0


DEFAULT_LIMITS = Limits()


def size_message(size: int, limits: Limits) -> str:
    """The one wording of "too large", wherever the bytes come from."""
    return (
        f"document is {size:,} bytes, over the limit of {limits.max_bytes:,} "
        "(raise it with --max-size)"
    )

"""The messages an AsyncAPI document (2.x or 3.x) describes, found in one pass.

AsyncAPI says the same thing two ways. In 2.x a channel (keyed by its address) has `publish`
and `subscribe` operations, named from the *client's* side: `subscribe` lists the messages the
application sends. In 3.x channels hold messages and operations say `action: send` or
`receive` from the *application's* side. `messages()` turns both into one list of
`AsyncMessage`s with the application's direction, so checkers never care which version it was.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from apigov.spec import pointer as jp
from apigov.spec.model import AsyncApiSpec
from apigov.spec.sources import Source

SEND = "send"
RECEIVE = "receive"
_PARAMETER = re.compile(r"\{[^}/]+\}")


@dataclass(eq=False)
class AsyncMessage:
    """One message the application sends or receives (or both, or unknown: no operation)."""

    channel: str
    """The channel's key in `channels`."""
    address: str | None
    """Where it travels (a topic, queue or subject; 2.x: the channel key)."""
    pointer: str
    """Where the message is written (after following `$ref`s), in `source`."""
    node: dict[str, Any]
    source: Source | None
    """The file holding the message (None: the root document)."""
    names: frozenset[str]
    """What it is called: `name`, `messageId`, `title`, its key in a messages map."""
    directions: set[str] = field(default_factory=set)

    @property
    def content_type(self) -> str | None:
        value = self.node.get("contentType")
        return value if isinstance(value, str) else None

    def matches_address(self, address: str) -> bool:
        if self.address is None:
            return False
        if self.address == address:
            return True
        if "{" not in self.address:
            return False
        pieces = _PARAMETER.split(self.address)
        return (
            re.fullmatch("[^/]+?".join(re.escape(piece) for piece in pieces), address) is not None
        )


def messages(spec: AsyncApiSpec) -> list[AsyncMessage]:
    """Every message of the document, deduplicated by where it is written."""
    found: dict[tuple[str, str, str], AsyncMessage] = {}
    channels = spec.document.get("channels")
    for channel_key, channel in (channels if isinstance(channels, dict) else {}).items():
        channel_pointer = jp.join(("channels", channel_key))
        resolved, source, pointer = spec.follow(channel, None, channel_pointer)
        if not isinstance(resolved, dict):
            continue
        if spec.major == 2:
            for operation, direction in (("subscribe", SEND), ("publish", RECEIVE)):
                node = resolved.get(operation)
                if isinstance(node, dict):
                    for message in _message_nodes(
                        spec, node.get("message"), source, f"{pointer}/{operation}/message", None
                    ):
                        _add(found, spec, channel_key, channel_key, message, direction)
        else:
            address = resolved.get("address")
            address = address if isinstance(address, str) else None
            held = resolved.get("messages")
            for key, message in (held if isinstance(held, dict) else {}).items():
                message_pointer = f"{pointer}/messages/{jp.escape(key)}"
                for item in _message_nodes(spec, message, source, message_pointer, key):
                    _add(found, spec, channel_key, address, item, None)
    if spec.major >= 3:
        _apply_operations(spec, found)
    return list(found.values())


def _apply_operations(spec: AsyncApiSpec, found: dict[tuple[str, str, str], AsyncMessage]) -> None:
    """3.x: an operation's action gives the direction of the messages it names (all of its
    channel's messages when it names none)."""
    operations = spec.document.get("operations")
    for key, operation in (operations if isinstance(operations, dict) else {}).items():
        node, source, _ = spec.follow(operation, None, jp.join(("operations", key)))
        if not isinstance(node, dict) or node.get("action") not in (SEND, RECEIVE):
            continue
        channel = node.get("channel")
        channel_key = _channel_key(channel.get("$ref")) if isinstance(channel, dict) else None
        named = node.get("messages")
        if isinstance(named, list) and named:
            targets = set()
            for reference in named:
                if isinstance(reference, dict) and isinstance(reference.get("$ref"), str):
                    # Follow to the end: the operation names the channel's entry, which is
                    # itself usually a reference to a component message.
                    _, target_source, target_pointer = spec.follow(reference, source, "")
                    targets.add(((target_source or spec.source).key, target_pointer))
            for message in found.values():
                if _identity(spec, message) in targets:
                    message.directions.add(node["action"])
        else:
            for message in found.values():
                if message.channel == channel_key:
                    message.directions.add(node["action"])


def _channel_key(ref: Any) -> str | None:
    if not isinstance(ref, str) or not ref.startswith("#/channels/"):
        return None
    return jp.unescape(ref[len("#/channels/") :].split("/")[0])


def _identity(spec: AsyncApiSpec, message: AsyncMessage) -> tuple[str, str]:
    return ((message.source or spec.source).key, message.pointer)


def _message_nodes(
    spec: AsyncApiSpec, node: Any, source: Source | None, pointer: str, key: str | None
) -> Iterator[tuple[dict[str, Any], Source | None, str, str | None]]:
    """A message, or each member of a 2.x `oneOf` of messages, with `$ref`s followed."""
    resolved, resolved_source, resolved_pointer = spec.follow(node, source, pointer)
    if not isinstance(resolved, dict):
        return
    if isinstance(resolved.get("oneOf"), list):
        for index, member in enumerate(resolved["oneOf"]):
            yield from _message_nodes(
                spec, member, resolved_source, f"{resolved_pointer}/oneOf/{index}", None
            )
        return
    # The component key names a message too (`#/components/messages/OrderCreated`).
    ref = node.get("$ref") if isinstance(node, dict) else None
    ref_key = jp.unescape(ref.rsplit("/", 1)[-1]) if isinstance(ref, str) and "/" in ref else None
    yield resolved, resolved_source, resolved_pointer, key or ref_key


def _add(
    found: dict[tuple[str, str, str], AsyncMessage],
    spec: AsyncApiSpec,
    channel: str,
    address: str | None,
    item: tuple[dict[str, Any], Source | None, str, str | None],
    direction: str | None,
) -> None:
    node, source, pointer, key = item
    # The same component message on two channels is two messages to a consumer.
    identity = ((source or spec.source).key, pointer, channel)
    message = found.get(identity)
    if message is None:
        names = {
            str(node[name])
            for name in ("name", "messageId", "title")
            if isinstance(node.get(name), str)
        }
        if key:
            names.add(key)
        message = AsyncMessage(channel, address, pointer, node, source, frozenset(names))
        found[identity] = message
    if direction is not None:
        message.directions.add(direction)

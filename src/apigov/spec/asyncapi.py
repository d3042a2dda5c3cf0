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
from typing import Any

from msgspec import Struct, field

from apigov.spec import pointer as jp
from apigov.spec.model import AsyncApiSpec
from apigov.spec.sources import Source

SEND = "send"
RECEIVE = "receive"
_PARAMETER = re.compile(r"\{[^}/]+\}")


class AsyncMessage(Struct, eq=False):
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


class AsyncOperation(Struct, eq=False):
    """One operation: what the application does (`send`/`receive`) with which messages, and,
    for a request/reply operation (3.x `reply`), the messages of the answer."""

    key: str
    """Its key in `operations` (3.x) or its `operationId` (2.x)."""
    pointer: str
    action: str | None
    messages: list[AsyncMessage]
    """The messages it names (all of its channel's when it names none)."""
    reply: list[AsyncMessage] | None = None
    """The reply's messages; None when the operation has no `reply` at all."""


def messages(spec: AsyncApiSpec) -> list[AsyncMessage]:
    """Every message of the document, deduplicated by where it is written."""
    return list(_catalogue(spec)[0].values())


def operations(spec: AsyncApiSpec) -> dict[str, AsyncOperation]:
    """Every operation of the document by its key (3.x) or `operationId` (2.x)."""
    return _catalogue(spec)[1]


def _catalogue(
    spec: AsyncApiSpec,
) -> tuple[dict[tuple[str, str, str], AsyncMessage], dict[str, AsyncOperation]]:
    found: dict[tuple[str, str, str], AsyncMessage] = {}
    named: dict[str, AsyncOperation] = {}
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
                    held = [
                        _add(found, spec, channel_key, channel_key, message, direction)
                        for message in _message_nodes(
                            spec,
                            node.get("message"),
                            source,
                            f"{pointer}/{operation}/message",
                            None,
                        )
                    ]
                    operation_id = node.get("operationId")
                    if isinstance(operation_id, str):
                        named[operation_id] = AsyncOperation(
                            operation_id, f"{pointer}/{operation}", direction, held
                        )
        else:
            address = resolved.get("address")
            address = address if isinstance(address, str) else None
            held_messages = resolved.get("messages")
            for key, message in (held_messages if isinstance(held_messages, dict) else {}).items():
                message_pointer = f"{pointer}/messages/{jp.escape(key)}"
                for item in _message_nodes(spec, message, source, message_pointer, key):
                    _add(found, spec, channel_key, address, item, None)
    if spec.major >= 3:
        named.update(_operations(spec, found))
    return found, named


def _operations(
    spec: AsyncApiSpec, found: dict[tuple[str, str, str], AsyncMessage]
) -> dict[str, AsyncOperation]:
    """3.x: each operation with the messages it names; its action gives their direction, and
    the opposite direction to its reply's messages (what a `receive` operation answers, the
    application sends)."""
    result: dict[str, AsyncOperation] = {}
    operations_node = spec.document.get("operations")
    for key, operation in (operations_node if isinstance(operations_node, dict) else {}).items():
        node, source, pointer = spec.follow(operation, None, jp.join(("operations", key)))
        if not isinstance(node, dict):
            continue
        action = node.get("action") if node.get("action") in (SEND, RECEIVE) else None
        held = _operation_messages(spec, found, node, source)
        reply: list[AsyncMessage] | None = None
        reply_node, reply_source, _ = spec.follow(node.get("reply"), source, f"{pointer}/reply")
        if isinstance(reply_node, dict):
            reply = _operation_messages(spec, found, reply_node, reply_source)
        result[key] = AsyncOperation(key, pointer, action, held, reply)
        if action is None:
            continue
        for message in held:
            message.directions.add(action)
        for message in reply or []:
            message.directions.add(RECEIVE if action == SEND else SEND)
    return result


def _operation_messages(
    spec: AsyncApiSpec,
    found: dict[tuple[str, str, str], AsyncMessage],
    node: dict[str, Any],
    source: Source | None,
) -> list[AsyncMessage]:
    """The messages an operation (or its reply) names (an empty list names none); all of its
    channel's when it has no `messages`. A reply without a channel (the address is dynamic)
    and without `messages` has none."""
    channel = node.get("channel")
    channel_key = _channel_key(channel.get("$ref")) if isinstance(channel, dict) else None
    named = node.get("messages")
    if isinstance(named, list):
        targets = set()
        for reference in named:
            if isinstance(reference, dict) and isinstance(reference.get("$ref"), str):
                # Follow to the end: the operation names the channel's entry, which is
                # itself usually a reference to a component message.
                _, target_source, target_pointer = spec.follow(reference, source, "")
                targets.add(((target_source or spec.source).key, target_pointer))
        held = [m for m in found.values() if _identity(spec, m) in targets]
        # The same component message on several channels: the operation's channel's copy.
        on_channel = [m for m in held if m.channel == channel_key]
        return on_channel or held
    return [m for m in found.values() if channel_key is not None and m.channel == channel_key]


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
) -> AsyncMessage:
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
    return message

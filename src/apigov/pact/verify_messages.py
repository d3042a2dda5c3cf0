"""Verifying message interactions: ask the provider for each message, match it with apigov.

Pact verifies a message provider by asking it to produce the message an interaction describes:
the verifier POSTs `{"description": ..., "providerStates": [{"name", "params"}, ...]}` to the
provider's message endpoint and reads the message from the answer, its body as the contents and
its metadata from the `Pact-Message-Metadata` header (base64 of a JSON object). apigov keeps that
convention (`url_producer`), and in Python a producer is any callable
`(description, states) -> (contents, metadata)` (`MessageProducer`), which is what the pytest
plugin takes.

The produced message is matched against the pact by apigov's own matching engine
(`apigov.pact.matching.match_message`, the one the conformance suite checks), so a finding names
the field that differs (`body at $.order.customerEmail: ...`). pact-python 4.2's `Verifier` can
drive messages too (`message_handler(callable)`, or a `message` transport), but its handler is
given the description and metadata only, not the provider states with their params, and its
results carry the Rust core's text; asking the producer here keeps states, results and
explanations in one place for HTTP-less providers and callables alike.

Provider states are set up by calling the state handler directly (no verifier is in between, so
there is no retry loop to avoid); a failing set-up fails the interaction with
`StateChangeFailed`.

`Synchronous/Messages` (a request message answered by a response message) follow the Pact
verifier's own convention for them (pact_verifier's `verify_sync_message_from_provider`): the
same POST also carries the pact's request message as written in the pact file,
`{"description", "providerStates", "request": {"contents": ..., "metadata": ...}}`, and the
answer is the provider's response message (body and `Pact-Message-Metadata`, as above). It is
matched against the interaction's first response, as Pact's verifier does (a synchronous
message with several responses is compared with its first). In Python a `ReplyProducer` is
`(description, states, request) -> (contents, metadata)`. pact-python 4.2 has no producer for
synchronous messages, so this is apigov's, like the asynchronous one.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from apigov.pact.matching import match_message
from apigov.pact.model import Body, Interaction, Message

MESSAGE_METADATA_HEADER = "Pact-Message-Metadata"
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
"""A produced message larger than this is refused (it cannot be a test fixture)."""

ProducedMessage = tuple[Any, Mapping[str, Any]]
"""(contents, metadata): contents are a JSON value, text or bytes."""

MessageProducer = Callable[[str, Sequence[Mapping[str, Any]]], ProducedMessage]
"""Produces the message an interaction describes: (description, provider states as
`{"name", "params"}` objects) -> (contents, metadata). Raises to fail the interaction."""

ReplyProducer = Callable[[str, Sequence[Mapping[str, Any]], Mapping[str, Any]], ProducedMessage]
"""Answers the request message of a synchronous message interaction: (description, provider
states, the pact's request message as written: `{"contents", "metadata", ...}`) ->
(contents, metadata) of the response message. Raises to fail the interaction."""

StateSetUp = Callable[[str, str, Mapping[str, Any]], Any]
"""apigov.pact.verify.StateHandler: (state name, "setup"|"teardown", params)."""


class MessageProductionError(Exception):
    """The provider could not produce the message; the text says why."""


def states_body(interaction: Interaction) -> list[dict[str, Any]]:
    """The interaction's provider states as Pact sends them to a message endpoint."""
    return [{"name": s.name, "params": dict(s.params)} for s in interaction.states if s.name]


def url_producer(url: str, timeout: float) -> MessageProducer:
    """A producer that asks the provider's message endpoint, as Pact's verifier does."""

    def produce(description: str, states: Sequence[Mapping[str, Any]]) -> ProducedMessage:
        return _post(url, timeout, {"description": description, "providerStates": list(states)})

    return produce


def url_replier(url: str, timeout: float) -> ReplyProducer:
    """A reply producer that asks the provider's message endpoint, with the request message,
    as Pact's verifier does for synchronous messages."""

    def reply(
        description: str, states: Sequence[Mapping[str, Any]], request: Mapping[str, Any]
    ) -> ProducedMessage:
        return _post(
            url,
            timeout,
            {"description": description, "providerStates": list(states), "request": request},
        )

    return reply


def _post(url: str, timeout: float, payload: Mapping[str, Any]) -> ProducedMessage:
    """POST Pact's message request; the answer's body and metadata are the message."""
    body = json.dumps(payload)
    request = urllib.request.Request(
        url, data=body.encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read(MAX_MESSAGE_BYTES + 1)
            content_type = response.headers.get("Content-Type")
            encoded_metadata = response.headers.get(MESSAGE_METADATA_HEADER)
    except urllib.error.HTTPError as error:
        detail = error.read(500).decode("utf-8", "replace").strip()
        suffix = f": {detail}" if detail else ""
        raise MessageProductionError(f"{url} answered {error.code}{suffix}") from None
    except (OSError, urllib.error.URLError) as error:
        raise MessageProductionError(f"{url} could not be reached: {error}") from None
    if len(raw) > MAX_MESSAGE_BYTES:
        raise MessageProductionError(f"{url} answered more than {MAX_MESSAGE_BYTES} bytes")
    metadata = _decode_metadata(encoded_metadata, url)
    if content_type and "contentType" not in metadata and "content-type" not in metadata:
        metadata["contentType"] = content_type
    return raw, metadata


def _decode_metadata(encoded: str | None, url: str) -> dict[str, Any]:
    if not encoded:
        return {}
    try:
        metadata = json.loads(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError):
        raise MessageProductionError(
            f"{url}: the {MESSAGE_METADATA_HEADER} header is not base64-encoded JSON"
        ) from None
    if not isinstance(metadata, dict):
        raise MessageProductionError(
            f"{url}: the {MESSAGE_METADATA_HEADER} header is not an object"
        )
    return metadata


def produced_message(contents: Any, metadata: Mapping[str, Any], expected: Message) -> Message:
    """The produced message in the model's shape; bytes and text are decoded as the metadata's
    (or the pact's) content type says, so a JSON message is compared as JSON."""
    content_type = metadata.get("contentType") or metadata.get("content-type")
    if content_type is None:
        content_type = expected.contents.content_type
    value = contents
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    media = str(content_type or "application/json").split(";")[0].strip().lower()
    if isinstance(value, str) and (media.endswith("/json") or media.endswith("+json")):
        # Text that is not JSON stays text: the matching engine reports it as such.
        with contextlib.suppress(ValueError):
            value = json.loads(value) if value.strip() else None
    return Message(
        Body(present=True, value=value, content_type=str(content_type) if content_type else None),
        dict(metadata),
    )


def verify_message(
    interaction: Interaction,
    producer: MessageProducer,
    state_handler: StateSetUp | None,
    *,
    teardown: bool = False,
) -> list[tuple[str, str]]:
    """Set up the interaction's states, ask for its message, match it: (kind, explanation)
    pairs in the verifier's kinds (`StateChangeFailed`, `RequestFailed`, `BodyMismatch`,
    `MetadataMismatch`); empty when the message matches."""
    assert interaction.message is not None, "a message interaction has a message"
    return _verify(
        interaction,
        interaction.message,
        lambda states: producer(interaction.description, states),
        state_handler,
        teardown,
    )


def verify_sync_message(
    interaction: Interaction,
    request: Mapping[str, Any],
    replier: ReplyProducer,
    state_handler: StateSetUp | None,
    *,
    teardown: bool = False,
) -> list[tuple[str, str]]:
    """Like `verify_message`, for a synchronous message: the provider is given `request` (the
    pact's request message as written) and its answer is matched against the interaction's
    first response; with no response in the pact, an answer is all that is asked."""
    expected = interaction.replies[0] if interaction.replies else None
    return _verify(
        interaction,
        expected,
        lambda states: replier(interaction.description, states, request),
        state_handler,
        teardown,
    )


def _verify(
    interaction: Interaction,
    expected: Message | None,
    produce: Callable[[list[dict[str, Any]]], ProducedMessage],
    state_handler: StateSetUp | None,
    teardown: bool,
) -> list[tuple[str, str]]:
    states = states_body(interaction)
    if state_handler is not None:
        for state in states:
            try:
                state_handler(state["name"], "setup", state["params"])
            except Exception as error:  # any set-up failure fails this interaction
                reason = str(error) or type(error).__name__
                return [
                    (
                        "StateChangeFailed",
                        f"provider state set-up failed: {state['name']!r}: {reason}",
                    )
                ]
    try:
        contents, metadata = produce(states)
    except Exception as error:  # the producer's failure is this interaction's failure
        reason = str(error) or type(error).__name__
        return [("RequestFailed", f"the message could not be produced: {reason}")]
    finally:
        if teardown and state_handler is not None:
            for state in states:
                # A failed teardown does not change the verdict on the message.
                with contextlib.suppress(Exception):
                    state_handler(state["name"], "teardown", state["params"])
    if expected is None:
        return []
    actual = produced_message(contents, metadata, expected)
    found: list[tuple[str, str]] = []
    for mismatch in match_message(expected, actual):
        if mismatch.part == "metadata":
            found.append(("MetadataMismatch", f"metadata {mismatch.path}: {mismatch.message}"))
        else:
            where = mismatch.path or "$"
            found.append(("BodyMismatch", f"body at {where}: {mismatch.message}"))
    return found

"""Static compatibility of Pact message interactions with an AsyncAPI document.

A message interaction says: given a provider state, the provider emits this message (V3
messages, V4 `Asynchronous/Messages`), or answers this request message with these replies (V4
`Synchronous/Messages`). The provider's AsyncAPI document must describe each one:

1. **Where**: when the pact's metadata names a destination (`topic`, `channel`, `queue`,
   `subject`, `destination`, `routingKey`, `address`), a channel with that address (parameters
   like `{orderId}` match one segment).
2. **Which message**: when the metadata or the description names it (`eventType`,
   `messageName`, `messageId`, `type`, `name`), a message with that `name`, `messageId`,
   `title` or component key. Otherwise every message left is a candidate.
3. **Direction**: the provider must *send* what the consumer expects to receive, and
   *receive* the request of a synchronous message.
4. **Payload**: read like an HTTP response (Pact's subset semantics, `apigov.pact.schemas`):
   every field the consumer names must be defined with a compatible type; fields it leaves
   out are fine; a field it relies on that is not required is a warning; matching rules must
   be satisfiable by the schema. Request messages are read as written (required fields apply).
   With several candidates, the message is compatible when one of them accepts it; otherwise
   the problems of the closest candidate are reported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from apigov.findings import Finding
from apigov.pact.compat import (
    _UNDEFINED,
    CATALOGUE,
    _schema_at,
    _Shapes,
    _unsatisfiable,
    reliance_message,
)
from apigov.pact.matching import parse_rule_path
from apigov.pact.model import Interaction, Kind, Message, Pact, RuleList, read_pact
from apigov.pact.schemas import Problem, SchemaBook
from apigov.spec import pointer as jp
from apigov.spec.asyncapi import RECEIVE, SEND, AsyncMessage, messages
from apigov.spec.model import AsyncApiSpec, PactFile

ADDRESS_KEYS = (
    "topic",
    "channel",
    "queue",
    "subject",
    "destination",
    "routingKey",
    "routing-key",
    "address",
)
NAME_KEYS = ("eventType", "messageName", "messageId", "type", "name", "event")
_JSON_MEDIA = re.compile(r"^application/([\w.+-]+\+)?json$")


def check_message_compatibility(pact: PactFile, spec: AsyncApiSpec) -> list[Finding]:
    """Every problem that makes `pact`'s message interactions incompatible with `spec`."""
    return _MessageChecker(spec).check(read_pact(pact))


@dataclass
class _Expected:
    """One message of an interaction: what the consumer expects and where it is written."""

    interaction: Interaction
    message: Message
    pointer: str
    direction: str
    """What the provider must do with it: SEND (the consumer receives it) or RECEIVE."""


@dataclass
class _Verdict:
    candidate: AsyncMessage
    problems: list[tuple[str, str, str]] = field(default_factory=list)
    """(rule id, pointer below the message body, message) for each problem."""


class _MessageChecker:
    def __init__(self, spec: AsyncApiSpec) -> None:
        self.spec = spec
        self.book = SchemaBook(spec)
        self.shapes = _Shapes(spec)
        self.messages = messages(spec)
        default = spec.document.get("defaultContentType")
        self.default_content_type = default if isinstance(default, str) else None

    def check(self, pact: Pact) -> list[Finding]:
        findings: list[Finding] = list(pact.warnings)
        for interaction in pact.interactions:
            if interaction.kind is Kind.HTTP:
                findings.append(
                    self.finding(
                        pact,
                        interaction,
                        "compat-interaction-not-checked",
                        interaction.pointer,
                        f"HTTP interaction {interaction.label} is not checked against an "
                        "AsyncAPI document (it describes messages only)",
                    )
                )
                continue
            for expected in _expected_messages(interaction):
                findings.extend(self.check_message(pact, expected))
        return findings

    # ---- one message ---------------------------------------------------------------------

    def check_message(self, pact: Pact, expected: _Expected) -> list[Finding]:
        interaction, message = expected.interaction, expected.message
        candidates = self.messages
        address = _first_text(message.metadata, ADDRESS_KEYS)
        if address is not None:
            candidates = [c for c in candidates if c.matches_address(address)]
            if not candidates:
                known = sorted({c.address for c in self.messages if c.address})
                return [
                    self.finding(
                        pact,
                        interaction,
                        "compat-message-channel-unknown",
                        f"{expected.pointer}/metadata",
                        f"message {interaction.label} travels on {address!r}, which no channel "
                        f"of {self.spec.name} has as its address (known: "
                        f"{', '.join(known) or 'none'})",
                    )
                ]
        names = [
            name
            for name in (_first_text(message.metadata, NAME_KEYS), interaction.description)
            if name
        ]
        named = [c for c in candidates if any(name in c.names for name in names)]
        if named:
            candidates = named
        elif _first_text(message.metadata, NAME_KEYS) is not None and candidates:
            # The consumer names a message the document does not have on this channel.
            return [
                self.finding(
                    pact,
                    interaction,
                    "compat-message-unknown",
                    f"{expected.pointer}/metadata",
                    f"message {interaction.label} is called "
                    f"{_first_text(message.metadata, NAME_KEYS)!r}, which no message "
                    f"{'on ' + repr(address) + ' ' if address else ''}in {self.spec.name} is "
                    f"called (known: {', '.join(sorted(n for c in candidates for n in c.names))})",
                )
            ]
        if not candidates:
            return [
                self.finding(
                    pact,
                    interaction,
                    "compat-message-unknown",
                    expected.pointer,
                    f"{self.spec.name} describes no message that message {interaction.label} "
                    "could be",
                )
            ]
        findings: list[Finding] = []
        directed = [c for c in candidates if not c.directions or expected.direction in c.directions]
        if not directed:
            verb = "sends" if expected.direction == SEND else "receives"
            findings.append(
                self.finding(
                    pact,
                    interaction,
                    "compat-message-direction",
                    expected.pointer,
                    f"the consumer expects the provider to {expected.direction} message "
                    f"{interaction.label}, but {self.spec.name} only says it "
                    f"{'receives' if verb == 'sends' else 'sends'} it "
                    f"({self.place(candidates[0])})",
                )
            )
            directed = candidates
        verdicts = [self.judge(expected, candidate) for candidate in directed]
        best = min(verdicts, key=lambda verdict: len(verdict.problems))
        body_pointer = f"{expected.pointer}/contents{message.contents.within}"
        for rule_id, sub_pointer, text in best.problems:
            pointer = expected.pointer + "/metadata" if sub_pointer == "#metadata" else None
            findings.append(
                self.finding(
                    pact, interaction, rule_id, pointer or body_pointer + sub_pointer, text
                )
            )
        return findings

    def judge(self, expected: _Expected, candidate: AsyncMessage) -> _Verdict:
        verdict = _Verdict(candidate)
        message = expected.message
        place = self.place(candidate)
        wanted = candidate.content_type or self.default_content_type
        actual = message.contents.content_type
        if wanted and actual and _media(wanted) != _media(actual):
            verdict.problems.append(
                (
                    "compat-message-content-type-incompatible",
                    "#metadata",
                    f"the message's content type {actual!r} is not the documented {wanted!r} "
                    f"({place})",
                )
            )
            return verdict
        media = actual or wanted or "application/json"
        if not message.contents.present:
            return verdict
        if not _JSON_MEDIA.match(_media(media)):
            verdict.problems.append(
                (
                    "compat-message-body-unvalidatable",
                    "",
                    f"the message has media type {media!r}, which apigov does not check "
                    f"statically ({place})",
                )
            )
            return verdict
        payload = candidate.node.get("payload")
        if payload is None:
            return verdict  # the document does not constrain the payload
        payload_pointer = f"{candidate.pointer}/payload"
        response = expected.direction == SEND
        value = message.contents.value
        problems = self.book.problems(payload, candidate.source, value, response=response)
        schema_place = self.place(candidate, payload_pointer)
        verdict.problems.extend(self.body_problems(problems, schema_place))
        if response and not problems:
            optional, count = self.shapes.optional_fields(value, payload, candidate.source)
            if optional:
                verdict.problems.append(
                    (
                        "compat-message-field-optional",
                        optional[0],
                        reliance_message("message", optional, count, schema_place),
                    )
                )
            verdict.problems.extend(
                self.matcher_problems(
                    payload, candidate, message.rules.get("body", {}), schema_place
                )
            )
        return verdict

    def body_problems(
        self, problems: Sequence[Problem], schema_place: str
    ) -> list[tuple[str, str, str]]:
        found: list[tuple[str, str, str]] = []
        for problem in problems[:5]:
            undefined = _UNDEFINED.match(problem.message)
            if undefined:
                for name in re.findall(r"'((?:[^'\\]|\\.)*)'", undefined[1]):
                    found.append(
                        (
                            "compat-message-field-undefined",
                            f"{problem.path}/{jp.escape(name)}",
                            f"the consumer relies on message field {problem.path}/{name}, which "
                            f"the schema does not define (schema {schema_place})",
                        )
                    )
                continue
            where = problem.path or "the message"
            found.append(
                (
                    "compat-message-body-incompatible",
                    problem.path,
                    f"message body at {where}: {problem.message} (schema {schema_place})",
                )
            )
        return found

    def matcher_problems(
        self,
        payload: Any,
        candidate: AsyncMessage,
        rules: Mapping[str, RuleList],
        schema_place: str,
    ) -> list[tuple[str, str, str]]:
        found: list[tuple[str, str, str]] = []
        for rule_path, rule_list in rules.items():
            tokens = parse_rule_path(rule_path)
            node, _ = _schema_at(self.spec, payload, candidate.source, tokens)
            if not isinstance(node, dict):
                continue
            for matcher in rule_list.matchers:
                problem = _unsatisfiable(matcher, node)
                if problem is not None:
                    pointer = "".join(
                        "/" + jp.escape(str(t)) for t in tokens if not isinstance(t, int) or t >= 0
                    ).replace("/*", "")
                    found.append(
                        (
                            "compat-matcher-unsatisfiable",
                            pointer,
                            f"the consumer's {matcher.kind} matcher at {rule_path} {problem} "
                            f"(schema {schema_place})",
                        )
                    )
        return found

    # ---- places and findings ---------------------------------------------------------------

    def place(self, candidate: AsyncMessage, pointer: str | None = None) -> str:
        location = self.spec.locate(pointer or candidate.pointer, candidate.source)
        return f"{location} #{location.pointer or pointer or candidate.pointer}"

    def finding(
        self, pact: Pact, interaction: Interaction, rule_id: str, pointer: str, message: str
    ) -> Finding:
        rule = CATALOGUE[rule_id]
        return Finding(
            id=rule_id,
            level=rule.level,
            message=message,
            location=pact.locate(pointer),
            service=pact.file.service,
            operation=_operation(interaction),
            consumers=(pact.file.consumer,) if pact.file.consumer else (),
        )


def _operation(interaction: Interaction) -> str:
    request = interaction.request
    if request is not None:
        return f"{request.method} {request.path}"
    return f"message {interaction.description}"


def _expected_messages(interaction: Interaction) -> list[_Expected]:
    if interaction.kind is Kind.MESSAGE and interaction.message is not None:
        return [_Expected(interaction, interaction.message, interaction.pointer, SEND)]
    found: list[_Expected] = []
    if interaction.message is not None:
        found.append(
            _Expected(interaction, interaction.message, f"{interaction.pointer}/request", RECEIVE)
        )
    for index, reply in enumerate(interaction.replies):
        found.append(_Expected(interaction, reply, f"{interaction.pointer}/response/{index}", SEND))
    return found


def _first_text(metadata: Mapping[str, Any], keys: Sequence[str]) -> str | None:
    for key in keys:
        value = metadata.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _media(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()

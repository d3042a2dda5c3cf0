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
5. **Headers**: the message's `headers` schema is checked against the pact's metadata (less
   Pact's own keys: `contentType` and the destination keys above), with the same semantics as
   the payload.

An interaction that names its operation as PactFlow's comparator expects
(`comments.references.AsyncAPI.operationId`) is checked against that operation: its messages
are the candidates (for a synchronous message, the request's; the reply's messages are the
candidates for its responses), and its action gives the direction.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from msgspec import Struct, field

from apigov.findings import Finding, Level
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
from apigov.spec.asyncapi import (
    RECEIVE,
    SEND,
    AsyncMessage,
    AsyncOperation,
    messages,
    operations,
)
from apigov.spec.model import ApiSpec, AsyncApiSpec, PactFile

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
# Metadata keys that are Pact's own, not message headers: the content type, and where the
# message travels (which the document says with channel addresses, not headers).
NOT_HEADERS = frozenset(("contentType", *ADDRESS_KEYS))
# PactFlow's key under an interaction's `comments.references` naming the AsyncAPI operation.
ASYNCAPI_REFERENCE = "AsyncAPI"
_NOT_ALLOWED = re.compile(
    r"^Additional properties are not allowed \((.*) (?:was|were) unexpected\)$"
)
_JSON_MEDIA = re.compile(r"^application/([\w.+-]+\+)?json$")


def check_message_compatibility(pact: PactFile, spec: AsyncApiSpec) -> list[Finding]:
    """Every problem that makes `pact`'s message interactions incompatible with `spec`."""
    return _MessageChecker(spec).check(read_pact(pact))


def check_pact(
    pact: PactFile, spec: ApiSpec | None = None, events: AsyncApiSpec | None = None
) -> list[Finding]:
    """Each interaction of `pact` against the document that can describe it: HTTP ones against
    the OpenAPI document `spec`, messages against the AsyncAPI document `events`. What neither
    given document can describe is `compat-interaction-not-checked` (info)."""
    from apigov.pact.compat import check_compatibility

    found: list[Finding] = []
    if spec is not None:
        found.extend(
            f
            for f in check_compatibility(pact, spec)
            if events is None or f.id != "compat-interaction-not-checked"
        )
    if events is not None:
        seen = set(found)  # the pact's own warnings (unknown fields) come with both checks
        found.extend(
            f
            for f in check_message_compatibility(pact, events)
            if (spec is None or f.id != "compat-interaction-not-checked") and f not in seen
        )
    return found


class _Expected(Struct):
    """One message of an interaction: what the consumer expects and where it is written."""

    interaction: Interaction
    message: Message
    pointer: str
    direction: str
    """What the provider must do with it: SEND (the consumer receives it) or RECEIVE."""


class _Verdict(Struct):
    candidate: AsyncMessage
    problems: list[tuple[str, str, str]] = field(default_factory=list)
    """(rule id, pointer below the message body, message) for each problem."""


class _MessageChecker:
    def __init__(self, spec: AsyncApiSpec) -> None:
        self.spec = spec
        self.book = SchemaBook(spec)
        self.shapes = _Shapes(spec)
        self.messages = messages(spec)
        self.operations = operations(spec)
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
            if ASYNCAPI_REFERENCE in _references(interaction):
                findings.extend(self.check_referenced(pact, interaction))
                continue
            for expected in _expected_messages(interaction):
                findings.extend(self.check_message(pact, expected))
        return findings

    # ---- an interaction that names its operation ------------------------------------------

    def check_referenced(self, pact: Pact, interaction: Interaction) -> list[Finding]:
        """PactFlow's convention: `comments.references.AsyncAPI.operationId` names the
        operation; its messages (and its reply's) are the only candidates."""
        pointer = f"{interaction.pointer}/comments/references/AsyncAPI"
        reference = _references(interaction)[ASYNCAPI_REFERENCE]
        operation_id = reference.get("operationId") if isinstance(reference, dict) else None
        if not isinstance(operation_id, str) or not operation_id:
            return [
                self.finding(
                    pact,
                    interaction,
                    "compat-message-reference-malformed",
                    pointer,
                    f"interaction {interaction.label} refers to the AsyncAPI document without "
                    "an operationId (comments.references.AsyncAPI.operationId)",
                )
            ]
        operation = self.operations.get(operation_id)
        if operation is None:
            return [
                self.finding(
                    pact,
                    interaction,
                    "compat-message-operation-unknown",
                    f"{pointer}/operationId",
                    f"interaction {interaction.label} refers to operation {operation_id!r}, "
                    f"which {self.spec.name} does not define (known: "
                    f"{', '.join(sorted(self.operations)) or 'none'})",
                )
            ]
        findings: list[Finding] = []
        synchronous = interaction.kind is Kind.SYNC_MESSAGE
        # The provider sends what the consumer receives; it receives a synchronous request.
        wanted = RECEIVE if synchronous else SEND
        if operation.action is not None and operation.action != wanted:
            findings.append(
                self.finding(
                    pact,
                    interaction,
                    "compat-message-direction",
                    f"{pointer}/operationId",
                    f"the consumer expects the provider to {wanted} message "
                    f"{interaction.label}, but operation {operation_id!r} of {self.spec.name} "
                    f"has action {operation.action!r} ({self.place_operation(operation)})",
                )
            )
        expected = _expected_messages(interaction)
        if not synchronous:
            for item in expected:
                findings.extend(self.check_message(pact, item, operation.messages))
            return findings
        request = [e for e in expected if e.direction == RECEIVE]
        replies = [e for e in expected if e.direction == SEND]
        request_findings = [
            f for item in request for f in self.check_message(pact, item, operation.messages)
        ]
        findings.extend(request_findings)
        if any(f.level is Level.ERROR for f in request_findings):
            # The replies to a request the operation does not take are not judged: which
            # operation the request belongs to is the question to settle first.
            return findings
        if not operation.reply:
            findings.append(
                self.finding(
                    pact,
                    interaction,
                    "compat-message-reply-missing",
                    pointer,
                    f"the consumer expects a reply to {interaction.label}, but operation "
                    f"{operation_id!r} of {self.spec.name} has "
                    f"{'no reply' if operation.reply is None else 'a reply without messages'} "
                    f"({self.place_operation(operation)})",
                )
            )
            return findings
        if not replies:
            findings.append(
                self.finding(
                    pact,
                    interaction,
                    "compat-message-response-missing",
                    f"{interaction.pointer}/response",
                    f"synchronous message {interaction.label} expects no response, though "
                    f"operation {operation_id!r} replies",
                )
            )
        for item in replies:
            findings.extend(self.check_message(pact, item, operation.reply))
        return findings

    # ---- one message ---------------------------------------------------------------------

    def check_message(
        self,
        pact: Pact,
        expected: _Expected,
        operation_messages: list[AsyncMessage] | None = None,
    ) -> list[Finding]:
        """One message against the document's messages, or against the messages of the
        operation the interaction names (`operation_messages`: its direction is settled)."""
        interaction, message = expected.interaction, expected.message
        candidates = self.messages if operation_messages is None else operation_messages
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
        # The operation an interaction names settles the direction once, for all its messages.
        directed = (
            candidates
            if operation_messages is not None
            else [c for c in candidates if not c.directions or expected.direction in c.directions]
        )
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
            pointer = None
            if sub_pointer == "#metadata":
                pointer = expected.pointer + "/metadata"
            elif sub_pointer.startswith("#metadata/"):
                pointer = expected.pointer + "/metadata" + sub_pointer[len("#metadata") :]
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
        response = expected.direction == SEND
        verdict.problems.extend(self.header_problems(message, candidate, response))
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
            verdict.problems.append(
                (
                    "compat-message-payload-unknown",
                    "",
                    f"the message has contents, but the document gives it no payload schema "
                    f"({place})",
                )
            )
            return verdict
        payload_pointer = f"{candidate.pointer}/payload"
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

    def header_problems(
        self, message: Message, candidate: AsyncMessage, response: bool
    ) -> list[tuple[str, str, str]]:
        """The pact's metadata (its headers) against the message's `headers` schema: read like
        the payload, so a header the consumer expects must be defined when the schema lists
        them, and a request must carry the required ones."""
        schema = candidate.node.get("headers")
        if schema is None:
            return []
        headers = {k: v for k, v in message.metadata.items() if k not in NOT_HEADERS}
        problems = self.book.problems(schema, candidate.source, headers, response=response)
        schema_place = self.place(candidate, f"{candidate.pointer}/headers")
        found: list[tuple[str, str, str]] = []
        for problem in problems[:5]:
            # Closed by apigov's subset reading, or by the document's own
            # `additionalProperties: false`: either way the header is not defined.
            undefined = _UNDEFINED.match(problem.message) or _NOT_ALLOWED.match(problem.message)
            if undefined:
                for name in re.findall(r"'((?:[^'\\]|\\.)*)'", undefined[1]):
                    found.append(
                        (
                            "compat-message-header-undefined",
                            f"#metadata{problem.path}/{jp.escape(name)}",
                            f"the consumer expects message header {name!r}, which the headers "
                            f"schema does not define (schema {schema_place})",
                        )
                    )
                continue
            where = f"header {problem.path.lstrip('/')!r}" if problem.path else "headers"
            found.append(
                (
                    "compat-message-header-incompatible",
                    f"#metadata{problem.path}",
                    f"message {where}: {problem.message} (schema {schema_place})",
                )
            )
        return found

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

    def place_operation(self, operation: AsyncOperation) -> str:
        location = self.spec.locate(operation.pointer)
        return f"{location} #{location.pointer or operation.pointer}"

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


def _references(interaction: Interaction) -> dict[str, Any]:
    references = interaction.comments.get("references")
    return references if isinstance(references, dict) else {}


def _first_text(metadata: Mapping[str, Any], keys: Sequence[str]) -> str | None:
    for key in keys:
        value = metadata.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _media(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()

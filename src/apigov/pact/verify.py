"""Live verification: replay consumer pacts against a running provider through pact-python.

`verify_pacts(pact_files, settings)` hands each pact to pact-python's `Verifier` (the Rust
verifier behind the Pact FFI), which sends every HTTP interaction's request to the provider and
matches the response under the pact's matching rules. Results come back per interaction from
the verifier's structured JSON result (`Verifier.results`, the FFI's `pactffi_verifier_json`:
`interactionResults` with description, provider states, result and mismatches), never from its
terminal text. `VerificationRun.findings()` turns them into `Finding`s that point at the
interaction's line in the pact file.

Three traps of the FFI are handled here:

- Usage tracking: the Rust core posts an analytics event (a DNS lookup first) after every
  verification unless `PACT_DO_NOT_TRACK=true`; firewalled CI has hung on it. This module sets
  the variable for the whole process when it is imported, before pact-python is.
- Provider states: the verifier retries a state-change call that answers 5xx, 408 or 429 eight
  times with a doubling back-off (about 128 s per interaction), and pact-python's own callback
  server answers 500 when a handler raises. apigov therefore always puts its own relay
  (`StateRelay`, on 127.0.0.1) between the verifier and the state set-up: it runs a Python
  handler or forwards to the provider's `--state-change-url`, and reports any failure as
  424 Failed Dependency, which the verifier does not retry, so the interaction fails at once.
  The relay remembers why, and the finding says it.
- The verifier prints its report to standard output (`println!` in the Rust core, not
  optional). apigov's standard output is the report in the format asked for, so file
  descriptor 1 points at /dev/null while the verifier runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from msgspec import Struct, field

from apigov.findings import Finding, Level
from apigov.pact.model import Interaction, Kind, Pact, read_pact
from apigov.pact.verify_messages import (
    MessageProducer,
    ReplyProducer,
    url_producer,
    url_replier,
    verify_message,
    verify_sync_message,
)
from apigov.spec import pointer as jp
from apigov.spec.errors import InputError, UnreachableError
from apigov.spec.model import PactFile


def disable_tracking() -> None:
    """The Rust core reads this variable at verification time; apigov never phones home."""
    os.environ["PACT_DO_NOT_TRACK"] = "true"


disable_tracking()

StateHandler = Callable[[str, str, Mapping[str, Any]], Mapping[str, Any] | None]
"""Sets up (or tears down) one provider state: (state name, "setup"|"teardown", params).
May return values for the verifier's provider-state generators; raises to fail the state."""

STATE_FAILED_STATUS = 424
"""What the relay answers when a state set-up fails: a 4xx the verifier does not retry."""

# Finding ids, most fundamental first: a failing interaction's id is its first mismatch kind
# in this order (a wrong status usually explains the header and body mismatches after it).
_MISMATCH_IDS = {
    "StateChangeFailed": "verify-state-change-failed",
    "RequestFailed": "verify-request-failed",
    "MethodMismatch": "verify-method-mismatch",
    "PathMismatch": "verify-path-mismatch",
    "QueryMismatch": "verify-query-mismatch",
    "StatusMismatch": "verify-status-mismatch",
    "BodyTypeMismatch": "verify-content-type-mismatch",
    "HeaderMismatch": "verify-header-mismatch",
    "BodyMismatch": "verify-body-mismatch",
    "MetadataMismatch": "verify-metadata-mismatch",
}
_ORDER = {kind: rank for rank, kind in enumerate(_MISMATCH_IDS)}

CATALOGUE: dict[str, str] = {
    "verify-interaction-passed": "The provider answered the interaction as the pact expects.",
    "verify-state-change-failed": "Setting up the interaction's provider state failed.",
    "verify-request-failed": "The verifier could not replay the request or read the answer.",
    "verify-method-mismatch": "The request method did not match (message interactions).",
    "verify-path-mismatch": "The request path did not match.",
    "verify-query-mismatch": "The request query did not match.",
    "verify-status-mismatch": "The response status is not the one the pact expects.",
    "verify-content-type-mismatch": "The response body's content type is not the expected one.",
    "verify-header-mismatch": "A response header is missing or has another value.",
    "verify-body-mismatch": "The response body does not match the expected body.",
    "verify-metadata-mismatch": "Message metadata does not match.",
    "verify-interaction-not-verified": "A message interaction without a message producer "
    "(--message-url) (info), or an HTTP interaction the verifier could not run (error).",
}


class VerifySettings(Struct, frozen=True):
    """How to reach the provider and what to send it."""

    provider: str
    base_url: str
    """Where the provider answers HTTP; "" for a provider that only publishes messages (its
    HTTP interactions, if any, are then reported as not verified)."""
    headers: tuple[tuple[str, str], ...] = ()
    """Added to every replayed request (credentials, for example), replacing the pact's."""
    timeout: float = 10.0
    """Seconds each request (and each state-change call) may take."""
    state_change_url: str | None = None
    """The provider's state set-up endpoint (Pact's JSON body: state, params, action)."""
    teardown: bool = False
    """Also call the state handler with action "teardown" after each interaction."""
    message_url: str | None = None
    """The provider's message endpoint (Pact's convention: POST {description, providerStates},
    plus the request message for a synchronous message; the message in the answer's body, its
    metadata in Pact-Message-Metadata)."""


class Mismatch(Struct, frozen=True):
    """One way a response differed from the pact: the verifier's kind and an explanation."""

    kind: str
    explanation: str


class InteractionOutcome(Struct):
    interaction: Interaction
    verified: bool
    """False when the interaction was not verified (a message without a producer, or an HTTP
    interaction without a result)."""
    mismatches: list[Mismatch] = field(default_factory=list)
    reason: str = ""
    """Why an HTTP interaction has no result (the verifier could not run the pact)."""

    @property
    def passed(self) -> bool:
        return self.verified and not self.mismatches


class PactOutcome(Struct):
    pact: Pact
    interactions: list[InteractionOutcome]

    @property
    def passed(self) -> bool:
        """True when every HTTP interaction was replayed and matched, and every message that
        was verified matched (pending ones aside)."""
        return all(
            outcome.passed or outcome.interaction.pending
            for outcome in self.interactions
            if outcome.interaction.kind is Kind.HTTP or outcome.verified
        )


class VerificationRun(Struct):
    settings: VerifySettings
    pacts: list[PactOutcome]

    @property
    def passed(self) -> bool:
        return all(pact.passed for pact in self.pacts)

    def findings(self) -> list[Finding]:
        found: list[Finding] = []
        for outcome in self.pacts:
            found.extend(outcome.pact.warnings)
            for result in outcome.interactions:
                found.append(_finding(outcome.pact, result, self.settings))
        return found


# ---- the run ---------------------------------------------------------------------------------


def select_pacts(documents: Sequence[tuple[PactFile, bool]], provider: str) -> list[PactFile]:
    """The pacts to replay against `provider`: (pact, named on the command line) pairs.

    Pacts found in folders are kept when their provider is `provider`; a pact named directly
    that is for another provider is an input error (it cannot be what the user meant).
    """
    selected: list[PactFile] = []
    for pact, named in documents:
        if pact.provider == provider:
            selected.append(pact)
        elif named:
            raise InputError(
                pact.name,
                f"this pact is between {pact.consumer} and {pact.provider}, "
                f"not a contract with provider {provider!r}",
            )
    return selected


def check_reachable(url: str, timeout: float, what: str = "provider") -> None:
    """Fail early, with one line, when nothing listens at the URL's host and port."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(url, f"the {what} URL must be an http(s) URL with a host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=min(timeout, 10.0)):
            pass
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise UnreachableError(f"{what} at {url} cannot be reached: {reason}") from None


def verify_pacts(
    pact_files: Sequence[PactFile],
    settings: VerifySettings,
    *,
    state_handler: StateHandler | None = None,
    message_producer: MessageProducer | None = None,
    reply_producer: ReplyProducer | None = None,
) -> VerificationRun:
    """Replay every HTTP interaction of each pact against the provider at `settings.base_url`,
    verify every asynchronous message with `message_producer` and every synchronous message
    with `reply_producer` (or both with `settings.message_url`).

    Provider states go to `state_handler` when given, else to `settings.state_change_url`
    (both through `StateRelay`). Raises `UnreachableError` when the provider (or the state
    change or message URL) does not accept connections.
    """
    if state_handler is not None and settings.state_change_url is not None:
        raise ValueError("give a state handler or a state change URL, not both")
    if (message_producer or reply_producer) is not None and settings.message_url is not None:
        raise ValueError("give message producers or a message URL, not both")
    if settings.base_url:
        check_reachable(settings.base_url, settings.timeout, f"provider {settings.provider}")
    if settings.state_change_url is not None:
        check_reachable(settings.state_change_url, settings.timeout, "state change URL")
        state_handler = forward_states(settings.state_change_url, settings.timeout)
    if settings.message_url is not None:
        check_reachable(settings.message_url, settings.timeout, "message URL")
        message_producer = url_producer(settings.message_url, settings.timeout)
        reply_producer = url_replier(settings.message_url, settings.timeout)
    outcomes: list[PactOutcome] = []
    with StateRelay(state_handler) as relay:
        for pact_file in pact_files:
            pact = read_pact(pact_file)
            outcome = _verify_one(pact, settings, relay)
            _verify_messages(outcome, settings, message_producer, reply_producer, state_handler)
            outcomes.append(outcome)
    return VerificationRun(settings, outcomes)


def _verify_messages(
    outcome: PactOutcome,
    settings: VerifySettings,
    producer: MessageProducer | None,
    replier: ReplyProducer | None,
    state_handler: StateHandler | None,
) -> None:
    """Verify the pact's messages in place of their not-verified outcomes: asynchronous ones
    with `producer`, synchronous ones with `replier`."""
    for index, result in enumerate(outcome.interactions):
        interaction = result.interaction
        if interaction.kind is Kind.MESSAGE and interaction.message is not None and producer:
            found = verify_message(interaction, producer, state_handler, teardown=settings.teardown)
        elif interaction.kind is Kind.SYNC_MESSAGE and replier is not None:
            found = verify_sync_message(
                interaction,
                _request_message(outcome.pact, interaction),
                replier,
                state_handler,
                teardown=settings.teardown,
            )
        else:
            continue
        mismatches = sorted(
            (Mismatch(kind, text) for kind, text in found),
            key=lambda m: _ORDER.get(m.kind, len(_ORDER)),
        )
        outcome.interactions[index] = InteractionOutcome(
            interaction, verified=True, mismatches=mismatches
        )


def _request_message(pact: Pact, interaction: Interaction) -> Mapping[str, Any]:
    """A synchronous message's request as the pact file writes it (what Pact's verifier sends
    the provider: `contents`, `metadata`, and its rules and generators when it has them)."""
    try:
        node = jp.resolve(pact.file.data, f"{interaction.pointer}/request")
    except jp.PointerError:  # the model read it from there: only a changed file
        node = None
    return node if isinstance(node, dict) else {}


def _verify_one(pact: Pact, settings: VerifySettings, relay: StateRelay) -> PactOutcome:
    http = [i for i in pact.interactions if i.kind is Kind.HTTP]
    if not http or not settings.base_url:
        reason = "no base URL to replay it against (--base-url)"
        return PactOutcome(
            pact,
            [
                InteractionOutcome(i, verified=False, reason=reason if i.kind is Kind.HTTP else "")
                for i in pact.interactions
            ],
        )
    with _http_only_copy(pact) as path:
        relay.clear()
        results, general_errors = _run_verifier(path, settings, relay.url)
    by_key: dict[tuple[str, tuple[str, ...]], deque[Mapping[str, Any]]] = defaultdict(deque)
    for result in results:
        # Unnamed states (V1's empty providerState) are no states, on both sides.
        states = tuple(str(name) for name in result.get("providerStates") or () if name)
        key = (str(result.get("description", "")), states)
        by_key[key].append(result)
    outcomes: list[InteractionOutcome] = []
    for interaction in pact.interactions:
        key = (interaction.description, tuple(s.name for s in interaction.states if s.name))
        queue = by_key.get(key)
        if interaction.kind is not Kind.HTTP or not queue:
            reason = "; ".join(general_errors) if interaction.kind is Kind.HTTP else ""
            outcomes.append(InteractionOutcome(interaction, verified=False, reason=reason))
            continue
        result = queue.popleft()
        mismatches = (
            []
            if result.get("result") == "OK"
            else _mismatches(result.get("mismatch"), interaction, relay)
        )
        outcomes.append(InteractionOutcome(interaction, verified=True, mismatches=mismatches))
    return PactOutcome(pact, outcomes)


@contextlib.contextmanager
def _http_only_copy(pact: Pact) -> Iterator[Path]:
    """The pact file itself, or, when it also holds messages, a copy with only HTTP ones.

    The verifier is given an HTTP transport only; message interactions would fail there for a
    reason that has nothing to do with the provider.
    """
    original = Path(pact.file.source.key)
    if all(i.kind is Kind.HTTP for i in pact.interactions) and original.is_file():
        yield original
        return
    # The model decided each interaction's kind (V3 messages without a type included).
    keep = {i.index for i in pact.interactions if i.kind is Kind.HTTP}
    data = dict(pact.file.data)
    data.pop("messages", None)
    data["interactions"] = [
        node for index, node in enumerate(data.get("interactions") or []) if index in keep
    ]
    with tempfile.TemporaryDirectory(prefix="apigov-verify-") as folder:
        copy = Path(folder) / "pact.json"
        copy.write_text(json.dumps(data), encoding="utf-8")
        yield copy


def _run_verifier(
    pact_path: Path, settings: VerifySettings, state_url: str
) -> tuple[list[Any], list[str]]:
    """Run the verifier on one pact file: its per-interaction results, and the errors it
    reported for the pact as a whole (a pact it could not load, for example)."""
    disable_tracking()
    from pact import Verifier  # the FFI loads here, and only for this command

    host = urllib.parse.urlsplit(settings.base_url).hostname or "localhost"
    # The verifier's own host must be the transport URL's host, or add_transport refuses it.
    verifier = Verifier(settings.provider, host=host)
    verifier.add_transport(url=settings.base_url)
    verifier.add_source(pact_path)
    verifier.set_request_timeout(max(1, round(settings.timeout * 1000)))
    verifier.set_coloured_output(enabled=False)
    verifier.state_handler(state_url, teardown=settings.teardown, body=True)
    for name, value in settings.headers:
        verifier.add_custom_header(name, value)
    # verify() raises when any interaction fails: the results below say which and why.
    with _stdout_silenced(), contextlib.suppress(RuntimeError):
        verifier.verify()
    results = verifier.results
    listed = results.get("interactionResults")
    general = [
        f"{error.get('interaction', 'the pact')}: {error['mismatch'].get('message', '')}"
        for error in results.get("errors") or ()
        if isinstance(error, dict)
        and isinstance(error.get("mismatch"), dict)
        and error["mismatch"].get("type") == "error"
    ]
    return (listed if isinstance(listed, list) else []), general


@contextlib.contextmanager
def _stdout_silenced() -> Iterator[None]:
    """Point file descriptor 1 at /dev/null (the Rust verifier prints its report there)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with Path(os.devnull).open("wb") as null:
            os.dup2(null.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


# ---- mismatches --------------------------------------------------------------------------------


def _mismatches(raw: Any, interaction: Interaction, relay: StateRelay) -> list[Mismatch]:
    if not isinstance(raw, Mapping):
        return [Mismatch("RequestFailed", "the verifier reported a failure without details")]
    if raw.get("type") == "error":
        message = str(raw.get("message", "")).strip()
        failure = relay.failure_for(interaction)
        if failure is not None or "provider state" in message.lower():
            reason = failure or message
            return [Mismatch("StateChangeFailed", f"provider state set-up failed: {reason}")]
        return [Mismatch("RequestFailed", f"the request failed: {message or 'no answer'}")]
    found = [_explain(item) for item in raw.get("mismatches") or () if isinstance(item, Mapping)]
    return sorted(found, key=lambda m: _ORDER.get(m.kind, len(_ORDER)))


def _explain(item: Mapping[str, Any]) -> Mismatch:
    kind = str(item.get("type", "Mismatch"))
    text = str(item.get("mismatch", "")).strip()
    expected, actual = item.get("expected"), item.get("actual")
    if kind == "StatusMismatch":
        return Mismatch(kind, f"status: expected {expected}, got {actual}")
    if kind == "HeaderMismatch":
        header = item.get("key", "")
        if actual in (None, ""):
            return Mismatch(kind, f"header {header}: expected {expected!r}, but it is missing")
        return Mismatch(kind, f"header {header}: expected {expected!r}, got {actual!r}")
    if kind == "BodyTypeMismatch":
        return Mismatch(kind, f"body: expected content type {expected!r}, got {actual!r}")
    if kind == "BodyMismatch":
        path = item.get("path") or "$"
        return Mismatch(kind, f"body at {path}: {text}")
    return Mismatch(kind, text or f"expected {expected!r}, got {actual!r}")


def _finding(pact: Pact, outcome: InteractionOutcome, settings: VerifySettings) -> Finding:
    interaction = outcome.interaction
    request = interaction.request
    finding_id, level, detail = _verdict(outcome, settings)
    return Finding(
        finding_id,
        level,
        f"{interaction.label}: {detail}",
        location=pact.locate(interaction.pointer),
        service=settings.provider,
        operation=f"{request.method.upper()} {request.path}" if request is not None else None,
        consumers=(pact.file.consumer,),
    )


def _verdict(outcome: InteractionOutcome, settings: VerifySettings) -> tuple[str, Level, str]:
    interaction = outcome.interaction
    if not outcome.verified:
        if interaction.kind is not Kind.HTTP:
            reason = "a message interaction; give the provider's message endpoint (--message-url)"
            return "verify-interaction-not-verified", Level.INFO, reason
        # An HTTP interaction the verifier did not report on was not shown to work.
        detail = f": {outcome.reason}" if outcome.reason else ""
        return "verify-interaction-not-verified", Level.ERROR, f"not verified{detail}"
    if outcome.passed:
        at = settings.base_url if interaction.kind is Kind.HTTP else settings.message_url
        where = f"verified against {settings.provider} at {at or 'its message producer'}"
        return "verify-interaction-passed", Level.INFO, where
    explained = "; ".join(m.explanation for m in outcome.mismatches)
    first = outcome.mismatches[0].kind
    finding_id = _MISMATCH_IDS.get(first, "verify-request-failed")
    if first == "RequestFailed":
        explained += f" (each request may take {settings.timeout:g} s: --timeout)"
    if interaction.pending:
        return finding_id, Level.WARNING, f"{explained} (pending: does not fail verification)"
    return finding_id, Level.ERROR, explained


# ---- provider states ---------------------------------------------------------------------------


class StateChangeError(Exception):
    """A provider state could not be set up; the message says why."""


def forward_states(url: str, timeout: float) -> StateHandler:
    """A handler that posts Pact's state-change body to the provider's own endpoint."""

    def forward(state: str, action: str, params: Mapping[str, Any]) -> Mapping[str, Any] | None:
        body = json.dumps({"state": state, "params": dict(params), "action": action}).encode()
        request = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                answer = response.read(1024 * 1024)
        except urllib.error.HTTPError as error:
            detail = error.read(500).decode("utf-8", "replace").strip()
            suffix = f": {detail}" if detail else ""
            raise StateChangeError(f"{url} answered {error.code}{suffix}") from None
        except (OSError, urllib.error.URLError) as error:
            raise StateChangeError(f"{url} could not be reached: {error}") from None
        try:
            values = json.loads(answer) if answer.strip() else None
        except ValueError:
            return None
        return values if isinstance(values, dict) else None

    return forward


def _state_key(name: str, params: Mapping[str, Any]) -> tuple[str, str]:
    return name, json.dumps(params, sort_keys=True, default=str)


class StateRelay:
    """A state-change endpoint on 127.0.0.1 that never makes the verifier retry.

    Each POST (Pact's body: state, params, action) runs the handler; a handler that raises is
    answered with 424 and its reason is kept, keyed by state and params, for the finding.
    Without a handler every state is accepted (the provider needs none).
    """

    def __init__(self, handler: StateHandler | None) -> None:
        self.handler = handler
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self._failures: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "the relay is not running"
        return f"http://127.0.0.1:{self._server.server_address[1]}/state-change"

    def clear(self) -> None:
        with self._lock:
            self._failures.clear()

    def failure_for(self, interaction: Interaction) -> str | None:
        with self._lock:
            for state in interaction.states:
                reason = self._failures.get(_state_key(state.name, state.params))
                if reason is not None:
                    return f"{state.name!r}: {reason}"
        return None

    def handle(self, body: bytes) -> tuple[int, bytes]:
        try:
            data = json.loads(body or b"{}")
            state = str(data.get("state", ""))
            action = str(data.get("action", "setup"))
            params = data.get("params") or {}
        except (ValueError, AttributeError):
            return 400, b'{"error": "not a Pact state-change body"}'
        with self._lock:
            self.calls.append((state, action, dict(params)))
        if self.handler is None or state == "":
            return 200, b"{}"
        try:
            values = self.handler(state, action, params)
        except Exception as error:  # any handler failure fails this interaction, at once
            reason = str(error) or type(error).__name__
            with self._lock:
                self._failures[_state_key(state, params)] = reason
            return STATE_FAILED_STATUS, json.dumps({"error": reason}).encode()
        return 200, json.dumps(dict(values or {}), default=str).encode()

    def __enter__(self) -> StateRelay:
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                status, answer = relay.handle(self.rfile.read(length) if length else b"")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # requests are the verifier's business, not the user's terminal

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="apigov-state-relay", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

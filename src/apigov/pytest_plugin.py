"""pytest plugin: a provider's own test suite checks and verifies the pacts it must honour.

Registered through the `pytest11` entry point, so installing apigov is enough. Importing it is
cheap (no Pact FFI, no schemathesis, no uvicorn): those load when a fixture is used.

    @pytest.mark.apigov_provider(name="payments", pacts="contracts", app="payments.main:app",
                                 spec="contracts/payments/openapi.yaml")
    def test_pacts_hold(apigov_verify, apigov_compat):
        apigov_compat()   # every pact against the OpenAPI document, statically
        apigov_verify()   # every pact replayed against the app, served on 127.0.0.1

Fixtures:

- `apigov_provider_server`: serves the marker's `app` (an ASGI app or "module:attribute"; else
  the value of an `apigov_asgi_app` fixture the suite defines) with uvicorn on 127.0.0.1 at a
  free port for the test, and yields its base URL.
- `apigov_verify(**overrides)`: replays the pacts for the provider against that server
  (`apigov.pact.verify`), fails the test with every mismatch when any interaction fails, and
  returns the `VerificationRun`. Provider states go to `states` (marker or argument): a mapping
  of state name to a function taking the state's params; a state with no entry fails the
  interaction. Message interactions are verified when `messages` is given: a function
  `(description, states) -> (contents, metadata)` (states as `{"name", "params"}` objects), or
  the URL of the app's message endpoint (a path such as "/_pact/messages" is on the served app),
  which then also answers synchronous messages. `replies` answers synchronous messages (V4
  `Synchronous/Messages`) without a URL: a function `(description, states, request) ->
  (contents, metadata)` given the pact's request message as written (`{"contents", "metadata"}`).
- `apigov_compat(**overrides)`: checks the pacts against `spec` without running anything
  (`apigov.pact.compat`), fails the test on errors, and returns the findings.

Paths in the marker are relative to pytest's root folder.
"""

from __future__ import annotations

import importlib
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from apigov.findings import Finding
    from apigov.pact.verify import VerificationRun
    from apigov.spec.model import PactFile

MARKER = "apigov_provider"
START_TIMEOUT = 15.0
"""Seconds the served app may take to start accepting connections."""
STOP_TIMEOUT = 10.0


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(name, pacts='contracts', app=None, spec=None, states=None, messages=None, "
        "replies=None, headers=None, timeout=10): the provider a test verifies pacts for "
        "(apigov's pytest plugin)",
    )


# ---- serving an ASGI app ---------------------------------------------------------------------


@contextmanager
def serve_asgi(app: Any, *, start_timeout: float = START_TIMEOUT) -> Iterator[str]:
    """Serve an ASGI app with uvicorn in a thread on 127.0.0.1 and a free port; yield its URL.

    The socket is bound before uvicorn starts, so the port is never raced for; start and stop
    are bounded by `start_timeout` and STOP_TIMEOUT.
    """
    import uvicorn  # only when a suite serves an app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="auto", access_log=False)
    server = uvicorn.Server(config)
    exits: list[SystemExit] = []

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except SystemExit as exit_:  # uvicorn exits when the app's start-up fails
            exits.append(exit_)

    # uvicorn installs signal handlers only in the main thread; this one is not.
    thread = threading.Thread(target=run, name="apigov-asgi-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(STOP_TIMEOUT)
            sock.close()
            why = f"uvicorn exited with {exits[0].code}" if exits else f"{start_timeout:g} s passed"
            raise RuntimeError(f"the ASGI app did not start ({why})")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(STOP_TIMEOUT)
        sock.close()


def load_app(reference: Any) -> Any:
    """An ASGI app given as an object or as "package.module:attribute"."""
    if not isinstance(reference, str):
        return reference
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise pytest.UsageError(f"app={reference!r}: write it as 'module:attribute'")
    target: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        target = getattr(target, part)
    return target


# ---- settings from the marker ----------------------------------------------------------------


def _marker_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        return {}
    settings = dict(marker.kwargs)
    if marker.args:
        settings.setdefault("name", marker.args[0])
    return settings


def _paths(root: Path, value: str | Path | Sequence[str | Path]) -> list[str]:
    items = [value] if isinstance(value, str | Path) else list(value)
    return [str(root / item) for item in items]


def _load_pacts(root: Path, pacts: Any, provider: str) -> list[PactFile]:
    from apigov.pact.verify import select_pacts
    from apigov.spec.loader import Loader
    from apigov.spec.model import PactFile

    loader = Loader()
    named_targets = _paths(root, pacts)
    documents: list[tuple[PactFile, bool]] = []
    for target in loader.expand(named_targets):
        document = loader.load(target)
        if isinstance(document, PactFile):
            documents.append((document, target in named_targets))
    selected = select_pacts(documents, provider)
    if not selected:
        raise pytest.UsageError(f"no pacts with provider {provider!r} in {pacts!r}")
    return selected


def _states_handler(
    states: Mapping[str, Callable[..., Any]] | None,
) -> Callable[[str, str, Mapping[str, Any]], Mapping[str, Any] | None] | None:
    if states is None:
        return None

    def handle(state: str, action: str, params: Mapping[str, Any]) -> Mapping[str, Any] | None:
        if action != "setup":
            return None
        function = states.get(state)
        if function is None:
            raise LookupError(f"no state handler for {state!r} (add it to states=...)")
        values = function(dict(params))
        return values if isinstance(values, Mapping) else None

    return handle


def _failure_text(findings: Sequence[Finding], title: str) -> str:
    lines = [title]
    for finding in findings:
        where = f"{finding.location}: " if finding.location else ""
        lines.append(f"  {where}{finding.id}: {finding.message}")
    return "\n".join(lines)


# ---- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def apigov_provider_server(request: pytest.FixtureRequest) -> Iterator[str]:
    """The provider's ASGI app served on 127.0.0.1 for this test; yields its base URL."""
    settings = _marker_settings(request)
    reference = settings.get("app")
    if reference is None:
        try:
            reference = request.getfixturevalue("apigov_asgi_app")
        except pytest.FixtureLookupError:
            raise pytest.UsageError(
                f"apigov_provider_server needs app=... on @pytest.mark.{MARKER} "
                "or an apigov_asgi_app fixture"
            ) from None
    with serve_asgi(load_app(reference)) as base_url:
        yield base_url


@pytest.fixture
def apigov_verify(request: pytest.FixtureRequest) -> Callable[..., VerificationRun]:
    """Call it to replay the provider's pacts against its served app (fails the test on any
    mismatch); keyword arguments override the marker's: name, pacts, states, messages, replies,
    headers, timeout, base_url (verify a server you started yourself)."""

    def verify(**overrides: Any) -> VerificationRun:
        from apigov.findings import Level
        from apigov.pact.verify import VerifySettings, verify_pacts

        settings = {**_marker_settings(request), **overrides}
        provider = settings.get("name")
        if not provider:
            raise pytest.UsageError(f"apigov_verify needs name=... (on @pytest.mark.{MARKER})")
        base_url = settings.get("base_url") or request.getfixturevalue("apigov_provider_server")
        pacts = _load_pacts(request.config.rootpath, settings.get("pacts", "contracts"), provider)
        headers = tuple((settings.get("headers") or {}).items())
        messages = settings.get("messages")
        message_url: str | None = None
        producer = None
        if isinstance(messages, str):
            # A path is on the served app; anything else is a URL of its own.
            message_url = base_url.rstrip("/") + messages if messages.startswith("/") else messages
        elif messages is not None:
            if not callable(messages):
                raise pytest.UsageError("messages=... must be a function or a URL")
            producer = messages
        replies = settings.get("replies")
        if replies is not None and not callable(replies):
            raise pytest.UsageError("replies=... must be a function")
        if replies is not None and message_url is not None:
            raise pytest.UsageError(
                "replies=... and a messages URL: the URL answers synchronous messages too"
            )
        run = verify_pacts(
            pacts,
            VerifySettings(
                provider=provider,
                base_url=base_url,
                headers=headers,
                timeout=float(settings.get("timeout", 10)),
                message_url=message_url,
            ),
            state_handler=_states_handler(settings.get("states")),
            message_producer=producer,
            reply_producer=replies,
        )
        failures = [f for f in run.findings() if f.level is Level.ERROR]
        if failures:
            pytest.fail(
                _failure_text(failures, f"{provider} does not honour its consumers' pacts:"),
                pytrace=False,
            )
        return run

    return verify


@pytest.fixture
def apigov_compat(request: pytest.FixtureRequest) -> Callable[..., list[Finding]]:
    """Call it to check the provider's pacts against its OpenAPI document statically (fails the
    test on errors); keyword arguments override the marker's: name, pacts, spec."""

    def compat(**overrides: Any) -> list[Finding]:
        from apigov.findings import Level
        from apigov.pact.compat import check_compatibility
        from apigov.spec.loader import Loader
        from apigov.spec.model import ApiSpec

        settings = {**_marker_settings(request), **overrides}
        provider = settings.get("name")
        spec_path = settings.get("spec")
        if not provider or not spec_path:
            raise pytest.UsageError(
                f"apigov_compat needs name=... and spec=... (on @pytest.mark.{MARKER})"
            )
        root = request.config.rootpath
        spec = Loader().load(str(root / spec_path))
        if not isinstance(spec, ApiSpec):
            raise pytest.UsageError(f"spec={spec_path!r} is not an OpenAPI document")
        findings: list[Finding] = []
        for pact in _load_pacts(root, settings.get("pacts", "contracts"), provider):
            findings.extend(check_compatibility(pact, spec))
        errors = [f for f in findings if f.level is Level.ERROR]
        if errors:
            pytest.fail(
                _failure_text(errors, f"pacts for {provider} do not fit {spec_path}:"),
                pytrace=False,
            )
        return findings

    return compat

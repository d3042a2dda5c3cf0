"""Drive schemathesis's engine over one OpenAPI document and collect a `FuzzRun`.

schemathesis.engine runs every phase (examples, coverage, fuzzing, stateful) but is not public
API, so the version is pinned in pyproject.toml and tests/fuzz/test_fuzz_engine_api.py fails
loudly when an upgrade changes what this module relies on. Everything schemathesis-specific is
in this one module.
"""

from __future__ import annotations

import contextlib
import copy
import random
import signal
import socket
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from types import FrameType
from typing import Any, Protocol

import requests
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import StopReason, events, from_schema
from schemathesis.engine.recorder import ScenarioRecorder

from apigov.fuzz.results import NETWORK_CHECK, FailureKey, FuzzFailure, FuzzRun, body_excerpt
from apigov.fuzz.settings import ALL_PHASES, SAFE_RATE_LIMIT, FuzzSettings
from apigov.spec.errors import InputError, UnreachableError

CONNECT_TIMEOUT_S = 3.0


class FuzzObserver(Protocol):
    """Told about progress as it happens (the live display); never decides anything."""

    def started(self, operations: list[str]) -> None: ...

    def update(self, run: FuzzRun) -> None: ...

    def finished(self, run: FuzzRun) -> None: ...


def schemathesis_config(settings: FuzzSettings, seed: int) -> dict[str, Any]:
    """The run's settings in schemathesis's own configuration shape (its TOML file's keys)."""
    config: dict[str, Any] = {
        "seed": seed,
        "max-time": settings.max_time,
        "base-url": settings.base_url,
        "workers": settings.workers,
        "request-timeout": settings.request_timeout,
        "generation": {
            "max-examples": settings.max_examples,
            "mode": "positive" if settings.safe else "all",
            # No example database: a run depends on its seed alone, and writes nothing to the
            # working directory.
            "database": "none",
        },
        "phases": {phase: {"enabled": phase in settings.phases} for phase in ALL_PHASES},
        "checks": {"enabled": True},
    }
    rate_limit = settings.rate_limit or (SAFE_RATE_LIMIT if settings.safe else None)
    if rate_limit:
        config["rate-limit"] = rate_limit
    if settings.headers:
        config["headers"] = dict(settings.headers)
    if settings.basic_auth is not None:
        username, password = settings.basic_auth
        config["auth"] = {"basic": {"username": username, "password": password}}
    return config


def check_reachable(base_url: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Fail fast (exit 3) when nothing listens at the base URL, instead of fuzzing a void."""
    parts = urllib.parse.urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(base_url, "--base-url must be an http(s) URL with a host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            pass
    except OSError as exc:
        raise UnreachableError(f"{base_url}: cannot connect: {exc.strerror or exc}") from None


def run_fuzz(
    document: Mapping[str, Any],
    spec_name: str,
    settings: FuzzSettings,
    operations: list[str],
    *,
    observer: FuzzObserver | None = None,
) -> FuzzRun:
    """Fuzz the chosen `operations` of `document` at `settings.base_url`; always returns a run.

    Bounded by `max_time`, `max_requests` and the request timeout. Ctrl-C (SIGINT) stops the
    engine cleanly: the run comes back marked interrupted, with everything seen so far.
    """
    seed = settings.seed if settings.seed is not None else random.SystemRandom().getrandbits(64)
    run = FuzzRun(
        spec=spec_name,
        base_url=settings.base_url,
        seed=seed,
        max_time=settings.max_time,
        max_examples=settings.max_examples,
        max_requests=settings.max_requests,
        phases=settings.phases,
        operations=list(operations),
    )
    if not operations:
        return run
    config = SchemathesisConfig.from_dict(schemathesis_config(settings, seed))
    # schemathesis may rewrite the document it is given; it gets its own copy.
    loaded = schemathesis.openapi.from_dict(copy.deepcopy(dict(document)), config=config)
    schema = loaded.include(name=list(operations))
    if observer is not None:
        observer.started(list(operations))
    started = time.monotonic()
    stream = from_schema(schema).execute()
    sent = _RequestBudget(settings.max_requests, stream.stop)

    # schemathesis's documented `before_call` hook sees every request before it is sent, so the
    # request budget holds within a scenario too. It exists only at global scope: registered for
    # this run and removed after it (two runs at once in one process would share the count).
    def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
        sent.note_request()

    schemathesis.hook(before_call)
    try:
        with _stop_on_sigint(stream.stop, run):
            for event in stream:
                _absorb(event, run, spec_name, observer, sent)
    finally:
        schemathesis.hooks.unregister(before_call)
        # Requests of a scenario cut short by a stop are sent but never reported by the engine.
        run.requests = max(run.requests, sent.count)
        run.seconds = time.monotonic() - started
        if observer is not None:
            observer.finished(run)  # also on errors: the live display must give the terminal back
    return run


def _absorb(
    event: events.EngineEvent,
    run: FuzzRun,
    spec_name: str,
    observer: FuzzObserver | None,
    budget: _RequestBudget,
) -> None:
    if isinstance(event, events.ScenarioFinished):
        _absorb_scenario(event.recorder, run, observer)
    elif isinstance(event, events.NonFatalError) and event.related_to_operation:
        check = NETWORK_CHECK if isinstance(event.value, requests.RequestException) else "error"
        run.add_failure(
            FuzzFailure(
                key=FailureKey(event.label, check, type(event.value).__name__),
                title=event.info.title,
                detail=event.info.message,
                curl=_flatten_curl(event.info.code_sample or ""),
            )
        )
    elif isinstance(event, events.FatalError):
        raise InputError(spec_name, f"schemathesis could not run: {event.exception}")
    elif isinstance(event, events.EngineFinished) and run.stop_reason == "completed":
        # The engine calls every stop it is asked for "interrupted": tell budget and Ctrl-C apart.
        if event.stop_reason is not StopReason.INTERRUPTED:
            run.stop_reason = event.stop_reason.value
        elif budget.exhausted:
            run.stop_reason = "max_requests"
        else:
            run.stop_reason = "interrupted"
            run.interrupted = True


def _absorb_scenario(
    recorder: ScenarioRecorder, run: FuzzRun, observer: FuzzObserver | None
) -> None:
    for case_id in recorder.interactions:
        node = recorder.cases.get(case_id)
        label = node.value.operation.label if node is not None else recorder.label
        run.requests += 1
        run.requests_per_operation[label] += 1
    for case_id, checks in recorder.checks.items():
        node = recorder.cases.get(case_id)
        label = node.value.operation.label if node is not None else recorder.label
        counts = run.checks_per_operation.setdefault(label, Counter())
        for check in checks:
            counts[check.name] += 1
            info = check.failure_info
            if info is None:
                continue
            failure = info.failure
            failing_case = failure.case_id or case_id
            interaction = recorder.interactions.get(failing_case)
            response = interaction.response if interaction is not None else None
            failing_node = recorder.cases.get(failing_case)
            operation = failure.operation or (
                failing_node.value.operation.label if failing_node is not None else label
            )
            run.add_failure(
                FuzzFailure(
                    key=FailureKey(operation, check.name, type(failure).__name__),
                    title=failure.title,
                    detail=failure.message,
                    curl=_flatten_curl(info.code_sample),
                    status=response.status_code if response is not None else None,
                    body_excerpt=(
                        body_excerpt(response.content, response.content_size)
                        if response is not None
                        else ""
                    ),
                )
            )
    if observer is not None:
        observer.update(run)


def _flatten_curl(code_sample: str) -> str:
    """Stateful failures need several requests: one shell line, steps joined with `&&`."""
    lines = [line.strip() for line in code_sample.splitlines() if line.strip()]
    return " && ".join(lines)


class _RequestBudget:
    """Counts requests as they are sent; at the limit, asks the engine to stop."""

    def __init__(self, limit: int, stop: Callable[[], None]) -> None:
        self.limit = limit
        self.stop = stop
        self.count = 0
        self.lock = threading.Lock()  # workers call the hook from several threads

    @property
    def exhausted(self) -> bool:
        return self.count >= self.limit

    def note_request(self) -> None:
        with self.lock:
            self.count += 1
            if self.count == self.limit:
                self.stop()


@contextlib.contextmanager
def _stop_on_sigint(stop: Any, run: FuzzRun) -> Iterator[None]:
    """First Ctrl-C: ask the engine to stop and keep the partial run. Second: abort at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        run.interrupted = True
        run.stop_reason = "interrupted"
        signal.signal(signal.SIGINT, signal.default_int_handler)
        stop()

    signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)

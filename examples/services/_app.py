"""What every example service shares: the app, pages, ids, clocks and the Pact endpoints."""

from __future__ import annotations

import base64
import json
import os
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from examples.services._contract import Contract
from examples.services._problems import ProblemError, install_problem_handlers, problem_response

PROVIDER_STATES_ENV = "EXAMPLES_PROVIDER_STATES"
"""Set to 1 to mount the Pact endpoints (state changes, messages) on every service."""
STATE_CHANGE_PATH = "/_pact/provider-states"
MESSAGES_PATH = "/_pact/messages"

T = TypeVar("T")


def provider_states_enabled(flag: bool | None) -> bool:
    if flag is not None:
        return flag
    return os.environ.get(PROVIDER_STATES_ENV, "") in ("1", "true", "yes")


def new_app(service: str) -> tuple[FastAPI, Contract]:
    """A FastAPI app for `service` with problem-details errors, and its contract's checks.

    FastAPI's own OpenAPI page is off: the contract in contracts/ is the service's description.
    """
    app = FastAPI(title=service, openapi_url=None, docs_url=None, redoc_url=None)
    install_problem_handlers(app)

    async def method_not_allowed(request: Request, exc: Exception) -> Response:
        # Starlette's 405 names the methods of the first route that matched the path only;
        # `Allow` must list every method the path supports (one route per operation here).
        allowed = sorted(
            {
                method
                for route in app.routes
                if isinstance(route, APIRoute) and route.path_regex.match(request.url.path)
                for method in route.methods or ()
            }
        )
        return problem_response(
            ProblemError(
                405,
                "method-not-allowed",
                "Method not allowed",
                headers={"Allow": ", ".join(allowed)},
            )
        )

    app.add_exception_handler(405, method_not_allowed)
    return app, Contract(service)


def now() -> str:
    """The current instant as RFC 3339 with seconds and `Z` (what the pacts' matchers expect)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_id() -> str:
    return str(uuid.uuid4())


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


def page(items: Sequence[T], limit: int, cursor: str | None) -> dict[str, Any]:
    """One page of `items` in the fleet's `{items, page}` shape; the cursor is an opaque offset."""
    offset = 0
    if cursor is not None:
        # The contract accepts any cursor string: one this service did not give out is read as
        # a position past the end (an empty last page), not as an error.
        try:
            offset = int(base64.urlsafe_b64decode(cursor.encode() + b"==").decode())
        except ValueError:
            offset = len(items)
        offset = max(0, offset)
    chunk = list(items[offset : offset + limit])
    info: dict[str, Any] = {"limit": limit, "hasMore": offset + limit < len(items)}
    if info["hasMore"]:
        info["nextCursor"] = base64.urlsafe_b64encode(str(offset + limit).encode()).decode()
    return {"items": chunk, "page": info}


@dataclass
class Idempotency:
    """Idempotency-Key handling: the same key and body give the first result, another body 409."""

    seen: dict[str, tuple[str, str]] = field(default_factory=dict)

    def replay(self, key: str, body: Any) -> str | None:
        """The id created first under `key`, None if the key is new; ProblemError 409 on misuse."""
        fingerprint = json.dumps(body, sort_keys=True)
        if key not in self.seen:
            return None
        first_fingerprint, created = self.seen[key]
        if first_fingerprint != fingerprint:
            raise ProblemError.conflict(
                "idempotency-key-reused",
                "Idempotency-Key reused",
                "This Idempotency-Key was used with another request body.",
            )
        return created

    def remember(self, key: str, body: Any, created: str) -> None:
        self.seen[key] = (json.dumps(body, sort_keys=True), created)


StateHandler = Callable[[dict[str, Any]], None]


@dataclass
class ProviderStates:
    """The provider states a service can be put in, by name or by a name pattern.

    Handlers raise nothing for a known state; an unknown state is answered with 400 at once, so
    a verifier fails fast instead of retrying (pact's verifier retries failing set-ups ~128 s).
    """

    exact: dict[str, StateHandler] = field(default_factory=dict)
    patterns: list[tuple[re.Pattern[str], Callable[[re.Match[str], dict[str, Any]], None]]] = field(
        default_factory=list
    )

    def apply(self, state: str, params: dict[str, Any]) -> bool:
        handler = self.exact.get(state)
        if handler is not None:
            handler(params)
            return True
        for pattern, by_match in self.patterns:
            found = pattern.fullmatch(state)
            if found:
                by_match(found, params)
                return True
        return False


def mount_pact_endpoints(
    app: FastAPI,
    states: ProviderStates,
    reset: Callable[[], None],
    last_message: Callable[[], tuple[dict[str, Any], dict[str, Any]] | None] | None = None,
) -> None:
    """The state-change endpoint (and, for a publisher, the message endpoint) for verification.

    `POST /_pact/provider-states` takes `{"state", "params", "action"}` as pact's verifier sends
    it; `POST /_pact/messages` answers with the last message the service published, its
    metadata base64-encoded in `Pact-Message-Metadata`, as pact's message transport expects.
    """

    @app.post(STATE_CHANGE_PATH, include_in_schema=False)
    async def change_state(request: Request) -> Response:
        try:
            change = json.loads(await request.body() or b"{}")
        except ValueError:
            return json_response({"error": "the body must be JSON"}, 400)
        state = str(change.get("state") or "")
        params = change.get("params") or {}
        if change.get("action") == "teardown":
            # Back to the service's start-up data after each interaction. Set-ups only add or
            # overwrite their own records, so a verifier that sends no teardown still works.
            reset()
            return json_response({}, 200)
        if not state:  # pact's generic set-up call before an interaction without a state
            return json_response({}, 200)
        if not states.apply(state, params):
            return json_response({"error": f"unknown provider state: {state!r}"}, 400)
        return json_response({}, 200)

    if last_message is None:
        return

    @app.post(MESSAGES_PATH, include_in_schema=False)
    async def message(request: Request) -> Response:
        published = last_message()
        if published is None:
            return json_response({"error": "nothing was published"}, 404)
        content, metadata = published
        encoded = base64.b64encode(json.dumps(metadata).encode()).decode()
        return Response(
            json.dumps(content).encode(),
            media_type="application/json",
            headers={"Pact-Message-Metadata": encoded},
        )

"""`create_app(location)`: the registry server, a FastAPI app over one `Registry`.

It serves apigov's own JSON API (`api.py`, described by `openapi.yaml`), the Pact Broker subset
(`broker.py`), and a health check. Every error is an RFC 9457 problem details document
(`application/problem+json`); request bodies above `max_body_bytes` are refused with 413 before
they are read whole.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from apigov import __version__
from apigov.registry import web
from apigov.registry.gate import Policy, parse_policy
from apigov.registry.server import api, broker
from apigov.registry.server.auth import AuthError, AuthSettings, TokenStore
from apigov.registry.server.webhooks import DEFAULT_RETRY_DELAYS, Dispatcher, WebhookStore
from apigov.spec.errors import InputError, UnreachableError

OPENAPI_DOCUMENT = Path(__file__).resolve().parent / "openapi.yaml"
DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024
PROBLEM = "application/problem+json"


def problem_response(
    status: int, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


class BodyLimit:
    """Refuse request bodies larger than `limit` bytes with 413, announced or streamed.

    A declared Content-Length is checked before anything is read; a chunked body is counted
    as it arrives and cut off at the limit, so a client cannot make the server buffer more.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        seen = 0
        started = False
        too_large = False

        async def counted_receive() -> Message:
            nonlocal seen, too_large
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    # Tell the app the client went away (frameworks turn exceptions raised
                    # here into their own 400), and answer 413 ourselves below.
                    too_large = True
                    return {"type": "http.disconnect"}
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if too_large:
                return  # whatever the app says about a body it never got whole is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except Exception:
            if not too_large:
                raise
        if too_large and not started:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            413,
            "Request too large",
            f"request bodies are limited to {self.limit} bytes on this server",
        )
        await response(scope, receive, send)


def create_app(
    location: str,
    *,
    auth_required: bool = True,
    auth_reads: bool = False,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    webhook_retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS,
    broker_policy: Policy | None = None,
) -> FastAPI:
    """The server for the registry at `location` (a SQLite path or a SQLAlchemy URL).

    auth_required: writes need a token (`False`: everything is open, for local use);
    auth_reads: reads need a token too; webhook_retry_delays: seconds before each retry of a
    webhook delivery that failed; broker_policy: the evidence the Pact Broker's can-i-deploy and
    matrix require (their clients cannot say; apigov's own API takes it per request).
    """
    from apigov.registry.sql import SqlRegistry

    registry = SqlRegistry(location)
    webhooks = WebhookStore(registry.engine)
    dispatcher = Dispatcher(webhooks, webhook_retry_delays)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        dispatcher.stop()
        registry.close()

    app = FastAPI(
        lifespan=lifespan,
        title="apigov registry",
        version=__version__,
        # The served description is the curated openapi.yaml, not FastAPI's generated one.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.registry = registry
    app.state.engine = registry.engine
    app.state.auth = AuthSettings(required=auth_required, reads=auth_reads)
    app.state.tokens = TokenStore(registry.engine)
    app.state.webhooks = webhooks
    app.state.dispatcher = dispatcher
    app.state.policy = broker_policy or Policy()
    app.include_router(api.router)
    app.include_router(broker.router)
    _add_service_routes(app)
    _add_error_handlers(app)
    # The web pages (/ui), the fleet map and their static files; browsers asking for / go there.
    web.install(app)
    # Outermost: a request that is too large never reaches routing or a handler.
    app.add_middleware(BodyLimit, limit=max_body_bytes)
    return app


def _add_service_routes(app: FastAPI) -> None:
    document = OPENAPI_DOCUMENT.read_bytes()

    @app.get(f"{api.PREFIX}/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get(f"{api.PREFIX}/openapi")
    def openapi_document(_: api.Reader) -> Response:
        return Response(document, media_type="application/yaml")


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(api.ProblemError)
    async def on_problem(_: Request, error: api.ProblemError) -> JSONResponse:
        return problem_response(error.status, error.title, error.detail, **error.extra)

    @app.exception_handler(AuthError)
    async def on_auth(_: Request, error: AuthError) -> JSONResponse:
        if error.status == 401:
            return problem_response(
                401, "Unauthorized", error.detail, headers={"WWW-Authenticate": "Bearer"}
            )
        return problem_response(403, "Forbidden", error.detail)

    @app.exception_handler(InputError)
    async def on_refused(_: Request, error: InputError) -> JSONResponse:
        # RegistryError (an unknown version or environment) and malformed policy names.
        return problem_response(422, "Refused by the registry", error.message)

    @app.exception_handler(UnreachableError)
    async def on_unreachable(_: Request, error: UnreachableError) -> JSONResponse:
        return problem_response(503, "Storage unavailable", str(error))

    @app.exception_handler(RequestValidationError)
    async def on_invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {"location": [str(part) for part in e.get("loc", ())], "message": e.get("msg", "")}
            for e in error.errors()
        ]
        first = errors[0] if errors else {"location": [], "message": "invalid request"}
        detail = f"{'/'.join(first['location'])}: {first['message']}"
        return problem_response(422, "Invalid request", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(_: Request, error: StarletteHTTPException) -> JSONResponse:
        return problem_response(
            error.status_code,
            _TITLES.get(error.status_code, "Error"),
            str(error.detail),
            # e.g. the Allow header of a 405 (RFC 9110 requires it).
            headers=dict(error.headers) if error.headers else None,
        )


_TITLES = {404: "Not found", 405: "Method not allowed", 400: "Bad request"}

# Settings for `app_from_environment`, which uvicorn calls in each worker process.
ENV_LOCATION = "APIGOV_SERVE_REGISTRY"
ENV_AUTH = "APIGOV_SERVE_AUTH"  # "off" | "writes" | "all"
ENV_MAX_BODY = "APIGOV_SERVE_MAX_BODY"
ENV_BROKER_REQUIRE = "APIGOV_SERVE_BROKER_REQUIRE"  # evidence names, space-separated
ENV_BROKER_MAX_AGE = "APIGOV_SERVE_BROKER_MAX_AGE"


def app_from_environment() -> FastAPI:
    """The app factory `apigov registry serve` hands uvicorn (one call per worker process)."""
    auth = os.environ.get(ENV_AUTH, "writes")
    return create_app(
        os.environ[ENV_LOCATION],
        auth_required=auth != "off",
        auth_reads=auth == "all",
        max_body_bytes=int(os.environ.get(ENV_MAX_BODY, DEFAULT_MAX_BODY_BYTES)),
        broker_policy=parse_policy(
            os.environ.get(ENV_BROKER_REQUIRE, "").split(),
            os.environ.get(ENV_BROKER_MAX_AGE) or None,
            source=ENV_BROKER_REQUIRE,
        ),
    )

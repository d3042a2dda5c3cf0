"""How the web pages join the registry server's app (see the package docstring)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from starlette.routing import BaseRoute, Match
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from apigov.registry.web.render import PREFIX, STATIC

STATIC_FOLDER = Path(__file__).resolve().parent / "static"


class UnderPrefix(BaseRoute):
    """Every request whose path is `prefix` or starts with `prefix/` goes to `app`, unchanged.

    Unlike Starlette's `Mount`, the path is not cut: the sub-application's routes are declared
    with their full paths (`/ui/services`), so links and tests read the same as the URLs.
    """

    def __init__(self, prefix: str, app: ASGIApp) -> None:
        self.prefix = prefix
        self.app = app

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path == self.prefix or path.startswith(self.prefix + "/"):
                return Match.FULL, {}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def prefers_html(accept: str) -> bool:
    """True when an Accept header ranks text/html above JSON (HAL or plain): a browser.

    Wildcards count for both, so `*/*` (curl, most HTTP libraries) is a tie and not a browser.
    """
    quality = {"text/html": 0.0, "json": 0.0}
    specific = {"text/html": -1, "json": -1}  # how specific the range that set each one was
    for part in accept.split(","):
        media, _, params = part.strip().partition(";")
        media = media.strip().lower()
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        for kind, ranges in (
            ("text/html", {"text/html": 2, "text/*": 1, "*/*": 0}),
            (
                "json",
                {"application/hal+json": 2, "application/json": 2, "application/*": 1, "*/*": 0},
            ),
        ):
            rank = ranges.get(media)
            if rank is not None and rank >= specific[kind]:
                if rank > specific[kind]:
                    quality[kind] = q
                else:
                    quality[kind] = max(quality[kind], q)
                specific[kind] = rank
    return quality["text/html"] > quality["json"]


class BrowserHome(BaseRoute):
    """`GET /` from a browser: redirect to the pages. Anything else falls through to HAL."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and scope["path"] == "/" and scope["method"] in ("GET", "HEAD"):
            accept = dict(scope.get("headers") or []).get(b"accept", b"").decode("latin-1")
            if prefers_html(accept):
                return Match.FULL, {}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await RedirectResponse(f"{PREFIX}/", status_code=303)(scope, receive, send)


def build_web_app(parent: FastAPI) -> FastAPI:
    """The pages as their own app: HTML error pages, the parent's state (one registry)."""
    from apigov.registry.web import fleet_map, pages

    web = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    # One registry, one set of auth settings and tokens for the API and the pages.
    web.state = parent.state
    web.include_router(pages.router)
    web.include_router(fleet_map.router)
    web.mount(STATIC, StaticFiles(directory=STATIC_FOLDER), name="static")
    pages.add_error_pages(web)
    return web


def install(app: FastAPI) -> None:
    """Serve the pages, the fleet map and the static files under /ui, and send browsers there."""
    app.router.routes.insert(0, BrowserHome())
    app.router.routes.append(UnderPrefix(PREFIX, build_web_app(app)))

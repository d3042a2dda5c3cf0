"""The pages under /ui: home, services, one service, the matrix, the diff view, sign-in.

Routes are thin: read the query, ask `data.py` / `matrix.py` / `diffview.py`, render a template
(`render.page`). Every table is plain HTML; forms are GET forms, so everything works without
JavaScript. Errors are HTML pages here (the JSON API answers problem details instead).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection, Engine, func, select
from starlette.exceptions import HTTPException as StarletteHTTPException

from apigov.registry.compat import StaticChecker
from apigov.registry.models import Environment, Service, Version
from apigov.registry.server.auth import AuthError
from apigov.registry.web import data
from apigov.registry.web.access import COOKIE, PageReader
from apigov.registry.web.render import PREFIX, page
from apigov.spec.errors import InputError, UnreachableError

router = APIRouter()

SERVICES_PER_PAGE = 50
VERSIONS_PER_PAGE = 20
MAX_LOGIN_BODY = 4096

Text = Annotated[str, Query(max_length=200)]
Cursor = Annotated[str | None, Query(max_length=200)]


class PageNotFoundError(Exception):
    """A page about something the registry does not hold (rendered as an HTML 404)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@contextmanager
def reading(request: Request) -> Iterator[Connection]:
    """One read transaction per page: everything on it is from one state of the registry."""
    engine: Engine = request.app.state.engine
    with engine.connect() as connection, connection.begin():
        yield connection


def checker_name(request: Request) -> str:
    """The static checker's identity, as can-i-deploy stores its results under."""
    return StaticChecker(request.app.state.registry).name


@router.get(f"{PREFIX}/", response_class=HTMLResponse)
def home(request: Request, _: PageReader) -> Response:
    services: Any = Service.__table__
    versions: Any = Version.__table__
    environments: Any = Environment.__table__
    with reading(request) as connection:
        counts = {
            "services": connection.scalar(select(func.count()).select_from(services)) or 0,
            "versions": connection.scalar(select(func.count()).select_from(versions)) or 0,
            "environments": connection.scalar(select(func.count()).select_from(environments)) or 0,
        }
        envs = data.environments(connection)
    return page(request, "home.html", {"counts": counts, "environments": envs})


@router.get(PREFIX, include_in_schema=False)
def home_without_slash() -> Response:
    return RedirectResponse(f"{PREFIX}/", status_code=308)


@router.get(f"{PREFIX}/services", response_class=HTMLResponse)
def services(
    request: Request, _: PageReader, q: Text = "", team: Text = "", cursor: Cursor = None
) -> Response:
    with reading(request) as connection:
        found = data.list_services(connection, q.strip(), team, cursor, SERVICES_PER_PAGE)
    next_link = None
    if found.next_cursor is not None:
        query = {"q": q, "team": team, "cursor": found.next_cursor}
        next_link = f"{PREFIX}/services?" + urllib.parse.urlencode(
            {k: v for k, v in query.items() if v}
        )
    return page(
        request,
        "services.html",
        {"page": found, "q": q, "team": team, "next_link": next_link, "first": cursor is None},
    )


@router.get(PREFIX + "/services/{name}", response_class=HTMLResponse)
def service(request: Request, name: str, _: PageReader, cursor: Cursor = None) -> Response:
    if cursor is not None and not cursor.isdigit():
        raise PageNotFoundError(f"{cursor!r} is not a page of versions")
    checker = checker_name(request)
    with reading(request) as connection:
        detail = data.service_detail(connection, name, cursor, VERSIONS_PER_PAGE, checker)
    if detail is None:
        raise PageNotFoundError(f"there is no service {name!r} in the registry")
    from apigov.registry.web.operations import operations_of

    operations = (
        operations_of(
            request.app.state.registry, name, detail.latest.number, detail.latest.spec_digest
        )
        if detail.latest is not None
        else None
    )
    next_link = (
        f"{PREFIX}/services/{urllib.parse.quote(name)}?cursor={detail.next_cursor}"
        if detail.next_cursor
        else None
    )
    return page(
        request,
        "service.html",
        {"s": detail, "operations": operations, "next_link": next_link, "first": cursor is None},
    )


@router.get(f"{PREFIX}/matrix", response_class=HTMLResponse)
def matrix(
    request: Request,
    _: PageReader,
    env: Text = "",
    service: Text = "",
    version: Text = "",
    cursor: Cursor = None,
) -> Response:
    from apigov.registry.web.matrix import build_matrix

    view = build_matrix(request, env.strip(), service.strip(), version.strip(), cursor)
    return page(request, "matrix.html", {"m": view}, status_code=404 if view.missing else 200)


@router.get(f"{PREFIX}/diff", response_class=HTMLResponse)
def diff(
    request: Request,
    _: PageReader,
    service: Text = "",
    from_: Annotated[str, Query(alias="from", max_length=200)] = "",
    to: Text = "",
) -> Response:
    from apigov.registry.web.diffview import build_diff

    view = build_diff(request, service.strip(), from_.strip(), to.strip())
    return page(request, "diff.html", {"d": view}, status_code=404 if view.missing else 200)


# ---- signing in ------------------------------------------------------------------------------


def _safe_next(target: str) -> str:
    """Only a page of this site: never an absolute URL (an open redirect)."""
    if target.startswith(f"{PREFIX}/") and not target.startswith("//") and "\\" not in target:
        return target
    return f"{PREFIX}/"


@router.get(f"{PREFIX}/login", response_class=HTMLResponse)
def login_form(
    request: Request, next_page: Annotated[str, Query(alias="next", max_length=200)] = ""
) -> Response:
    return page(request, "login.html", {"next": _safe_next(next_page), "problem": None})


@router.post(f"{PREFIX}/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    # A form post (application/x-www-form-urlencoded), read by hand: the only form the pages
    # take, so no multipart parser is needed.
    body = await request.body()
    fields = urllib.parse.parse_qs(body[:MAX_LOGIN_BODY].decode("utf-8", "replace"))
    token = (fields.get("token") or [""])[0].strip()
    target = _safe_next((fields.get("next") or [""])[0])
    principal = request.app.state.tokens.lookup(token) if token else None
    if principal is None:
        return page(
            request,
            "login.html",
            {"next": target, "problem": "That token is not valid (unknown or revoked)."},
            status_code=401,
        )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=PREFIX,
    )
    return response


@router.post(f"{PREFIX}/logout")
def logout() -> Response:
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    response.delete_cookie(COOKIE, path=PREFIX, httponly=True, samesite="strict")
    return response


# ---- error pages -----------------------------------------------------------------------------


def error_page(
    request: Request,
    status: int,
    title: str,
    detail: str,
    *,
    login: bool = False,
    headers: dict[str, str] | None = None,
) -> Response:
    """The pages' one error page: a title, the reason, and the login form when it helps."""
    context = {"title": title, "detail": detail, "login": login}
    return page(request, "error.html", context, status_code=status, headers=headers)


def add_error_pages(app: FastAPI) -> None:
    """HTML answers for the pages' errors (the JSON API keeps its problem details)."""

    @app.exception_handler(AuthError)
    async def on_auth(request: Request, error: AuthError) -> Response:
        if error.status == 401:
            title = "Sign in to see the registry"
            bearer = {"WWW-Authenticate": "Bearer"}
            return error_page(request, 401, title, error.detail, login=True, headers=bearer)
        return error_page(request, 403, "Not allowed", error.detail)

    @app.exception_handler(PageNotFoundError)
    async def on_missing(request: Request, error: PageNotFoundError) -> Response:
        return error_page(request, 404, "Not found", error.detail)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, error: RequestValidationError) -> Response:
        first = error.errors()[0] if error.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "query")
        detail = f"{where}: {first.get('msg', 'invalid')}"
        return error_page(request, 400, "Bad request", detail)

    @app.exception_handler(UnreachableError)
    async def on_unreachable(request: Request, error: UnreachableError) -> Response:
        title = "The registry's storage is unavailable"
        return error_page(request, 503, title, str(error))

    @app.exception_handler(InputError)
    async def on_refused(request: Request, error: InputError) -> Response:
        # A stored document that no longer loads, or a request the registry refuses.
        return error_page(request, 422, "Refused by the registry", error.message)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, error: StarletteHTTPException) -> Response:
        detail = "there is no such page" if error.status_code == 404 else str(error.detail)
        headers = dict(error.headers) if error.headers else None
        title = f"Error {error.status_code}"
        return error_page(request, error.status_code, title, detail, headers=headers)

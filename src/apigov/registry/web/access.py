"""Who may read the pages: the server's read scope, from a bearer token or the login cookie.

A browser cannot add an `Authorization` header to a link it follows, so `/ui/login` keeps the
token in a cookie (HttpOnly: page scripts cannot read it; SameSite=Strict: other sites cannot
make the browser send it). The cookie is only read for the pages (`Path=/ui`); the JSON API
keeps asking for the header.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from apigov.registry.server.auth import Principal, Scope, authenticate

COOKIE = "apigov_token"


def presented_authorization(request: Request) -> str | None:
    """The Authorization header, or the login cookie as if it were one."""
    header = request.headers.get("authorization")
    if header is None:
        token = request.cookies.get(COOKIE)
        if token:
            header = f"Bearer {token}"
    return header


def page_reader(request: Request) -> Principal:
    """A page needs what the JSON API's reads need (`--auth-reads`: a read token)."""
    return authenticate(
        presented_authorization(request),
        Scope.READ,
        request.app.state.auth,
        request.app.state.tokens,
    )


PageReader = Annotated[Principal, Depends(page_reader)]

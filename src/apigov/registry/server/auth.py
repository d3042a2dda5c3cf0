"""API tokens and scopes of the registry server.

A token is 32 random bytes (URL-safe base64, prefixed `apigov_` so secret scanners can spot
it). Only its SHA-256 is stored: a token carries 256 bits of entropy, so nobody can search the
hash space for it, and a slow password hash (bcrypt, argon2) would only add cost to every
request without adding safety. Scopes are ordered: read < publish < admin, and a token holds
one scope, which includes the smaller ones.

`require_scope(scope)` is the FastAPI dependency every route uses (apigov's own API and the
Pact Broker subset alike). What it demands depends on the server's settings
(`request.app.state.auth`): with auth off everything is open; by default writes need a token and
reads are open unless `--auth-reads`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum

from fastapi import Request
from msgspec import Struct
from sqlalchemy import Engine, Table, select, update

from apigov.registry.models import Token

_tokens: Table = Token.__table__  # type: ignore[assignment]

TOKEN_PREFIX = "apigov_"


class Scope(StrEnum):
    READ = "read"
    PUBLISH = "publish"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return {Scope.READ: 1, Scope.PUBLISH: 2, Scope.ADMIN: 3}[self]

    def allows(self, needed: Scope) -> bool:
        return self.rank >= needed.rank


class AuthSettings(Struct, frozen=True):
    """What the server asks of its callers."""

    required: bool = True  # writes need a token
    reads: bool = False  # reads need a token too (`--auth-reads`)

    def needs_token(self, scope: Scope) -> bool:
        if not self.required:
            return False
        return scope is not Scope.READ or self.reads


class Principal(Struct, frozen=True):
    """Who is calling: a token's name and scope, or an anonymous caller where that is allowed."""

    name: str | None
    scope: Scope | None


class TokenInfo(Struct, frozen=True):
    name: str
    scope: Scope
    created_at: datetime
    revoked_at: datetime | None
    id: int


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class TokenStore:
    """Tokens in the registry's `tokens` table (the database of a `SqlRegistry`)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, name: str, scope: Scope) -> str:
        """Store a new token's hash and return the token: the only time it is ever shown."""
        token = new_token()
        with self.engine.connect() as connection:
            connection.execution_options(apigov_write=True)
            with connection.begin():
                connection.execute(
                    _tokens.insert().values(
                        name=name,
                        token_sha256=hash_token(token),
                        scopes=scope.value,
                        created_at=datetime.now(UTC),
                    )
                )
        return token

    def list(self) -> list[TokenInfo]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(_tokens).order_by(_tokens.c.id)).all()
        return [
            TokenInfo(r.name, Scope(r.scopes), r.created_at, r.revoked_at, int(r.id)) for r in rows
        ]

    def revoke(self, name: str) -> int:
        """Revoke every live token with this name; returns how many were revoked."""
        with self.engine.connect() as connection:
            connection.execution_options(apigov_write=True)
            with connection.begin():
                result = connection.execute(
                    update(_tokens)
                    .where(_tokens.c.name == name, _tokens.c.revoked_at.is_(None))
                    .values(revoked_at=datetime.now(UTC))
                )
        return int(result.rowcount)

    def lookup(self, token: str) -> Principal | None:
        """The live token matching `token`, or None."""
        digest = hash_token(token)
        with self.engine.connect() as connection:
            row = connection.execute(
                select(_tokens.c.name, _tokens.c.scopes, _tokens.c.token_sha256).where(
                    _tokens.c.token_sha256 == digest, _tokens.c.revoked_at.is_(None)
                )
            ).first()
        # The database matched on the hash already; compare again in constant time anyway so
        # a future change to the query cannot turn this into a timing oracle.
        if row is None or not hmac.compare_digest(row.token_sha256, digest):
            return None
        return Principal(row.name, Scope(row.scopes))


class AuthError(Exception):
    """401 (no or bad token) or 403 (scope too small); rendered as problem details."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def authenticate(
    authorization: str | None, needed: Scope, settings: AuthSettings, tokens: TokenStore
) -> Principal:
    """Who the caller is, if they may do what needs `needed`; raises AuthError otherwise."""
    presented: str | None = None
    if authorization:
        kind, _, value = authorization.partition(" ")
        if kind.lower() != "bearer" or not value.strip():
            raise AuthError(401, "the Authorization header must be 'Bearer <token>'")
        presented = value.strip()
    if presented is None:
        if settings.needs_token(needed):
            raise AuthError(401, f"this request needs a token with the {needed.value} scope")
        return Principal(None, None)
    principal = tokens.lookup(presented)
    if principal is None:
        if not settings.required:
            return Principal(None, None)
        raise AuthError(401, "the token is not valid (unknown or revoked)")
    assert principal.scope is not None
    if settings.needs_token(needed) and not principal.scope.allows(needed):
        raise AuthError(
            403,
            f"token {principal.name!r} has the {principal.scope.value} scope; "
            f"this request needs {needed.value}",
        )
    return principal


def require_scope(scope: str) -> Callable[..., Principal]:
    """A FastAPI dependency: `principal: Principal = Depends(require_scope("publish"))`.

    Reads `Authorization: Bearer <token>` and the app's settings (`app.state.auth`,
    `app.state.tokens`); raises 401 without or with a bad token and 403 when the token's scope
    is too small. Returns who is calling (for the audit log).
    """
    needed = Scope(scope)

    def dependency(request: Request) -> Principal:
        return authenticate(
            request.headers.get("authorization"),
            needed,
            request.app.state.auth,
            request.app.state.tokens,
        )

    return dependency

"""RFC 9457 problem details: the one error shape of every example service."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse

PROBLEMS = "https://problems.shop.example.com"


class ProblemError(Exception):
    """An error answer: raised anywhere in a handler, rendered as application/problem+json."""

    def __init__(
        self,
        status: int,
        kind: str,
        title: str,
        detail: str | None = None,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.kind = kind
        self.title = title
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}

    @classmethod
    def not_found(cls, status: int, detail: str) -> ProblemError:
        return cls(status, "not-found", "Resource not found", detail)

    @classmethod
    def invalid(cls, status: int, errors: list[dict[str, str]]) -> ProblemError:
        return cls(
            status,
            "validation",
            "Invalid request",
            f"The request has {len(errors)} invalid input(s).",
            errors=errors,
        )

    @classmethod
    def unauthorized(cls, status: int) -> ProblemError:
        return cls(
            status,
            "unauthorized",
            "Unauthorized",
            "A valid bearer token (or carrier key) is required.",
            headers={"WWW-Authenticate": 'Bearer realm="shop"'},
        )

    @classmethod
    def conflict(cls, kind: str, title: str, detail: str) -> ProblemError:
        return cls(409, kind, title, detail)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"{PROBLEMS}/{self.kind}",
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            body["detail"] = self.detail
        if self.errors:
            body["errors"] = self.errors
        return body


def problem_response(problem: ProblemError) -> JSONResponse:
    return JSONResponse(
        problem.to_json(),
        status_code=problem.status,
        headers=problem.headers,
        media_type="application/problem+json",
    )


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ProblemError)
        return problem_response(exc)

    app.add_exception_handler(ProblemError, on_problem)

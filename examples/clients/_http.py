"""What every example client shares: a bearer-token session and problem-details errors."""

from __future__ import annotations

from typing import Any, Self

import httpx


class ProblemError(Exception):
    """The provider answered with an RFC 9457 problem (`application/problem+json`)."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        self.type = str(problem.get("type", "about:blank"))
        self.title = str(problem.get("title", ""))
        self.detail = str(problem.get("detail", ""))
        super().__init__(f"{status} {self.title}: {self.detail}")


class ServiceClient:
    """An httpx client bound to one provider's base URL (ending in its version, e.g. /v1)."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 5.0) -> None:
        self.http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def json_or_problem(response: httpx.Response, *expected: int) -> Any:
        """The JSON body of an expected answer; a `ProblemError` for anything else."""
        if response.status_code in expected:
            return response.json() if response.content else None
        try:
            problem = response.json()
        except ValueError:
            problem = {"title": response.reason_phrase, "detail": response.text[:200]}
        if not isinstance(problem, dict):
            problem = {"title": response.reason_phrase}
        raise ProblemError(response.status_code, problem)

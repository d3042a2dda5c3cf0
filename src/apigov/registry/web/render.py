"""One Jinja2 environment for every registry web page, built once per process.

Autoescape is on for every template: services, versions, paths and finding messages come from
published documents, so any of them may hold markup, and all of them must be shown as text.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined

PREFIX = "/ui"
STATIC = f"{PREFIX}/static"


@cache
def environment() -> Environment:
    """The environment, loaded on first use (templates are compiled once, then cached)."""
    env = Environment(
        loader=PackageLoader("apigov.registry.web", "templates"),
        autoescape=True,
        # A misspelt variable is a bug to see in tests, not an empty cell on a page.
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.globals["prefix"] = PREFIX
    env.globals["static"] = STATIC
    env.filters["segment"] = path_segment
    env.filters["when"] = when
    return env


_PLAIN_SEGMENT = re.compile(r"[A-Za-z0-9._~-]*")


def path_segment(value: object) -> str:
    """A value quoted as one URL path segment (a `/` in a stored name stays inside it)."""
    text = str(value)
    # Most names need no quoting: skip the quoting machinery for them (a list page has many).
    if _PLAIN_SEGMENT.fullmatch(text):
        return text
    return urllib.parse.quote(text, safe="")


def when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def render_text(template: str, context: Mapping[str, Any]) -> str:
    return environment().get_template(template).render(context)


def page(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render `template` (which extends base.html) into an HTML response.

    `request` is passed to the template as `request` (for the current path and query, e.g. to
    mark the active navigation link).
    """
    html = render_text(template, {"request": request, **(context or {})})
    return HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))

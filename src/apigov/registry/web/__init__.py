"""The registry's web pages, under /ui: server-rendered HTML (Jinja2) over the same store.

`install(app)` adds them to the registry server (`registry/server/app.py`):

- the pages (`pages.py`: home, services, a service, the matrix, the diff view, login) and the
  fleet map (`fleet_map.py`), in one FastAPI sub-application with its own error pages (HTML,
  not the JSON API's problem details), sharing the server's state (registry, auth settings,
  tokens). Its routes keep their full paths (`/ui/...`); the JSON API's route list and its
  OpenAPI document stay exactly the API's;
- the package's static files at `/ui/static` (`static/`);
- a redirect of `GET /` to `/ui/` for browsers only: `GET /` is the Pact Broker's HAL index, and
  a Pact client (which asks for `application/hal+json`, or anything) keeps getting it.
"""

from __future__ import annotations

from apigov.registry.web.mount import install

__all__ = ["install"]

"""Fixture services for the fuzz tests, each with its OpenAPI document, run on 127.0.0.1.

`defects` has four planted defects, one per schemathesis check family:
- GET /stats?divisor=N divides by N: a 500 when N is 0 (the boundary the coverage phase sends);
- GET /items/{itemId} answers `price` as a string where the document promises a number;
- DELETE /items/{itemId} answers 204 but keeps serving the item (a deleted resource still served);
- GET /reports declares bearer auth and answers 200 to anyone (an endpoint that ignores its auth).

`clean` is a small service that does what its document says. `hostile` hangs, answers garbage
with a JSON content type, and sends a 5 MB body.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

HERE = Path(__file__).resolve().parent
SPECS = HERE / "specs"
TOKEN = "fuzz-test-token"


def _int_or_none(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return None


# ---- the service with planted defects ----------------------------------------------------------


class ItemStore:
    """In-memory items; ids are handed out in sequence so links can be followed."""

    def __init__(self) -> None:
        self.items: dict[int, dict[str, Any]] = {}
        self.next_id = 1
        self.lock = threading.Lock()


def defects_app() -> Any:
    store = ItemStore()
    requests_seen = [0]

    async def stats(request: Request) -> Response:
        divisor = _int_or_none(request.query_params.get("divisor"))
        if divisor is None or divisor < 0:
            return JSONResponse({"detail": "divisor must be an integer >= 0"}, status_code=400)
        # Planted defect 1: no guard for zero.
        return JSONResponse({"share": 100 // divisor})

    async def create_item(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"detail": "body must be JSON"}, status_code=400)
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("name"), str)
            or set(body) - {"name"}
        ):
            return JSONResponse({"detail": "expected {name: string}"}, status_code=400)
        with store.lock:
            item_id = store.next_id
            store.next_id += 1
            store.items[item_id] = {"id": item_id, "name": body["name"]}
        return JSONResponse({"id": item_id, "name": body["name"]}, status_code=201)

    async def item(request: Request) -> Response:
        item_id = _int_or_none(request.path_params["item_id"])
        if item_id is None:
            return JSONResponse({"detail": "itemId must be an integer"}, status_code=400)
        found = store.items.get(item_id)
        if found is None:
            return JSONResponse({"detail": "no such item"}, status_code=404)
        if request.method == "DELETE":
            # Planted defect 3: says deleted, keeps the item.
            return Response(status_code=204)
        # Planted defect 2: price as a string, the document says number.
        return JSONResponse({**found, "price": "12.50"})

    async def reports(request: Request) -> Response:
        # Planted defect 4: the Authorization header is never looked at.
        return JSONResponse({"reports": ["weekly"]})

    async def count(request: Request) -> Response:
        return JSONResponse({"requests": requests_seen[0]})

    app = Starlette(
        routes=[
            Route("/stats", stats, methods=["GET"]),
            Route("/items", create_item, methods=["POST"]),
            Route("/items/{item_id}", item, methods=["GET", "DELETE"]),
            Route("/reports", reports, methods=["GET"]),
            Route("/__requests", count, methods=["GET"]),
        ]
    )

    async def counting(scope: Any, receive: Any, send: Any) -> None:
        # Every request counts, routed or not: the benchmark compares tools by what they sent.
        if scope["type"] == "http" and scope["path"] != "/__requests":
            requests_seen[0] += 1
        await app(scope, receive, send)

    return counting


# ---- a service that keeps its contract ---------------------------------------------------------


def clean_app() -> Starlette:
    names = {1: "apple", 2: "pear"}

    async def fruit(request: Request) -> Response:
        fruit_id = _int_or_none(request.path_params["fruit_id"])
        if fruit_id is None or not 1 <= fruit_id <= 1000:
            return JSONResponse({"detail": "fruitId must be an integer 1..1000"}, status_code=400)
        name = names.get(fruit_id)
        if name is None:
            return JSONResponse({"detail": "no such fruit"}, status_code=404)
        return JSONResponse({"id": fruit_id, "name": name})

    async def schema(request: Request) -> Response:
        # The live schema, for `apigov fuzz URL`; served as JSON like most frameworks do.
        return JSONResponse(yaml.safe_load((SPECS / "clean.yaml").read_text(encoding="utf-8")))

    return Starlette(
        routes=[
            Route("/fruits/{fruit_id}", fruit, methods=["GET"]),
            Route("/openapi.json", schema, methods=["GET"]),
        ]
    )


# ---- a hostile service -------------------------------------------------------------------------

FIVE_MB = 5 * 1024 * 1024


def hostile_app() -> Starlette:
    hangs_started = [0]

    async def hang(request: Request) -> Response:
        hangs_started[0] += 1
        await asyncio.sleep(30)
        return JSONResponse({"late": True})

    async def garbage(request: Request) -> Response:
        return Response(b"\x00\xff{not json", media_type="application/json")

    async def huge(request: Request) -> Response:
        return JSONResponse({"blob": "x" * FIVE_MB})

    async def hangs(request: Request) -> Response:
        # Not in the document: tests read it to know a run has reached the service.
        return JSONResponse({"started": hangs_started[0]})

    return Starlette(
        routes=[
            Route("/hang", hang, methods=["GET"]),
            Route("/garbage", garbage, methods=["GET"]),
            Route("/huge", huge, methods=["GET"]),
            Route("/__hangs", hangs, methods=["GET"]),
        ]
    )


APPS = {"defects": defects_app, "clean": clean_app, "hostile": hostile_app}


# ---- running one on 127.0.0.1 ------------------------------------------------------------------


@dataclass(frozen=True)
class RunningService:
    base_url: str
    spec: Path


@contextlib.contextmanager
def serve(name: str) -> Iterator[RunningService]:
    """Run service `name` in a thread on a free port of 127.0.0.1 until the block ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))  # the kernel picks a free port: no race with other tests
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        APPS[name](), log_level="critical", access_log=False, timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"fixture service {name} did not start")
        time.sleep(0.02)
    try:
        yield RunningService(base_url=f"http://127.0.0.1:{port}", spec=SPECS / f"{name}.yaml")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def main() -> None:
    """`python tests/fuzz/fuzz_service.py NAME`: serve one fixture by hand (benchmarks, demos)."""
    import sys

    with serve(sys.argv[1]) as service:
        print(service.base_url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()

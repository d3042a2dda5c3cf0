"""The inventory provider: catalogue, category tree, stock levels and reservations (in memory).

Implements contracts/inventory/openapi.yaml. Stock is kept per warehouse; a reservation holds
units (reserved) until it is committed (they leave on-hand stock) or released (deleted: its
units are available again and the reservation is gone).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from examples.services._app import (
    ProviderStates,
    json_response,
    mount_pact_endpoints,
    new_app,
    new_id,
    now,
    page,
    provider_states_enabled,
)
from examples.services._problems import ProblemError

DEFAULT_TTL_SECONDS = 900
CATEGORIES: list[dict[str, Any]] = [
    {
        "slug": "clothing",
        "name": "Clothing",
        "children": [
            {"slug": "t-shirts", "name": "T-shirts", "children": []},
            {"slug": "hoodies", "name": "Hoodies", "children": []},
        ],
    },
    {
        "slug": "home",
        "name": "Home",
        "children": [{"slug": "mugs", "name": "Mugs", "children": []}],
    },
]


def _products() -> dict[str, dict[str, Any]]:
    return {
        "MUG-BLUE": {
            "sku": "MUG-BLUE",
            "name": "Mug, blue",
            "description": "A 350 ml stoneware mug.",
            "price": {"amount": 1250, "currency": "EUR"},
            "status": "active",
            "categories": ["mugs"],
            "attributes": {"colour": "blue"},
            "weightGrams": 420,
            "updatedAt": "2025-11-01T09:00:00Z",
        },
        "TSHIRT-RED-M": {
            "sku": "TSHIRT-RED-M",
            "name": "T-shirt, red, M",
            "description": "Organic cotton T-shirt.",
            "price": {"amount": 1999, "currency": "EUR"},
            "status": "active",
            "categories": ["t-shirts"],
            "attributes": {"colour": "red", "size": "M"},
            "weightGrams": 180,
            "updatedAt": "2025-11-01T09:00:00Z",
        },
    }


def _stock() -> dict[str, dict[str, list[int]]]:
    """Per SKU, per warehouse: [on hand, reserved]."""
    return {"TSHIRT-RED-M": {"LON1": [28, 3]}, "MUG-BLUE": {"LON1": [0, 0]}}


@dataclass
class InventoryStore:
    products: dict[str, dict[str, Any]] = field(default_factory=_products)
    stock: dict[str, dict[str, list[int]]] = field(default_factory=_stock)
    stock_updated: dict[str, str] = field(default_factory=dict)
    reservations: dict[str, dict[str, Any]] = field(default_factory=dict)

    def reset(self) -> None:
        self.products = _products()
        self.stock = _stock()
        self.stock_updated.clear()
        self.reservations.clear()

    def level(self, sku: str) -> dict[str, Any]:
        warehouses = self.stock.get(sku)
        if warehouses is None:
            raise ProblemError.not_found(404, f"No stock is kept for {sku}.")
        on_hand = sum(w[0] for w in warehouses.values())
        reserved = sum(w[1] for w in warehouses.values())
        return {
            "sku": sku,
            "onHand": on_hand,
            "reserved": reserved,
            "available": max(0, on_hand - reserved),
            "warehouses": [
                {"warehouse": code, "onHand": w[0], "reserved": w[1]}
                for code, w in sorted(warehouses.items())
            ],
            "updatedAt": self.stock_updated.get(sku, "2025-11-20T10:14:02Z"),
        }

    def available(self, sku: str) -> int:
        return self.level(sku)["available"] if sku in self.stock else 0

    def move(self, sku: str, on_hand: int, reserved: int) -> None:
        """Change the first warehouse's counts of `sku` by the given deltas."""
        warehouse = next(iter(self.stock[sku].values()))
        warehouse[0] += on_hand
        warehouse[1] += reserved
        self.stock_updated[sku] = now()

    def get_reservation(self, reservation_id: str) -> dict[str, Any]:
        reservation = self.reservations.get(reservation_id)
        if reservation is None:
            raise ProblemError.not_found(404, f"No reservation with id {reservation_id}.")
        return reservation

    def reserve(
        self,
        order_id: str,
        items: list[dict[str, Any]],
        ttl: int,
        reservation_id: str | None = None,
    ) -> dict[str, Any]:
        wanted: dict[str, int] = {}
        for item in items:
            wanted[item["sku"]] = wanted.get(item["sku"], 0) + item["quantity"]
        short = [(sku, n) for sku, n in wanted.items() if self.available(sku) < n]
        if short:
            raise ProblemError.conflict(
                "inventory/insufficient-stock",
                "Insufficient stock",
                "; ".join(
                    f"{sku}: {n} requested, {self.available(sku)} available." for sku, n in short
                ),
            )
        for sku, n in wanted.items():
            self.move(sku, 0, n)
        created = datetime.now(UTC).replace(microsecond=0)
        reservation: dict[str, Any] = {
            "id": reservation_id or new_id(),
            "orderId": order_id,
            "status": "held",
            "items": [{"sku": i["sku"], "quantity": i["quantity"]} for i in items],
            "expiresAt": (created + timedelta(seconds=ttl)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "createdAt": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        self.reservations[reservation["id"]] = reservation
        return reservation


def _subtree(categories: list[dict[str, Any]], depth: int) -> list[dict[str, Any]]:
    """The tree cut `depth` levels below the top, each category counting its products."""
    return [
        {**c, "children": _subtree(c["children"], depth - 1) if depth > 0 else []}
        for c in categories
    ]


def _slugs_under(slug: str, categories: list[dict[str, Any]], inside: bool = False) -> set[str]:
    found: set[str] = set()
    for category in categories:
        here = inside or category["slug"] == slug
        if here:
            found.add(category["slug"])
        found |= _slugs_under(slug, category["children"], here)
    return found


def create_app(provider_states: bool | None = None) -> FastAPI:
    app, contract = new_app("inventory")
    store = InventoryStore()
    app.state.store = store

    @app.get("/v1/products")
    async def list_products(request: Request) -> Response:
        q = (await contract.operation("listProducts").check(request)).query
        slugs = _slugs_under(q["category"], CATEGORIES) if "category" in q else None
        words = q["q"].lower().split() if "q" in q else []
        found = [
            p
            for p in sorted(store.products.values(), key=lambda p: p["name"])
            if (slugs is None or slugs & set(p["categories"]))
            and all(w in f"{p['name']} {p.get('description', '')}".lower() for w in words)
            and ("inStock" not in q or (store.available(p["sku"]) > 0) == q["inStock"])
        ]
        return json_response(page(found, q.get("limit", 20), q.get("cursor")))

    @app.get("/v1/products/{sku}")
    async def get_product(request: Request) -> Response:
        checked = await contract.operation("getProduct").check(request)
        product = store.products.get(checked.path["sku"])
        if product is None:
            raise ProblemError.not_found(404, f"No product {checked.path['sku']}.")
        digest = hashlib.sha256(repr(sorted(product.items())).encode()).hexdigest()[:16]
        etag = f'"{digest}"'
        headers = {"ETag": etag, "Cache-Control": "max-age=60"}
        if checked.headers.get("If-None-Match") == etag:
            return Response(status_code=304, headers=headers)
        return json_response(product, headers=headers)

    @app.get("/v1/categories")
    async def get_category_tree(request: Request) -> Response:
        q = (await contract.operation("getCategoryTree").check(request)).query
        return json_response({"categories": _subtree(CATEGORIES, q.get("depth", 3))})

    @app.get("/v1/stock/{sku}")
    async def get_stock_level(request: Request) -> Response:
        checked = await contract.operation("getStockLevel").check(request)
        return json_response(store.level(checked.path["sku"]))

    @app.post("/v1/reservations")
    async def create_reservation(request: Request) -> Response:
        body = (await contract.operation("createReservation").check(request)).body
        if any(
            r["orderId"] == body["orderId"] and r["status"] == "held"
            for r in store.reservations.values()
        ):
            raise ProblemError.conflict(
                "inventory/reservation-exists",
                "Order has a reservation",
                "An order holds one open reservation at a time.",
            )
        reservation = store.reserve(
            body["orderId"], body["items"], body.get("ttlSeconds", DEFAULT_TTL_SECONDS)
        )
        return json_response(reservation, 201)

    @app.get("/v1/reservations/{reservationId}")
    async def get_reservation(request: Request) -> Response:
        checked = await contract.operation("getReservation").check(request)
        return json_response(store.get_reservation(checked.path["reservationId"]))

    @app.delete("/v1/reservations/{reservationId}")
    async def release_reservation(request: Request) -> Response:
        checked = await contract.operation("releaseReservation").check(request)
        reservation = store.get_reservation(checked.path["reservationId"])
        if reservation["status"] == "committed":
            raise ProblemError.conflict(
                "inventory/reservation-committed",
                "Reservation is committed",
                "Committed stock has left the warehouse; it cannot be released.",
            )
        for item in reservation["items"]:
            store.move(item["sku"], 0, -item["quantity"])
        del store.reservations[reservation["id"]]
        return Response(status_code=204)

    @app.post("/v1/reservations/{reservationId}/commit")
    async def commit_reservation(request: Request) -> Response:
        checked = await contract.operation("commitReservation").check(request)
        reservation = store.get_reservation(checked.path["reservationId"])
        if reservation["status"] != "held":
            raise ProblemError.conflict(
                "inventory/reservation-not-held",
                "Reservation is not held",
                f"The reservation is {reservation['status']}.",
            )
        for item in reservation["items"]:
            store.move(item["sku"], -item["quantity"], -item["quantity"])
        reservation.update(status="committed", expiresAt=None)
        return json_response(reservation)

    if provider_states_enabled(provider_states):
        mount_pact_endpoints(app, _states(store), store.reset)
    return app


def _states(store: InventoryStore) -> ProviderStates:
    def has_stock(params: dict[str, Any]) -> None:
        sku = str(params["sku"])
        store.stock[sku] = {"LON1": [int(params["onHand"]), int(params["reserved"])]}

    def out_of_stock(params: dict[str, Any]) -> None:
        store.stock[str(params["sku"])] = {"LON1": [0, 0]}

    def held(params: dict[str, Any]) -> None:
        store.stock["TSHIRT-RED-M"] = {"LON1": [28, 0]}
        store.reserve(
            str(params["orderId"]),
            [{"sku": "TSHIRT-RED-M", "quantity": 3}],
            DEFAULT_TTL_SECONDS,
            reservation_id=str(params["reservationId"]),
        )

    return ProviderStates(
        exact={
            "a product has stock available": has_stock,
            "a product is out of stock": out_of_stock,
            "a reservation is held": held,
        }
    )

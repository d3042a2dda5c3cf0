"""What the pact comparison evens out, and what it must still tell apart."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from examples_pact_equivalence import canonical

V2: dict[str, Any] = {
    "consumer": {"name": "shipping"},
    "provider": {"name": "orders"},
    "interactions": [
        {
            "description": "paid orders",
            "providerState": "one order is paid",
            "request": {"method": "GET", "path": "/v1/orders", "query": "status=paid&limit=50"},
            "response": {"status": 200, "body": {"items": []}},
        }
    ],
    "metadata": {"pactSpecification": {"version": "2.0.0"}, "pact-js": {"version": "9.18.1"}},
}

V4: dict[str, Any] = {
    "consumer": {"name": "orders"},
    "provider": {"name": "inventory"},
    "interactions": [
        {
            "type": "Synchronous/HTTP",
            "key": "a7e79c896ba0d936",
            "description": "stock",
            "request": {"method": "GET", "path": "/v1/stock/A"},
            "response": {
                "status": 200,
                "body": {
                    "content": {"onHand": 1},
                    "contentType": "application/json",
                    "contentTypeHint": "TEXT",
                    "encoded": False,
                },
                "matchingRules": {
                    "body": {"$.onHand": {"matchers": [{"match": "integer"}], "combine": "AND"}}
                },
            },
            "pending": False,
        }
    ],
    "metadata": {"pactSpecification": {"version": "4.0"}},
}


def test_what_a_writing_tool_chooses_is_evened_out() -> None:
    other_v2 = copy.deepcopy(V2)
    other_v2["interactions"][0]["request"]["query"] = "limit=50&status=paid"
    other_v2["metadata"] = {"pactSpecification": {"version": "2.0.0"}, "pactRust": {"ffi": "0.5"}}
    assert canonical(other_v2) == canonical(V2)

    other_v4 = copy.deepcopy(V4)
    interaction = other_v4["interactions"][0]
    del (
        interaction["key"],
        interaction["pending"],
        interaction["response"]["body"]["contentTypeHint"],
    )
    del interaction["response"]["matchingRules"]["body"]["$.onHand"]["combine"]
    assert canonical(other_v4) == canonical(V4)


def test_what_a_provider_is_verified_against_still_differs() -> None:
    changes: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
        ("query value", lambda p: p["interactions"][0]["request"].update(query="status=shipped")),
        ("status", lambda p: p["interactions"][0]["response"].update(status=201)),
        ("state", lambda p: p["interactions"][0].update(providerState="no order")),
        ("body", lambda p: p["interactions"][0]["response"]["body"].update(items=[1])),
        ("version", lambda p: p["metadata"].update(pactSpecification={"version": "3.0.0"})),
    ]
    for what, change in changes:
        changed = copy.deepcopy(V2)
        change(changed)
        assert canonical(changed) != canonical(V2), what

    combined_or = copy.deepcopy(V4)
    rules = combined_or["interactions"][0]["response"]["matchingRules"]["body"]["$.onHand"]
    rules["combine"] = "OR"
    assert canonical(combined_or) != canonical(V4)
    regex = copy.deepcopy(V4)
    rules = regex["interactions"][0]["response"]["matchingRules"]["body"]["$.onHand"]
    rules["matchers"] = [{"match": "decimal"}]
    assert canonical(regex) != canonical(V4)

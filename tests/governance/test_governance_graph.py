"""The dependency graph: edges and uses from the example fleet, and its four renderings."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from governance_support import pact, service_yaml, spec, write_service

from apigov.governance.check import Verdict
from apigov.governance.graph import MESSAGE, build_graph
from apigov.governance.render import COLOURS, graph_edges, layers, render_graph
from apigov.spec.loader import Loader
from helpers import CONTRACTS, run_apigov

SVG = "{http://www.w3.org/2000/svg}"


def test_example_fleet_edges_and_operations() -> None:
    graph = build_graph(CONTRACTS, Loader())
    assert sorted(graph.services) == [
        "inventory",
        "notifications",
        "orders",
        "payments",
        "shipping",
    ]
    counts = {edge: len(uses) for edge, uses in graph.edges().items()}
    # Interactions per pact file, counted in contracts/*/pacts/*.json.
    assert counts == {
        ("notifications", "orders"): 3,
        ("notifications", "shipping"): 2,
        ("orders", "inventory"): 5,
        ("orders", "payments"): 6,
        ("shipping", "orders"): 3,
    }
    shipping_uses = graph.uses_of("orders", "GET /orders/{id}")
    assert sorted(u.consumer for u in shipping_uses) == ["notifications", "shipping", "shipping"]
    # The /v1 server base path is stripped before matching: /v1/stock/X is GET /stock/{sku}.
    stock = [u for u in graph.uses if u.request == "GET /v1/stock/TSHIRT-RED-M"]
    assert stock[0].operation is not None and stock[0].operation.key == "GET /stock/{sku}"
    messages = [u for u in graph.uses if u.kind == MESSAGE]
    assert [u.consumer + "->" + u.provider for u in messages] == ["notifications->orders"] * 2
    assert all(u.operation is None for u in messages)


def test_unmatched_request_has_no_operation(tmp_path: Path) -> None:
    write_service(
        tmp_path,
        "orders",
        service=service_yaml("orders"),
        openapi=spec("orders", {"GET /orders": {}}),
    )
    write_service(
        tmp_path,
        "shipping",
        service=service_yaml("shipping"),
        pacts=[pact("shipping", "orders", ["GET /v1/orders", "GET /v2/orders", "POST /v1/orders"])],
    )
    graph = build_graph(tmp_path, Loader())
    matched = [u.operation.key if u.operation else None for u in graph.uses]
    assert matched == ["GET /orders", None, None]


def test_service_name_comes_from_service_yaml_not_the_folder(tmp_path: Path) -> None:
    write_service(
        tmp_path,
        "orders-folder",
        service=service_yaml("orders"),
        openapi=spec("orders", {"GET /orders": {}}),
    )
    graph = build_graph(tmp_path, Loader())
    assert list(graph.services) == ["orders"]
    assert graph.services["orders"].spec is not None


VERDICTS = {
    ("notifications", "orders"): Verdict.COMPATIBLE,
    ("notifications", "shipping"): Verdict.UNCHECKED,
    ("orders", "inventory"): Verdict.BROKEN,
    ("orders", "payments"): Verdict.COMPATIBLE,
    ("shipping", "orders"): Verdict.COMPATIBLE,
}


def test_mermaid_colours_edges_by_verdict() -> None:
    text = render_graph(build_graph(CONTRACTS, Loader()), VERDICTS, "mermaid")
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    # Edges in (consumer, provider) order; orders -> inventory is the third (index 2).
    assert "    s_orders -->|5 interactions| s_inventory" in lines
    assert f"    linkStyle 2 stroke:{COLOURS[Verdict.BROKEN]},stroke-width:2px" in lines
    assert f"    linkStyle 1 stroke:{COLOURS[Verdict.UNCHECKED]},stroke-width:2px" in lines


def test_dot_and_json() -> None:
    graph = build_graph(CONTRACTS, Loader())
    dot = render_graph(graph, VERDICTS, "dot")
    assert dot.startswith("digraph fleet {\n") and dot.endswith("}\n")
    assert (
        's_orders -> s_inventory [label="5 interactions", color="#c62828", style=solid, '
        'tooltip="broken"];' in dot
    )
    data = json.loads(render_graph(graph, VERDICTS, "json"))
    assert [s["name"] for s in data["services"]] == sorted(graph.services)
    edge = next(
        e for e in data["edges"] if e["consumer"] == "orders" and e["provider"] == "payments"
    )
    assert edge["verdict"] == "compatible" and edge["kind"] == "http" and edge["interactions"] == 6
    assert "POST /payments/{paymentId}/capture" in edge["operations"]


def test_message_only_edge_is_dashed(tmp_path: Path) -> None:
    write_service(tmp_path, "orders", service=service_yaml("orders"))
    write_service(
        tmp_path,
        "billing",
        service=service_yaml("billing"),
        pacts=[pact("billing", "orders", ["message: an order was paid"])],
    )
    graph = build_graph(tmp_path, Loader())
    (edge,) = graph_edges(graph, {})
    assert not edge.http and edge.verdict is Verdict.UNCHECKED
    assert "s_billing -.->|1 interaction| s_orders" in render_graph(graph, {}, "mermaid")
    svg = ET.fromstring(render_graph(graph, {}, "svg"))
    (path,) = [p for p in svg.iter(f"{SVG}path") if p.get("stroke-dasharray")]
    assert path.get("stroke") == COLOURS[Verdict.UNCHECKED]


def test_layers_put_consumers_above_providers() -> None:
    graph = build_graph(CONTRACTS, Loader())
    edges = graph_edges(graph, VERDICTS)
    # notifications calls shipping and orders; shipping calls orders; orders calls the rest.
    assert layers(sorted(graph.services), edges) == [
        ["notifications"],
        ["shipping"],
        ["orders"],
        ["inventory", "payments"],
    ]


def test_layers_survive_a_cycle() -> None:
    from apigov.governance.render import Edge

    edges = [
        Edge("a", "b", Verdict.COMPATIBLE, True, 1, ()),
        Edge("b", "a", Verdict.COMPATIBLE, True, 1, ()),
    ]
    assert sorted(name for row in layers(["a", "b"], edges) for name in row) == ["a", "b"]


def test_svg_is_well_formed_with_one_box_per_service() -> None:
    graph = build_graph(CONTRACTS, Loader())
    root = ET.fromstring(render_graph(graph, VERDICTS, "svg"))
    names = [t.text for g in root.iter(f"{SVG}g") if g.get("class") == "service" for t in g]
    assert sorted(n for n in names if n) == sorted(graph.services)
    broken = [g for g in root.iter(f"{SVG}g") if g.get("class") == "edge broken"]
    assert len(broken) == 1
    assert broken[0].find(f"{SVG}title").text == "orders -> inventory: broken, 5 interactions"  # type: ignore[union-attr]


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown graph format 'png'"):
        render_graph(build_graph(CONTRACTS, Loader()), {}, "png")


def test_graph_command_writes_svg_and_can_gate(tmp_path: Path) -> None:
    picture = tmp_path / "fleet.svg"
    result = run_apigov(
        "graph", "contracts", "--format", "svg", "--output", str(picture), "--no-cache"
    )
    assert result.code == 0, result.stderr
    assert ET.parse(picture).getroot().tag == f"{SVG}svg"
    gated = run_apigov("graph", "tests/governance/data/fleet", "--fail-on", "error", "--no-cache")
    assert gated.code == 1
    assert "s_shipping -->|1 interaction| s_orders" in gated.stdout

"""The dependency graph as text: mermaid, Graphviz dot, JSON, and a self-drawn SVG picture.

Edges are coloured by the check's verdict on the pact behind them: green compatible, red broken,
grey unchecked (no provider spec, or messages only). Message-only edges are dashed.

SVG is drawn here, not by Graphviz: a fleet graph is small and layered (consumers above their
providers), a 150-line layout gives the same picture on every machine and in every CI image,
and no system package is needed (docs/governance.md says more).
"""

from __future__ import annotations

import html
from collections.abc import Mapping

import orjson
from msgspec import Struct

from apigov.governance.check import Verdict
from apigov.governance.graph import HTTP, FleetGraph

GRAPH_FORMATS = ("mermaid", "dot", "json", "svg")
COLOURS = {
    Verdict.COMPATIBLE: "#2e7d32",
    Verdict.BROKEN: "#c62828",
    Verdict.UNCHECKED: "#9e9e9e",
}


class Edge(Struct, frozen=True):
    consumer: str
    provider: str
    verdict: Verdict
    http: bool
    """At least one HTTP interaction (else messages only)."""
    interactions: int
    operations: tuple[str, ...]

    @property
    def label(self) -> str:
        count = self.interactions
        return f"{count} interaction{'s' if count != 1 else ''}"


def graph_edges(graph: FleetGraph, verdicts: Mapping[tuple[str, str], Verdict]) -> list[Edge]:
    found = []
    for (consumer, provider), uses in graph.edges().items():
        found.append(
            Edge(
                consumer,
                provider,
                verdicts.get((consumer, provider), Verdict.UNCHECKED),
                any(use.kind == HTTP for use in uses),
                len(uses),
                tuple(sorted({u.operation.key for u in uses if u.operation is not None})),
            )
        )
    return found


def node_names(graph: FleetGraph, edges: list[Edge]) -> list[str]:
    """Services of the tree and every provider a pact names, even one missing from the tree."""
    return sorted(set(graph.services) | {e.provider for e in edges} | {e.consumer for e in edges})


def render_graph(graph: FleetGraph, verdicts: Mapping[tuple[str, str], Verdict], fmt: str) -> str:
    edges = graph_edges(graph, verdicts)
    if fmt == "mermaid":
        return _mermaid(graph, edges)
    if fmt == "dot":
        return _dot(graph, edges)
    if fmt == "json":
        return _json(graph, edges)
    if fmt == "svg":
        return _svg(graph, edges)
    raise ValueError(f"unknown graph format {fmt!r}; expected one of: {', '.join(GRAPH_FORMATS)}")


def _ident(name: str) -> str:
    """Mermaid and dot identifiers: service names are kebab-case, which neither accepts bare."""
    return "s_" + "".join(c if c.isalnum() else "_" for c in name)


def _missing(graph: FleetGraph, name: str) -> bool:
    return name not in graph.services


def _mermaid(graph: FleetGraph, edges: list[Edge]) -> str:
    lines = ["flowchart TD"]
    for name in node_names(graph, edges):
        shape = f'{_ident(name)}["{name}"]'
        lines.append(f"    {shape}")
    for index, edge in enumerate(edges):
        arrow = "-->" if edge.http else "-.->"
        lines.append(f"    {_ident(edge.consumer)} {arrow}|{edge.label}| {_ident(edge.provider)}")
        lines.append(f"    linkStyle {index} stroke:{COLOURS[edge.verdict]},stroke-width:2px")
    missing = [name for name in node_names(graph, edges) if _missing(graph, name)]
    if missing:
        lines.append("    classDef missing stroke-dasharray:4 2,fill:#fff3e0")
        lines.append(f"    class {','.join(_ident(n) for n in missing)} missing")
    return "\n".join(lines) + "\n"


def _dot(graph: FleetGraph, edges: list[Edge]) -> str:
    lines = [
        "digraph fleet {",
        "  rankdir=TB;",
        '  node [shape=box, style="rounded", fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    for name in node_names(graph, edges):
        extra = ', style="rounded,dashed"' if _missing(graph, name) else ""
        lines.append(f'  {_ident(name)} [label="{name}"{extra}];')
    for edge in edges:
        style = "solid" if edge.http else "dashed"
        lines.append(
            f'  {_ident(edge.consumer)} -> {_ident(edge.provider)} [label="{edge.label}", '
            f'color="{COLOURS[edge.verdict]}", style={style}, tooltip="{edge.verdict.value}"];'
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def _json(graph: FleetGraph, edges: list[Edge]) -> str:
    services = []
    for name in node_names(graph, edges):
        service = graph.services.get(name)
        services.append(
            {
                "name": name,
                "in_tree": service is not None,
                "owner": service.owner if service else None,
                "team": service.team if service else None,
                "has_spec": bool(service and service.spec is not None),
            }
        )
    data = {
        "services": services,
        "edges": [
            {
                "consumer": e.consumer,
                "provider": e.provider,
                "verdict": e.verdict.value,
                "kind": "http" if e.http else "message",
                "interactions": e.interactions,
                "operations": list(e.operations),
            }
            for e in edges
        ],
    }
    return orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n"


# ---- SVG ---------------------------------------------------------------------------------

_CHAR_WIDTH = 7.5
_BOX_HEIGHT = 36
_LAYER_GAP = 90
_BOX_GAP = 40
_MARGIN = 20
_LEGEND_STEP = 130


def layers(names: list[str], edges: list[Edge]) -> list[list[str]]:
    """Consumers above providers: a node sits one layer below the deepest consumer calling it.

    Cycles are broken by ignoring edges back to a node still being visited (depth-first), so
    every fleet, even one with a dependency cycle, gets a drawing.
    """
    callers: dict[str, list[str]] = {name: [] for name in names}
    for edge in edges:
        if edge.consumer != edge.provider:
            callers[edge.provider].append(edge.consumer)
    depth: dict[str, int] = {}
    visiting: set[str] = set()

    def place(name: str) -> int:
        if name in depth:
            return depth[name]
        visiting.add(name)
        level = 0
        for caller in sorted(callers[name]):
            if caller not in visiting:
                level = max(level, place(caller) + 1)
        visiting.discard(name)
        depth[name] = level
        return level

    for name in names:
        place(name)
    grouped: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for name in names:
        grouped[depth[name]].append(name)
    return grouped


def _svg(graph: FleetGraph, edges: list[Edge]) -> str:
    names = node_names(graph, edges)
    rows = layers(names, edges)
    width_of = {name: max(80.0, len(name) * _CHAR_WIDTH + 24) for name in names}
    row_widths = [sum(width_of[n] for n in row) + _BOX_GAP * (len(row) - 1) for row in rows]
    # Room for the legend, and on the right for edges that skip a layer (drawn around it).
    canvas_width = max(max(row_widths, default=0) + 2 * _MARGIN + 80, 3 * _LEGEND_STEP)
    centre: dict[str, tuple[float, float]] = {}
    for index, row in enumerate(rows):
        x = _MARGIN + (canvas_width - 2 * _MARGIN - row_widths[index]) / 2
        y = float(_MARGIN + index * _LAYER_GAP)
        for name in row:
            centre[name] = (x + width_of[name] / 2, y + _BOX_HEIGHT / 2)
            x += width_of[name] + _BOX_GAP
    legend_y = _MARGIN + len(rows) * _LAYER_GAP
    canvas_height = legend_y + 30
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{canvas_width:.0f}" '
        f'height="{canvas_height:.0f}" viewBox="0 0 {canvas_width:.0f} {canvas_height:.0f}" '
        'font-family="Helvetica, Arial, sans-serif" font-size="13">',
        "<title>Fleet dependency graph</title>",
        "<defs>",
    ]
    for verdict, colour in COLOURS.items():
        out.append(
            f'<marker id="arrow-{verdict.value}" viewBox="0 0 10 10" refX="10" refY="5" '
            'markerWidth="8" markerHeight="8" orient="auto-start-reverse">'
            f'<path d="M 0 0 L 10 5 L 0 10 z" fill="{colour}"/></marker>'
        )
    out.append("</defs>")
    layer_of = {name: index for index, row in enumerate(rows) for name in row}
    for edge in edges:
        path = _edge_path(edge, centre, layer_of, rows, width_of)
        dash = "" if edge.http else ' stroke-dasharray="6 4"'
        title = html.escape(
            f"{edge.consumer} -> {edge.provider}: {edge.verdict.value}, {edge.label}"
        )
        out.append(
            f'<g class="edge {edge.verdict.value}"><title>{title}</title>'
            f'<path d="{path}" fill="none" stroke="{COLOURS[edge.verdict]}" stroke-width="2"'
            f'{dash} marker-end="url(#arrow-{edge.verdict.value})"/></g>'
        )
    for name in names:
        x, y = centre[name]
        w = width_of[name]
        dash = ' stroke-dasharray="4 2"' if _missing(graph, name) else ""
        out.append(
            f'<g class="service"><rect x="{x - w / 2:.1f}" y="{y - _BOX_HEIGHT / 2:.1f}" '
            f'width="{w:.1f}" height="{_BOX_HEIGHT}" rx="6" fill="#ffffff" stroke="#37474f"'
            f'{dash}/><text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle">'
            f"{html.escape(name)}</text></g>"
        )
    x = float(_MARGIN)
    for verdict, colour in COLOURS.items():
        out.append(
            f'<line x1="{x}" y1="{legend_y + 10}" x2="{x + 24}" y2="{legend_y + 10}" '
            f'stroke="{colour}" stroke-width="2"/>'
            f'<text x="{x + 30}" y="{legend_y + 14}">{verdict.value}</text>'
        )
        x += _LEGEND_STEP
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _edge_path(
    edge: Edge,
    centre: Mapping[str, tuple[float, float]],
    layer_of: Mapping[str, int],
    rows: list[list[str]],
    width_of: Mapping[str, float],
) -> str:
    """A straight line between adjacent layers; a curve around the boxes of skipped layers."""
    (x1, y1), (x2, y2) = centre[edge.consumer], centre[edge.provider]
    half = _BOX_HEIGHT / 2
    if y1 == y2:  # same layer (a cycle's back edge, or a self-call): arc below both boxes
        bend = y1 + half + 30
        return (
            f"M {x1:.1f} {y1 + half:.1f} C {x1:.1f} {bend:.1f}, {x2:.1f} {bend:.1f}, "
            f"{x2:.1f} {y2 + half:.1f}"
        )
    down = y2 > y1
    start = y1 + half if down else y1 - half
    end = y2 - half if down else y2 + half
    low, high = sorted((layer_of[edge.consumer], layer_of[edge.provider]))
    skipped = [name for row in rows[low + 1 : high] for name in row]
    if not skipped:
        return f"M {x1:.1f} {start:.1f} L {x2:.1f} {end:.1f}"
    side = max(centre[name][0] + width_of[name] / 2 for name in skipped) + 30
    return (
        f"M {x1:.1f} {start:.1f} C {side:.1f} {start:.1f}, {side:.1f} {end:.1f}, {x2:.1f} {end:.1f}"
    )

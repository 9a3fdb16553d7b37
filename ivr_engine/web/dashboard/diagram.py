"""A flow's diagram as SVG made on the server, from `ivr graph`'s model, with traffic on it.

The layout is simple and stable: nodes in rows by their distance from the start (breadth
first from the call's entry, then the on_error and after-call entries), in file order within
a row; edges go down as curves, edges back up (loops, re-prompts) bend round the side. Each
edge may carry a count (calls that took it in a period); nodes may be marked where calls
ended or failed, and a single call's path can be highlighted. No JavaScript and no external
library: the browser only displays the SVG.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape

from ...model import Flow
from ...tooling.graph import AFTER, END, ENTRY, ERROR, PSEUDO_LABELS, FlowGraph, GraphEdge, build

NODE_W, NODE_H = 180, 46
GAP_X, GAP_Y = 40, 70
MARGIN = 30
PSEUDO_W = 110

EdgeKey = tuple[str | None, str | None, str | None]  # (from, via, to) as the call log has them


@dataclass
class Marks:
    """What to draw on the diagram besides the flow itself."""

    counts: Mapping[EdgeKey, int] = field(default_factory=dict)  # calls per transition
    ended: Mapping[str, int] = field(default_factory=dict)  # node -> calls that ended there
    failed: Mapping[str, int] = field(default_factory=dict)  # node -> calls that failed there
    path: set[EdgeKey] | None = None  # one call's transitions, highlighted
    visited: set[str] = field(default_factory=set)


def log_key(edge: GraphEdge) -> EdgeKey:
    """The call log's name for a diagram edge (pseudo nodes are None / a via of their own)."""
    source = None if edge.source in PSEUDO_LABELS else edge.source
    target = None if edge.target == END else edge.target
    via = {ENTRY: "start", ERROR: "error", AFTER: "hangup"}.get(edge.source, edge.label)
    return (source, via, target)


def _ranks(graph: FlowGraph) -> dict[str, int]:
    outgoing: dict[str, list[str]] = {}
    for edge in graph.edges:
        outgoing.setdefault(edge.source, []).append(edge.target)
    rank: dict[str, int] = {}
    order = [p for p in (ENTRY, ERROR, AFTER) if p in graph.pseudo]
    for root in order:
        if root in rank:
            continue
        base = max(rank.values(), default=-1) + 1 if root != ENTRY else 0
        queue = [root]
        rank[root] = base
        while queue:
            current = queue.pop(0)
            for target in outgoing.get(current, []):
                if target not in rank and target != END:
                    rank[target] = rank[current] + 1
                    queue.append(target)
    for node in graph.nodes:  # unreachable nodes: a row of their own below
        rank.setdefault(node.id, max(rank.values(), default=0) + 1)
    if END in graph.pseudo:
        rank[END] = max(rank.values(), default=0) + 1
    return rank


def render_svg(flow: Flow, marks: Marks | None = None) -> str:
    marks = marks or Marks()
    graph = build(flow)
    ranks = _ranks(graph)
    rows: dict[int, list[str]] = {}
    names = [*graph.pseudo, *(n.id for n in graph.nodes)]
    for name in sorted(names, key=lambda n: (ranks[n], names.index(n))):
        rows.setdefault(ranks[name], []).append(name)
    width = max(len(row) for row in rows.values()) * (NODE_W + GAP_X) + 2 * MARGIN
    height = (max(rows) + 1) * (NODE_H + GAP_Y) + 2 * MARGIN
    place: dict[str, tuple[float, float, float]] = {}  # name -> centre x, top y, width
    for index, row in rows.items():
        span = len(row) * (NODE_W + GAP_X) - GAP_X
        left = (width - span) / 2
        for i, name in enumerate(row):
            w = PSEUDO_W if name in PSEUDO_LABELS else NODE_W
            place[name] = (
                left + i * (NODE_W + GAP_X) + NODE_W / 2,
                MARGIN + index * (NODE_H + GAP_Y),
                w,
            )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="diagram" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="diagram of flow {escape(flow.id)}">',
        "<defs>"
        '<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" markerHeight="9" '
        'markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#868e96"/></marker>'
        '<marker id="arrow-on" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="11" '
        'markerHeight="11" markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#1c7ed6"/></marker></defs>',
    ]
    for edge in graph.edges:
        parts.append(_edge(edge, place, marks))
    types = {node.id: node for node in graph.nodes}
    for name, (x, y, w) in place.items():
        parts.append(_box(name, x, y, w, types.get(name), marks))
    parts.append("</svg>")
    return "\n".join(parts)


def _edge(edge: GraphEdge, place: Mapping[str, tuple[float, float, float]], marks: Marks) -> str:
    sx, sy, _ = place[edge.source]
    tx, ty, tw = place[edge.target]
    key = log_key(edge)
    count = marks.counts.get(key, 0)
    taken = marks.path is not None and key in marks.path
    classes = ["edge"]
    if edge.dashed:
        classes.append("dashed")
    if taken:
        classes.append("taken")
    if count:
        classes.append("used")
    start_y = sy + NODE_H
    if edge.source == edge.target:  # a re-prompt: a loop on the box's right side
        right = sx + NODE_W / 2
        d = f"M{right},{sy + 12} C{right + 45},{sy - 10} {right + 45},{sy + NODE_H + 10} {right},{sy + NODE_H - 12}"
        lx, ly = right + 38, sy + NODE_H / 2
    elif ty > sy:
        mid = (start_y + ty) / 2
        d = f"M{sx},{start_y} C{sx},{mid} {tx},{mid} {tx},{ty}"
        lx, ly = (sx + tx) / 2, mid
    elif ty == sy:  # along a row: a dip below it
        d = f"M{sx},{start_y} C{sx},{start_y + 45} {tx},{start_y + 45} {tx},{start_y}"
        lx, ly = (sx + tx) / 2, start_y + 36
    else:  # back up: round the side
        side = max(sx, tx) + NODE_W / 2 + 30
        d = f"M{sx + NODE_W / 4},{start_y} C{side},{start_y + 40} {side},{ty - 40} {tx + tw / 4},{ty}"
        lx, ly = side - 10, (start_y + ty) / 2
    marker = "arrow-on" if taken else "arrow"
    label = edge.label or ""
    if count:
        label = f"{label} ({count})" if label else f"({count})"
    text = (
        f'<text class="edge-label" x="{lx:.0f}" y="{ly:.0f}" text-anchor="middle">{escape(label)}</text>'
        if label
        else ""
    )
    data = escape(f"{key[0] or ''}|{key[1] or ''}|{key[2] or ''}")
    return (
        f'<g class="{" ".join(classes)}" data-edge="{data}" data-count="{count}">'
        f'<path d="{d}" fill="none" marker-end="url(#{marker})"/>{text}</g>'
    )


def _box(name: str, x: float, y: float, w: float, node: object, marks: Marks) -> str:
    left = x - w / 2
    if node is None:  # a pseudo node
        label = PSEUDO_LABELS[name]
        return (
            f'<g class="pseudo" data-node="{escape(name)}"><rect x="{left:.0f}" y="{y + 8:.0f}" '
            f'width="{w}" height="{NODE_H - 16}" rx="15"/>'
            f'<text x="{x:.0f}" y="{y + NODE_H / 2 + 4:.0f}" text-anchor="middle">{escape(label)}</text></g>'
        )
    classes = ["node", f"type-{getattr(node, 'type', '')}"]
    for flag in ("start", "terminal", "unreachable", "error"):
        if getattr(node, flag):
            classes.append(flag)
    if name in marks.visited:
        classes.append("visited")
    ended, failed = marks.ended.get(name, 0), marks.failed.get(name, 0)
    if ended:
        classes.append("ended-here")
    if failed:
        classes.append("failed-here")
    title = getattr(node, "words", "")
    badge = ""
    if ended or failed:
        words = [f"ended {ended}" if ended else "", f"failed {failed}" if failed else ""]
        kind = "failed" if failed else "ended"
        badge = (
            f'<text class="badge {kind}" x="{left + w - 6:.0f}" y="{y - 4:.0f}" '
            f'text-anchor="end">{escape(", ".join(w for w in words if w))}</text>'
        )
    return (
        f'<g class="{" ".join(classes)}" data-node="{escape(name)}"><title>{escape(title)}</title>'
        f'<rect x="{left:.0f}" y="{y:.0f}" width="{w}" height="{NODE_H}" rx="6"/>'
        f'<text class="id" x="{x:.0f}" y="{y + 19:.0f}" text-anchor="middle">{escape(_cut(name))}</text>'
        f'<text class="type" x="{x:.0f}" y="{y + 35:.0f}" text-anchor="middle">{escape(getattr(node, "type", ""))}</text>'
        f"{badge}</g>"
    )


def _cut(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"

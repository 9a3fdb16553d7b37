"""Diagrams of a flow: its nodes and transitions as Mermaid, Graphviz DOT or SVG.

Reads only the compiled `Flow`: each node's type and the first words it says, and its
`transitions()` (the same list coverage uses, so plugin node types draw correctly with no
extra work). The start, the terminal nodes, unreachable nodes and the on_error path are
marked; given a coverage, what no test reaches is coloured. SVG is drawn by Graphviz's `dot`
program when it is installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import DefinitionError
from ..model import Flow
from .coverage import Edge, FlowCoverage, edges

WORDS = 6  # how many words of a node's prompt its box shows
TEXT_FIELDS = ("prompt", "text", "body", "url", "to", "sip", "client", "queue")
# Pseudo-nodes (a flow's node ids cannot contain ":", so these never collide in DOT).
ENTRY, END, ERROR, AFTER = "ivr:start", "ivr:end", "ivr:error", "ivr:hangup"
PSEUDO_LABELS = {
    ENTRY: "call starts",
    END: "call ends",
    ERROR: "on error",
    AFTER: "after the call",
}
COLOURS = {"uncovered": "#e8590c", "uncovered_fill": "#ffe8cc", "error_fill": "#ffe3e3"}


class GraphvizMissing(DefinitionError):
    """An image (SVG, PNG) was asked for, but Graphviz's `dot` program is not installed."""


@dataclass(frozen=True)
class GraphNode:
    id: str
    type: str
    words: str
    waits: bool
    decides: bool  # does not wait but may go more than one way (branch, hours)
    start: bool
    terminal: bool
    unreachable: bool
    error: bool  # the flow's on_error node
    covered: bool | None  # None: no coverage asked for

    @property
    def label_lines(self) -> list[str]:
        return [self.id, f"{self.type}: {self.words}" if self.words else self.type]


@dataclass(frozen=True)
class GraphEdge:
    source: str
    target: str  # a node id, or a pseudo-node (END)
    label: str
    covered: bool | None
    dashed: bool = False


@dataclass(frozen=True)
class FlowGraph:
    flow_id: str
    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]

    @property
    def pseudo(self) -> list[str]:
        used = {e.source for e in self.edges} | {e.target for e in self.edges}
        return [p for p in PSEUDO_LABELS if p in used]


def build(flow: Flow, coverage: FlowCoverage | None = None) -> FlowGraph:
    """The diagram of a flow: marked nodes and labelled edges, coloured by coverage if given."""
    flow_edges = edges(flow)
    reachable = _reachable(flow, flow_edges)
    nodes = []
    for node_id, node in flow.nodes.items():
        own = [e for e in flow_edges if e.node == node_id]
        onward = [e for e in own if e.target is not None and e.target != node_id]
        nodes.append(
            GraphNode(
                id=node_id,
                type=node.type_name,
                words=first_words(node.spec),
                waits=node.waits,
                decides=not node.waits and len({e.target for e in own}) > 1,
                start=node_id == flow.start,
                terminal=not onward,
                unreachable=node_id not in reachable,
                error=node_id == flow.on_error,
                covered=None if coverage is None else node_id in coverage.visited,
            )
        )
    lines = [GraphEdge(ENTRY, flow.start, "", None)]
    if flow.on_error:
        lines.append(GraphEdge(ERROR, flow.on_error, "", None, dashed=True))
    if flow.on_hangup:
        lines.append(GraphEdge(AFTER, flow.on_hangup, "", None, dashed=True))
    for edge in flow_edges:
        covered = None if coverage is None else coverage.covers(edge)
        lines.append(GraphEdge(edge.node, edge.target or END, edge.via, covered))
    return FlowGraph(flow.id, tuple(nodes), tuple(lines))


def _reachable(flow: Flow, flow_edges: list[Edge]) -> set[str]:
    roots = [r for r in (flow.start, flow.on_error, flow.on_hangup) if r in flow.nodes]
    seen: set[str] = set()
    while roots:
        current = roots.pop()
        if current not in seen:
            seen.add(current)
            roots += [e.target for e in flow_edges if e.node == current and e.target]
    return seen


def first_words(spec: Mapping[str, Any]) -> str:
    """The first words a node says (or dials, or sends), to show in its box."""
    for name in TEXT_FIELDS:
        value = spec.get(name)
        if isinstance(value, Mapping):  # a text per language: show the first
            value = next(iter(value.values()), None)
        if isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value)
        if isinstance(value, str | int) and str(value).strip():
            words = str(value).split()
            return " ".join(words[:WORDS]) + (" …" if len(words) > WORDS else "")
    return ""


# ---- Mermaid -----------------------------------------------------------------------------


def mermaid(graph: FlowGraph) -> str:
    """Mermaid flowchart text (GitHub renders it in Markdown)."""
    ids = _mermaid_ids(graph)
    lines = ["flowchart TD"]
    for pseudo in graph.pseudo:
        shape = ("((", "))") if pseudo in (ENTRY, END) else ("([", "])")
        lines.append(f'    {ids[pseudo]}{shape[0]}"{PSEUDO_LABELS[pseudo]}"{shape[1]}')
    for node in graph.nodes:
        left, right = _mermaid_shape(node)
        label = "<br/>".join(_mermaid_text(line) for line in node.label_lines)
        lines.append(f'    {ids[node.id]}{left}"{label}"{right}')
    uncovered_links = []
    for i, edge in enumerate(graph.edges):
        arrow = "-.->" if edge.dashed else "-->"
        label = f'|"{_mermaid_text(edge.label)}"|' if edge.label else ""
        lines.append(f"    {ids[edge.source]} {arrow}{label} {ids[edge.target]}")
        if edge.covered is False:
            uncovered_links.append(str(i))
    lines += [
        "    classDef start stroke-width:4px",
        "    classDef terminal stroke-width:2px,stroke-dasharray:2 2",
        "    classDef unreachable color:#868e96,stroke:#868e96,stroke-dasharray:6 4",
        f"    classDef error fill:{COLOURS['error_fill']}",
        f"    classDef uncovered fill:{COLOURS['uncovered_fill']},stroke:{COLOURS['uncovered']}",
        "    classDef pseudo fill:#f1f3f5,stroke:#adb5bd",
    ]
    marks = {
        "start": [n for n in graph.nodes if n.start],
        "terminal": [n for n in graph.nodes if n.terminal],
        "unreachable": [n for n in graph.nodes if n.unreachable],
        "error": [n for n in graph.nodes if n.error],
        "uncovered": [n for n in graph.nodes if n.covered is False],
    }
    for name, marked in marks.items():
        if marked:
            lines.append(f"    class {','.join(ids[n.id] for n in marked)} {name}")
    if graph.pseudo:
        lines.append(f"    class {','.join(ids[p] for p in graph.pseudo)} pseudo")
    if uncovered_links:
        lines.append(
            f"    linkStyle {','.join(uncovered_links)} stroke:{COLOURS['uncovered']},stroke-width:3px"
        )
    return "\n".join(lines) + "\n"


def _mermaid_ids(graph: FlowGraph) -> dict[str, str]:
    """Safe Mermaid ids: `n_` + the node id with only letters, digits and _ (unique)."""
    ids = {p: p.replace(":", "_") for p in PSEUDO_LABELS}
    taken = set(ids.values())
    for node in graph.nodes:
        base = "n_" + re.sub(r"[^A-Za-z0-9_]", "_", node.id)
        candidate, n = base, 2
        while candidate in taken:
            candidate, n = f"{base}_{n}", n + 1
        taken.add(candidate)
        ids[node.id] = candidate
    return ids


def _mermaid_shape(node: GraphNode) -> tuple[str, str]:
    if node.waits:
        return "{{", "}}"
    if node.decides:
        return "{", "}"
    if node.terminal:
        return "([", "])"
    return "[", "]"


def _mermaid_text(text: str) -> str:
    return (
        text.replace("&", "#amp;")
        .replace('"', "#quot;")
        .replace("<", "#lt;")
        .replace(">", "#gt;")
        .replace("|", "#124;")
    )


# ---- Graphviz DOT ------------------------------------------------------------------------


def dot(graph: FlowGraph) -> str:
    """Graphviz DOT text; `svg()` draws it."""
    lines = [
        f"digraph {_dot_id(graph.flow_id)} {{",
        "    rankdir=TB;",
        '    node [shape=box, style="rounded", fontname="Helvetica", fontsize=11];',
        '    edge [fontname="Helvetica", fontsize=10];',
    ]
    for pseudo in graph.pseudo:
        shape = "circle" if pseudo in (ENTRY, END) else "box"
        lines.append(
            f'    {_dot_id(pseudo)} [label={_dot_id(PSEUDO_LABELS[pseudo])}, shape={shape}, style="filled", '
            'fillcolor="#f1f3f5", color="#adb5bd", fontsize=9];'
        )
    for node in graph.nodes:
        attrs = {"label": "\n".join(node.label_lines)}
        styles = ["rounded"]
        if node.waits:
            attrs["shape"] = "hexagon"
        elif node.decides:
            attrs["shape"] = "diamond"
        if node.start:
            attrs["penwidth"] = "3"
        if node.terminal:
            attrs["peripheries"] = "2"
        if node.unreachable:
            styles.append("dashed")
            attrs["fontcolor"] = attrs["color"] = "#868e96"
        if node.error:
            styles.append("filled")
            attrs["fillcolor"] = COLOURS["error_fill"]
        if node.covered is False:
            styles.append("filled")
            attrs["fillcolor"] = COLOURS["uncovered_fill"]
            attrs["color"] = COLOURS["uncovered"]
        attrs["style"] = ",".join(dict.fromkeys(styles))
        lines.append(f"    {_dot_id(node.id)} [{_dot_attrs(attrs)}];")
    for edge in graph.edges:
        attrs = {"label": edge.label} if edge.label else {}
        if edge.dashed:
            attrs["style"] = "dashed"
        if edge.covered is False:
            attrs["color"] = attrs["fontcolor"] = COLOURS["uncovered"]
            attrs["penwidth"] = "2"
        tail = f" [{_dot_attrs(attrs)}]" if attrs else ""
        lines.append(f"    {_dot_id(edge.source)} -> {_dot_id(edge.target)}{tail};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _dot_attrs(attrs: Mapping[str, str]) -> str:
    return ", ".join(f"{name}={_dot_id(value)}" for name, value in attrs.items())


def draw(dot_text: str, image: str) -> bytes:
    """Draw DOT text as an image (`svg`, `png`) with Graphviz's `dot` program.

    `GraphvizMissing` says what to do when `dot` is absent.
    """
    program = shutil.which("dot")
    if program is None:
        raise GraphvizMissing(
            f"drawing {image.upper()} needs Graphviz's `dot` program, which is not installed: "
            "install Graphviz (e.g. `apt-get install graphviz` or `brew install graphviz`), or "
            "use --format mermaid or --format dot"
        )
    done = subprocess.run(
        [program, f"-T{image}"], input=dot_text.encode("utf-8"), capture_output=True, check=False
    )
    if done.returncode != 0:
        stderr = done.stderr.decode("utf-8", "replace").strip()
        raise DefinitionError(f"Graphviz could not draw the diagram: {stderr}")
    return done.stdout

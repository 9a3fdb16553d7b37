"""Coverage: which nodes and transitions of a flow the flow tests exercise, and which not.

Fed by the call logs of flow tests (`script.CallLog`). The transitions to cover come from
each node's `transitions()` (every option, dial outcome, case, re-prompt and failure path),
so plugin node types are covered with no extra work; what a call took comes from the
`via` labels the runtime reports. A node that does not label its `Goto`s is covered per
destination: reaching a node covers every transition of that node that leads there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..model import Flow
from ..node import Transition
from .script import CallLog


@dataclass(frozen=True)
class Edge:
    """One transition of one node, as coverage and diagrams name it."""

    node: str
    via: str
    target: str | None

    def __str__(self) -> str:
        return f"{self.node} --{self.via}--> {self.target or '(end of call)'}"


def edges(flow: Flow) -> list[Edge]:
    """Every transition of every node of a flow, in file order."""
    return [
        Edge(node_id, t.via, t.target)
        for node_id, node in flow.nodes.items()
        for t in _transitions(node)
    ]


def _transitions(node: object) -> list[Transition]:
    try:
        return list(node.transitions())  # type: ignore[attr-defined]
    except (AttributeError, KeyError, TypeError, ValueError):
        return []


@dataclass
class FlowCoverage:
    flow: Flow
    visited: set[str] = field(default_factory=set)
    taken: set[tuple[str, str]] = field(default_factory=set)  # (node, via)
    reached: set[tuple[str, str | None]] = field(default_factory=set)  # (node, target), no via
    calls: int = 0

    def add(self, log: CallLog) -> None:
        if log.flow_file != self.flow.file:
            return
        self.calls += 1
        self.visited.update(log.path)
        for taken in log.taken:
            if taken.node is None or taken.flow not in (None, self.flow.id):
                continue  # entering the flow, or a step inside a subflow it called
            if taken.via is not None:
                self.taken.add((taken.node, taken.via))
            else:
                self.reached.add((taken.node, taken.target))

    def covers(self, edge: Edge) -> bool:
        return (edge.node, edge.via) in self.taken or (edge.node, edge.target) in self.reached

    @property
    def edges(self) -> list[Edge]:
        return edges(self.flow)

    @property
    def missed_edges(self) -> list[Edge]:
        return [e for e in self.edges if not self.covers(e)]

    @property
    def missed_nodes(self) -> list[str]:
        return [n for n in self.flow.nodes if n not in self.visited]

    @property
    def percent(self) -> float:
        """Transitions taken out of all; a flow without transitions counts its nodes instead."""
        total = self.edges
        if total:
            return 100.0 * (len(total) - len(self.missed_edges)) / len(total)
        nodes = len(self.flow.nodes)
        return 100.0 * (nodes - len(self.missed_nodes)) / nodes if nodes else 100.0


def total_percent(coverage: Iterable[FlowCoverage]) -> float:
    """Transitions taken out of all, over every flow (nodes reached for flows with none)."""
    done = total = 0
    for cov in coverage:
        if cov.edges:
            done += len(cov.edges) - len(cov.missed_edges)
            total += len(cov.edges)
        else:
            done += len(cov.flow.nodes) - len(cov.missed_nodes)
            total += len(cov.flow.nodes)
    return 100.0 * done / total if total else 100.0


def collect(flows: Iterable[Flow], logs: Iterable[CallLog]) -> list[FlowCoverage]:
    """Coverage of each flow from every call log of a test run."""
    found = {flow.file: FlowCoverage(flow) for flow in flows}
    for log in logs:
        if log.flow_file in found:
            found[log.flow_file].add(log)
    return list(found.values())


def report(coverage: Iterable[FlowCoverage]) -> str:
    """The coverage table with, under each flow, what no test reaches."""
    rows = sorted(coverage, key=lambda c: c.flow.id)
    if not rows:
        return "coverage: no flows"
    width = max(len(c.flow.id) for c in rows)
    lines = ["coverage (transitions the tests take, and nodes they reach):"]
    for cov in rows:
        total_edges, total_nodes = len(cov.edges), len(cov.flow.nodes)
        lines.append(
            f"  {cov.flow.id:<{width}}  transitions {total_edges - len(cov.missed_edges)}/{total_edges}"
            f"  nodes {total_nodes - len(cov.missed_nodes)}/{total_nodes}  {cov.percent:.0f}%"
            + ("  (no tests)" if not cov.calls else "")
        )
        for node in cov.missed_nodes:
            lines.append(f'      node not reached: "{node}"')
        for edge in cov.missed_edges:
            lines.append(f"      transition not taken: {edge}")
    return "\n".join(lines)

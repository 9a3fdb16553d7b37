"""`ivr graph FLOW`: draw a flow as Mermaid, Graphviz DOT or SVG, optionally with coverage."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..loader import FlowLoader
from ..project import project_registry
from ..tooling.coverage import FlowCoverage
from ..tooling.flowtest import FlowTests, tests_of
from ..tooling.graph import build, dot, mermaid, svg
from .common import flow_path, load_flow

FORMATS = ("mermaid", "dot", "svg")
SUFFIX_FORMATS = {".mmd": "mermaid", ".md": "mermaid", ".dot": "dot", ".gv": "dot", ".svg": "svg"}


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "graph",
        help="draw a flow (Mermaid, DOT or SVG)",
        description="Draw a flow: nodes with their type and first words, transitions with "
        "their key, outcome or condition; the start, terminal, unreachable and on_error "
        "nodes are marked.",
    )
    parser.add_argument("flow", metavar="FLOW", help="a flow file, or a flow id in flows/")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        help="mermaid (default), dot, or svg (needs Graphviz); guessed from -o's suffix",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    parser.add_argument(
        "--coverage",
        action="store_true",
        help="run the flow's tests and colour what they do not reach",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    flow = load_flow(args.flow)
    fmt = args.format or SUFFIX_FORMATS.get(Path(args.output or "").suffix, "mermaid")
    coverage = None
    if args.coverage:
        coverage = FlowCoverage(flow)
        tests = FlowTests(FlowLoader(project_registry()))
        files = tests_of(flow_path(args.flow))
        for test_path in files:
            for result in tests.run_file(test_path).results:
                coverage.add(result.log)
        print(
            f"coverage of {flow.id}: {coverage.calls} test case(s) in {len(files)} file(s) take "
            f"{coverage.percent:.0f}% of its transitions",
            file=sys.stderr,
        )
    graph = build(flow, coverage)
    text = mermaid(graph) if fmt == "mermaid" else dot(graph)
    if fmt == "svg":
        text = svg(text)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0

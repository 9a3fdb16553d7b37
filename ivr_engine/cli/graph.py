"""`ivr graph FLOW`: draw a flow as Mermaid, Graphviz DOT, SVG or PNG, optionally with coverage.

With `-o FILE` the format follows the file's extension (`.mmd`, `.md`, `.dot`, `.gv`, `.svg`,
`.png`); an extension it cannot write, or one that contradicts `--format`, is refused before
anything runs, so Mermaid text never lands in a `.png`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import DefinitionError
from ..loader import FlowLoader
from ..project import project_registry
from ..tooling.coverage import FlowCoverage
from ..tooling.flowtest import FlowTests, tests_of
from ..tooling.graph import build, dot, draw, mermaid
from .common import flow_path, load_flow

FORMATS = ("mermaid", "dot", "svg", "png")
SUFFIX_FORMATS = {
    ".mmd": "mermaid",
    ".md": "mermaid",
    ".dot": "dot",
    ".gv": "dot",
    ".svg": "svg",
    ".png": "png",
}
IMAGES = ("svg", "png")  # drawn by Graphviz from the DOT text


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "graph",
        help="draw a flow (Mermaid, DOT, SVG or PNG)",
        description="Draw a flow: nodes with their type and first words, transitions with "
        "their key, outcome or condition; the start, terminal, unreachable and on_error "
        "nodes are marked.",
    )
    parser.add_argument("flow", metavar="FLOW", help="a flow file, or a flow id in flows/")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        help="mermaid (default), dot, svg or png (svg and png need Graphviz); with -o, taken "
        "from the file's extension",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write here instead of stdout, in the format its extension names (.mmd, .dot, "
        ".svg, .png)",
    )
    parser.add_argument(
        "--coverage",
        action="store_true",
        help="run the flow's tests and colour what they do not reach",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    fmt = output_format(args.format, args.output)
    flow = load_flow(args.flow)
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
    drawn = draw(text, fmt) if fmt in IMAGES else text.encode("utf-8")
    if args.output:
        Path(args.output).write_bytes(drawn)
    elif fmt == "png":
        raise DefinitionError("a PNG image is not for the terminal: give -o FILE.png")
    else:
        sys.stdout.write(drawn.decode("utf-8"))
    return 0


def output_format(asked: str | None, output: str | None) -> str:
    """The format to write: `--format`, else the extension of `-o`, else Mermaid."""
    if output is None:
        return asked or "mermaid"
    suffix = Path(output).suffix.lower()
    known = SUFFIX_FORMATS.get(suffix)
    if known is None and asked is None:
        shown = f'"{suffix}" files' if suffix else "a file without an extension"
        raise DefinitionError(
            f"-o {output}: cannot tell the format of {shown}: name it .svg, .png, .dot or "
            ".mmd, or give --format"
        )
    if known is not None and asked is not None and known != asked:
        raise DefinitionError(
            f"-o {output}: a {suffix} file holds {known}, but --format {asked} was asked for: "
            f"change the extension or drop --format"
        )
    return asked or known or "mermaid"

"""What `ivr lsp` costs per keystroke on a large flow, next to `ivr validate` of the same text.

Generates the 2,000-node flow of `bench_validate.py` in a temporary `flows/` folder, then
times, on the text as an editor holds it: what the server does after every change (the
whole `ivr validate` pipeline for the diagnostics, then reading the nodes kept for
completion), a completion
of node ids at a target deep in the file, and go-to-definition. The baseline is
`FlowLoader.load_text` of the same text (what `ivr validate` runs per file, caches warm as
in a running server). The ratio is what to compare across machines; the seconds are this one's.

    python benchmarks/bench_lsp.py [--sections 200] [--runs 7]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_validate import generate, median_seconds

from ivr_engine.lsp.features import FlowFile, Project
from ivr_engine.project import project_registry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", type=int, default=200, help="10 nodes each (default 200)")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per figure (median)")
    args = parser.parse_args()

    text = generate(args.sections)
    lines = text.splitlines()
    row = max(i for i, line in enumerate(lines) if line == "    on_failure: bye")
    project = Project(project_registry())
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "flows" / "bench.yaml"
        path.parent.mkdir()
        path.write_text(text)

        def open_file() -> FlowFile:
            return FlowFile(project, path, text, shown="flows/bench.yaml")

        assert open_file().diagnostics() == []
        baseline = median_seconds(
            lambda: project.loader.load_text(text, "flows/bench.yaml", "bench"), args.runs
        )

        def change() -> None:  # what the server does per change: check, then keep the nodes
            flow_file = open_file()
            flow_file.diagnostics()
            assert flow_file.parsed is not None

        diagnostics = median_seconds(change, args.runs)
        completion = median_seconds(lambda: open_file().completion(row, 16), args.runs)
        definition = median_seconds(lambda: open_file().definition(row, 18), args.runs)
        assert [i.label for i in open_file().completion(row, 16)][:1] == ["m0"]
        assert open_file().definition(row, 18)

    nodes = sum(
        1 for line in lines if line.startswith("  ") and line[2] != " " and line.endswith(":")
    )
    print(f"flow: {nodes} nodes, {len(lines)} lines")
    print(f"median CPU time of {args.runs} runs:")
    print(f"  ivr validate's load_text (baseline) {baseline * 1000:8.1f} ms")
    for name, seconds in [
        ("diagnostics after a change", diagnostics),
        ("completion of node ids", completion),
        ("go to definition", definition),
    ]:
        print(f"  {name:<35} {seconds * 1000:8.1f} ms   {seconds / baseline:5.2f}x baseline")


if __name__ == "__main__":
    main()

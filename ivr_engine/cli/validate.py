"""`ivr validate [PATH...] [--format text|json|github]`: check flow files; exit 1 on any error
(warnings do not fail)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import FlowError
from ..links import FolderFlows
from ..loader import FlowLoader, iter_flow_files
from ..project import project_registry
from .problem_output import FORMATS, ProblemOutput


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("validate", help="check flow files and report every problem")
    parser.add_argument(
        "paths", nargs="*", default=["flows"], help="flow files or folders (default: flows/)"
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="text (file:line:col: message), json (one document), or github (annotations "
        "for GitHub Actions); the summary line goes to stderr",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    loader = FlowLoader(project_registry())  # first: a broken plugin stops every command
    missing = [path for path in args.paths if not Path(path).exists()]
    if missing:  # an error of its own: nothing was checked
        for path in missing:
            print(f"error: {path}: no such file or folder", file=sys.stderr)
        return 2
    folders: dict[Path, FolderFlows] = {}  # one per folder: each subflow is read once
    files = list(iter_flow_files(args.paths))
    errors = warnings = 0
    output = ProblemOutput(args.format, sys.stdout)
    for path in files:
        try:
            folder = folders.setdefault(path.parent, FolderFlows(loader, path.parent))
            result = loader.load_file(path, others=folder)
            problems = result.warnings
        except FlowError as exc:
            problems = exc.problems
        output.add(problems)
        errors += sum(p.is_error for p in problems)
        warnings += sum(not p.is_error for p in problems)
    if not files:
        print("no flow files found", file=sys.stderr)
        return 1
    output.finish(len(files))
    noun = "flow" if len(files) == 1 else "flows"
    print(f"checked {len(files)} {noun}: {errors} error(s), {warnings} warning(s)", file=sys.stderr)
    return 1 if errors else 0

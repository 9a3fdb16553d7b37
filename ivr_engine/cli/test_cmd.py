"""`ivr test [PATH...] [--coverage]`: run flow tests written in YAML; exit 1 on any failure."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..loader import FlowLoader
from ..project import project_registry
from ..tooling.coverage import report
from ..tooling.flowtest import TestRun, run_tests


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "test",
        help="run flow tests (flows/tests/*.yaml, *.test.yaml)",
        description="Run flow tests: each case plays a call against the flow and checks what "
        "the caller hears, where the call goes and what it leaves behind.",
    )
    parser.add_argument(
        "paths",
        nargs="*",
        default=["flows"],
        help="test files or folders to search (default: flows/)",
    )
    parser.add_argument(
        "--coverage",
        action="store_true",
        help="also report, per flow, the nodes and transitions no test exercises",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    test_run = run_tests(args.paths, FlowLoader(project_registry()))
    print_run(test_run)
    if args.coverage:
        print()
        print(report(test_run.coverage()))
    if not test_run.files:
        print(f"no flow tests found in {', '.join(args.paths)}", file=sys.stderr)
        return 1
    return 0 if test_run.passed else 1


def print_run(test_run: TestRun) -> None:
    for missing in test_run.missing:
        print(f"{missing}: no such file or folder")
    for file in test_run.files:
        flow = f" (flow {file.flow.id})" if file.flow else ""
        print(f"{file.file}{flow}")
        for problem in file.problems:
            print(f"  {problem}")
        for result in file.results:
            print(f"  {'ok  ' if result.passed else 'FAIL'}  {result.case.name}")
            if result.failure is not None:
                print("\n".join(f"        {line}" for line in str(result.failure).splitlines()))
    cases = test_run.cases
    failed = sum(not c.passed for c in cases)
    broken = sum(bool(f.problems) for f in test_run.files)
    summary = f"{len(cases)} case{'s' if len(cases) != 1 else ''}: {len(cases) - failed} passed, {failed} failed"
    if broken:
        summary += f"; {broken} test file{'s' if broken != 1 else ''} could not run"
    print(summary)

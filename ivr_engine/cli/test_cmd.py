"""`ivr test [PATH...] [--coverage] [--fail-under N]`: run flow tests written in YAML; exit 1 on
any failure, or when the tests take fewer than N% of the flows' transitions."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from ..loader import FlowLoader
from ..project import project_registry
from ..tooling.coverage import report, total_percent
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
    parser.add_argument(
        "--fail-under",
        type=_percent,
        metavar="N",
        help="fail when the tests take fewer than N%% of all transitions (implies --coverage)",
    )
    parser.set_defaults(run=run)


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage from 0 to 100")
    return value


def run(args: argparse.Namespace) -> int:
    # What node code logs (a Verify refusal a case plays on purpose) is the server's to show;
    # the run's report says what happened.
    logging.getLogger("ivr_engine").addHandler(logging.NullHandler())
    test_run = run_tests(args.paths, FlowLoader(project_registry()))
    print_run(test_run)
    coverage = test_run.coverage()
    if args.coverage or args.fail_under is not None:
        print()
        print(report(coverage))
    if not test_run.files:
        print(f"no flow tests found in {', '.join(args.paths)}", file=sys.stderr)
        return 1
    if args.fail_under is not None:
        percent = total_percent(coverage)
        if percent < args.fail_under:
            print(
                f"coverage {_shown(percent)}% is below --fail-under {_shown(args.fail_under)}%: "
                "add tests that take the transitions listed above",
                file=sys.stderr,
            )
            return 1
    return 0 if test_run.passed else 1


def _shown(percent: float) -> str:
    """87.5 stays 87.5; 99.96 is 99.9, never rounded up to a 100 it does not reach."""
    floored = int(percent * 10) / 10
    return f"{floored:g}"


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

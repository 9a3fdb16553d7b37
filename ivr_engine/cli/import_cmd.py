"""`ivr import studio FLOW.json [-o flows/NAME.yaml] [--test]`: a Studio export -> a YAML flow.

Writes the flow (and with `--test` its test file), then prints the import report. A file that
exists already is never replaced unless `--force` is given; the exit code is 1 when the
imported flow does not validate, so a script notices.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import DefinitionError
from ..loader import FlowLoader
from ..project import project_registry
from ..studio import import_studio
from ..studio.importer import ImportResult
from ..studio.testgen import write_tests
from ..tooling.flowtest import run_tests
from ..tooling.testfile import TESTS_FOLDER


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("import", help="turn another product's flow into a YAML flow")
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="FROM")
    studio = kinds.add_parser("studio", help="import a Twilio Studio flow (its JSON export)")
    studio.add_argument("file", help="the Studio flow's JSON (Export to JSON, or the REST API's)")
    studio.add_argument("-o", "--output", help="where to write the flow (default: flows/NAME.yaml)")
    studio.add_argument(
        "--test", action="store_true", help="also write a flow test file, one case per path"
    )
    studio.add_argument(
        "--subflow",
        action="append",
        default=[],
        metavar="FLOW_SID=FILE.json",
        help="import the Studio flow a run-subflow widget runs too (repeatable)",
    )
    studio.add_argument("--force", action="store_true", help="replace files that exist")
    studio.set_defaults(run=run)


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise DefinitionError(f"{path}: cannot read it ({exc.strerror or exc})") from None


def _write(path: Path, text: str, force: bool) -> None:
    if path.exists() and not force:
        raise DefinitionError(f"{path}: exists already; give --force to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def run(args: argparse.Namespace) -> int:
    output = Path(args.output) if args.output else None
    folder = output.parent if output else Path("flows")
    children: list[ImportResult] = []
    sids: dict[str, str] = {}
    for item in args.subflow:
        sid, eq, file = item.partition("=")
        if not eq or not sid or not file:
            raise DefinitionError(f"--subflow {item!r}: write FLOW_SID=FILE.json")
        child = import_studio(_read(file), file, subflow=True)
        sids[sid.strip()] = child.name
        children.append(child)
    beside = {child.name: child.yaml for child in children}
    name = output.stem if output else None
    result = import_studio(_read(args.file), args.file, name, subflows=sids, beside=beside)
    target = output or folder / f"{result.name}.yaml"
    for child in children:
        _write(folder / f"{child.name}.yaml", child.yaml, args.force)
        print(child.report.render())
        print(f"wrote {folder / f'{child.name}.yaml'}")
    _write(target, result.yaml, args.force)
    print(result.report.render())
    print(f"wrote {target}")
    if not result.report.validates:
        print("the flow does not validate yet: fix the problems above", file=sys.stderr)
        return 1
    if args.test:
        flow = FlowLoader(project_registry()).load_file(target).flow
        text, count = write_tests(flow, result.name, Path(args.file).name)
        test_path = target.parent / TESTS_FOLDER / f"{result.name}.yaml"
        _write(test_path, text, args.force)
        run = run_tests([test_path], FlowLoader(project_registry()))
        passed = sum(case.passed for case in run.cases)
        print(f"wrote {test_path}: {count} case(s), {passed} pass")
        if passed != count:
            return 1
    return 0

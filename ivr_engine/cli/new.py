"""`ivr new NAME`: scaffold flows/NAME.yaml and flows/tests/NAME.yaml from a small template."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..tooling.scaffold import create


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "new",
        help="start a new flow and its tests from a template",
        description="Create flows/NAME.yaml and flows/tests/NAME.yaml: a small flow that "
        "validates, and tests that pass. Existing files are never overwritten.",
    )
    parser.add_argument("name", metavar="NAME", help="the flow id, e.g. acme-support")
    parser.add_argument(
        "--dir", default="flows", help="the folder to create the flow in (default: flows/)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    made = create(args.name, Path(args.dir))
    print(f"created {made.flow} and {made.test}")
    print("next:")
    print(f"  ivr simulate {made.flow}      # call it in the terminal")
    print(f"  ivr test {made.test} --coverage   # run its tests")
    print(f"  ivr graph {made.flow}         # draw it (Mermaid)")
    return 0

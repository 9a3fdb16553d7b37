"""`ivr schema`: print the flow JSON Schema composed with every installed node type."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..project import project_registry


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("schema", help="print the flow JSON Schema (built-ins and plugins)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    print(json.dumps(project_registry().schema, indent=2, ensure_ascii=False))
    return 0

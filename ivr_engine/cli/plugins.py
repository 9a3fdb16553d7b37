"""`ivr plugins`: list every node type the engine knows and where each comes from.

Building the list loads every plugin exactly as the server does, so a broken plugin shows
here as the same one clear error (exit 2) that would stop the server.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..project import project_registry


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "plugins", help="list node types (built-in and plugins) and their source"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    rows = [(t.name, str(t.cls.schema.get("title", "")), t.source) for t in project_registry()]
    header = ("TYPE", "TITLE", "FROM")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(2)]
    for name, title, source in [header, *rows]:
        print(f"{name:<{widths[0]}}  {title:<{widths[1]}}  {source}")
    return 0

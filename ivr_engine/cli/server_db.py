"""What the commands that read a running server's SQLite file share: `--db` and finding it.

`ivr messages`, `ivr calls` and `ivr callbacks` read the server's own file beside it (WAL lets
them) and say plainly where they looked when it is not there.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any


def add_db_argument(parser: Any, default: Any = None) -> None:
    """`--db FILE`, defaulting to IVR_DB, else ./ivr.sqlite3 (`default` overrides, e.g. SUPPRESS)."""
    parser.add_argument(
        "--db",
        default=os.environ.get("IVR_DB", "ivr.sqlite3") if default is None else default,
        help="the server's SQLite file (IVR_DB)",
    )


def server_database(args: argparse.Namespace) -> Path | None:
    """The file `--db` names, or None once the user is told where it was looked for."""
    path = Path(args.db)
    if path.is_file():
        return path
    print(
        f"error: no database at {path}: pass --db or set IVR_DB to the server's database",
        file=sys.stderr,
    )
    return None

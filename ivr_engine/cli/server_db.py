"""What the commands that read a running server's database share: `--db` and finding it.

`ivr messages`, `ivr calls` and `ivr callbacks` read the server's own SQLite file beside it (WAL
lets them) and say plainly where they looked when it is not there. `ivr calls` also reads a
PostgreSQL store (`--database URL`, IVR_DATABASE_URL), as the servers sharing it write it.
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


def add_database_url_argument(parser: Any, default: Any = None) -> None:
    """`--database URL` (IVR_DATABASE_URL): a PostgreSQL store instead of the `--db` file."""
    parser.add_argument(
        "--database",
        metavar="URL",
        default=os.environ.get("IVR_DATABASE_URL") or None if default is None else default,
        help="the servers' PostgreSQL store, postgresql://... (IVR_DATABASE_URL); instead of --db",
    )


async def open_server_database(args: argparse.Namespace) -> Any | None:
    """The store `--database` (PostgreSQL) or `--db` (SQLite, read beside the server) names,
    or None once the user is told why it cannot be opened (the password never shown)."""
    url = getattr(args, "database", None)
    if url and not url.startswith("sqlite:"):
        from ..store.database import DatabaseUnavailable
        from ..store.target import BadDatabaseUrl, open_database, parse_target

        try:
            return await open_database(parse_target(url))
        except (BadDatabaseUrl, DatabaseUnavailable) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return None
    if url:
        from ..store.target import parse_target

        args.db = parse_target(url).location
    path = server_database(args)
    if path is None:
        return None
    from ..store.database import Database

    return await Database.open(path, reader=True)


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

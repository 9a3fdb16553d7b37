"""`ivr db status` and `ivr db upgrade`: the database's schema version, for deploy steps.

`ivr serve` applies pending migrations itself at start; operators who run migrations as a
separate deploy step use `ivr db upgrade` first. Both take the database as `ivr serve` does
(`--database URL` / IVR_DATABASE_URL, else `--db` / IVR_DB); the password is never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

from ..store.database import DatabaseUnavailable
from ..store.filelock import DatabaseInUse
from ..store.migrations import LATEST, MIGRATIONS, SchemaStatus, SchemaTooNew, postgres_status
from ..store.target import POSTGRESQL, BadDatabaseUrl, DatabaseTarget, open_database, parse_target


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("db", help="show or upgrade the database's schema version")
    parser.add_argument("action", choices=("status", "upgrade"))
    parser.add_argument("--database", default=None, metavar="URL", help="(IVR_DATABASE_URL)")
    parser.add_argument("--db", default=os.environ.get("IVR_DB", "ivr.sqlite3"), help="(IVR_DB)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        target = parse_target(args.database or os.environ.get("IVR_DATABASE_URL") or args.db)
        if args.action == "status":
            status = asyncio.run(_status(target))
            if status is None:
                print(f"{target.display}: no database there yet (ivr db upgrade creates it)")
                return 1
            print(f"{target.display}: schema version {status.current} (this code: {LATEST})")
            for migration in status.pending:
                print(f"  pending: {migration.version} {migration.name}")
            status.check(target.display)
            return 0
        before = asyncio.run(_status(target))
        asyncio.run(_upgrade(target))
        done = [m for m in MIGRATIONS if before is None or m.version not in before.applied]
        for migration in done:
            print(f"{target.display}: applied {migration.version} {migration.name}")
        print(f"{target.display}: schema version {LATEST}, up to date")
        return 0
    except (BadDatabaseUrl, SchemaTooNew, DatabaseUnavailable, DatabaseInUse) as exc:
        print(f"ivr db: {exc}", file=sys.stderr)
        return 1


async def _status(target: DatabaseTarget) -> SchemaStatus | None:
    if target.kind == POSTGRESQL:
        import asyncpg

        try:
            connection = await asyncpg.connect(target.location, timeout=5)
        except Exception as exc:
            raise DatabaseUnavailable(
                f"cannot connect to PostgreSQL at {target.display}: {target.scrub(str(exc))}"
            ) from None
        try:
            return await postgres_status(connection)
        finally:
            await connection.close()
    if not Path(target.location).exists():
        return None
    with sqlite3.connect(f"file:{target.location}?mode=ro", uri=True) as db:  # no lock needed
        if not db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        ).fetchone():
            return SchemaStatus([])
        return SchemaStatus([row[0] for row in db.execute("SELECT version FROM schema_migrations")])


async def _upgrade(target: DatabaseTarget) -> None:
    database = await open_database(target)  # opening applies what is pending, under its lock
    await database.close()

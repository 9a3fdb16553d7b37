"""Numbered schema migrations for both backends, applied at start (or by `ivr db upgrade`).

Each migration is one line in `MIGRATIONS`: a version, a name, its SQLite DDL (a script, or a
coroutine for changes SQLite cannot state in DDL alone) and its PostgreSQL DDL. Modules that
add tables keep their DDL beside their statements and add the line here. A database records
what it has had applied in `schema_migrations`; one newer than this code is refused, never
written to. PostgreSQL applies everything in one transaction under an advisory lock, so
processes starting together do not race; SQLite's file has one process (see `filelock`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiosqlite

from . import callbacks_schema, campaigns_schema, history_schema
from .schema import POSTGRES_SCHEMA, sqlite_schema


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sqlite: str | Callable[[aiosqlite.Connection], Awaitable[None]]
    postgres: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "calls, flow versions, outbox and consent", sqlite_schema, POSTGRES_SCHEMA),
    Migration(
        2,
        "call history: the execution log",
        history_schema.apply_sqlite,
        history_schema.POSTGRES_DDL,
    ),
    Migration(
        3,
        "queue call-back requests",
        callbacks_schema.CALLBACKS_DDL_SQLITE,
        callbacks_schema.CALLBACKS_DDL_POSTGRES,
    ),
    Migration(
        4,
        "outbound calls and campaigns",
        campaigns_schema.SQLITE,
        campaigns_schema.POSTGRES,
    ),
)
LATEST = MIGRATIONS[-1].version

VERSIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
)
"""
RECORD = "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"
POSTGRES_LOCK = 0x1D7_5C4E3A  # the advisory lock key migrations are applied under


class SchemaTooNew(Exception):
    """The database has migrations this code does not know: an older release would break it."""


@dataclass(frozen=True)
class SchemaStatus:
    applied: list[int]

    @property
    def current(self) -> int:
        return max(self.applied, default=0)

    @property
    def pending(self) -> list[Migration]:
        return [m for m in MIGRATIONS if m.version not in self.applied]

    def check(self, where: str) -> None:
        if self.current > LATEST:
            raise SchemaTooNew(
                f"the database {where} is at schema version {self.current}, newer than this "
                f"ivr-engine knows (up to {LATEST}): upgrade ivr-engine, or use another database"
            )


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# ---- SQLite ------------------------------------------------------------------------------


async def sqlite_status(connection: aiosqlite.Connection) -> SchemaStatus:
    async with connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ) as cursor:
        if await cursor.fetchone() is None:
            return SchemaStatus([])
    async with connection.execute("SELECT version FROM schema_migrations") as cursor:
        return SchemaStatus([row[0] for row in await cursor.fetchall()])


async def upgrade_sqlite(connection: aiosqlite.Connection, where: str) -> list[Migration]:
    """Apply what is pending, each migration committed with its record; return them."""
    status = await sqlite_status(connection)
    status.check(where)
    await connection.execute(VERSIONS_TABLE)
    await connection.commit()
    for migration in status.pending:
        if isinstance(migration.sqlite, str):
            await connection.executescript(migration.sqlite)
        else:
            await migration.sqlite(connection)
        await connection.execute(RECORD, (migration.version, migration.name, _now()))
        await connection.commit()
    return status.pending


# ---- PostgreSQL --------------------------------------------------------------------------


async def postgres_status(connection: Any) -> SchemaStatus:
    exists = await connection.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return SchemaStatus([])
    rows = await connection.fetch("SELECT version FROM schema_migrations")
    return SchemaStatus([row["version"] for row in rows])


async def upgrade_postgres(connection: Any, where: str) -> list[Migration]:
    """Apply what is pending in one transaction, under the migrations' advisory lock."""
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock($1)", POSTGRES_LOCK)
        status = await postgres_status(connection)
        status.check(where)
        await connection.execute(VERSIONS_TABLE)
        for migration in status.pending:
            await connection.execute(migration.postgres)
            await connection.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                migration.version,
                migration.name,
                _now(),
            )
    return status.pending

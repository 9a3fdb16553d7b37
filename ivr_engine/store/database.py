"""One SQLite database per server process, reached through one long-lived aiosqlite connection.

Every step of a call must be durable before Twilio hears the answer, and a commit is the
largest single cost of a webhook. Writes therefore go through a group-commit writer: the
writes that arrive while a commit is in progress are applied together in the next
transaction, so under load many steps share one commit, and with no load a step waits for
exactly one. Each caller still awaits its own commit before it answers.
"""

from __future__ import annotations

import asyncio
import logging
import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger("ivr_engine.store")

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    call_sid     TEXT PRIMARY KEY,
    flow_id      TEXT NOT NULL,
    flow_version TEXT NOT NULL,
    step         INTEGER NOT NULL,
    ended        INTEGER NOT NULL DEFAULT 0,
    data         TEXT NOT NULL,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE IF NOT EXISTS flow_versions (
    flow_id   TEXT NOT NULL,
    version   TEXT NOT NULL,
    file      TEXT NOT NULL,
    source    TEXT NOT NULL,
    loaded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (flow_id, version)
);
CREATE TABLE IF NOT EXISTS call_events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    call_sid  TEXT NOT NULL,
    kind      TEXT NOT NULL,
    data      TEXT NOT NULL,
    at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX IF NOT EXISTS call_events_by_call ON call_events (call_sid);
CREATE TABLE IF NOT EXISTS outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    call_sid        TEXT NOT NULL,
    flow_id         TEXT NOT NULL,
    node_id         TEXT NOT NULL,
    channel         TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX IF NOT EXISTS outbox_by_status ON outbox (status);
CREATE TABLE IF NOT EXISTS outbox_events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    outbox_id INTEGER NOT NULL,
    status    TEXT NOT NULL,
    detail    TEXT NOT NULL DEFAULT '',
    at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX IF NOT EXISTS outbox_events_by_row ON outbox_events (outbox_id);
CREATE TABLE IF NOT EXISTS message_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    message_sid TEXT NOT NULL,
    status      TEXT NOT NULL,
    rank        INTEGER NOT NULL,
    error_code  TEXT NOT NULL DEFAULT '',
    data        TEXT NOT NULL,
    at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (message_sid, status)
);
CREATE TABLE IF NOT EXISTS suppressions (
    number  TEXT NOT NULL,
    channel TEXT NOT NULL,
    active  INTEGER NOT NULL,
    source  TEXT NOT NULL,
    since   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (number, channel)
);
CREATE TABLE IF NOT EXISTS consent_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    number      TEXT NOT NULL,
    channel     TEXT NOT NULL,
    action      TEXT NOT NULL,
    source      TEXT NOT NULL,
    message_sid TEXT UNIQUE,
    at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX IF NOT EXISTS consent_events_by_number ON consent_events (number, channel);
CREATE TABLE IF NOT EXISTS whatsapp_windows (
    number          TEXT PRIMARY KEY,
    last_inbound_at REAL NOT NULL
);
"""

# Columns the messaging outbox added to `outbox` after its first release: added in place to
# databases created before, so upgrading never needs a manual migration.
OUTBOX_COLUMNS = {
    "attempts": "INTEGER NOT NULL DEFAULT 0",
    "next_attempt_at": "REAL NOT NULL DEFAULT 0",
    "last_attempt_at": "REAL",
    "uncertain": "INTEGER NOT NULL DEFAULT 0",
    "reason": "TEXT NOT NULL DEFAULT ''",
    "error_code": "TEXT NOT NULL DEFAULT ''",
    "message_sid": "TEXT",
    "delivery": "TEXT NOT NULL DEFAULT ''",
    "updated_at": "TEXT",
}
OUTBOX_INDEXES = """
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS outbox_by_sid ON outbox (message_sid);
CREATE INDEX IF NOT EXISTS outbox_by_recipient ON outbox (recipient);
"""


class _NotLiteral(Exception):
    """A value that cannot be written as an SQL literal: that batch takes the slow path."""


def sql_literal(value: Any) -> str:
    """An SQLite literal for a value, exactly as SQLite's own `quote()` writes it.

    Only the types the engine stores are accepted; text is quoted with single quotes doubled,
    which is SQLite's only escape inside a string literal. NUL cannot appear in a script.
    """
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    if isinstance(value, str) and "\x00" not in value:
        return "'" + value.replace("'", "''") + "'"
    raise _NotLiteral(type(value).__name__)


def bind(sql: str, params: Sequence[Any]) -> str:
    """`sql` with its parameters written in as literals, numbered as SQLite numbers them."""
    chunks, numbers = _placeholders(sql)
    if len(set(numbers)) != len(params) or (numbers and max(numbers) != len(params)):
        raise _NotLiteral(f"{len(params)} parameters given for {sql!r}")
    parts = [chunks[0]]
    for number, chunk in zip(numbers, chunks[1:], strict=True):
        parts.append(sql_literal(params[number - 1]))
        parts.append(chunk)
    return "".join(parts)


@lru_cache(maxsize=256)
def _placeholders(sql: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Split a statement at its parameters, once per statement text.

    `?NNN` is parameter NNN; a plain `?` is one more than the largest number used before it.
    Text inside quotes and comments is left alone. Named parameters are not supported (the
    batch then takes the parameterised path).
    """
    chunks: list[str] = []
    numbers: list[int] = []
    quote: str | None = None
    start = 0
    largest = 0
    index = 0
    length = len(sql)
    while index < length:
        char = sql[index]
        if quote is not None:
            if char == quote or (quote == "--" and char == "\n"):
                quote = None
            index += 1
            continue
        if char == "-" and sql.startswith("--", index):
            quote = "--"  # a comment runs to the end of the line
        elif char in "'\"":
            quote = char
        elif char == "?":
            end = index + 1
            while end < length and sql[end].isdigit():
                end += 1
            number = int(sql[index + 1 : end]) if end > index + 1 else largest + 1
            largest = max(largest, number)
            chunks.append(sql[start:index])
            numbers.append(number)
            start = index = end
            continue
        elif (
            char in ":@$"
            and index + 1 < length
            and (sql[index + 1].isalpha() or sql[index + 1] == "_")
        ):
            raise _NotLiteral("named parameters")
        index += 1
    chunks.append(sql[start:])
    return tuple(chunks), tuple(numbers)


def batch_script(batch: Sequence[_Pending]) -> str | None:
    """The whole batch as one transaction script, or None if a value cannot be a literal.

    A script runs in a single thread hand-off, where separate statements and a commit would
    take one each; every caller still waits for the commit before it answers Twilio.
    """
    try:
        statements = [
            bind(write.sql, write.params) for pending in batch for write in pending.writes
        ]
    except _NotLiteral:
        return None
    return (
        "BEGIN IMMEDIATE;\n"
        + ";\n".join(s.strip().rstrip(";") for s in statements)
        + ";\nCOMMIT;\n"
    )


@dataclass(frozen=True)
class Write:
    """One SQL statement with its parameters, applied inside a group transaction."""

    sql: str
    params: Sequence[Any] = ()


@dataclass
class _Pending:
    """Writes of one caller, all-or-nothing with the rest of their batch."""

    writes: Sequence[Write]
    done: asyncio.Future[None]


async def _add_outbox_columns(connection: aiosqlite.Connection) -> None:
    async with connection.execute("PRAGMA table_info(outbox)") as cursor:
        present = {row[1] for row in await cursor.fetchall()}
    for name, definition in OUTBOX_COLUMNS.items():
        if name not in present:
            await connection.execute(f"ALTER TABLE outbox ADD COLUMN {name} {definition}")
    await connection.executescript(OUTBOX_INDEXES)


class Database:
    """The process's connection, its schema, and the group-commit writer."""

    def __init__(self, connection: aiosqlite.Connection, path: str) -> None:
        self.connection = connection
        self.path = path
        self._queue: list[_Pending] = []
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._closed = False

    @classmethod
    async def open(cls, path: str | Path) -> Database:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        connection = await aiosqlite.connect(str(path))
        connection.row_factory = sqlite3.Row
        await connection.execute("PRAGMA journal_mode=WAL")
        await connection.execute("PRAGMA synchronous=NORMAL")
        await connection.execute("PRAGMA busy_timeout=5000")
        await connection.executescript(SCHEMA)
        await _add_outbox_columns(connection)
        await connection.commit()
        database = cls(connection, str(path))
        database._writer = asyncio.create_task(database._write_loop(), name="ivr-db-writer")
        return database

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        rows = await self.connection.execute_fetchall(sql, params)  # one thread hand-off
        return next(iter(rows), None)  # type: ignore[return-value]

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(await self.connection.execute_fetchall(sql, params))

    async def write(self, *writes: Write) -> None:
        """Apply `writes` atomically (with whatever else is queued) and wait for the commit."""
        if self._closed:
            raise RuntimeError("database is closed")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(writes, done))
        self._wake.set()
        await done

    async def _write_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._queue = self._queue, []
            if not batch:
                if self._closed:
                    return
                continue
            try:
                await self._apply(batch)
            except asyncio.CancelledError:
                for pending in batch:
                    if not pending.done.done():
                        pending.done.cancel()
                raise

    async def _apply(self, batch: list[_Pending]) -> None:
        """Commit a batch in one thread hand-off; if that fails, each caller's writes alone."""
        script = batch_script(batch)
        if script is not None:
            try:
                await self.connection.executescript(script)
            except Exception as exc:
                if self.connection.in_transaction:
                    await self.connection.rollback()
                log.warning("a write batch failed (%s); retrying it caller by caller", exc)
            else:
                for pending in batch:
                    if not pending.done.done():
                        pending.done.set_result(None)
                return
        for pending in batch:  # slow path: one transaction per caller, failures kept apart
            try:
                for write in pending.writes:
                    await self.connection.execute(write.sql, write.params)
                await self.connection.commit()
            except Exception as exc:
                if self.connection.in_transaction:
                    await self.connection.rollback()
                if not pending.done.done():
                    pending.done.set_exception(exc)
            else:
                if not pending.done.done():
                    pending.done.set_result(None)

    async def close(self) -> None:
        self._closed = True
        self._wake.set()
        if self._writer is not None:
            await self._writer
        await self.connection.close()

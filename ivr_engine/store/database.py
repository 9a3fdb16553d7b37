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
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

from ..campaigns.schema import SQLITE as CAMPAIGN_SCHEMA

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
    independent: bool = False


def _schedule(batch: Sequence[_Pending]) -> list[tuple[str, list[Sequence[Any]]]]:
    """Group a batch's writes into runs of one statement each, for one `executemany` per run.

    Each caller's writes keep their order. A caller that asked for ordering also comes after
    every earlier ordered caller; an independent caller (whose rows nobody else writes at the
    same time) may join runs opened by callers that arrived before it. A batch of steps then
    costs one run per kind of statement (sessions, events, messages) instead of one per
    alternation of them.
    """
    runs: list[tuple[str, list[Sequence[Any]]]] = []
    latest: dict[str, int] = {}  # statement -> index of the last run of it
    barrier = 0  # ordered callers start at or after the last run of the previous one
    for pending in batch:
        position = 0 if pending.independent else barrier
        for write in pending.writes:
            index = latest.get(write.sql, -1)
            if index < position:
                index = len(runs)
                runs.append((write.sql, []))
                latest[write.sql] = index
            runs[index][1].append(write.params)
            position = index
        if not pending.independent:
            barrier = position
    return runs


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
        await connection.executescript(CAMPAIGN_SCHEMA)
        await connection.commit()
        database = cls(connection, str(path))
        database._writer = asyncio.create_task(database._write_loop(), name="ivr-db-writer")
        return database

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        rows = await self.connection.execute_fetchall(sql, params)  # one thread hand-off
        return next(iter(rows), None)  # type: ignore[return-value]

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(await self.connection.execute_fetchall(sql, params))

    async def write(self, *writes: Write, independent: bool = False) -> None:
        """Apply `writes` atomically (with whatever else is queued) and wait for the commit.

        `independent`: no other caller writes these rows meanwhile (a call's session, written
        under the call's lock; rows only inserted), so they need not wait for the writes of
        callers that arrived earlier. Otherwise writes run in the order they were asked for.
        """
        if self._closed:
            raise RuntimeError("database is closed")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(writes, done, independent))
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
        """Commit a batch in one transaction; if that fails, each caller's writes alone.

        Writes of the same statement run as one `executemany` (see `_schedule`), so a batch
        costs a thread hand-off per kind of statement plus the commit, however many steps it
        carries. (Writing the batch as one script of literals saves hand-offs but cost more
        CPU: SQLite then tokenises every value.)
        """
        runs = _schedule(batch)
        try:
            for sql, rows in runs:
                await self.connection.executemany(sql, rows)
            await self.connection.commit()
        except Exception as exc:
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

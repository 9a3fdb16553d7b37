"""One SQLite database per server process, reached through one long-lived aiosqlite connection.

Every step of a call must be durable before Twilio hears the answer, and a commit is the
largest single cost of a webhook. Writes therefore go through a group-commit writer: the
writes that arrive while a commit is in progress are applied together in the next
transaction, so under load many steps share one commit, and with no load a step waits for
exactly one. Each caller still awaits its own commit before it answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

from . import filelock
from .migrations import upgrade_sqlite

log = logging.getLogger("ivr_engine.store")


@dataclass(frozen=True)
class Write:
    """One SQL statement with its parameters, applied inside a group transaction."""

    sql: str
    params: Sequence[Any] = ()


@dataclass
class _Pending:
    """Writes of one caller, all-or-nothing with the rest of their batch.

    `done` is cancelled when the caller stops waiting (its deadline passed, or its request was
    cancelled): the writer then skips these writes if it has not started them.
    """

    writes: Sequence[Write]
    done: asyncio.Future[None]
    independent: bool = False


class DatabaseUnavailable(RuntimeError):
    """A write was not made durable: the writer failed, is reconnecting, or took too long.

    The caller answers as for any failure mid-step (a call hears the apology). After a
    timeout the write may still land later; after a writer failure it was rolled back.
    """


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


def _commit_runs(connection: sqlite3.Connection, runs: list[tuple[str, list[Any]]]) -> None:
    """In the connection's thread: every run of a batch, then the commit."""
    for sql, rows in runs:
        connection.executemany(sql, rows)
    connection.commit()


async def _in_thread(connection: aiosqlite.Connection, fn: Callable[..., Any], *args: Any) -> Any:
    """Run `fn(sqlite3_connection, *args)` in the connection's own thread, in one hand-off.

    aiosqlite hands each statement to its thread separately (a future and a wake-up a time,
    ~30 us of CPU each); a batch of several statements and a commit goes as one here. It uses
    `Connection._execute`, the queue every aiosqlite method goes through, so it keeps its
    place in order with the reads (tests/test_database.py holds aiosqlite to it).
    """
    return await connection._execute(lambda: fn(connection._conn, *args))


WRITE_TIMEOUT = 5.0  # seconds a caller waits for its commit: well inside Twilio's 15 s
RECONNECT_DELAYS = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0)  # then every 2 s until the database is back


# SQLite's `synchronous` levels we accept, with what a commit survives (WAL mode):
# FULL fsyncs the log at every commit, so a committed step survives a power failure; NORMAL
# fsyncs only at checkpoints, so the last commits before a power failure or OS crash can be
# lost (never on a crash of the process alone); EXTRA also fsyncs the folder. OFF is refused.
SYNCHRONOUS = ("FULL", "NORMAL", "EXTRA")
DEFAULT_SYNCHRONOUS = "FULL"


def check_synchronous(level: str) -> str:
    """`level` in upper case, or a ValueError naming the choices."""
    if level.upper() not in SYNCHRONOUS:
        raise ValueError(
            f"IVR_SQLITE_SYNCHRONOUS is {level!r}: it must be one of {', '.join(SYNCHRONOUS)}"
        )
    return level.upper()


async def _connect(path: str, synchronous: str) -> aiosqlite.Connection:
    connection = await aiosqlite.connect(path)
    connection.row_factory = sqlite3.Row
    await connection.execute("PRAGMA journal_mode=WAL")
    await connection.execute(f"PRAGMA synchronous={check_synchronous(synchronous)}")
    await connection.execute("PRAGMA busy_timeout=5000")
    return connection


def _open_reader(path: str) -> sqlite3.Connection | None:
    """A read-only connection for key lookups in the event loop's thread (None if refused).

    It never waits for a lock (`busy_timeout` 0: a busy file sends the read to the writer's
    thread instead of blocking every call), and each statement reads the latest commit.
    """
    reader = None
    try:
        reader = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        reader.row_factory = sqlite3.Row
        reader.execute("PRAGMA query_only=ON")
        reader.execute("PRAGMA busy_timeout=0")
    except sqlite3.Error:
        if reader is not None:
            reader.close()
        return None
    return reader


class Database:
    """SQLite: the process's connection, its schema, and the supervised group-commit writer.

    The writer is supervised: if it fails (a rollback that raises, a connection that died),
    every write it held or that was waiting fails with `DatabaseUnavailable`, the database
    reports unhealthy (`healthy`, shown on `/healthz`), and the writer reconnects and starts
    again by itself. A caller never waits more than `write_timeout` for its commit, so a
    stuck database cannot hold a call's lock for longer than that.
    """

    # One process owns the file, so call locks and the session cache may live in its memory
    # (the PostgreSQL backend is shared by several processes, and says so).
    shared = False
    dialect = "sqlite"

    def __init__(
        self,
        connection: aiosqlite.Connection,
        path: str,
        *,
        write_timeout: float = WRITE_TIMEOUT,
        synchronous: str = DEFAULT_SYNCHRONOUS,
    ) -> None:
        self.connection = connection
        self.path = path
        self.synchronous = synchronous
        self.write_timeout = write_timeout
        self._queue: list[_Pending] = []
        self._batch: list[_Pending] = []  # the batch being applied
        self._busy_since: float | None = None  # loop time the current batch started
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._closed = False
        self._up = True  # False from a writer failure until it has reconnected
        self._probe = False  # a read failed: check the connection before the next batch
        self._lock: str | None = None  # the process lock on the file, held until close()
        self._reader: sqlite3.Connection | None = None  # key lookups, in the loop's thread

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        write_timeout: float = WRITE_TIMEOUT,
        synchronous: str = DEFAULT_SYNCHRONOUS,
        reader: bool = False,
    ) -> Database:
        """Open (creating if needed) the SQLite file; `synchronous`: see `SYNCHRONOUS`.

        The file is locked for this process until `close()` (see `filelock`): another process
        opening it gets `filelock.DatabaseInUse`. A `reader` (a command such as `ivr calls`
        that looks while the server runs; WAL lets it) takes no lock. It writes only rows the
        server re-reads from the file (`ivr messages retry` puts an outbox row back), never
        what the server caches (sessions); SQLite orders its transactions with the server's.
        """
        lock = None
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            lock = None if reader else filelock.acquire(path)
        connection = None
        try:
            connection = await _connect(str(path), synchronous)
            await upgrade_sqlite(connection, str(path))
        except BaseException:
            if connection is not None:
                await connection.close()
            if lock is not None:
                filelock.release(lock)
            raise
        database = cls(connection, str(path), write_timeout=write_timeout, synchronous=synchronous)
        database._lock = lock
        if str(path) != ":memory:":
            database._reader = _open_reader(str(path))
        database._writer = asyncio.create_task(database._supervise(), name="ivr-db-writer")
        return database

    @property
    def healthy(self) -> bool:
        """The writer runs, is connected, and its current batch is not overdue."""
        if not self._up or self._writer is None or self._writer.done():
            return False
        busy = self._busy_since
        return busy is None or asyncio.get_running_loop().time() - busy < self.write_timeout

    async def fetchone(
        self, sql: str, params: Sequence[Any] = (), *, key_lookup: bool = False
    ) -> sqlite3.Row | None:
        """The first row `sql` finds, or None.

        A `key_lookup` (a row found by its key, such as a call's session) is answered in the
        event loop's own thread, through a read-only connection: WAL lets it read the last
        commit while the writer works, in a few microseconds, where a hand-off to the
        writer's thread and back cost 11 us of CPU with both threads on one core and 77 us
        across two (waking an idle core of a VM). If that read is refused (the file busy,
        or unwell), the writer's thread answers as for any other read.
        """
        if key_lookup and self._reader is not None:
            try:
                return self._reader.execute(sql, params).fetchone()  # type: ignore[no-any-return]
            except sqlite3.Error:
                pass
        try:
            rows = await self.connection.execute_fetchall(sql, params)  # one thread hand-off
        except Exception:
            self._suspect()
            raise
        return next(iter(rows), None)  # type: ignore[return-value]

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            return list(await self.connection.execute_fetchall(sql, params))
        except Exception:
            self._suspect()
            raise

    async def write(self, *writes: Write, independent: bool = False) -> None:
        """Apply `writes` atomically (with whatever else is queued) and wait for the commit.

        `independent`: no other caller writes these rows meanwhile (a call's session, written
        under the call's lock; rows only inserted), so they need not wait for the writes of
        callers that arrived earlier. Otherwise writes run in the order they were asked for.
        Raises `DatabaseUnavailable` when the writer is down or the commit takes longer than
        `write_timeout`.
        """
        if self._closed:
            raise RuntimeError("database is closed")
        if not self._up:
            raise DatabaseUnavailable("the database writer is reconnecting")
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._queue.append(_Pending(writes, done, independent))
        self._wake.set()
        # A timer that cancels `done` (the writer skips it if not yet begun): a third of what
        # `asyncio.timeout` costs, on every webhook.
        timer = loop.call_later(self.write_timeout, done.cancel)
        try:
            await done
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # the caller itself was cancelled
            raise DatabaseUnavailable(
                f"the database did not commit within {self.write_timeout:g} s"
            ) from None
        finally:
            timer.cancel()

    def _suspect(self) -> None:
        """A read failed: have the writer check the connection (and reconnect if it is dead)."""
        if not self._probe and self._up:
            self._probe = True
            self._wake.set()

    async def _supervise(self) -> None:
        """Run the writer; when it fails, fail what it held, reconnect and run it again."""
        while True:
            try:
                await self._write_loop()
                return
            except asyncio.CancelledError:
                self._fail_waiting(DatabaseUnavailable("the database is closing"))
                raise
            except Exception as exc:
                self._up = False
                self._busy_since = None
                failed = self._fail_waiting(
                    DatabaseUnavailable(f"the database writer failed: {exc}")
                )
                log.error(
                    "the database writer failed (%s: %s); %d waiting write(s) failed; reconnecting",
                    type(exc).__name__,
                    exc,
                    failed,
                )
                if not await self._reconnect():
                    return
                self._up = True
                log.warning("the database writer has reconnected to %s", self.path)

    def _fail_waiting(self, error: Exception) -> int:
        waiting, self._batch, self._queue = [*self._batch, *self._queue], [], []
        failed = 0
        for pending in waiting:
            if not pending.done.done():
                pending.done.set_exception(error)
                failed += 1
        return failed

    async def _reconnect(self) -> bool:
        """Replace the connection; False if the database was closed meanwhile."""
        attempt = 0
        while not self._closed:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self.write_timeout):
                    await self.connection.close()
            connection: aiosqlite.Connection | None = None
            try:
                connection = await _connect(self.path, self.synchronous)
                await connection.execute("SELECT 1 FROM sessions LIMIT 1")
            except Exception as exc:
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await connection.close()
                delay = RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)]
                log.warning("cannot reopen the database %s (%s); retrying", self.path, exc)
                attempt += 1
                await asyncio.sleep(delay)
                continue
            self.connection = connection
            self._probe = False
            if self._reader is not None:  # the file may have been replaced: read the new one
                self._reader.close()
                self._reader = _open_reader(self.path)
            return True
        return False

    async def _write_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if self._probe:
                await self.connection.execute("SELECT 1")  # raises if the connection is dead
                self._probe = False
            if not self._queue:
                if self._closed:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            batch, self._queue = self._queue, []
            self._batch = [pending for pending in batch if not pending.done.done()]
            if not self._batch:
                continue
            self._busy_since = loop.time()
            await self._apply(self._batch)
            self._batch = []
            self._busy_since = None

    async def _apply(self, batch: list[_Pending]) -> None:
        """Commit a batch in one transaction; if that fails, each caller's writes alone.

        Writes of the same statement run as one `executemany` (see `_schedule`), and the
        whole batch, commit included, runs in one hand-off to the connection's thread, however
        many steps and kinds of statement it carries. (Writing the batch as one script of
        literals cost more CPU: SQLite then tokenises every value.)
        """
        runs = _schedule(batch)
        try:
            await _in_thread(self.connection, _commit_runs, runs)
        except Exception as exc:
            await self.connection.rollback()  # if this fails, the supervisor takes over
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
        """Commit what is queued, stop the writer and close the connections."""
        self._closed = True
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        self._wake.set()
        if self._writer is not None:
            await self._writer
        with contextlib.suppress(Exception):
            await self.connection.close()
        if self._lock is not None:
            filelock.release(self._lock)
            self._lock = None

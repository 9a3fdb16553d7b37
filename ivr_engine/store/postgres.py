"""The PostgreSQL backend: the same small interface as `Database`, for several processes.

Statements are the portable ones every store module writes (see `dialect`), run through an
asyncpg pool (one per process). What one process kept in memory is in the database here:
`call_lock()` opens a transaction on one pooled connection and takes a transaction-scoped
advisory lock on the CallSid, so a call's webhooks are serialised whichever process gets them;
the reads and writes made under it run in that transaction and commit when the lock is let
go, before the answer is sent. Every operation is bounded (`timeout`): with the database
down, a webhook fails fast (the caller hears the apology) and the pool reconnects by itself
when it is back. `healthy` follows a ping every second, for `/healthz`.

A step in progress holds one pooled connection (its lock is that connection's), also while a
node waits on an API. When every connection is held that way the database is busy, not down:
a request then waits up to `POOL_WAIT` for one to come free, and past that is refused with a
line that names the setting to raise (`IVR_DATABASE_POOL_SIZE`).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import asyncpg

from .database import DatabaseUnavailable, Write
from .dialect import to_postgres
from .migrations import upgrade_postgres
from .target import POOL_SIZE, DatabaseTarget

log = logging.getLogger("ivr_engine.store")

TIMEOUT = 1.5  # seconds for one statement, a connection or a commit: answers stay within 2 s
LOCK_TIMEOUT = 12.0  # seconds a webhook waits for another process's step on the same call
PING_INTERVAL = 1.0
# seconds a request waits for a connection while all are held by steps in progress: then its
# own step still has the node budget (10 s) inside Twilio's 15 s
POOL_WAIT = 4.0


class _Holding:
    """The call lock a task holds: its connection (in a transaction), and what to run once
    that transaction has committed."""

    __slots__ = ("after", "connection", "task")

    def __init__(self, connection: Any) -> None:
        self.task = asyncio.current_task()
        self.connection = connection
        self.after: list[Callable[[], None]] = []


_holding: contextvars.ContextVar[_Holding | None] = contextvars.ContextVar(
    "ivr_pg_call_lock", default=None
)


def _held_here() -> _Holding | None:
    """The call lock this task holds, or None.

    A context variable alone would not do: a task started inside the lock (a timer's, say)
    copies the context, and would use the lock's connection after it went back to the pool.
    """
    holding = _holding.get()
    if holding is None or holding.task is not asyncio.current_task():
        return None
    return holding


def _held() -> Any:
    """The connection of the call lock this task holds, or None."""
    holding = _held_here()
    return None if holding is None else holding.connection


# What means "the database cannot serve us now" (the caller hears the apology, the log says
# why in one line): no connection, a dropped one, no answer in time, and the server refusing
# or ending connections (too many clients, starting up, shutting down).
_UNAVAILABLE = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.TooManyConnectionsError,
    asyncpg.exceptions.OperatorInterventionError,
)


def _lock_query(key: str) -> str:
    """`BEGIN` and the advisory lock on `key`, as one simple-protocol query (one round trip).

    The simple protocol takes no parameters, so the key is a literal: an escape string
    (`E'...'`, read the same whatever `standard_conforming_strings` says) with its backslashes
    and quotes doubled; a NUL byte, which no CallSid holds, is refused. PostgreSQL hashes the
    key (`hashtextextended`), as before, so every process locks the same number for it.
    """
    if "\x00" in key:
        raise ValueError("a lock key cannot hold a NUL byte")
    literal = "E'" + key.replace("\\", "\\\\").replace("'", "''") + "'"
    return f"BEGIN; SELECT pg_advisory_xact_lock(hashtextextended({literal}, 0))"


async def _reset(connection: asyncpg.Connection) -> None:
    """What a connection needs before it goes back to the pool: nothing, unless a transaction
    was left open. (asyncpg's default reset is a query per release: advisory unlocks, CLOSE,
    UNLISTEN, RESET ALL; this store takes only transaction-scoped locks and sets nothing.)"""
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


class PostgresDatabase:
    shared = True  # several processes: no call state may live in one process's memory
    dialect = "postgresql"  # for the few statements that differ (see campaigns_schema)

    def __init__(
        self,
        pool: asyncpg.Pool,
        target: DatabaseTarget,
        *,
        timeout: float = TIMEOUT,
        pool_wait: float = POOL_WAIT,
    ) -> None:
        self.pool = pool
        self.target = target
        self.path = target.display  # for log lines, as `Database.path`
        self.timeout = timeout
        self.pool_wait = pool_wait
        self.size = pool.get_max_size()
        self.busy = 0  # connections acquired through `_acquire` and not yet given back
        self._up = True
        self._answered_at = float("-inf")  # event-loop time of the last ping answered
        self._closed = False
        self._pinger: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls,
        target: DatabaseTarget,
        *,
        timeout: float = TIMEOUT,
        pool_size: int = POOL_SIZE,
        pool_wait: float = POOL_WAIT,
    ) -> PostgresDatabase:
        """Connect, apply pending migrations under their lock, and start the health ping."""
        try:
            pool = await asyncpg.create_pool(
                target.location,
                min_size=1,
                max_size=pool_size,
                timeout=timeout,  # connecting
                command_timeout=timeout,
                max_inactive_connection_lifetime=60,
                reset=_reset,
            )
        except Exception as exc:
            raise DatabaseUnavailable(
                f"cannot connect to PostgreSQL at {target.display}: "
                f"{target.scrub(str(exc)) or type(exc).__name__}"
            ) from None
        try:
            async with pool.acquire() as connection:
                applied = await upgrade_postgres(connection, target.display)
        except BaseException:
            await pool.close()
            raise
        for migration in applied:
            log.info(
                "database %s: applied migration %d (%s)",
                target.display,
                migration.version,
                migration.name,
            )
        database = cls(pool, target, timeout=timeout, pool_wait=pool_wait)
        database._pinger = asyncio.create_task(database._ping(), name="ivr-db-ping")
        return database

    @property
    def healthy(self) -> bool:
        return self._up and not self._closed

    async def _acquire(self) -> Any:
        """A pooled connection, for `_release` to give back.

        One comes within `timeout` unless the database is down, or every connection is held
        by a step in progress. In that case (the database is up, and the steps will end) the
        wait goes on until `pool_wait` in all.
        """
        loop = asyncio.get_running_loop()
        began = loop.time()
        deadline = began + self.timeout
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    connection = await self.pool.acquire()
                break
            except TimeoutError:
                if self.busy < self.size:
                    raise self._failed(TimeoutError()) from None
                if deadline >= began + self.pool_wait:
                    raise self._exhausted() from None
                deadline = began + self.pool_wait
            except _UNAVAILABLE as exc:
                raise self._failed(exc) from None
        self.busy += 1
        return connection

    async def _release(self, connection: Any, *, broken: bool = False) -> None:
        """Give `connection` back; a `broken` one (its database did not answer) is closed
        first, so the answer does not wait for it to settle (asyncpg would wait out the
        cancelled statement) and the pool opens a fresh one when needed."""
        self.busy -= 1
        with contextlib.suppress(Exception):
            if broken:
                connection.terminate()
            await self.pool.release(connection, timeout=self.timeout)

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[Any]:
        """A pooled connection (see `_acquire`), given back when the block ends."""
        connection = await self._acquire()
        broken = False
        try:
            yield connection
        except _UNAVAILABLE:
            broken = True
            raise
        finally:
            await self._release(connection, broken=broken)

    def _exhausted(self) -> DatabaseUnavailable:
        return DatabaseUnavailable(
            f"all {self.size} connections to PostgreSQL at {self.target.display} are held by "
            f"steps in progress (a step holds one while its nodes wait, e.g. on an API); "
            f"waited {self.pool_wait:g} s: raise IVR_DATABASE_POOL_SIZE "
            f"(and the server's max_connections)"
        )

    def _failed(self, exc: BaseException) -> DatabaseUnavailable:
        self._up = False
        return DatabaseUnavailable(
            f"PostgreSQL at {self.target.display} is unavailable: "
            f"{self.target.scrub(str(exc)) or type(exc).__name__}"
        )

    async def fetchone(
        self, sql: str, params: Sequence[Any] = (), *, key_lookup: bool = False
    ) -> Any:
        held = _held()
        try:
            if held is not None:
                return await held.fetchrow(to_postgres(sql), *params, timeout=self.timeout)
            async with self._connection() as connection:
                return await connection.fetchrow(to_postgres(sql), *params, timeout=self.timeout)
        except _UNAVAILABLE as exc:
            raise self._failed(exc) from None

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        held = _held()
        try:
            if held is not None:
                return list(await held.fetch(to_postgres(sql), *params, timeout=self.timeout))
            async with self._connection() as connection:
                rows = await connection.fetch(to_postgres(sql), *params, timeout=self.timeout)
                return list(rows)
        except _UNAVAILABLE as exc:
            raise self._failed(exc) from None

    async def write(self, *writes: Write, independent: bool = False) -> None:
        """Apply `writes` in one transaction; inside `call_lock()`, in the call's transaction
        (committed when the lock is let go)."""
        if self._closed:
            raise RuntimeError("database is closed")
        held = _held()
        try:
            if held is not None:
                for write in writes:
                    await held.execute(to_postgres(write.sql), *write.params, timeout=self.timeout)
                return
            async with (
                self._connection() as connection,
                asyncio.timeout(self.timeout),
                connection.transaction(),
            ):
                for write in writes:
                    await connection.execute(to_postgres(write.sql), *write.params)
        except _UNAVAILABLE as exc:
            raise self._failed(exc) from None

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once the current call lock's transaction commits (now, if none)."""
        holding = _held_here()
        if holding is None:
            callback()
        else:
            holding.after.append(callback)

    @contextlib.asynccontextmanager
    async def call_lock(self, call_sid: str) -> AsyncIterator[None]:
        """Hold the call, across every process, in a transaction the body's statements join."""
        if _held() is not None:  # already inside this call's lock
            yield
            return
        connection = await self._acquire()
        holding = _Holding(connection)
        token = _holding.set(holding)
        broken = False  # the database stopped answering: the connection is closed, no ROLLBACK
        try:
            try:
                await self._lock(connection, call_sid)
            except _UNAVAILABLE as exc:
                broken = True
                raise self._failed(exc) from None
            except BaseException:
                with contextlib.suppress(Exception):
                    await connection.execute("ROLLBACK", timeout=self.timeout)
                raise
            try:
                yield
            except DatabaseUnavailable:
                broken = True
                raise
            except BaseException:
                with contextlib.suppress(Exception):
                    await connection.execute("ROLLBACK", timeout=self.timeout)
                raise
            try:
                async with asyncio.timeout(self.timeout):
                    await connection.execute("COMMIT")
            except _UNAVAILABLE as exc:
                broken = True
                raise self._failed(exc) from None
            for callback in holding.after:
                callback()
        finally:
            _holding.reset(token)
            await self._release(connection, broken=broken)

    async def _lock(self, connection: Any, call_sid: str) -> None:
        """`BEGIN` and the call's advisory lock, in one round trip (see `_lock_query`).

        Another step of the same call (a retried webhook, at any process) may hold the lock:
        that is waited for, up to `LOCK_TIMEOUT`, but only while the database is seen to
        answer: every `timeout` the wait wants a ping answered meanwhile. So a database that
        has stopped answering (not refusing: a hung server, a cut network) is given up on
        after `timeout`, as for every other statement.
        """
        loop = asyncio.get_running_loop()
        began = loop.time()
        checks: list[asyncio.TimerHandle] = []
        async with asyncio.timeout(None) as limit:
            checks.append(
                loop.call_at(began + self.timeout, self._still_waiting, limit, began, checks)
            )
            try:
                await connection.execute(_lock_query(call_sid), timeout=LOCK_TIMEOUT)
            finally:
                checks[-1].cancel()

    def _still_waiting(
        self, limit: asyncio.Timeout, since: float, checks: list[asyncio.TimerHandle]
    ) -> None:
        """Go on waiting for the lock if a ping was answered `since`; else time out now."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        if self._answered_at > since:  # the database answers: another step holds the lock
            checks.append(loop.call_at(now + self.timeout, self._still_waiting, limit, now, checks))
        else:
            limit.reschedule(now)

    async def _ping(self) -> None:
        """`SELECT 1` every `PING_INTERVAL` on a connection of its own (so it never waits for
        one of the pool's, which steps may all hold): `healthy` and `_answered_at` follow."""
        loop = asyncio.get_running_loop()
        connection: asyncpg.Connection | None = None
        try:
            while not self._closed:
                try:
                    async with asyncio.timeout(self.timeout):
                        if connection is None:
                            connection = await asyncpg.connect(self.target.location)
                        await connection.fetchval("SELECT 1")
                except Exception as exc:
                    if connection is not None:
                        connection.terminate()
                        connection = None
                    if self._up:
                        log.error(
                            "database %s is unreachable: %s",
                            self.path,
                            self.target.scrub(str(exc)) or type(exc).__name__,
                        )
                    self._up = False
                else:
                    self._answered_at = loop.time()
                    if not self._up:
                        log.warning("database %s is reachable again", self.path)
                    self._up = True
                await asyncio.sleep(PING_INTERVAL)
        finally:
            if connection is not None:
                connection.terminate()

    async def close(self) -> None:
        self._closed = True
        if self._pinger is not None:
            self._pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pinger
        with contextlib.suppress(Exception):
            async with asyncio.timeout(10):
                await self.pool.close()

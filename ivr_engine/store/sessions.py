"""Call sessions by CallSid: read through a cache, written through the database's writer.

On SQLite one server process owns its database (see `filelock`), so the in-memory copy of a
session is always the latest committed one, and a per-call lock in memory serialises
requests for the same call: a webhook Twilio retries while the first attempt is still
running waits and then gets the same answer instead of advancing the call twice. After a
restart sessions are read back from disk. On a database shared by several processes
(PostgreSQL) the lock is the database's (`call_lock`, taken whichever process gets the
request) and nothing is cached: every request reads the session another process may have
advanced.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from .. import json_text
from ..runtime.effects import OutboundMessage
from ..runtime.session import Session
from .backend import Store
from .database import Write
from .history import call_status_of

UPSERT_SESSION = """
INSERT INTO sessions (call_sid, flow_id, flow_version, step, ended, data, caller, outcome, log)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (call_sid) DO UPDATE SET
    step = excluded.step, ended = excluded.ended, data = excluded.data,
    outcome = excluded.outcome, log = excluded.log,
    updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
"""
QUEUE_MESSAGE = """
INSERT INTO outbox (idempotency_key, call_sid, flow_id, node_id, channel, recipient, payload)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (idempotency_key) DO NOTHING
"""
# Twilio repeats callbacks: an event already recorded for the call (the same CallStatus and
# SequenceNumber, or else the very same parameters) is not recorded again.
RECORD_EVENT = """
INSERT INTO call_events (call_sid, kind, data)
SELECT ?1, ?2, ?3 WHERE NOT EXISTS (
    SELECT 1 FROM call_events WHERE call_sid = ?1 AND kind = ?2 AND (
        data = ?3 OR (
            json_extract(?3, '$.SequenceNumber') IS NOT NULL
            AND json_extract(data, '$.SequenceNumber') = json_extract(?3, '$.SequenceNumber')
            AND COALESCE(json_extract(data, '$.CallStatus'), '')
                = COALESCE(json_extract(?3, '$.CallStatus'), ''))))
"""

CACHE_SIZE = 10_000


class MessageQueue(Protocol):
    """Where a step's messages go: rows written in the step's own transaction, then a nudge."""

    def writes(self, call_sid: str, messages: Sequence[OutboundMessage]) -> list[Write]: ...

    def queued(self) -> None: ...


class _CallLock:
    """`async with` one call's lock, dropping the lock once no request holds or awaits it.

    A class rather than `@asynccontextmanager`: every webhook takes a lock, and the
    generator-based version cost several times more.
    """

    __slots__ = ("call_sid", "entry", "locks")

    def __init__(self, locks: dict[str, list[Any]], call_sid: str) -> None:
        self.locks = locks
        self.call_sid = call_sid

    async def __aenter__(self) -> None:
        entry = self.locks.get(self.call_sid)
        if entry is None:
            entry = self.locks[self.call_sid] = [asyncio.Lock(), 0]
        entry[1] += 1  # requests holding or waiting for this call's lock
        self.entry = entry
        try:
            await entry[0].acquire()
        except BaseException:  # cancelled while waiting
            self._release_entry()
            raise

    async def __aexit__(self, *exc: object) -> None:
        self.entry[0].release()
        self._release_entry()

    def _release_entry(self) -> None:
        self.entry[1] -= 1
        if self.entry[1] == 0:
            del self.locks[self.call_sid]


class SessionStore:
    def __init__(self, database: Store, outbox: MessageQueue | None = None) -> None:
        self.database = database
        self.outbox = outbox  # without one, messages are stored as given and wait unsent
        self._cache: OrderedDict[str, Session] = OrderedDict()
        self._locks: dict[str, list[Any]] = {}  # call -> [lock, users]
        self._shared = getattr(database, "shared", False)
        self._cache_size = 0 if self._shared else CACHE_SIZE

    def locked(self, call_sid: str) -> AbstractAsyncContextManager[None]:
        """Hold the call's lock: one request at a time per call, in arrival order."""
        if self._shared:
            return self.database.call_lock(call_sid)  # type: ignore[attr-defined, no-any-return]
        return _CallLock(self._locks, call_sid)

    async def load(self, call_sid: str) -> Session | None:
        cached = self._cache.get(call_sid)
        if cached is not None:
            self._cache.move_to_end(call_sid)
            return cached
        row = await self.database.fetchone(
            "SELECT data FROM sessions WHERE call_sid = ?", (call_sid,), key_lookup=True
        )
        if row is None:
            return None
        session = Session.from_json(row["data"])
        self._remember(session)
        return session

    async def save(
        self,
        session: Session,
        messages: Sequence[OutboundMessage] = (),
        events: Sequence[tuple[str, dict[str, Any]]] = (),
        log: dict[str, Any] | None = None,
    ) -> None:
        """Commit the session, the messages its step queued and any call events, together.

        `log`, the step's execution-log entry, rides in the session's own row (a trigger
        files it in `call_log`): no statement of its own.
        """
        writes = [
            Write(
                UPSERT_SESSION,
                (
                    session.call_sid,
                    session.flow_id,
                    session.flow_version,
                    session.step,
                    int(session.ended),
                    session.to_json(),
                    session.call.get("from", ""),
                    call_status_of(session.ended, session.end_reason, session.status),
                    json_text.dumps(log) if log is not None else None,
                ),
            )
        ]
        if self.outbox is not None:
            writes += self.outbox.writes(session.call_sid, messages)
        else:
            for index, message in enumerate(messages):
                key = f"{session.call_sid}:{message.step}:{message.node_id}:{index}"
                writes.append(
                    Write(
                        QUEUE_MESSAGE,
                        (
                            key,
                            message.call_sid,
                            message.flow_id,
                            message.node_id,
                            message.channel,
                            message.to,
                            json_text.dumps(message.as_dict()),
                        ),
                    )
                )
        for kind, data in events:
            writes.append(Write(RECORD_EVENT, (session.call_sid, kind, json_text.dumps(data))))
        # The call's lock keeps any other request from writing this session meanwhile, and
        # events and messages are new rows: the writes need not queue behind other callers'.
        await self.database.write(*writes, independent=True)
        self._remember(session)
        if messages and self.outbox is not None:
            if self._shared:  # committed with the call's lock: nudge the worker after that
                self.database.after_commit(self.outbox.queued)  # type: ignore[attr-defined]
            else:
                self.outbox.queued()

    async def awaiting_recording(self, updated_since: str | None = None) -> list[Session]:
        """Ended calls whose `on_hangup` still waits for their recording: all of them (at
        start-up), or those whose row changed at `updated_since` (a `timestamp`) or later,
        which the index on (ended, updated_at) finds without reading the others."""
        sql = "SELECT data FROM sessions WHERE ended = 1 AND data LIKE ?"
        params: tuple[str, ...] = ('%"pending_recording":{"waiting":true%',)
        if updated_since is not None:
            sql += " AND updated_at >= ?"
            params += (updated_since,)
        rows = await self.database.fetchall(sql, params)
        return [Session.from_json(row["data"]) for row in rows]

    def _remember(self, session: Session) -> None:
        self._cache[session.call_sid] = session
        self._cache.move_to_end(session.call_sid)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

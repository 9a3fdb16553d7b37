"""Call-back requests: a queued caller pressed a key to be called back instead of waiting.

Storage beside the runtime: the `enqueue` node records a `CallbackRequest` through
`Services.callbacks` (a `CallbackStore` on the server's database, a `MemoryCallbacks` in the
simulator and flow tests), and `ivr callbacks` lists what is waiting. Placing the calls back
belongs to the outbound-calls work; until it picks these rows up, they are listed for people.

One row per request: the key is the call and the step at which the caller asked, so a
webhook Twilio retries records the request once. The table is given in the SQLite and the
PostgreSQL dialect (the statements themselves use `?` placeholders, as `Database` expects).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # the enqueue node imports this module; `ivr validate` never opens a store
    from .store.backend import Store

PENDING = "pending"


# Both dialects accept this statement (SQLite 3.24+, PostgreSQL 9.5+).
INSERT = (
    "INSERT INTO callback_requests"
    " (call_sid, step, flow_id, node_id, queue, number, waited, status, requested_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (call_sid, step) DO NOTHING"
)
SELECT = (
    "SELECT id, call_sid, flow_id, node_id, queue, number, waited, status, requested_at"
    " FROM callback_requests"
)


@dataclass(frozen=True)
class CallbackRequest:
    """A caller asked to be called back at `number` instead of waiting in `queue`."""

    call_sid: str
    step: int
    flow_id: str
    node_id: str
    queue: str
    number: str
    waited: int  # seconds in the queue before asking
    requested_at: datetime

    def row(self) -> tuple[Any, ...]:
        return (
            self.call_sid,
            self.step,
            self.flow_id,
            self.node_id,
            self.queue,
            self.number,
            self.waited,
            PENDING,
            self.requested_at.isoformat(timespec="seconds"),
        )


class CallbackRecorder(Protocol):
    """What the enqueue node needs: record one request, durably, once."""

    async def add(self, request: CallbackRequest) -> None: ...


class CallbackStore:
    """Call-back requests in the server's database."""

    def __init__(self, database: Store) -> None:
        self.database = database

    @classmethod
    async def open(cls, database: Store) -> CallbackStore:
        """The store on the server's database (its table is migration 3, see `store.migrations`)."""
        return cls(database)

    async def add(self, request: CallbackRequest) -> None:
        from .store.database import Write

        await self.database.write(Write(INSERT, request.row()), independent=True)

    async def pending(self, limit: int = 100) -> list[dict[str, Any]]:
        rows = await self.database.fetchall(
            f"{SELECT} WHERE status = ? ORDER BY id LIMIT ?", (PENDING, limit)
        )
        return [dict(row) for row in rows]


class MemoryCallbacks:
    """Call-back requests kept in memory: for the simulator and flow tests."""

    def __init__(self) -> None:
        self.requests: list[CallbackRequest] = []

    async def add(self, request: CallbackRequest) -> None:
        if not any((r.call_sid, r.step) == (request.call_sid, request.step) for r in self.requests):
            self.requests.append(request)

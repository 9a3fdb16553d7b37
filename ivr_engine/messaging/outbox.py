"""The durable outbox: one row per message a flow asked for, with every change of its state.

Rows are written in the same transaction as the call step that queued them (`writes`, called
by `SessionStore.save`), so a message exists exactly when its step does. The worker then
moves each row through its states, each move recorded in `outbox_events`:

    pending -> sending -> sent                         (Twilio accepted it: we hold its SID)
                       -> pending (retry later)        (rate limit, 5xx, network)
                       -> failed                       (Twilio refused it for good)
                       -> dead                         (retries used up: dead-lettered)
    pending -> not_sent                                (opted out, bad number, no window...)

A row is marked `sending` and committed before its request leaves, so after a crash the rows
whose request may have reached Twilio are known: they come back `uncertain`, and the worker
looks them up at Twilio before sending again (see README, "Messaging").
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .. import json_text
from ..runtime.effects import OutboundMessage
from ..store.backend import Store
from ..store.database import Write
from .addresses import Route, bare_number, recipient_problem, resolve_route
from .settings import MessagingSettings

PENDING, SENDING, SENT, FAILED, DEAD, NOT_SENT = (
    "pending",
    "sending",
    "sent",
    "failed",
    "dead",
    "not_sent",
)
STATUSES = (PENDING, SENDING, SENT, FAILED, DEAD, NOT_SENT)
RETRYABLE = (DEAD, FAILED, NOT_SENT)  # what `ivr messages retry` may put back in the queue

NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
INSERT_ROW = f"""
INSERT INTO outbox (idempotency_key, call_sid, flow_id, node_id, channel, recipient, payload,
                    status, reason, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, {NOW})
ON CONFLICT (idempotency_key) DO NOTHING
"""
# Only ever written right after INSERT_ROW in the same write, so the group-commit writer (which
# runs each distinct statement in order of first appearance) always inserts the row first.
FIRST_EVENT = """
INSERT INTO outbox_events (outbox_id, status, detail)
SELECT id, status, ? FROM outbox
WHERE idempotency_key = ? AND NOT EXISTS (SELECT 1 FROM outbox_events WHERE outbox_id = outbox.id)
"""
# `delivery` is derived again here because a status callback may arrive before the worker has
# recorded the SID it answers about (and without the row in its URL).
UPDATE_ROW = f"""
UPDATE outbox SET status = ?1, attempts = ?2, next_attempt_at = ?3, last_attempt_at = ?4,
    uncertain = ?5, reason = ?6, error_code = ?7, message_sid = COALESCE(?8, message_sid),
    delivery = COALESCE((SELECT status FROM message_events
                         WHERE message_sid = COALESCE(?8, outbox.message_sid)
                         ORDER BY rank DESC, id LIMIT 1), delivery),
    updated_at = {NOW}
WHERE id = ?9
"""
EVENT = "INSERT INTO outbox_events (outbox_id, status, detail) VALUES (?, ?, ?)"
RECOVER_EVENTS = f"""
INSERT INTO outbox_events (outbox_id, status, detail)
SELECT id, '{PENDING}', 'the server stopped while this message was being sent: it is looked up '
    || 'at Twilio before any new attempt' FROM outbox WHERE status = '{SENDING}'
"""
RECOVER_ROWS = f"""
UPDATE outbox SET status = '{PENDING}', uncertain = 1, next_attempt_at = 0, updated_at = {NOW}
WHERE status = '{SENDING}'
"""
NEXT_PENDING = f"""
SELECT * FROM outbox WHERE status = '{PENDING}' ORDER BY next_attempt_at, id LIMIT ?
"""

# On a database shared by several processes (PostgreSQL) each worker claims the rows it takes:
# a claim is a lease, so no other worker takes the row while it is valid, and a row whose
# claimer died (still `sending`, or claimed, when its lease ran out) is taken over: back in
# the queue, marked uncertain, so it is looked up at Twilio before any new attempt. The rows
# are picked once, in a materialized CTE: as `id IN (SELECT ... LIMIT n FOR UPDATE SKIP
# LOCKED)` the planner may run the subquery again per row (a nested-loop semi join) and so
# claim more than `limit` (seen with the campaign claim, store/campaigns_schema.py).
CLAIM_DUE = f"""
WITH picked AS MATERIALIZED (
    SELECT id FROM outbox
    WHERE status = '{PENDING}' AND next_attempt_at <= ?3
      AND (lease_until IS NULL OR lease_until < ?3)
    ORDER BY next_attempt_at, id LIMIT ?4
    FOR UPDATE SKIP LOCKED)
UPDATE outbox SET claimed_by = ?1, lease_until = ?2
FROM picked WHERE outbox.id = picked.id
RETURNING outbox.*
"""
NEXT_DUE_AT = f"""
SELECT min(next_attempt_at) AS at FROM outbox WHERE status = '{PENDING}' AND next_attempt_at > ?
"""
RELEASE = "UPDATE outbox SET claimed_by = NULL, lease_until = NULL WHERE id = ? AND claimed_by = ?"
EXPIRED = f"status = '{SENDING}' AND (lease_until IS NULL OR lease_until < ?)"
TAKE_OVER_EVENTS = f"""
INSERT INTO outbox_events (outbox_id, status, detail)
SELECT id, '{PENDING}', 'the server sending this message stopped (its claim expired): it is '
    || 'looked up at Twilio before any new attempt' FROM outbox WHERE {EXPIRED}
"""
TAKE_OVER_ROWS = f"""
UPDATE outbox SET status = '{PENDING}', uncertain = 1, next_attempt_at = 0, claimed_by = NULL,
    lease_until = NULL, updated_at = {NOW}
WHERE {EXPIRED}
"""


@dataclass(frozen=True)
class OutboxRow:
    """One outbox row as the worker sees it; `payload` is the rendered message and its routes."""

    id: int
    key: str
    call_sid: str
    channel: str
    recipient: str
    payload: dict[str, Any]
    status: str
    attempts: int = 0
    next_attempt_at: float = 0.0
    last_attempt_at: float | None = None
    uncertain: bool = False
    reason: str = ""
    error_code: str = ""
    message_sid: str | None = None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> OutboxRow:
        return cls(
            id=row["id"],
            key=row["idempotency_key"],
            call_sid=row["call_sid"],
            channel=row["channel"],
            recipient=row["recipient"],
            payload=json_text.loads(row["payload"]),
            status=row["status"],
            attempts=row["attempts"],
            next_attempt_at=row["next_attempt_at"],
            last_attempt_at=row["last_attempt_at"],
            uncertain=bool(row["uncertain"]),
            reason=row["reason"],
            error_code=row["error_code"],
            message_sid=row["message_sid"],
        )

    def route(self, fallback: bool = False) -> Route | None:
        data = self.payload.get("fallback_route" if fallback else "route")
        return Route.from_dict(data) if data else None

    def evolve(self, **changes: Any) -> OutboxRow:
        return replace(self, **changes)


def prepare(
    message: OutboundMessage, settings: MessagingSettings
) -> tuple[str, str, dict[str, Any]]:
    """Check and route a message before it is queued: (status, reason, payload).

    Every check that does not depend on the moment of sending happens here, so a bad number
    or a missing sender is visible in `ivr messages` from the start, with its reason.
    """
    payload: dict[str, Any] = {**message.as_dict(), "route": None, "fallback_route": None}
    problem = recipient_problem(message.to)
    route = resolve_route(message.channel, message.sender, settings)
    if isinstance(route, Route):
        payload["route"] = route.as_dict()
    elif problem is None:
        problem = route
    if message.channel == "whatsapp" and message.fallback == "sms":
        fallback = resolve_route("sms", message.fallback_sender, settings)
        if isinstance(fallback, Route):
            payload["fallback_route"] = fallback.as_dict()
        else:
            payload["fallback_problem"] = fallback
    if problem is None and not (message.body or message.media_url or message.template):
        problem = "there is nothing to send: the body and media URL rendered empty"
    if problem is not None:
        return NOT_SENT, problem, payload
    return PENDING, "", payload


@dataclass(frozen=True)
class Requeued:
    """What `requeue` found: the row's status and reason before, and whether it went back."""

    found: bool
    status: str = ""
    reason: str = ""

    @property
    def done(self) -> bool:
        return self.found and self.status in RETRYABLE


async def requeue(database: Store, row_id: int, by: str) -> Requeued:
    """Put a dead, failed or unsent message back in the queue, as `by` asked (its history
    says so); a worker sends it at its next look. Anything else is left as it is."""
    row = await database.fetchone("SELECT status, reason FROM outbox WHERE id = ?", (row_id,))
    if row is None:
        return Requeued(False)
    found = Requeued(True, str(row["status"]), str(row["reason"]))
    if not found.done:
        return found
    marks = ", ".join("?" for _ in RETRYABLE)
    await database.write(
        Write(
            f"UPDATE outbox SET status = '{PENDING}', attempts = 0, next_attempt_at = 0, "
            f"reason = '', error_code = '', updated_at = {NOW} WHERE id = ? AND status IN ({marks})",
            (row_id, *RETRYABLE),
        ),
        Write(
            f"INSERT INTO outbox_events (outbox_id, status, detail, at) VALUES (?, ?, ?, {NOW})",
            (row_id, PENDING, f"re-queued {by} (was {found.status}: {found.reason})"),
        ),
    )
    return found


class OutboxStore:
    """Reads and moves outbox rows; every write goes through the group-commit writer."""

    def __init__(
        self,
        database: Store,
        settings: MessagingSettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.database = database
        self.settings = settings
        self.clock = clock
        self.nudge = asyncio.Event()  # set when new rows are committed: the worker looks now
        # Several workers share the database: claim rows (see CLAIM_DUE) under this name.
        self.shared = getattr(database, "shared", False)
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.lease = max(60.0, 4 * settings.request_timeout)  # one attempt fits many times

    # ---- queueing (inside a call step's transaction) ---------------------------------

    def writes(self, call_sid: str, messages: Sequence[OutboundMessage]) -> list[Write]:
        writes: list[Write] = []
        for index, message in enumerate(messages):
            key = f"{call_sid}:{message.step}:{message.node_id}:{index}"
            status, reason, payload = prepare(message, self.settings)
            writes.append(
                Write(
                    INSERT_ROW,
                    (
                        key,
                        message.call_sid,
                        message.flow_id,
                        message.node_id,
                        message.channel,
                        bare_number(message.to),
                        json_text.dumps(payload),
                        status,
                        reason,
                    ),
                )
            )
            writes.append(Write(FIRST_EVENT, (reason or "queued", key)))
        return writes

    def queued(self) -> None:
        self.nudge.set()

    # ---- the worker's view -------------------------------------------------------------

    async def recover(self) -> int:
        """After a restart: rows caught `sending` go back to the queue, marked uncertain.

        Shared database: only rows whose claim expired (their worker died), as every poll does.
        """
        if self.shared:
            return await self.take_over()
        (count,) = await self.database.fetchone(
            f"SELECT count(*) FROM outbox WHERE status = '{SENDING}'"
        ) or (0,)
        if count:
            await self.database.write(Write(RECOVER_EVENTS))
            await self.database.write(Write(RECOVER_ROWS))
        return int(count)

    async def take_over(self) -> int:
        """Shared database: put rows whose claim expired back in the queue, marked uncertain."""
        now = self.clock()
        (count,) = await self.database.fetchone(
            f"SELECT count(*) FROM outbox WHERE {EXPIRED}", (now,)
        ) or (0,)
        if count:
            await self.database.write(
                Write(TAKE_OVER_EVENTS, (now,)), Write(TAKE_OVER_ROWS, (now,))
            )
        return int(count)

    async def release(self, row_id: int) -> None:
        """Shared database: let go of a claimed row once this worker is done with it."""
        if self.shared:
            await self.database.write(Write(RELEASE, (row_id, self.worker_id)))

    async def due(self, limit: int, busy: set[int]) -> tuple[list[OutboxRow], float | None]:
        """Up to `limit` pending rows due now (not in `busy`), and when the next one falls due.

        Shared database: the rows returned are claimed by this worker (see CLAIM_DUE).
        """
        if self.shared:
            return await self._claim(limit)
        rows = await self.database.fetchall(NEXT_PENDING, (limit + len(busy) + 1,))
        now = self.clock()
        due: list[OutboxRow] = []
        for raw in rows:
            if raw["id"] in busy:
                continue
            if raw["next_attempt_at"] > now:
                return due, float(raw["next_attempt_at"])
            if len(due) == limit:
                return due, now
            due.append(OutboxRow.from_row(raw))
        return due, None

    async def _claim(self, limit: int) -> tuple[list[OutboxRow], float | None]:
        await self.take_over()
        now = self.clock()
        claimed = await self.database.fetchall(
            CLAIM_DUE, (self.worker_id, now + self.lease, now, limit)
        )
        rows = sorted((OutboxRow.from_row(raw) for raw in claimed), key=lambda r: r.id)
        later = await self.database.fetchone(NEXT_DUE_AT, (now,))
        return rows, (float(later["at"]) if later and later["at"] is not None else None)

    async def get(self, row_id: int) -> OutboxRow | None:
        row = await self.database.fetchone("SELECT * FROM outbox WHERE id = ?", (row_id,))
        return OutboxRow.from_row(row) if row is not None else None

    async def sids_to(self, recipient: str) -> set[str]:
        """SIDs already matched to rows for `recipient`, which a lookup must not claim again."""
        rows = await self.database.fetchall(
            "SELECT message_sid FROM outbox WHERE recipient = ? AND message_sid IS NOT NULL",
            (recipient,),
        )
        return {row["message_sid"] for row in rows}

    async def move(self, row: OutboxRow, detail: str) -> OutboxRow:
        """Commit `row`'s new state and one history line about it."""
        await self.database.write(
            Write(
                UPDATE_ROW,
                (
                    row.status,
                    row.attempts,
                    row.next_attempt_at,
                    row.last_attempt_at,
                    int(row.uncertain),
                    row.reason,
                    row.error_code,
                    row.message_sid,
                    row.id,
                ),
            ),
            Write(EVENT, (row.id, row.status, detail)),
        )
        return row

"""Every query of outbound calls and campaigns: attempts, campaigns, contacts, do-not-call.

All SQL is portable (`?` placeholders, `ON CONFLICT`, no `RETURNING`) and goes through
`Database.fetchone/fetchall/write`, so the same statements serve SQLite and PostgreSQL; the
one dialect-specific statement, claiming contacts, is chosen by `claim_sql`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import json_text
from ..store.backend import Store
from ..store.campaigns_schema import CLAIM_POSTGRES, CLAIM_SQLITE
from ..store.database import Write

# Attempt statuses: ours first, then Twilio's CallStatus values.
PLACING, PLACED, NOT_PLACED = "placing", "placed", "not-placed"
FINAL = frozenset({"completed", "busy", "no-answer", "failed", "canceled", NOT_PLACED})
RETRYABLE = frozenset({"busy", "no-answer", "failed"})
# Campaign statuses.
RUNNING, PAUSED, CANCELLED, COMPLETED = "running", "paused", "cancelled", "completed"
# Contact statuses: waiting for a (next) attempt, in a call, or done one way or another.
PENDING, CALLING, DONE, OPTED_OUT, SKIPPED = "pending", "calling", "done", "opted-out", "skipped"


@dataclass(frozen=True)
class Attempt:
    id: str
    campaign: str | None
    phone: str
    number: int
    flow_id: str
    from_number: str
    vars: dict[str, Any]
    status: str
    uncertain: bool = False
    call_sid: str | None = None
    answered_by: str = ""
    detail: str = ""
    result: dict[str, Any] = field(default_factory=dict)
    placing_at: float = 0.0

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Attempt:
        return cls(
            id=row["id"],
            campaign=row["campaign"],
            phone=row["phone"],
            number=int(row["number"]),
            flow_id=row["flow_id"],
            from_number=row["from_number"],
            vars=json_text.loads(row["vars"]),
            status=row["status"],
            uncertain=bool(row["uncertain"]),
            call_sid=row["call_sid"],
            answered_by=row["answered_by"],
            detail=row["detail"],
            result=json_text.loads(row["result"]),
            placing_at=float(row["placing_at"]),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "campaign": self.campaign,
            "to": self.phone,
            "attempt": self.number,
            "flow": self.flow_id,
            "from": self.from_number,
            "status": self.status,
            "call_sid": self.call_sid,
            "answered_by": self.answered_by,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Campaign:
    name: str
    flow_id: str
    status: str
    options: dict[str, Any]
    created_at: float

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Campaign:
        return cls(
            row["name"],
            row["flow_id"],
            row["status"],
            json_text.loads(row["options"]),
            float(row["created_at"]),
        )


@dataclass(frozen=True)
class Contact:
    campaign: str
    phone: str
    line: int
    fields: dict[str, Any]
    timezone: str
    status: str
    attempts: int
    next_attempt_at: float
    outcome: str
    answered_by: str
    result: dict[str, Any]

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Contact:
        return cls(
            row["campaign"],
            row["phone"],
            int(row["line"]),
            json_text.loads(row["fields"]),
            row["timezone"],
            row["status"],
            int(row["attempts"]),
            float(row["next_attempt_at"]),
            row["outcome"],
            row["answered_by"],
            json_text.loads(row["result"]),
        )


PACE_LOCK = "ivr-campaign-pace"  # the advisory lock key of `reserve_slot`
RESERVE = (
    "INSERT INTO campaign_pace (key, next_at) VALUES (?, ?) "
    "ON CONFLICT (key) DO UPDATE SET next_at = excluded.next_at"
)


def claim_sql(dialect: str) -> str:
    return CLAIM_POSTGRES if dialect == "postgresql" else CLAIM_SQLITE


class OutboundStore:
    def __init__(self, database: Store, *, clock: Any = time.time) -> None:
        self.database = database
        self.dialect = database.dialect
        self.clock = clock

    # ---- attempts -------------------------------------------------------------------

    def insert_attempt(self, attempt: Attempt) -> Write:
        now = self.clock()
        return Write(
            "INSERT INTO call_attempts (id, campaign, phone, number, flow_id, from_number, vars, "
            "status, placing_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                attempt.id,
                attempt.campaign,
                attempt.phone,
                attempt.number,
                attempt.flow_id,
                attempt.from_number,
                json_text.dumps(attempt.vars),
                attempt.status,
                attempt.placing_at or now,
                now,
            ),
        )

    async def attempt(self, attempt_id: str) -> Attempt | None:
        row = await self.database.fetchone(
            "SELECT * FROM call_attempts WHERE id = ?", (attempt_id,)
        )
        return Attempt.from_row(row) if row is not None else None

    async def placing(self) -> list[Attempt]:
        """Attempts whose request may have reached Twilio without us hearing the answer."""
        rows = await self.database.fetchall(
            "SELECT * FROM call_attempts WHERE status = ? ORDER BY placing_at", (PLACING,)
        )
        return [Attempt.from_row(row) for row in rows]

    async def sids_to(self, phone: str) -> set[str]:
        rows = await self.database.fetchall(
            "SELECT call_sid FROM call_attempts WHERE phone = ? AND call_sid IS NOT NULL",
            (phone,),
        )
        return {row["call_sid"] for row in rows}

    def update_attempt(self, attempt_id: str, **changes: Any) -> Write:
        columns = sorted(changes)
        values = [json_text.dumps(changes[c]) if c == "result" else changes[c] for c in columns]
        sets = ", ".join(f"{column} = ?" for column in columns)
        return Write(
            f"UPDATE call_attempts SET {sets}, updated_at = ? WHERE id = ?",
            (*values, self.clock(), attempt_id),
        )

    def placed(self, attempt_id: str, call_sid: str) -> Write:
        """Twilio accepted the call; a status callback that came first keeps its status."""
        return Write(
            "UPDATE call_attempts SET call_sid = ?, uncertain = 0, detail = ?, updated_at = ?, "
            "status = CASE WHEN status = ? THEN ? ELSE status END WHERE id = ?",
            (
                call_sid,
                f"Twilio accepted it as {call_sid}",
                self.clock(),
                PLACING,
                PLACED,
                attempt_id,
            ),
        )

    def advance_attempt(
        self, attempt_id: str, status: str, call_sid: str, answered_by: str
    ) -> Write:
        """A status callback's news; a final status is never replaced by a later one."""
        return Write(
            "UPDATE call_attempts SET status = ?, call_sid = COALESCE(call_sid, ?), "
            "answered_by = CASE WHEN ? <> '' THEN ? ELSE answered_by END, uncertain = 0, "
            "updated_at = ? WHERE id = ? AND status NOT IN "
            "('completed', 'busy', 'no-answer', 'failed', 'canceled', 'not-placed')",
            (status, call_sid or None, answered_by, answered_by, self.clock(), attempt_id),
        )

    async def attempts_of(self, campaign: str) -> list[Attempt]:
        rows = await self.database.fetchall(
            "SELECT * FROM call_attempts WHERE campaign = ? ORDER BY placing_at", (campaign,)
        )
        return [Attempt.from_row(row) for row in rows]

    # ---- campaigns ------------------------------------------------------------------

    async def campaign(self, name: str) -> Campaign | None:
        row = await self.database.fetchone("SELECT * FROM campaigns WHERE name = ?", (name,))
        return Campaign.from_row(row) if row is not None else None

    async def campaigns(self, status: str | None = None) -> list[Campaign]:
        if status is None:
            rows = await self.database.fetchall("SELECT * FROM campaigns ORDER BY created_at")
        else:
            rows = await self.database.fetchall(
                "SELECT * FROM campaigns WHERE status = ? ORDER BY created_at", (status,)
            )
        return [Campaign.from_row(row) for row in rows]

    async def create_campaign(
        self, name: str, flow_id: str, options: Mapping[str, Any], contacts: Iterable[Any]
    ) -> None:
        """The campaign and all its contacts, in one transaction."""
        now = self.clock()
        writes = [
            Write(
                "INSERT INTO campaigns (name, flow_id, status, options, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (name, flow_id, RUNNING, json_text.dumps(dict(options)), now, now),
            )
        ]
        writes += [
            Write(
                "INSERT INTO campaign_contacts (campaign, phone, line, fields, timezone, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (name, c.phone, c.line, json_text.dumps(c.fields), c.timezone, now),
            )
            for c in contacts
        ]
        await self.database.write(*writes)

    async def set_campaign_status(self, name: str, status: str) -> None:
        writes = [
            Write(
                "UPDATE campaigns SET status = ?, updated_at = ? WHERE name = ?",
                (status, self.clock(), name),
            )
        ]
        if status == CANCELLED:
            writes.append(
                Write(
                    "UPDATE campaign_contacts SET status = ?, outcome = 'cancelled', updated_at = ? "
                    "WHERE campaign = ? AND status = ?",
                    (DONE, self.clock(), name, PENDING),
                )
            )
        await self.database.write(*writes)

    async def counts(self, name: str) -> dict[str, int]:
        """Contacts by where they stand: pending, calling, or their final outcome."""
        rows = await self.database.fetchall(
            "SELECT status, outcome, COUNT(*) AS n FROM campaign_contacts WHERE campaign = ? "
            "GROUP BY status, outcome",
            (name,),
        )
        found: dict[str, int] = {}
        for row in rows:
            key = row["outcome"] if row["status"] in (DONE, OPTED_OUT, SKIPPED) else row["status"]
            found[key or row["status"]] = found.get(key or row["status"], 0) + int(row["n"])
        return found

    async def calling(self, name: str | None = None) -> int:
        """Contacts being called, or claimed by a runner (any process) that will call them."""
        busy = "(status = ? OR (status = ? AND claimed_by IS NOT NULL AND lease_until >= ?))"
        params: tuple[Any, ...] = (CALLING, PENDING, self.clock())
        if name is None:
            row = await self.database.fetchone(
                f"SELECT COUNT(*) AS n FROM campaign_contacts WHERE {busy}", params
            )
        else:
            row = await self.database.fetchone(
                f"SELECT COUNT(*) AS n FROM campaign_contacts WHERE campaign = ? AND {busy}",
                (name, *params),
            )
        return int(row["n"]) if row is not None else 0

    async def reserve_slot(self, intervals: Mapping[str, float], now: float) -> float:
        """The earliest time from `now` at which a call keeps every pace in `intervals` (key:
        seconds between two calls), reserved for the caller. For several processes sharing
        PostgreSQL (`database.shared`), whose advisory lock orders the reservations of them
        all; one process on SQLite paces in its own memory (`runner.Pace`)."""
        keys = sorted(intervals)
        async with self.database.call_lock(PACE_LOCK):  # type: ignore[attr-defined]
            rows = await self.database.fetchall(
                f"SELECT next_at FROM campaign_pace WHERE key IN ({', '.join('?' * len(keys))})",
                keys,
            )
            at = max([now, *(float(row["next_at"]) for row in rows)])
            await self.database.write(*(Write(RESERVE, (key, at + intervals[key])) for key in keys))
        return at

    async def unfinished(self, name: str) -> int:
        row = await self.database.fetchone(
            "SELECT COUNT(*) AS n FROM campaign_contacts WHERE campaign = ? AND status IN (?, ?)",
            (name, PENDING, CALLING),
        )
        return int(row["n"]) if row is not None else 0

    async def next_due(self, name: str) -> float | None:
        row = await self.database.fetchone(
            "SELECT MIN(next_attempt_at) AS t FROM campaign_contacts "
            "WHERE campaign = ? AND status = ?",
            (name, PENDING),
        )
        return float(row["t"]) if row is not None and row["t"] is not None else None

    # ---- contacts -------------------------------------------------------------------

    async def claim(self, name: str, runner: str, limit: int, lease: float) -> list[Contact]:
        now = self.clock()
        until = now + lease
        await self.database.write(
            Write(claim_sql(self.dialect), (runner, until, name, name, now, now, limit))
        )
        rows = await self.database.fetchall(
            "SELECT * FROM campaign_contacts WHERE campaign = ? AND status = ? "
            "AND claimed_by = ? AND lease_until = ? ORDER BY next_attempt_at, line",
            (name, PENDING, runner, until),
        )
        return [Contact.from_row(row) for row in rows]

    async def contact(self, name: str, phone: str) -> Contact | None:
        row = await self.database.fetchone(
            "SELECT * FROM campaign_contacts WHERE campaign = ? AND phone = ?", (name, phone)
        )
        return Contact.from_row(row) if row is not None else None

    async def contacts(self, name: str) -> list[Contact]:
        rows = await self.database.fetchall(
            "SELECT * FROM campaign_contacts WHERE campaign = ? ORDER BY line", (name,)
        )
        return [Contact.from_row(row) for row in rows]

    def update_contact(self, name: str, phone: str, **changes: Any) -> Write:
        columns = sorted(changes)
        values = [json_text.dumps(changes[c]) if c == "result" else changes[c] for c in columns]
        sets = ", ".join(f"{column} = ?" for column in columns)
        return Write(
            f"UPDATE campaign_contacts SET {sets}, updated_at = ? WHERE campaign = ? AND phone = ?",
            (*values, self.clock(), name, phone),
        )

    async def write(self, *writes: Write) -> None:
        await self.database.write(*writes)

    # ---- opt-outs -------------------------------------------------------------------

    async def opted_out(self, number: str) -> str | None:
        """Why `number` must not be called, if it must not: the do-not-call list, or STOP."""
        row = await self.database.fetchone(
            "SELECT reason FROM do_not_call WHERE number = ?", (number,)
        )
        if row is not None:
            return f"{number} is on the do-not-call list" + (
                f" ({row['reason']})" if row["reason"] else ""
            )
        row = await self.database.fetchone(
            "SELECT channel, source FROM suppressions WHERE number = ? AND active = 1", (number,)
        )
        if row is not None:
            return f"{number} opted out ({row['channel']}: {row['source']})"
        return None

    async def add_do_not_call(self, numbers: Sequence[str], reason: str = "") -> None:
        now = self.clock()
        await self.database.write(
            *(
                Write(
                    "INSERT INTO do_not_call (number, reason, since) VALUES (?, ?, ?) "
                    "ON CONFLICT (number) DO UPDATE SET reason = excluded.reason",
                    (number, reason, now),
                )
                for number in numbers
            )
        )

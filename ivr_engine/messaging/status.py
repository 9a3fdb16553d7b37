"""Message status callbacks: keep every event once, derive the current status by precedence.

Twilio's callbacks arrive late, twice and out of order. Each (MessageSid, MessageStatus) is
stored once; the row's `delivery` is then recomputed inside the same transaction as the
highest-ranked status seen, so `delivered` after `read`, or `sent` after `failed`, never moves
a message backwards, however the callbacks interleave.

Ranks: the transient states in their natural order, then the final ones. Among final states
a positive one outranks a negative one (a `delivered` receipt is evidence the message got
there, even if an earlier hop reported `undelivered`), and `read` outranks `delivered`.
"""

from __future__ import annotations

from collections.abc import Mapping

from .. import json_text
from ..store.backend import Store
from ..store.database import Write
from .addresses import bare_number
from .consent import OPT_OUT, ConsentStore

RANKS = {
    "accepted": 1,
    "scheduled": 2,
    "queued": 3,
    "sending": 4,
    "sent": 5,
    "receiving": 5,
    "received": 6,
    "canceled": 7,
    "failed": 8,
    "undelivered": 8,
    "delivered": 9,
    "read": 10,
}
OPTED_OUT_CODE = "21610"

STORE_EVENT = """
INSERT INTO message_events (message_sid, status, rank, error_code, data) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (message_sid, status) DO NOTHING
"""
# One statement: links the SID to the row named in the callback URL (the callback may beat the
# worker's own record of the SID, or follow a crash that lost it) and derives `delivery`.
DERIVE = """
UPDATE outbox SET
    message_sid = COALESCE(message_sid, ?1),
    delivery = (SELECT status FROM message_events WHERE message_sid = ?1
                ORDER BY rank DESC, id LIMIT 1)
WHERE message_sid = ?1 OR (id = ?2 AND message_sid IS NULL)
"""


def rank(status: str) -> int:
    return RANKS.get(status, 0)


def current(statuses: list[str]) -> str:
    """The status a message is in, given every status reported for it in any order."""
    return max(statuses, key=rank) if statuses else ""


class StatusStore:
    def __init__(self, database: Store, consent: ConsentStore) -> None:
        self.database = database
        self.consent = consent

    async def record(self, params: Mapping[str, str], row_id: int | None) -> None:
        sid, status = params["MessageSid"], params["MessageStatus"]
        code = params.get("ErrorCode", "")
        data = json_text.dumps(dict(params))
        await self.database.write(
            Write(STORE_EVENT, (sid, status, rank(status), code, data)),
            Write(DERIVE, (sid, row_id)),
        )
        if code == OPTED_OUT_CODE and params.get("To"):
            to = params["To"]
            channel = "whatsapp" if to.startswith("whatsapp:") else "sms"
            await self.consent.change(  # once: a repeated callback must not undo a later START
                bare_number(to), channel, OPT_OUT, f"Twilio error 21610 on message {sid}", sid
            )

    async def delivery(self, sid: str) -> str:
        row = await self.database.fetchone(
            "SELECT delivery FROM outbox WHERE message_sid = ?", (sid,)
        )
        return str(row["delivery"]) if row else ""

"""Consent: who said STOP, on which channel, and every change with its time and source.

The suppression list is keyed by number and channel (an SMS STOP does not silence WhatsApp,
and the other way round). Twilio enforces STOP for SMS itself (error 21610 on send), but for
WhatsApp the application must keep the list; keeping both lets the worker skip a message
without spending a request on it. Opt-out and opt-in are one upsert statement, so even two
changes committed in the same batch land in the order they were made.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..store.database import Database, Write

OPT_OUT_WORDS = frozenset({"STOP", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "SUBSCRIBE"})
OPT_OUT, OPT_IN = "opt-out", "opt-in"

SET_CONSENT = """
INSERT INTO suppressions (number, channel, active, source, since)
VALUES (?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
ON CONFLICT (number, channel) DO UPDATE SET
    active = excluded.active, source = excluded.source, since = excluded.since
"""
RECORD_CHANGE = """
INSERT INTO consent_events (number, channel, action, source, message_sid) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (message_sid) DO NOTHING
"""


def keyword(body: str) -> str | None:
    """`OPT_OUT`, `OPT_IN` or None for a message body; case and spaces do not matter."""
    word = "".join(body.split()).upper()
    if word in OPT_OUT_WORDS:
        return OPT_OUT
    if word in OPT_IN_WORDS:
        return OPT_IN
    return None


@dataclass(frozen=True)
class Suppression:
    number: str
    channel: str
    source: str
    since: str

    def reason(self) -> str:
        return f"{self.number} opted out of {self.channel} messages ({self.source}, {self.since})"


class ConsentStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def suppressed(self, number: str, channel: str) -> Suppression | None:
        row = await self.database.fetchone(
            "SELECT source, since FROM suppressions WHERE number = ? AND channel = ? AND active = 1",
            (number, channel),
        )
        return Suppression(number, channel, row["source"], row["since"]) if row else None

    async def change(
        self, number: str, channel: str, action: str, source: str, message_sid: str | None = None
    ) -> None:
        """Record an opt-out or opt-in; a webhook Twilio repeats (same MessageSid) counts once."""
        await self.database.write(
            Write(SET_CONSENT, (number, channel, int(action == OPT_OUT), source)),
            Write(RECORD_CHANGE, (number, channel, action, source, message_sid)),
        )

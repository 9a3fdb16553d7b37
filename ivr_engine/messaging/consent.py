"""Consent: who said STOP, on which channel, and every change with its time and source.

The suppression list is keyed by number and channel (an SMS STOP does not silence WhatsApp,
and the other way round). Twilio enforces STOP for SMS itself (error 21610 on send), but for
WhatsApp the application must keep the list; keeping both lets the worker skip a message
without spending a request on it. Opt-out and opt-in are one upsert statement, so even two
changes committed in the same batch land in the order they were made.

A change is applied once per message: Twilio repeats a webhook it thinks we missed, and a
repeated START from before a later STOP must not subscribe the number again. The upsert runs
only while no change of that MessageSid is recorded, and the record follows it in the same
transaction, so a repeat is a no-op however the writes are batched.

The keywords are Twilio's defaults, matched as Twilio matches them (the whole message is the
one word, in any case), so that our list and Twilio's never disagree about a number.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..store.backend import Store
from ..store.database import Write

OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
OPT_IN_WORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})
OPT_OUT, OPT_IN, HELP = "opt-out", "opt-in", "help"

# ?5 is the MessageSid: NULL (a change not caused by one message) is always applied.
SET_CONSENT = """
INSERT INTO suppressions (number, channel, active, source, since)
SELECT ?1, ?2, ?3, ?4, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
WHERE NOT EXISTS (SELECT 1 FROM consent_events WHERE message_sid = ?5)
ON CONFLICT (number, channel) DO UPDATE SET
    active = excluded.active, source = excluded.source, since = excluded.since
"""
RECORD_CHANGE = """
INSERT INTO consent_events (number, channel, action, source, message_sid) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (message_sid) DO NOTHING
"""


def keyword(body: str) -> str | None:
    """`OPT_OUT`, `OPT_IN`, `HELP` or None for a message body.

    Only a message that is one of the words counts ("STOP PLEASE" does not), in any case and
    with spaces around it, as Twilio counts it.
    """
    word = body.strip().upper()
    if word in OPT_OUT_WORDS:
        return OPT_OUT
    if word in OPT_IN_WORDS:
        return OPT_IN
    if word in HELP_WORDS:
        return HELP
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
    def __init__(self, database: Store) -> None:
        self.database = database

    async def suppressed(self, number: str, channel: str) -> Suppression | None:
        row = await self.database.fetchone(
            "SELECT source, since FROM suppressions WHERE number = ? AND channel = ? AND active = 1",
            (number, channel),
        )
        return Suppression(number, channel, row["source"], row["since"]) if row else None

    async def seen(self, message_sid: str) -> bool:
        """Whether the consent change of this message is already recorded."""
        row = await self.database.fetchone(
            "SELECT 1 FROM consent_events WHERE message_sid = ?", (message_sid,)
        )
        return row is not None

    async def change(
        self, number: str, channel: str, action: str, source: str, message_sid: str | None = None
    ) -> None:
        """Record an opt-out or opt-in; a webhook Twilio repeats (same MessageSid) counts once."""
        await self.database.write(
            Write(SET_CONSENT, (number, channel, int(action == OPT_OUT), source, message_sid)),
            Write(RECORD_CHANGE, (number, channel, action, source, message_sid)),
        )

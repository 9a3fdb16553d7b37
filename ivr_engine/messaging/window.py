"""The WhatsApp 24-hour window: free-form messages only within a day of the user's last message.

Inbound WhatsApp webhooks record when each number last wrote to us; the worker asks whether
the window is open at the moment it sends (not when the message was queued), because that is
the moment Twilio judges (error 63016 otherwise).
"""

from __future__ import annotations

from ..store.backend import Store
from ..store.database import Write

WINDOW_SECONDS = 24 * 3600

RECORD_INBOUND = """
INSERT INTO whatsapp_windows (number, last_inbound_at) VALUES (?, ?)
ON CONFLICT (number) DO UPDATE SET
    last_inbound_at = max(whatsapp_windows.last_inbound_at, excluded.last_inbound_at)
"""


class WindowStore:
    def __init__(self, database: Store) -> None:
        self.database = database

    def record(self, number: str, at: float) -> Write:
        """The write that notes an inbound WhatsApp message from `number` at `at` (epoch s)."""
        return Write(RECORD_INBOUND, (number, at))

    async def last_inbound(self, number: str) -> float | None:
        row = await self.database.fetchone(
            "SELECT last_inbound_at FROM whatsapp_windows WHERE number = ?", (number,)
        )
        return float(row["last_inbound_at"]) if row else None

    async def is_open(self, number: str, now: float) -> bool:
        last = await self.last_inbound(number)
        return last is not None and now - last < WINDOW_SECONDS

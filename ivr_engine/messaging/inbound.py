"""Inbound messages (the number's Messaging URL): opt-out keywords and the WhatsApp window.

Only what the outbox needs is kept: a WhatsApp message opens that number's 24-hour window,
and STOP / START words change consent. For SMS, Twilio's own opt-out handling already answers
the keyword (a reply of ours would be a second one), so the answer is empty; for WhatsApp,
where Twilio does not, we confirm in one short line (and answer HELP / INFO).

Twilio repeats a webhook it believes we missed. A repeat (same MessageSid) changes nothing and
is not confirmed again: deliveries of one MessageSid are handled one at a time, and one whose
change is already recorded gets an empty answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Any

from ..store.backend import Store
from .addresses import WHATSAPP, bare_number
from .consent import HELP, OPT_IN, OPT_OUT, ConsentStore, keyword
from .window import WindowStore

CONFIRMATIONS = {
    OPT_OUT: "You will not get more messages from us here. Reply START to subscribe again.",
    OPT_IN: "You will get messages from us here again. Reply STOP to unsubscribe.",
    HELP: "Reply STOP to unsubscribe, START to get messages from us here again.",
}


class InboundHandler:
    def __init__(
        self,
        database: Store,
        consent: ConsentStore,
        window: WindowStore,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.database = database
        self.consent = consent
        self.window = window
        self.clock = clock
        self._handling: dict[str, list[Any]] = {}  # MessageSid -> [lock, users]

    async def handle(self, params: Mapping[str, str]) -> str | None:
        """Record what the message means for us; return the reply to send, if any."""
        sid = params.get("MessageSid") or None
        if sid is None:
            return await self._handle(params, None)
        entry = self._handling.setdefault(sid, [asyncio.Lock(), 0])
        entry[1] += 1  # deliveries of this MessageSid running or waiting
        try:
            async with entry[0]:
                return await self._handle(params, sid)
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                del self._handling[sid]

    async def _handle(self, params: Mapping[str, str], sid: str | None) -> str | None:
        sender = params["From"]
        channel = "whatsapp" if sender.startswith(WHATSAPP) else "sms"
        number = bare_number(sender)
        if channel == "whatsapp":
            await self.database.write(self.window.record(number, self.clock()))
        body = params.get("Body", "")
        action = keyword(body)
        if action is None:
            return None
        if action != HELP:
            if sid is not None and await self.consent.seen(sid):
                return None  # a repeat: applied and confirmed the first time
            word = body.strip().upper()
            await self.consent.change(number, channel, action, f"replied {word}", sid)
        return CONFIRMATIONS[action] if channel == "whatsapp" else None

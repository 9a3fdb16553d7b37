"""Inbound messages (the number's Messaging URL): opt-out keywords and the WhatsApp window.

Only what the outbox needs is kept: a WhatsApp message opens that number's 24-hour window,
and STOP / START words change consent. For SMS, Twilio's own opt-out handling already answers
the keyword (a reply of ours would be a second one), so the answer is empty; for WhatsApp,
where Twilio does not, we confirm in one short line.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from ..store.database import Database
from .addresses import WHATSAPP, bare_number
from .consent import OPT_IN, OPT_OUT, ConsentStore, keyword
from .window import WindowStore

CONFIRMATIONS = {
    OPT_OUT: "You will not get more messages from us here. Reply START to subscribe again.",
    OPT_IN: "You will get messages from us here again. Reply STOP to unsubscribe.",
}


class InboundHandler:
    def __init__(
        self,
        database: Database,
        consent: ConsentStore,
        window: WindowStore,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.database = database
        self.consent = consent
        self.window = window
        self.clock = clock

    async def handle(self, params: Mapping[str, str]) -> str | None:
        """Record what the message means for us; return the reply to send, if any."""
        sender = params["From"]
        channel = "whatsapp" if sender.startswith(WHATSAPP) else "sms"
        number = bare_number(sender)
        if channel == "whatsapp":
            await self.database.write(self.window.record(number, self.clock()))
        body = params.get("Body", "")
        action = keyword(body)
        if action is None:
            return None
        word = "".join(body.split()).upper()
        await self.consent.change(
            number, channel, action, f"replied {word}", params.get("MessageSid") or None
        )
        return CONFIRMATIONS[action] if channel == "whatsapp" else None

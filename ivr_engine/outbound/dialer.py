"""Placing one call at Twilio through the official async client, and judging its answer.

`CallRequest` is exactly what one attempt asks of `calls.create`: the flow's webhook URL for
this attempt, the status callback with every event, and answering-machine detection as the
flow asks. The answer is one of the outbox's three outcomes (`Accepted`, `Refused`,
`Unknown`), so a lost answer is settled with `find` before the attempt is ever placed again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from ..messaging.sender import Outcome, TwilioRest

STATUS_EVENTS = ("initiated", "ringing", "answered", "completed")
LOOKUP_PAGE = 20


@dataclass(frozen=True)
class CallRequest:
    to: str
    from_: str
    url: str
    status_callback: str
    ring_timeout: int = 30
    machine_detection: str | None = None
    async_amd_callback: str | None = None  # set: detection runs asynchronously
    events: tuple[str, ...] = STATUS_EVENTS

    def arguments(self) -> dict[str, Any]:
        """Keyword arguments of `calls.create_async`; absent options are not sent at all."""
        args: dict[str, Any] = {
            "to": self.to,
            "from_": self.from_,
            "url": self.url,
            "method": "POST",
            "status_callback": self.status_callback,
            "status_callback_event": list(self.events),
            "status_callback_method": "POST",
            "timeout": self.ring_timeout,
        }
        if not self.events:
            del args["status_callback_event"]
        if self.machine_detection:
            args["machine_detection"] = self.machine_detection
            if self.async_amd_callback:
                args["async_amd"] = "true"
                args["async_amd_status_callback"] = self.async_amd_callback
                args["async_amd_status_callback_method"] = "POST"
        return args


class TwilioDialer(TwilioRest):
    async def place(self, request: CallRequest) -> Outcome:
        return await self._create(lambda: self.client.calls.create_async(**request.arguments()))

    async def find(self, to: str, from_: str, since: float, taken: set[str]) -> str | None:
        """The SID of a call Twilio holds that an attempt to `to` created, if any.

        Looks at the latest calls to `to` from `from_` created since `since` (epoch s);
        `taken` are SIDs already matched to other attempts. Raises when Twilio cannot be asked,
        so the caller tries again later instead of placing the call a second time.
        """
        async with asyncio.timeout(self.timeout):
            calls = await self.client.calls.list_async(to=to, from_=from_, limit=LOOKUP_PAGE)
        for call in calls:
            created = call.date_created
            if created is None or created.timestamp() < since or call.sid in taken:
                continue
            return str(call.sid)
        return None

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

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from ..messaging.sender import Accepted, HeaderAuthHttpClient, Outcome, Refused, Unknown, judge

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


class TwilioDialer:
    def __init__(self, client: Client, http: AsyncTwilioHttpClient, timeout: float) -> None:
        self.client = client
        self.http = http
        self.timeout = timeout

    @classmethod
    def open(cls, account_sid: str, auth_token: str, api_url: str, timeout: float) -> TwilioDialer:
        """Build the process's client; call inside the event loop (aiohttp needs one)."""
        http = HeaderAuthHttpClient()
        client = Client(account_sid, auth_token, http_client=http)
        client.api.base_url = api_url.rstrip("/")
        return cls(client, http, timeout)

    async def place(self, request: CallRequest) -> Outcome:
        try:
            async with asyncio.timeout(self.timeout):
                call = await self.client.calls.create_async(**request.arguments())
        except TwilioRestException as exc:
            return judge(exc)
        except aiohttp.ClientConnectorError as exc:  # never connected: nothing reached Twilio
            return Refused(f"cannot connect to Twilio: {exc}", retry=True)
        except (TimeoutError, aiohttp.ClientError, TwilioException, OSError, ValueError) as exc:
            return Unknown(f"no answer from Twilio ({type(exc).__name__}: {exc})".strip())
        return Accepted(str(call.sid), str(call.status or ""))

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

    async def close(self) -> None:
        await self.http.close()

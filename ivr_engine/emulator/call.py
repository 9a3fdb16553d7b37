"""One emulated phone call, from the incoming-call webhook to the call-completed callback.

It sends the incoming-call request with the parameters Twilio sends (CallSid, AccountSid,
From, To, CallStatus=ringing, Direction=inbound, ApiVersion), plays each TwiML answer with
`TwimlPlayer`, sends the request that answer leads to, and so on until the call ends. Then it
sends the call status callback (CallStatus=completed, CallDuration), as Twilio does when the
number is configured with one, and last the transcriptions, which Twilio delivers late.

Any answer Twilio could not use (403, another non-2xx status, not TwiML) ends the emulation
with an `EmulatorError` that says what Twilio would have done.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Protocol
from urllib.parse import urljoin

from .caller import Caller, CallerHungUp
from .errors import EmulatorError
from .http import Reply
from .twiml import Request, Turn, TwimlPlayer, parse, sid

API_VERSION = "2010-04-01"
DEFAULT_FROM = "+15551234567"
DEFAULT_TO = "+15550000000"
DEFAULT_ACCOUNT = "AC" + "0" * 32
STATUS_CALLBACK = "/status/call"
MAX_REQUESTS = 100
TWIML_TYPES = ("text/xml", "application/xml")


class Transport(Protocol):
    signs: bool

    async def send(self, request: Request) -> Reply: ...


@dataclass(frozen=True)
class Exchange:
    """One request of the call and how the server answered it."""

    request: Request
    reply: Reply

    @property
    def seconds(self) -> float:
        return self.reply.finished - self.reply.started


@dataclass
class CallResult:
    call_sid: str
    ended: str  # "hang up", "end of instructions", "caller hung up", ...
    seconds: int  # the call's emulated length, sent as CallDuration
    heard: list[str] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)


class EmulatedCall:
    def __init__(
        self,
        transport: Transport,
        url: str,
        caller: Caller,
        *,
        method: str = "POST",
        from_number: str = DEFAULT_FROM,
        to_number: str = DEFAULT_TO,
        account_sid: str = DEFAULT_ACCOUNT,
        call_sid: str | None = None,
        status_callback: str | None = STATUS_CALLBACK,
        hear: Callable[[str], None] | None = None,
        on_exchange: Callable[[Exchange], None] | None = None,
        max_requests: int = MAX_REQUESTS,
        direction: str = "inbound",
        extra: Mapping[str, str] | None = None,
    ) -> None:
        self.transport = transport
        self.url = url
        self.method = method.upper()
        self.caller = caller
        self.call_sid = call_sid or sid("CA")
        self.params = {
            "CallSid": self.call_sid,
            "AccountSid": account_sid,
            "From": from_number,
            "To": to_number,
            "CallStatus": "ringing",
            "Direction": direction,
            "ApiVersion": API_VERSION,
            **(extra or {}),
        }
        self.status_callback = urljoin(url, status_callback) if status_callback else None
        self.heard: list[str] = []
        self.exchanges: list[Exchange] = []
        self._hear = hear
        self._on_exchange = on_exchange
        self.max_requests = max_requests

    def hear(self, line: str) -> None:
        self.heard.append(line)
        if self._hear is not None:
            self._hear(line)

    async def run(self) -> CallResult:
        player = TwimlPlayer(self.caller, lambda: dict(self.params), self.hear)
        request: Request | None = Request(self.method, self.url, dict(self.params), "incoming call")
        self.params["CallStatus"] = "in-progress"
        pending: list[Request] = []  # callbacks Twilio sends just after the action request
        later: list[Request] = []
        ended = "hang up"
        while request is not None:
            if len(self.exchanges) >= self.max_requests:
                raise EmulatorError(
                    f"the call was still going after {self.max_requests} requests, so the "
                    "emulator stopped it: does the flow loop without ever waiting for the caller?"
                )
            xml = await self._twiml(request)
            for callback in pending:
                await self._callback(callback)
            try:
                turn = await player.play(request.url, parse(xml, request.purpose))
            except CallerHungUp:
                self.hear("[caller hung up]")
                turn = Turn(ended="caller hung up")
            pending, request = turn.callbacks, turn.next
            later.extend(turn.later)
            ended = turn.ended or ended
        for callback in pending:
            await self._callback(callback)
        seconds = max(1, math.ceil(player.seconds))
        if self.status_callback:
            await self._callback(
                Request(
                    "POST",
                    self.status_callback,
                    {
                        **self.params,
                        "CallStatus": "completed",
                        "CallDuration": str(seconds),
                        "Timestamp": format_datetime(datetime.now(UTC)),
                        "CallbackSource": "call-progress-events",
                    },
                    "call status callback",
                )
            )
        for callback in later:
            await self._callback(callback)
        return CallResult(self.call_sid, ended, seconds, self.heard, self.exchanges)

    async def _send(self, request: Request) -> Reply:
        reply = await self.transport.send(request)
        exchange = Exchange(request, reply)
        self.exchanges.append(exchange)
        if self._on_exchange is not None:
            self._on_exchange(exchange)
        if reply.status == 403:
            raise EmulatorError(self._forbidden(request))
        return reply

    async def _twiml(self, request: Request) -> str:
        reply = await self._send(request)
        if reply.status != 200:
            raise EmulatorError(
                f"{reply.status} from {request.method} {request.url} ({request.purpose}): "
                f"{_first_line(reply.body)}: Twilio would hang up with an application error "
                "(error 11200)"
            )
        media_type = reply.content_type.split(";")[0].strip().lower()
        if media_type not in TWIML_TYPES:
            raise EmulatorError(
                f"the answer to the {request.purpose} request has Content-Type "
                f'"{reply.content_type}", not text/xml: Twilio would hang up with an application '
                "error (error 12300)"
            )
        return reply.body

    async def _callback(self, request: Request) -> None:
        reply = await self._send(request)
        if not 200 <= reply.status < 300:
            raise EmulatorError(
                f"{reply.status} from POST {request.url} ({request.purpose}): "
                f"{_first_line(reply.body)}"
            )

    def _forbidden(self, request: Request) -> str:
        if self.transport.signs:
            return (
                f"403: the server rejected the signature of the {request.purpose} request "
                "(is TWILIO_AUTH_TOKEN the same on both sides?)"
            )
        return (
            f"403: the server rejected the {request.purpose} request: it was not signed "
            "(set TWILIO_AUTH_TOKEN to the server's token)"
        )


def _first_line(body: str) -> str:
    line = body.strip().splitlines()[0] if body.strip() else "(empty body)"
    return line if len(line) <= 200 else line[:200] + "..."

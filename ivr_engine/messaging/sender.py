"""Talking to Twilio's Messages API through the official client, and judging its answers.

One `Client` with one `AsyncTwilioHttpClient` per process (one connection pool), pointed at
`IVR_TWILIO_API_URL` when set. Every answer becomes one of three outcomes the worker acts on:
`Accepted` (Twilio has the message), `Refused` (it does not, and says whether trying again
can help), and `Unknown` (the request may or may not have reached Twilio: a timeout or a
dropped connection after sending), which the worker settles with `find` before resending.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Self

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from .addresses import Route

RATE_LIMITED = frozenset({"20429", "30429"})
# Never worth another try: opted out, bad or unreachable number, region not enabled, outside
# the WhatsApp window, template not approved. Any other 4xx is final too; these are named so
# that no status code Twilio pairs them with can make them retried.
PERMANENT = frozenset({"21610", "21211", "21614", "21408", "63016", "63018"})
OPTED_OUT = "21610"
LOOKUP_PAGE = 20


class HeaderAuthHttpClient(AsyncTwilioHttpClient):
    """Twilio's async HTTP client, sending Basic credentials as a header.

    twilio-python hands aiohttp a `BasicAuth` object, which aiohttp 3.14 deprecates (and 4.0
    removes); the header it would produce is the same, so only the way it is passed changes.
    """

    async def request(  # type: ignore[override]
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            headers = {**(headers or {}), "Authorization": f"Basic {token}"}
        return await super().request(
            method, url, params, data, headers, None, timeout, allow_redirects
        )


@dataclass(frozen=True)
class SendRequest:
    """Exactly what goes to Twilio for one attempt."""

    to: str
    route: Route
    body: str | None = None
    media_url: str | None = None
    content_sid: str | None = None
    content_variables: dict[str, str] = field(default_factory=dict)
    status_callback: str | None = None

    def arguments(self) -> dict[str, Any]:
        """Keyword arguments of `messages.create_async`; absent fields are not sent at all."""
        args: dict[str, Any] = {"to": self.to}
        if self.route.from_:
            args["from_"] = self.route.from_
        else:
            args["messaging_service_sid"] = self.route.service_sid
        if self.content_sid:
            args["content_sid"] = self.content_sid
            if self.content_variables:
                args["content_variables"] = json.dumps(self.content_variables)
        else:
            if self.body:
                args["body"] = self.body
            if self.media_url:
                args["media_url"] = [self.media_url]
        if self.status_callback:
            args["status_callback"] = self.status_callback
        return args

    def describe(self) -> str:
        what = f"template {self.content_sid}" if self.content_sid else "free-form"
        return f"to {self.to} from {self.route.key}, {what}"


@dataclass(frozen=True)
class Accepted:
    sid: str
    status: str


@dataclass(frozen=True)
class Refused:
    reason: str
    code: str = ""
    retry: bool = False

    @property
    def opted_out(self) -> bool:
        return self.code == OPTED_OUT


@dataclass(frozen=True)
class Unknown:
    reason: str


Outcome = Accepted | Refused | Unknown


def judge(exc: TwilioRestException) -> Refused:
    code = str(exc.code or "")
    status = int(exc.status or 0)
    retry = code not in PERMANENT and (status == 429 or code in RATE_LIMITED or status >= 500)
    label = f"error {code}, HTTP {status}" if code else f"HTTP {status}"
    message = str(exc.msg).removeprefix("Unable to create record: ")
    return Refused(f"Twilio refused it: {message} ({label})", code, retry)


class TwilioRest:
    """The process's twilio client for one kind of resource: built once, each create judged.

    Subclasses (`TwilioSender` here, `outbound.dialer.TwilioDialer`) say what they create;
    every answer is one of the three outcomes, so a lost one is settled with a lookup.
    """

    def __init__(self, client: Client, http: AsyncTwilioHttpClient, timeout: float) -> None:
        self.client = client
        self.http = http
        self.timeout = timeout

    @classmethod
    def open(cls, account_sid: str, auth_token: str, api_url: str, timeout: float) -> Self:
        """Build the process's client; call inside the event loop (aiohttp needs one)."""
        http = HeaderAuthHttpClient()
        client = Client(account_sid, auth_token, http_client=http)
        client.api.base_url = api_url.rstrip("/")
        return cls(client, http, timeout)

    async def _create(self, create: Callable[[], Awaitable[Any]]) -> Outcome:
        """`await create()` (a resource with `sid` and `status`), judged as an outcome."""
        try:
            async with asyncio.timeout(self.timeout):
                made = await create()
        except TwilioRestException as exc:
            return judge(exc)
        except aiohttp.ClientConnectorError as exc:  # never connected: nothing reached Twilio
            return Refused(f"cannot connect to Twilio: {exc}", retry=True)
        except (TimeoutError, aiohttp.ClientError, TwilioException, OSError, ValueError) as exc:
            return Unknown(f"no answer from Twilio ({type(exc).__name__}: {exc})".strip())
        return Accepted(str(made.sid), str(made.status or ""))

    async def close(self) -> None:
        await self.http.close()


class TwilioSender(TwilioRest):
    async def send(self, request: SendRequest) -> Outcome:
        return await self._create(lambda: self.client.messages.create_async(**request.arguments()))

    async def find(self, request: SendRequest, since: float, taken: set[str]) -> str | None:
        """The SID of a message Twilio holds that this request created, if any.

        Looks at the latest messages to the same recipient created since `since` (epoch s)
        from the same sender whose body contains ours; `taken` are SIDs already matched to
        other outbox rows. Raises when Twilio cannot be asked, so the worker tries later.
        """
        async with asyncio.timeout(self.timeout):
            messages = await self.client.messages.list_async(to=request.to, limit=LOOKUP_PAGE)
        for message in messages:
            created = message.date_created
            if created is None or created.timestamp() < since or message.sid in taken:
                continue
            if request.route.from_ and message.from_ != request.route.from_:
                continue
            if request.route.service_sid and (
                message.messaging_service_sid != request.route.service_sid
            ):
                continue
            if (
                request.body
                and not request.content_sid
                and request.body not in (message.body or "")
            ):
                continue
            return str(message.sid)
        return None

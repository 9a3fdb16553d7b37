"""Twilio Verify v2 for the `verify` node: send a one-time code, check what the caller keyed in.

Beside the runtime, like the messaging sender: one twilio `Client` on the async HTTP client,
pointed at `IVR_TWILIO_API_URL` when set (a fake Twilio, Prism, an egress proxy), with the
Verify service from `IVR_VERIFY_SERVICE_SID`. Every Twilio refusal becomes a `VerifyError`
with Twilio's code; nothing here ever logs or returns the code itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from typing import TypeVar

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from .messaging.sender import HeaderAuthHttpClient
from .messaging.settings import TWILIO_API_URL
from .nodes.verify import NOT_FOUND, VerifyError  # noqa: F401  (what the node expects)

SERVICE_ENV = "IVR_VERIFY_SERVICE_SID"
TIMEOUT = 8.0
T = TypeVar("T")  # below the runtime's node time limit, so a slow Twilio still gets an answer


class VerifyClient:
    """Start and check verifications of one Verify service."""

    def __init__(
        self, client: Client, http: AsyncTwilioHttpClient | None, service_sid: str, timeout: float
    ) -> None:
        self.client = client
        self.http = http
        self.service_sid = service_sid
        self.timeout = timeout

    @classmethod
    def open(
        cls,
        account_sid: str,
        auth_token: str,
        service_sid: str,
        api_url: str = TWILIO_API_URL,
        timeout: float = TIMEOUT,
    ) -> VerifyClient:
        """The process's Verify client; call inside the event loop (aiohttp needs one)."""
        http = HeaderAuthHttpClient()
        client = Client(account_sid, auth_token, http_client=http)
        if api_url.rstrip("/") != TWILIO_API_URL:
            client.verify.base_url = api_url.rstrip("/")
        return cls(client, http, service_sid, timeout)

    @classmethod
    def from_env(
        cls, env: Mapping[str, str], account_sid: str | None, auth_token: str | None, api_url: str
    ) -> VerifyClient | None:
        """A client when the server has credentials and a Verify service, else None."""
        service_sid = (env.get(SERVICE_ENV) or "").strip()
        if not (service_sid and account_sid and auth_token):
            return None
        return cls.open(account_sid, auth_token, service_sid, api_url)

    @property
    def _service(self):  # type: ignore[no-untyped-def]
        return self.client.verify.v2.services(self.service_sid)

    async def start(self, to: str, channel: str, locale: str | None = None) -> str:
        """Send a code to `to` over `channel`; the verification's status ("pending")."""
        extra = {"locale": locale} if locale else {}
        service = self.client.verify.v2.services(self.service_sid)
        verification = await self._call(
            service.verifications.create_async(to=to, channel=channel, **extra)
        )
        return str(verification.status or "")

    async def check(self, to: str, code: str) -> str:
        """Check the caller's code: "approved", "pending" (wrong code), or another status."""
        service = self.client.verify.v2.services(self.service_sid)
        checked = await self._call(service.verification_checks.create_async(to=to, code=code))
        return str(checked.status or "")

    async def _call(self, request: Awaitable[T]) -> T:
        """Bound a request in time; every failure becomes a `VerifyError` (never with the code)."""
        try:
            async with asyncio.timeout(self.timeout):
                return await request
        except TwilioRestException as exc:
            message = str(exc.msg).removeprefix("Unable to create record: ")
            raise VerifyError(str(exc.code or exc.status), message) from None
        except TimeoutError:
            raise VerifyError("", "no answer from Twilio Verify in time") from None
        except (aiohttp.ClientError, TwilioException, OSError) as exc:
            raise VerifyError("", f"cannot reach Twilio Verify ({type(exc).__name__})") from None

    async def close(self) -> None:
        if self.http is not None:
            await self.http.close()

"""Send the emulator's requests over HTTP, signed with `X-Twilio-Signature` as Twilio signs them.

POST requests carry the parameters form-encoded in the body; GET requests carry them in the
query string and sign the full URL with no parameters, as Twilio does. The URL is sent
exactly as signed (no re-quoting), since the server checks the signature against it.

The client is aiohttp: it comes with the twilio SDK (no new dependency) and costs about a
fifth of the CPU per request of httpx, which matters when the benchmark's load generator
shares a 2-core machine with the servers it measures.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import aiohttp
from twilio.request_validator import RequestValidator
from yarl import URL

from .errors import EmulatorError
from .twiml import Request

TWILIO_TIMEOUT = 15.0  # seconds Twilio waits for a webhook before it gives up
FORM = "application/x-www-form-urlencoded; charset=UTF-8"


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: str
    started: float  # time.perf_counter() when the request was sent
    finished: float


class SignedHttp:
    """Sends `Request`s through one aiohttp session (keep-alive connections, as Twilio uses)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        auth_token: str | None,
        *,
        timeout: float = TWILIO_TIMEOUT,
    ) -> None:
        self.session = session
        self.validator = RequestValidator(auth_token) if auth_token else None
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.timeout_seconds = timeout

    @property
    def signs(self) -> bool:
        return self.validator is not None

    async def send(self, request: Request) -> Reply:
        url, body = request.url, None
        params = dict(request.params)
        if request.method == "GET":
            if params:
                url += ("&" if "?" in url else "?") + urlencode(params)
            params = {}
        else:
            body = urlencode(params).encode()
        headers = {"User-Agent": "TwilioProxy/1.1", "Content-Type": FORM}
        if self.validator is not None:
            headers["X-Twilio-Signature"] = self.validator.compute_signature(url, params)
        started = time.perf_counter()
        try:
            async with self.session.request(
                request.method,
                URL(url, encoded=True),
                data=body,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            ) as response:
                text = await response.text()
                return Reply(
                    response.status,
                    response.headers.get("Content-Type", ""),
                    text,
                    started,
                    time.perf_counter(),
                )
        except aiohttp.ClientConnectorError as exc:
            origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
            error = exc.os_error
            if isinstance(error, ConnectionRefusedError):
                reason = "connection refused"
            else:
                reason = (error.strerror or str(error)) if error else str(exc)
            raise EmulatorError(
                f"cannot connect to {origin}: {reason.lower()} (is `ivr serve` running there?)"
            ) from None
        except TimeoutError:
            raise EmulatorError(
                f"{request.method} {url} got no answer within {self.timeout_seconds:g} s: Twilio "
                "would give up and the caller would hear an application error"
            ) from None
        except aiohttp.ClientError as exc:
            raise EmulatorError(f"{request.method} {url} failed: {exc}") from None


def new_session(connections: int = 100) -> aiohttp.ClientSession:
    """A client session with up to `connections` keep-alive connections per server."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=connections, limit_per_host=connections)
    )


async def wait_until_listening(
    url: str, seconds: float, waiting: Callable[[], None] | None = None
) -> bool:
    """Give a server that is still starting (`ivr serve &` just before) time to listen.

    Returns whether it accepts connections; `waiting` is called once if it had to wait.
    """
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    told = False
    while True:
        try:
            _, writer = await asyncio.open_connection(parts.hostname, port)
        except OSError:
            if loop.time() >= deadline:
                return False
            if waiting is not None and not told:
                waiting()
                told = True
            await asyncio.sleep(0.1)
            continue
        writer.close()
        await writer.wait_closed()
        return True

"""The one async HTTP client a process shares, for node code that calls other systems.

Built by whoever runs calls (the server's lifespan, a simulator) inside its event loop and
lent to nodes through `Services.http`: one connection pool for every call, closed once at
shutdown (`await client.close()`, or `async with shared_http_client() as client`).

It is an `aiohttp.ClientSession`: aiohttp is already required (the twilio SDK's async client
and the `ivr call` emulator use it), and a kept-alive GET costs about a fifth of the CPU it
costs with httpx2 (`python benchmarks/bench_http_client.py`: 134 us against 696 us). Node
code runs on the server's one event loop, so that difference is paid by every webhook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.request import getproxies_environment

if TYPE_CHECKING:
    import aiohttp

# A node's own timeout applies per request; this is only the ceiling when a node sets none.
DEFAULT_TIMEOUT = 10.0
MAX_CONNECTIONS = 100
USER_AGENT = "ivr-engine"


def proxies_configured() -> bool:
    """Whether the environment names a proxy for HTTP(S) (`HTTP_PROXY`, `HTTPS_PROXY`, ...)."""
    found = getproxies_environment()
    return any(scheme in found for scheme in ("http", "https", "ws", "wss"))


def shared_http_client() -> aiohttp.ClientSession:
    """A pooled client (call it inside the running loop) that names itself to servers.

    Proxy settings come from the environment (HTTP_PROXY, HTTPS_PROXY, NO_PROXY), as they did
    with httpx2; `~/.netrc` is not read. aiohttp's `trust_env` looks the proxy up again, and
    reads `~/.netrc`, for every request, each in a worker thread: over a quarter of the CPU of
    a webhook with an `http` node. So it is on only when the environment names a proxy when
    the client is made (the process's environment does not change meanwhile). No cookie is
    kept: one call's API session must never reach another call's request. aiohttp follows
    redirects unless a request passes `allow_redirects=False`, as the `http` node does.
    """
    import aiohttp

    from . import json_text

    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=MAX_CONNECTIONS, limit_per_host=MAX_CONNECTIONS),
        timeout=aiohttp.ClientTimeout(total=DEFAULT_TIMEOUT),
        headers={"User-Agent": USER_AGENT},
        trust_env=proxies_configured(),
        cookie_jar=aiohttp.DummyCookieJar(),
        json_serialize=json_text.dumps,  # compact JSON bodies, as APIs and our tests expect
    )

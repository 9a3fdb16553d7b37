"""The one async HTTP client a process shares, for node code that calls other systems.

Built by whoever runs calls (the server's lifespan, a simulator) and lent to nodes through
`Services.http`: one connection pool for every call, closed once at shutdown. httpx2 is the
client Starlette's test client already uses, so the engine carries one HTTP library.
"""

from __future__ import annotations

import httpx2

# A node's own timeout applies per request; this is only the ceiling when a node sets none.
DEFAULT_TIMEOUT = 10.0
MAX_CONNECTIONS = 100


def shared_http_client() -> httpx2.AsyncClient:
    """A pooled client that never follows redirects silently and names itself to servers."""
    return httpx2.AsyncClient(
        timeout=DEFAULT_TIMEOUT,
        follow_redirects=False,
        limits=httpx2.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=20),
        headers={"User-Agent": "ivr-engine"},
    )

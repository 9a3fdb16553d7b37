"""Who may see the dashboard: one password, a signed session cookie, a CSRF token per session.

- Logging in checks IVR_DASHBOARD_PASSWORD in constant time; a wrong password is answered
  only after a delay that doubles with each failure from the same address (up to 8 s).
- The session is Starlette's signed cookie (itsdangerous), keyed from the password, so every
  server process accepts it and changing the password logs everyone out. It is HttpOnly,
  SameSite=Strict, and Secure when the public URL is https.
- Every form carries the session's CSRF token, and every POST must bring it back; a form
  without it, or with another session's, is refused with 403.
- Pages are not framed and load nothing from elsewhere (Content-Security-Policy).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

MAX_DELAY = 8.0
FIRST_DELAY = 0.5
SESSION_HOURS = 12
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


def cookie_key(password: str) -> str:
    """The session cookie's signing key: derived from the password (changing it logs out)."""
    return hashlib.sha256(b"ivr-engine dashboard session\0" + password.encode()).hexdigest()


class Throttle:
    """Slows down password guessing: each failure from an address doubles its next delay."""

    def __init__(self) -> None:
        self.failures: dict[str, tuple[int, float]] = {}  # address -> (count, last failure)

    def delay(self, address: str) -> float:
        count, last = self.failures.get(address, (0, 0.0))
        if time.monotonic() - last > 15 * 60:  # forgiven after a quiet quarter of an hour
            count = 0
        return min(MAX_DELAY, FIRST_DELAY * 2**count)

    async def failed(self, address: str) -> None:
        wait = self.delay(address)
        count, _ = self.failures.get(address, (0, 0.0))
        self.failures[address] = (count + 1, time.monotonic())
        if len(self.failures) > 10_000:  # bounded memory under a spray of addresses
            self.failures.pop(next(iter(self.failures)))
        await asyncio.sleep(wait)

    def succeeded(self, address: str) -> None:
        self.failures.pop(address, None)


def password_matches(given: str, password: str) -> bool:
    return hmac.compare_digest(given.encode(), password.encode())


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use)."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def csrf_ok(request: Request, given: str | None) -> bool:
    expected = request.session.get("csrf")
    return bool(expected and given) and hmac.compare_digest(str(expected), str(given))


def logged_in(request: Request) -> bool:
    return request.session.get("user") == "operator"


class LoggedIn:
    """Serves the wrapped app (the static assets) to logged-in sessions only; else 401."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("session", {}).get("user") != "operator":
            await PlainTextResponse("log in first", 401)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class SecurityHeaders:
    """Adds the dashboard's protective headers to every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: dict) -> None:  # type: ignore[type-arg]
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name == b"content-security-policy" for name, _ in headers):
                    headers.append((b"content-security-policy", CSP.encode()))
                headers += [
                    (b"x-frame-options", b"DENY"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"cache-control", b"no-store"),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)

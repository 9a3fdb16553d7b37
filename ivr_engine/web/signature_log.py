"""The log line for a request refused for its signature: why, and what to set.

Called by `twilio_auth.SignatureCheck` only once a request has been refused, so the webhook
hot path never pays for it. Twilio signs the exact URL it called; behind a proxy or tunnel the
server sees another one (`http://127.0.0.1:8000/...` for `https://abc.ngrok.app/...`), the
classic set-up problem. The line names the URL the signature was checked against and the
`Host`, `X-Forwarded-Proto` and `X-Forwarded-Host` headers seen, and says what to set
`IVR_PUBLIC_URL` to when those headers show another URL. It never shows the auth token, the
signature sent or the one expected.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import Scope

SEEN = (b"host", b"x-forwarded-proto", b"x-forwarded-host")
NAMES = {
    b"host": "Host",
    b"x-forwarded-proto": "X-Forwarded-Proto",
    b"x-forwarded-host": "X-Forwarded-Host",
}


def rejection(scope: Scope, checked_url: str, *, signed: bool, public_url: str | None) -> str:
    """One line: the request, why it was refused, the URL checked, the headers, the fix."""
    headers: dict[bytes, str] = {}
    for name, value in scope.get("headers", ()):
        if name in SEEN and name not in headers:
            headers[name] = value.decode("latin-1")
    reason = "bad X-Twilio-Signature" if signed else "missing X-Twilio-Signature"
    seen = ", ".join(f"{NAMES[n]}: {headers[n]}" for n in SEEN if n in headers) or "no Host header"
    source = " (from IVR_PUBLIC_URL)" if public_url else ""
    line = (
        f"rejected {scope['method']} {scope['path']}: {reason}; checked against URL "
        f"{checked_url}{source}; headers seen: {seen}"
    )
    if not signed:
        return line + "; Twilio signs every request: was it sent by Twilio?"
    called = _forwarded_base(headers)
    checked = urlsplit(checked_url)
    if called is not None and called != f"{checked.scheme}://{checked.netloc}":
        path = (public_url and urlsplit(public_url).path) or ""
        return (
            f"{line}; the proxy headers say Twilio called {called}{path}, not the URL checked: "
            f"set IVR_PUBLIC_URL={called}{path} (the public base URL Twilio calls)"
        )
    if public_url:
        return (
            f"{line}; if IVR_PUBLIC_URL is the URL Twilio calls, TWILIO_AUTH_TOKEN differs from "
            "the account's auth token"
        )
    return (
        f"{line}; if Twilio calls another URL (through a proxy or tunnel), set IVR_PUBLIC_URL "
        "to that public base URL; otherwise TWILIO_AUTH_TOKEN differs from the account's"
    )


def _forwarded_base(headers: dict[bytes, str]) -> str | None:
    """`scheme://host` the proxy headers say the request was made to, if they say anything."""
    proto = headers.get(b"x-forwarded-proto", "").split(",")[0].strip()
    host = headers.get(b"x-forwarded-host", "").split(",")[0].strip()
    if not proto and not host:
        return None
    return f"{proto or 'https'}://{host or headers.get(b'host', '')}"

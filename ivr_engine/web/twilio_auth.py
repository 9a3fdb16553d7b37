"""Signature checking for every Twilio-facing request, before anything else reads it.

It reads the (bounded) form body once, checks `X-Twilio-Signature` against the URL Twilio
called (rebuilt from `IVR_PUBLIC_URL` when set, for proxies and tunnels), and gives back the
parsed parameters. A forged or missing signature gets 403 and nothing else runs; an
oversized or unreadable body gets 400, and one that does not arrive in time 408.

The check first computes the signature for the exact URL with the SDK's `compute_signature`
(one HMAC) and only on mismatch falls back to `RequestValidator.validate`, which also tries
the URL with and without the default port.
"""

from __future__ import annotations

import hmac
import logging
from urllib.parse import unquote

from starlette.types import Receive, Scope
from twilio.request_validator import RequestValidator, get_signature_algorithm

from .. import metrics
from ..twilio_fields import whole_number
from .body_timer import BodyTimer
from .responses import Answer, plain
from .settings import Settings
from .signature_log import rejection

log = logging.getLogger("ivr_engine.web")

TOO_LARGE = plain(400, "request body too large").closing()
CUT_OFF = plain(400, "request body cut off").closing()
TIMED_OUT = plain(408, "request body not received in time").closing()


class FormParams(dict[str, str]):
    """Form fields: the first value of each name, which is what handlers read, with every
    value of a repeated name kept aside for the signature (it covers them all)."""

    def __init__(self) -> None:
        super().__init__()
        self.repeated: dict[str, list[str]] = {}

    def getall(self, name: str) -> list[str]:
        """Every value of `name` in order, as the SDK's signature check asks for them."""
        return self.repeated.get(name) or [self[name]]


# Every %XX escape of an ASCII character, in any letter case: the only escapes Twilio's own
# parameters carry ("+" of phone numbers, ":" and "/" of URLs).
_ASCII_ESCAPES = {
    f"{hi}{lo}": chr(code)
    for code in range(128)
    for hi in {f"{code:02x}"[0], f"{code:02X}"[0]}
    for lo in {f"{code:02x}"[1], f"{code:02X}"[1]}
}


def _unquote_plus(text: str) -> str:
    """`unquote_plus`, with a fast path for text whose escapes are all ASCII characters."""
    text = text.replace("+", " ")
    if "%" not in text:
        return text
    parts = text.split("%")
    decoded = [parts[0]]
    for part in parts[1:]:
        char = _ASCII_ESCAPES.get(part[:2])
        if char is None:  # UTF-8 or malformed escapes: the standard library's rules
            return unquote(text)
        decoded.append(char)
        decoded.append(part[2:])
    return "".join(decoded)


def parse_form(body: bytes) -> FormParams:
    """Parse a form body as `parse_qsl(keep_blank_values=True)` does, faster.

    Parsing was about a tenth of a webhook's CPU. Unless a value holds an escaped "&" or "="
    the whole body is unescaped at once, since unescaping then cannot move a field boundary;
    otherwise field by field.
    """
    text = body.decode("utf-8")
    escaped_separator = "%26" in text or "%3D" in text or "%3d" in text
    if not escaped_separator and ("%" in text or "+" in text):
        text = _unquote_plus(text)
    params = FormParams()
    for pair in text.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        if escaped_separator:
            name, value = _unquote_plus(name), _unquote_plus(value)
        if name not in params:
            params[name] = value
        else:
            params.repeated.setdefault(name, [params[name]]).append(value)
    return params


class _Headers:
    """The few request headers the check needs, found in one pass."""

    __slots__ = ("host", "signature", "signature_settings")

    def __init__(self, scope: Scope) -> None:
        self.host = self.signature = self.signature_settings = ""
        for name, value in scope.get("headers", ()):
            if name == b"x-twilio-signature":
                self.signature = value.decode("latin-1")
            elif name == b"host":
                self.host = value.decode("latin-1")
            elif name == b"x-twilio-webhooks-signature-settings":
                self.signature_settings = value.decode("latin-1")


class SignatureCheck:
    """Admits a request only if Twilio signed it with the account's auth token."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.validator = RequestValidator(settings.auth_token) if settings.auth_token else None
        self.timer = BodyTimer(settings.body_timeout)

    async def admit(self, scope: Scope, receive: Receive) -> FormParams | Answer:
        """The request's checked parameters, or the answer that refuses it (400, 403, 408).

        POST parameters come from the form body; a GET's from its query string (Twilio signs
        the whole URL of a GET, with no parameters). A refusal sent before the body was read
        to its end closes the connection: what is left of that body cannot be trusted to be
        skipped as the next request.
        """
        body = await self._read_body(scope, receive)
        if isinstance(body, Answer):
            return body
        try:
            params = parse_form(body) if scope["method"] == "POST" else FormParams()
        except UnicodeDecodeError:
            return plain(400, "request body is not form-encoded UTF-8")
        headers = _Headers(scope)
        if not self._signed(scope, headers, params):
            log.warning(
                "%s",
                rejection(
                    scope,
                    self.public_url(scope, headers.host),
                    signed=bool(headers.signature),
                    public_url=self.settings.public_url,
                ),
            )
            metrics.SIGNATURE_REJECTIONS.inc()
            return plain(403, "invalid Twilio signature")
        if scope["method"] != "POST":
            try:
                params = parse_form(scope.get("query_string", b""))
            except UnicodeDecodeError:
                return plain(400, "query string is not UTF-8")
        return params

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes | Answer:
        """The whole body, or why not: too large, cut off, or not sent within `body_timeout`."""
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                length = whole_number(value)
                if length is not None and length > self.settings.max_body:
                    return TOO_LARGE
        chunks: list[bytes] = []

        async def read() -> Answer | None:
            size = 0
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return CUT_OFF
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.settings.max_body:
                    return TOO_LARGE
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return None

        try:
            refused = await self.timer.run(read)
        except TimeoutError:
            log.warning(
                "rejected %s %s: the body did not arrive within %s s",
                scope["method"],
                scope["path"],
                self.settings.body_timeout,
            )
            return TIMED_OUT
        return refused or b"".join(chunks)

    def public_url(self, scope: Scope, host: str | None = None) -> str:
        """The URL Twilio called: the configured public base + path + query, else the request's own."""
        raw = scope.get("raw_path")  # as the client sent it: Twilio signs the escaped URL
        path = raw.decode("latin-1") if raw else scope.get("root_path", "") + scope["path"]
        query = scope.get("query_string", b"").decode("latin-1")
        suffix = path + (f"?{query}" if query else "")
        if self.settings.public_url:
            return self.settings.public_url + suffix
        if host is None:
            host = _Headers(scope).host
        if not host:
            server = scope.get("server") or ("localhost", None)
            host = f"{server[0]}:{server[1]}" if server[1] else server[0]
        return f"{scope.get('scheme', 'http')}://{host}{suffix}"

    def _signed(self, scope: Scope, headers: _Headers, params: FormParams) -> bool:
        if self.validator is None:
            return self.settings.insecure
        if not headers.signature or not headers.signature.isascii():
            return False  # a signature is base64: anything else cannot match any HMAC
        signature = headers.signature
        algorithm = get_signature_algorithm(headers.signature_settings)
        url = self.public_url(scope, headers.host)
        try:
            expected = self.validator.compute_signature(url, params, algorithm)
        except ValueError:  # an algorithm this SDK does not know
            return False
        if hmac.compare_digest(expected, signature):
            return True
        return bool(self.validator.validate(url, params, signature, algorithm))

"""Twilio's webhooks, answered in front of Starlette's routing: checked first, then dispatched.

Every request under a Twilio path (`/voice/`, `/status/`, `/messaging/`) must carry a valid
`X-Twilio-Signature` before anything reads it, so this middleware checks it and then hands
the parameters straight to the webhook's handler. Matching a handful of fixed path shapes by
their segments, and answering with two ASGI messages, skips Starlette's router, exception
middleware and request/response objects, which a webhook never needs and which were about a
tenth of a step's CPU. Everything else (`/healthz`, unknown paths outside Twilio's) goes on
to the Starlette app.

Nothing Twilio-facing answers 500. Whatever raises unexpectedly, anywhere in here (reading
the body, rebuilding the URL from a malformed Host header, a handler), is logged once and
answered in one place: a voice webhook whose signature was checked hears the apology in
TwiML, anything else gets 400; both with `Connection: close`, since after an exception
nothing says the rest of the request was read. Twilio never hears "an application error".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from .. import metrics
from ..calls import apology_twiml
from ..twilio_fields import whole_number
from .responses import TEXT, Answer, plain, twiml
from .settings import Settings
from .twilio_auth import FormParams, SignatureCheck

log = logging.getLogger("ivr_engine.web")

TWILIO_PREFIXES = ("/voice/", "/status/", "/messaging/")
VOICE_PREFIX = "/voice/"
BAD_REQUEST = plain(400, "bad request").closing()

Handler = Callable[[Scope, FormParams], Awaitable[Answer]]


class Webhook:
    """One Twilio-facing endpoint: a path like `/voice/{flow_id}/step/{step:int}/{kind}`.

    A `{name}` segment matches any non-empty segment, `{name:int}` only ASCII digits (as
    `twilio_fields.whole_number` reads them: `²` is not a step); the values
    reach the handler in `scope["path_params"]`, as Starlette would put them.
    """

    def __init__(self, path: str, handler: Handler, methods: Iterable[str] = ("POST",)) -> None:
        self.path = path
        self.handler = handler
        # the latency histogram's `route` label: one per kind of webhook
        self.latency = metrics.WEBHOOK_SECONDS.labels(handler.__name__.replace("_", "-"))
        allowed = set(methods)
        self.methods = frozenset(allowed | ({"HEAD"} if "GET" in allowed else set()))
        self.allow = ", ".join(sorted(self.methods)).encode()
        self._segments: list[tuple[str, str | None, bool]] = []  # literal or name, as int
        for segment in path.strip("/").split("/"):
            if segment.startswith("{") and segment.endswith("}"):
                name, _, kind = segment[1:-1].partition(":")
                self._segments.append((name, name, kind == "int"))
            else:
                self._segments.append((segment, None, False))

    def match(self, parts: Sequence[str]) -> dict[str, Any] | None:
        """The path parameters if `parts` (the path split at "/") is this webhook's path."""
        if len(parts) != len(self._segments):
            return None
        found: dict[str, Any] = {}
        for part, (text, name, as_int) in zip(parts, self._segments, strict=True):
            if name is None:
                if part != text:
                    return None
            elif as_int:
                number = whole_number(part)
                if number is None or part != part.strip():
                    return None
                found[name] = number
            elif not part:
                return None
            else:
                found[name] = part
        return found


class TwilioWebhooks:
    """ASGI middleware: Twilio's paths are checked and answered here, the rest passes on."""

    def __init__(self, app: ASGIApp, settings: Settings, webhooks: Sequence[Webhook]) -> None:
        self.app = app
        self.check = SignatureCheck(settings)
        self.webhooks = tuple(webhooks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(TWILIO_PREFIXES):
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()  # the latency includes reading and checking the request
        admitted: FormParams | Answer | None = None
        webhook: Webhook | None = None
        try:
            admitted = await self.check.admit(scope, receive)
            if isinstance(admitted, Answer):  # refused (400, 403, 408): nothing else runs
                answer = admitted
            else:
                answer, webhook = await self._dispatch(scope, admitted)
        except Exception:
            answer = self._failed(scope, signed=isinstance(admitted, FormParams))
        await answer.send(send)
        if webhook is not None:
            webhook.latency.observe(time.perf_counter() - began)

    async def _dispatch(self, scope: Scope, params: FormParams) -> tuple[Answer, Webhook | None]:
        parts = scope["path"][1:].split("/")
        for webhook in self.webhooks:
            path_params = webhook.match(parts)
            if path_params is None:
                continue
            if scope["method"] not in webhook.methods:
                allow = ((b"allow", webhook.allow),)
                return Answer(405, b"Method Not Allowed", TEXT, allow), None
            scope["path_params"] = path_params
            return await webhook.handler(scope, params), webhook
        return plain(404, "Not Found"), None

    def _failed(self, scope: Scope, *, signed: bool) -> Answer:
        """The one answer to an unexpected exception: logged, never a 500."""
        path = scope.get("path", "")
        log.exception("%s %s failed unexpectedly", scope.get("method"), path)
        if signed and path.startswith(VOICE_PREFIX):
            return twiml(apology_twiml()).closing()
        return BAD_REQUEST

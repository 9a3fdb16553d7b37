"""Twilio's webhooks, answered in front of Starlette's routing: checked first, then dispatched.

Every request under a Twilio path (`/voice/`, `/status/`, `/messaging/`) must carry a valid
`X-Twilio-Signature` before anything reads it, so this middleware checks it and then hands
the parameters straight to the webhook's handler. Matching a handful of fixed path shapes by
their segments, and answering with two ASGI messages, skips Starlette's router, exception
middleware and request/response objects, which a webhook never needs and which were about a
tenth of a step's CPU. Everything else (`/healthz`, unknown paths outside Twilio's) goes on
to the Starlette app.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from .. import metrics
from .responses import Answer, plain
from .settings import Settings
from .twilio_auth import FormParams, SignatureCheck

TWILIO_PREFIXES = ("/voice/", "/status/", "/messaging/")

Handler = Callable[[Scope, FormParams], Awaitable[Answer]]


class Webhook:
    """One Twilio-facing endpoint: a path like `/voice/{flow_id}/step/{step:int}/{kind}`.

    A `{name}` segment matches any non-empty segment, `{name:int}` only digits; the values
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
                if not part.isdigit():
                    return None
                found[name] = int(part)
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
        params = await self.check.admit(scope, receive, send)
        if params is None:  # answered 400 or 403: nothing else runs
            return
        parts = scope["path"][1:].split("/")
        for webhook in self.webhooks:
            path_params = webhook.match(parts)
            if path_params is None:
                continue
            if scope["method"] not in webhook.methods:
                answer = plain(405, "Method Not Allowed")
                await answer.send(send, extra_headers=((b"allow", webhook.allow),))
                return
            scope["path_params"] = path_params
            answer = await webhook.handler(scope, params)
            await answer.send(send)
            webhook.latency.observe(time.perf_counter() - began)
            return
        await plain(404, "Not Found").send(send)

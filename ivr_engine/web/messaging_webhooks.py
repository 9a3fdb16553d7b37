"""Messaging webhooks: inbound SMS / WhatsApp (the number's Messaging URL) and message status.

Both are Twilio webhooks (`/messaging/` and `/status/`), checked like the voice ones. A
request without what every such webhook carries is malformed (400) and changes nothing; a
failure to record answers 503, so Twilio reports it instead of the change being lost quietly.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qs

from starlette.types import Scope
from twilio.twiml.messaging_response import MessagingResponse

from ..twilio_fields import whole_number
from .failures import log_failure
from .responses import Answer, no_content, plain, twiml
from .webhooks import Webhook


async def inbound_message(scope: Scope, params: Mapping[str, str]) -> Answer:
    if not params.get("From"):
        return plain(400, "missing From")
    try:
        reply = await scope["app"].state.inbound.handle(params)
    except Exception:
        log_failure(f"inbound message {params.get('MessageSid')}", "recording it")
        return plain(503, "temporarily unavailable")
    response = MessagingResponse()
    if reply:
        response.message(reply)
    return twiml(str(response))


async def message_status(scope: Scope, params: Mapping[str, str]) -> Answer:
    if not params.get("MessageSid") or not params.get("MessageStatus"):
        return plain(400, "missing MessageSid or MessageStatus")
    # the outbox row, in the StatusCallback URL the worker gave Twilio
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    row = whole_number((query.get("outbox") or [""])[0])  # None: link by MessageSid alone
    try:
        await scope["app"].state.message_status.record(params, row)
    except Exception:
        log_failure(f"message {params.get('MessageSid')}", "recording its status")
        return plain(503, "temporarily unavailable")
    return no_content()


messaging_webhooks = [
    Webhook("/messaging/inbound", inbound_message),
    Webhook("/status/message", message_status),
]

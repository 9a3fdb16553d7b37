"""Messaging routes: inbound SMS / WhatsApp (the number's Messaging URL) and message status.

Both sit behind the signature middleware (`/messaging/` and `/status/` are protected). A
request without what every such webhook carries is malformed (400) and changes nothing; a
failure to record answers 503, so Twilio reports it instead of the change being lost quietly.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from twilio.twiml.messaging_response import MessagingResponse

from .responses import TwiMLResponse, no_content
from .twilio_auth import twilio_params

log = logging.getLogger("ivr_engine.web")


async def inbound_message(request: Request) -> Response:
    params = twilio_params(request)
    if not params.get("From"):
        return PlainTextResponse("missing From", status_code=400)
    try:
        reply = await request.app.state.inbound.handle(params)
    except Exception:
        log.exception("inbound message %s: recording it failed", params.get("MessageSid"))
        return PlainTextResponse("temporarily unavailable", status_code=503)
    response = MessagingResponse()
    if reply:
        response.message(reply)
    return TwiMLResponse(str(response))


async def message_status(request: Request) -> Response:
    params = twilio_params(request)
    if not params.get("MessageSid") or not params.get("MessageStatus"):
        return PlainTextResponse("missing MessageSid or MessageStatus", status_code=400)
    row = request.query_params.get("outbox", "")
    try:
        await request.app.state.message_status.record(params, int(row) if row.isdigit() else None)
    except Exception:
        log.exception("message %s: recording its status failed", params.get("MessageSid"))
        return PlainTextResponse("temporarily unavailable", status_code=503)
    return no_content()


messaging_routes = [
    Route("/messaging/inbound", inbound_message, methods=["POST"]),
    Route("/status/message", message_status, methods=["POST"]),
]

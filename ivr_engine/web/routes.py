"""Routes: translate Twilio's requests into `CallService` calls and answers into responses.

The signature middleware has already checked the request and parsed its form. A request
missing what every Twilio webhook carries (a CallSid) is malformed: 400, nothing changes.
Anything else that goes wrong answers valid TwiML, never a 500 that would make the caller
hear "an application error has occurred".
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from ..calls import CallService, apology_twiml
from ..runtime import EventKind
from .responses import TwiMLResponse, no_content
from .twilio_auth import twilio_params as _params

log = logging.getLogger("ivr_engine.web")

ACTION_KINDS = {kind.value: kind for kind in EventKind if kind is not EventKind.START}


def _service(scope: Scope) -> CallService:
    return scope["app"].state.calls  # type: ignore[no-any-return]


def _malformed(reason: str) -> Response:
    return PlainTextResponse(reason, status_code=400)


class Webhook:
    """A Twilio webhook route as a plain ASGI app: scope in, response out.

    Twilio's webhooks need no `Request` object (the middleware already parsed and checked
    the form), and Starlette's request/response wrapping was about a tenth of a webhook's
    CPU time, so these routes skip it. Handlers never raise: they answer TwiML or a status.
    """

    def __init__(self, handler: Callable[[Scope], Awaitable[Response]]) -> None:
        self.handler = handler
        self.__name__ = handler.__name__

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.handler(scope)
        await response(scope, receive, send)


async def incoming_call(scope: Scope) -> Response:
    params = _params(scope)
    if not params.get("CallSid"):
        return _malformed("missing CallSid")
    try:
        twiml = await _service(scope).incoming(scope["path_params"]["flow_id"], params)
    except Exception:
        log.exception("call %s: incoming call failed", params.get("CallSid"))
        twiml = apology_twiml()
    return TwiMLResponse(twiml)


async def call_action(scope: Scope) -> Response:
    params = _params(scope)
    path_params = scope["path_params"]
    kind = ACTION_KINDS.get(path_params["kind"])
    if not params.get("CallSid") or kind is None:
        return _malformed("missing CallSid" if kind else "unknown action")
    try:
        twiml = await _service(scope).action(
            path_params["flow_id"], path_params["step"], kind, params
        )
    except Exception:
        log.exception("call %s: action %s failed", params.get("CallSid"), scope["path"])
        twiml = apology_twiml()
    return TwiMLResponse(twiml)


def _callback(handler_name: str) -> Callable[[Scope], Awaitable[Response]]:
    async def endpoint(scope: Scope) -> Response:
        params = _params(scope)
        if not params.get("CallSid"):
            return _malformed("missing CallSid")
        try:
            await getattr(_service(scope), handler_name)(params)
        except Exception:
            log.exception("call %s: %s callback failed", params.get("CallSid"), handler_name)
            return PlainTextResponse("temporarily unavailable", status_code=503)
        return no_content()

    endpoint.__name__ = handler_name
    return endpoint


async def healthz(request: Request) -> Response:
    flows = request.app.state.flows
    return PlainTextResponse(f"ok: {len(flows.ids())} flow(s)")


VOICE_METHODS = ["GET", "POST"]

# Most frequent first: Starlette tries routes in order, and a call makes one request to its
# Voice URL, one per answered node and one per status callback.
routes = [
    Route("/voice/{flow_id}/step/{step:int}/{kind}", Webhook(call_action), methods=VOICE_METHODS),
    Route("/status/call", Webhook(_callback("call_status")), methods=["POST"]),
    Route("/status/recording", Webhook(_callback("recording_status")), methods=["POST"]),
    Route("/status/transcription", Webhook(_callback("transcription")), methods=["POST"]),
    Route("/voice/{flow_id}", Webhook(incoming_call), methods=VOICE_METHODS),
    Route("/healthz", healthz, methods=["GET"]),
]

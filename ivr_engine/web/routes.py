"""Routes: translate Twilio's requests into `CallService` calls and answers into responses.

The signature middleware has already checked the request and parsed its form. A request
missing what every Twilio webhook carries (a CallSid) is malformed: 400, nothing changes.
Anything else that goes wrong answers valid TwiML, never a 500 that would make the caller
hear "an application error has occurred".
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from ..calls import CallService, apology_twiml
from ..runtime import EventKind
from .responses import TwiMLResponse, no_content
from .twilio_auth import twilio_params as _params

log = logging.getLogger("ivr_engine.web")

ACTION_KINDS = {kind.value: kind for kind in EventKind if kind is not EventKind.START}


def _service(request: Request) -> CallService:
    return request.app.state.calls  # type: ignore[no-any-return]


def _malformed(reason: str) -> Response:
    return PlainTextResponse(reason, status_code=400)


async def incoming_call(request: Request) -> Response:
    params = _params(request)
    if not params.get("CallSid"):
        return _malformed("missing CallSid")
    try:
        twiml = await _service(request).incoming(request.path_params["flow_id"], params)
    except Exception:
        log.exception("call %s: incoming call failed", params.get("CallSid"))
        twiml = apology_twiml()
    return TwiMLResponse(twiml)


async def call_action(request: Request) -> Response:
    params = _params(request)
    kind = ACTION_KINDS.get(request.path_params["kind"])
    if not params.get("CallSid") or kind is None:
        return _malformed("missing CallSid" if kind else "unknown action")
    try:
        twiml = await _service(request).action(
            request.path_params["flow_id"], request.path_params["step"], kind, params
        )
    except Exception:
        log.exception("call %s: action %s failed", params.get("CallSid"), request.url.path)
        twiml = apology_twiml()
    return TwiMLResponse(twiml)


def _callback(handler_name: str):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request) -> Response:
        params = _params(request)
        if not params.get("CallSid"):
            return _malformed("missing CallSid")
        try:
            await getattr(_service(request), handler_name)(params)
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

routes = [
    Route("/voice/{flow_id}", incoming_call, methods=VOICE_METHODS),
    Route("/voice/{flow_id}/step/{step:int}/{kind}", call_action, methods=VOICE_METHODS),
    Route("/status/call", _callback("call_status"), methods=["POST"]),
    Route("/status/recording", _callback("recording_status"), methods=["POST"]),
    Route("/status/transcription", _callback("transcription"), methods=["POST"]),
    Route("/healthz", healthz, methods=["GET"]),
]

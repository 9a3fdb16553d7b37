"""The voice webhooks: translate Twilio's requests into `CallService` calls and answers into TwiML.

`TwilioWebhooks` has already checked the signature and parsed the form. A request missing
what every Twilio webhook carries (a CallSid) is malformed: 400, nothing changes. Anything
else that goes wrong answers valid TwiML, never a 500 that would make the caller hear "an
application error has occurred".
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Scope

from ..calls import CallService, apology_twiml
from ..runtime import EventKind
from .failures import log_failure
from .responses import Answer, no_content, plain, twiml
from .webhooks import Handler, Webhook

ACTION_KINDS = {kind.value: kind for kind in EventKind if kind is not EventKind.START}


def _service(scope: Scope) -> CallService:
    return scope["app"].state.calls  # type: ignore[no-any-return]


async def incoming_call(scope: Scope, params: Mapping[str, str]) -> Answer:
    if not params.get("CallSid"):
        return plain(400, "missing CallSid")
    try:
        document = await _service(scope).incoming(scope["path_params"]["flow_id"], params)
    except Exception:
        log_failure(f"call {params.get('CallSid')}", "incoming call")
        document = apology_twiml()
    return twiml(document)


async def call_action(scope: Scope, params: Mapping[str, str]) -> Answer:
    path_params = scope["path_params"]
    kind = ACTION_KINDS.get(path_params["kind"])
    if not params.get("CallSid") or kind is None:
        return plain(400, "missing CallSid" if kind else "unknown action")
    try:
        document = await _service(scope).action(
            path_params["flow_id"], path_params["step"], kind, params
        )
    except Exception:
        log_failure(f"call {params.get('CallSid')}", f"action {scope['path']}")
        document = apology_twiml()
    return twiml(document)


def _callback(handler_name: str) -> Handler:
    async def endpoint(scope: Scope, params: Mapping[str, str]) -> Answer:
        if not params.get("CallSid"):
            return plain(400, "missing CallSid")
        try:
            await getattr(_service(scope), handler_name)(params)
        except Exception:
            log_failure(f"call {params.get('CallSid')}", f"{handler_name} callback")
            return plain(503, "temporarily unavailable")
        return no_content()

    endpoint.__name__ = handler_name
    return endpoint


async def healthz(request: Request) -> Response:
    """200 while the process can serve calls; 503 (take it out of the pool) while it cannot."""
    if getattr(request.app.state, "draining", False):
        return PlainTextResponse("unavailable: draining, shutting down", status_code=503)
    database = request.app.state.database
    if not database.healthy:
        down = "the database is unreachable" if database.shared else "the database writer is down"
        return PlainTextResponse(f"unavailable: {down}", status_code=503)
    flows = request.app.state.flows
    return PlainTextResponse(f"ok: {len(flows.ids())} flow(s)")


VOICE_METHODS = ("GET", "POST")

# Most frequent first, as they are tried in order: a call makes one request to its Voice URL,
# one per answered node and one per status callback.
voice_webhooks = [
    Webhook("/voice/{flow_id}/step/{step:int}/{kind}", call_action, VOICE_METHODS),
    Webhook("/status/call", _callback("call_status")),
    Webhook("/status/recording", _callback("recording_status")),
    Webhook("/status/transcription", _callback("transcription")),
    Webhook("/voice/{flow_id}", incoming_call, VOICE_METHODS),
]

routes = [Route("/healthz", healthz, methods=["GET"])]

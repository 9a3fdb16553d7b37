"""Twilio's webhooks of outbound calls: the answered call, its status callbacks, and AMD's.

The attempt's id rides in each URL, so the flow learns the contact it calls and each callback
finds its attempt even when the answer to `calls.create` was lost. Signatures are checked by
`TwilioWebhooks` as for every other Twilio path; nothing here answers a 500.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import Scope

from ..calls import apology_twiml
from ..outbound.service import OutboundCalls
from .failures import log_failure
from .responses import Answer, no_content, plain, twiml
from .voice_webhooks import VOICE_METHODS
from .webhooks import Webhook


def _outbound(scope: Scope) -> OutboundCalls:
    return scope["app"].state.outbound  # type: ignore[no-any-return]


async def outbound_call(scope: Scope, params: Mapping[str, str]) -> Answer:
    if not params.get("CallSid"):
        return plain(400, "missing CallSid")
    path = scope["path_params"]
    try:
        document = await _outbound(scope).answered(path["attempt"], path["flow_id"], params)
    except Exception:
        log_failure(f"call {params.get('CallSid')}", "outbound call")
        document = apology_twiml()
    return twiml(document)


async def outbound_status(scope: Scope, params: Mapping[str, str]) -> Answer:
    if not params.get("CallSid"):
        return plain(400, "missing CallSid")
    try:
        await _outbound(scope).status(scope["path_params"]["attempt"], params)
    except Exception:
        log_failure(f"call {params.get('CallSid')}", "outbound status callback")
        return plain(503, "temporarily unavailable")
    return no_content()


async def amd_status(scope: Scope, params: Mapping[str, str]) -> Answer:
    if not params.get("CallSid"):
        return plain(400, "missing CallSid")
    try:
        await _outbound(scope).amd(scope["path_params"]["attempt"], params)
    except Exception:
        log_failure(f"call {params.get('CallSid')}", "AMD callback")
        return plain(503, "temporarily unavailable")
    return no_content()


outbound_webhooks = [
    Webhook("/voice/{flow_id}/outbound/{attempt}", outbound_call, VOICE_METHODS),
    Webhook("/status/outbound/{attempt}", outbound_status),
    Webhook("/status/amd/{attempt}", amd_status),
]

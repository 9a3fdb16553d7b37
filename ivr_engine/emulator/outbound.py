"""An outbound call as Twilio plays it: progress callbacks, then the answered call or not.

Given what `calls.create` asked for (its form fields: Url, StatusCallback, From, To,
MachineDetection...), `play_outbound` sends the `initiated` and `ringing` callbacks, then
either the final `busy` / `no-answer` / `failed` callback, or plays the answered call through
`EmulatedCall` with `Direction=outbound-api` and, when detection was asked for, `AnsweredBy`
(the final `completed` callback carries it too, as Twilio's does).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime

from .call import DEFAULT_ACCOUNT, CallResult, EmulatedCall, Transport
from .caller import Caller
from .errors import EmulatorError
from .twiml import Request

NOT_ANSWERED = ("busy", "no-answer", "failed", "canceled")


async def play_outbound(
    transport: Transport,
    created: Mapping[str, str],
    caller: Caller,
    *,
    call_sid: str,
    answer: str = "human",
    account_sid: str = DEFAULT_ACCOUNT,
) -> CallResult | None:
    """Play one created call; `answer` is an `AnsweredBy` value or a not-answered status."""
    callback = created.get("StatusCallback")
    base = {
        "CallSid": call_sid,
        "AccountSid": account_sid,
        "From": created.get("From", ""),
        "To": created.get("To", ""),
        "Direction": "outbound-api",
        "ApiVersion": "2010-04-01",
    }

    async def progress(status: str, **more: str) -> None:
        if not callback:
            return
        params = {
            **base,
            "CallStatus": status,
            "Timestamp": format_datetime(datetime.now(UTC)),
            "CallbackSource": "call-progress-events",
            **more,
        }
        reply = await transport.send(Request("POST", callback, params, f"{status} callback"))
        if not 200 <= reply.status < 300:
            raise EmulatorError(f"{reply.status} from the {status} status callback: {reply.body}")

    await progress("initiated")
    await progress("ringing")
    if answer in NOT_ANSWERED:
        await progress(answer, CallDuration="0")
        return None
    detected = {"AnsweredBy": answer} if created.get("MachineDetection") else {}
    call = EmulatedCall(
        transport,
        created["Url"],
        caller,
        method=created.get("Method", "POST"),
        from_number=base["From"],
        to_number=base["To"],
        account_sid=account_sid,
        call_sid=call_sid,
        status_callback=callback,
        direction="outbound-api",
        extra=detected,
    )
    return await call.run()

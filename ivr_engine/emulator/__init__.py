"""A Twilio emulator: plays a running server's TwiML as Twilio would, without a Twilio account.

It sits outside the engine's pipeline, on Twilio's side of the HTTP line: `ivr call` uses it
to let a person try a flow from the terminal, the tests use it to drive whole calls over real
HTTP, and the voice benchmark uses it as its load generator.
"""

from .call import CallResult, EmulatedCall, Exchange
from .caller import (
    DIAL_OUTCOMES,
    SILENCE,
    Caller,
    CallerHungUp,
    DialSpec,
    GatherSpec,
    Input,
    Keys,
    ScriptedCaller,
    Speech,
)
from .errors import EmulatorError
from .http import Reply, SignedHttp, new_session
from .twiml import Request, Turn, TwimlPlayer

__all__ = [
    "DIAL_OUTCOMES",
    "SILENCE",
    "CallResult",
    "Caller",
    "CallerHungUp",
    "DialSpec",
    "EmulatedCall",
    "EmulatorError",
    "Exchange",
    "GatherSpec",
    "Input",
    "Keys",
    "Reply",
    "Request",
    "ScriptedCaller",
    "SignedHttp",
    "Speech",
    "Turn",
    "TwimlPlayer",
    "new_session",
]

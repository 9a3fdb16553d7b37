"""The voice runtime: a pure step function from (flow, session, event) to (TwiML, session).

Nothing here touches HTTP or SQL; the web layer parses requests into `Event`s and stores the
`Session`s this package returns.
"""

from .events import ASIDE_KINDS, ON_BEHALF, Event, EventKind
from .services import FlowResolver, Services
from .session import CallInfo, Session
from .step import StepResult, Taken, aside, recover, replay, run_after_call, start_call, step

__all__ = [
    "ASIDE_KINDS",
    "ON_BEHALF",
    "CallInfo",
    "Event",
    "EventKind",
    "FlowResolver",
    "Services",
    "Session",
    "StepResult",
    "Taken",
    "aside",
    "recover",
    "replay",
    "run_after_call",
    "start_call",
    "step",
]

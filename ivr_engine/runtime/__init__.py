"""The voice runtime: a pure step function from (flow, session, event) to (TwiML, session).

Nothing here touches HTTP or SQL; the web layer parses requests into `Event`s and stores the
`Session`s this package returns.
"""

from .events import Event, EventKind
from .services import FlowResolver, Services
from .session import CallInfo, Session
from .step import StepResult, Taken, recover, replay, run_after_call, start_call, step

__all__ = [
    "CallInfo",
    "Event",
    "EventKind",
    "FlowResolver",
    "Services",
    "Session",
    "StepResult",
    "Taken",
    "recover",
    "replay",
    "run_after_call",
    "start_call",
    "step",
]

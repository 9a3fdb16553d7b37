"""ivr-engine: phone IVRs from declarative YAML flows, run on Twilio.

The public API for plugin authors is the `Node` base class and what it works with.
"""

from .errors import DefinitionError, FlowError, IvrError, PluginError, Problem, StepError
from .node import (
    End,
    FieldIssue,
    FieldPath,
    Goto,
    Node,
    Outcome,
    Return,
    RunSubflow,
    SubflowResult,
    Target,
    Transition,
    Wait,
    iter_field,
)
from .runtime.context import StepContext
from .runtime.effects import OutboundMessage
from .runtime.events import Event, EventKind
from .runtime.services import Services

__all__ = [
    "DefinitionError",
    "End",
    "Event",
    "EventKind",
    "FieldIssue",
    "FieldPath",
    "FlowError",
    "Goto",
    "IvrError",
    "Node",
    "OutboundMessage",
    "Outcome",
    "PluginError",
    "Problem",
    "Return",
    "RunSubflow",
    "Services",
    "StepContext",
    "StepError",
    "SubflowResult",
    "Target",
    "Transition",
    "Wait",
    "iter_field",
]

"""ivr-engine: phone IVRs from declarative YAML flows, run on Twilio.

The public API for plugin authors is the `Node` base class and what it works with.
"""

from .errors import DefinitionError, FlowError, IvrError, PluginError, Problem, StepError
from .node import End, FieldIssue, Goto, Node, Outcome, Target, Transition, Wait, iter_field
from .runtime.context import StepContext
from .runtime.events import Event, EventKind

__all__ = [
    "DefinitionError",
    "End",
    "Event",
    "EventKind",
    "FieldIssue",
    "FlowError",
    "Goto",
    "IvrError",
    "Node",
    "Outcome",
    "PluginError",
    "Problem",
    "StepContext",
    "StepError",
    "Target",
    "Transition",
    "Wait",
    "iter_field",
]

"""ivr-engine: phone IVRs from declarative YAML flows, run on Twilio.

The public API for plugin authors is the `Node` base class and what it works with.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Imported on first use (PEP 562), so `import ivr_engine.cli` for `ivr --help` stays cheap.
_EXPORTS = {
    **dict.fromkeys(
        ("DefinitionError", "FlowError", "IvrError", "PluginError", "Problem", "StepError"),
        ".errors",
    ),
    **dict.fromkeys(
        (
            "End",
            "FieldIssue",
            "FieldPath",
            "Goto",
            "Node",
            "Outcome",
            "Return",
            "RunSubflow",
            "SubflowResult",
            "Target",
            "Transition",
            "Wait",
            "iter_field",
        ),
        ".node",
    ),
    "StepContext": ".runtime.context",
    "OutboundMessage": ".runtime.effects",
    "Event": ".runtime.events",
    "EventKind": ".runtime.events",
    "Services": ".runtime.services",
}

if TYPE_CHECKING:
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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ivr_engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


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

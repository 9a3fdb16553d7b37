"""Small helpers shared by built-in node types (plugins may use them too)."""

from __future__ import annotations

from ..node import End, Goto, Node, Outcome
from ..runtime.context import StepContext


def continue_or_hang_up(node: Node, ctx: StepContext) -> Outcome:
    """Go to the node's `next`; a node without one ends the call, as the flow ran out."""
    target = node.field("next")
    if target:
        return Goto(target, via="next")
    ctx.response.hangup()
    return End("end of flow")

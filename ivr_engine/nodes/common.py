"""Small helpers shared by built-in node types (plugins may use them too)."""

from __future__ import annotations

import re

from ..node import End, Goto, Node, Outcome, Target
from ..runtime.context import StepContext

# A phone number as Twilio wants it: +, the country code, then the number; 15 digits at most.
E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")


def continue_or_hang_up(node: Node, ctx: StepContext) -> Outcome:
    """Go to the node's `next`; a node without one ends the call, as the flow ran out."""
    target = node.field("next")
    if target:
        return Goto(target, via="next")
    ctx.response.hangup()
    return End("end of flow")


# The transition label of `next` on nodes that branch on an outcome (`on:`): any outcome
# not listed there.
OTHER = "other outcome"


def outcome_targets(node: Node) -> list[Target]:
    """The edges of a node that branches `on:` an outcome, then `next` for any other one."""
    found = [
        Target(("on", outcome), target, outcome) for outcome, target in node.field("on", {}).items()
    ]
    if node.field("next"):
        found.append(Target(("next",), node.spec["next"], OTHER))
    return found

"""`pause`: stay silent for a few seconds, then continue."""

from __future__ import annotations

from ..node import Node, Outcome
from ..runtime.context import StepContext
from ..schema import builtin_node_schema
from .common import continue_or_hang_up


class PauseNode(Node):
    type_name = "pause"
    schema = builtin_node_schema("pause")

    def enter(self, ctx: StepContext) -> Outcome:
        ctx.response.pause(length=self.field("seconds", 1))
        return continue_or_hang_up(self, ctx)

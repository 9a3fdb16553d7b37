"""`say`: speak a text with text-to-speech, then continue."""

from __future__ import annotations

from ..node import Node, Outcome
from ..runtime.context import StepContext
from ..schema import builtin_node_schema
from .common import continue_or_hang_up


class SayNode(Node):
    type_name = "say"
    schema = builtin_node_schema("say")
    template_fields = ("text",)

    def enter(self, ctx: StepContext) -> Outcome:
        ctx.say(ctx.response, ctx.render("text"), loop=self.field("loop"))
        return continue_or_hang_up(self, ctx)

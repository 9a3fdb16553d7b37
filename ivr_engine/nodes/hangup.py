"""`hangup`: optionally say something, then end the call."""

from __future__ import annotations

from ..node import End, Node, Outcome
from ..runtime.context import StepContext
from ..schema import builtin_node_schema


class HangupNode(Node):
    type_name = "hangup"
    schema = builtin_node_schema("hangup")
    template_fields = ("text",)
    target_fields = ()

    def enter(self, ctx: StepContext) -> Outcome:
        ctx.say(ctx.response, ctx.render("text"))
        ctx.response.hangup()
        return End("hangup")

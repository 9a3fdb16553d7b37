"""`set`: set flow variables, and switch the call's language or voice from here on."""

from __future__ import annotations

from ..node import FieldPath, Node, Outcome
from ..runtime.context import StepContext
from ..schema import builtin_node_schema
from .common import continue_or_hang_up


class SetNode(Node):
    type_name = "set"
    schema = builtin_node_schema("set")
    template_fields = ("vars.*",)
    voice_only = False

    def variables_written(self) -> list[tuple[FieldPath, str]]:
        return [(("vars", name), name) for name in self.field("vars", {})]

    def enter(self, ctx: StepContext) -> Outcome:
        for name, value in self.field("vars", {}).items():
            ctx.set_var(name, ctx.render(("vars", name)) if isinstance(value, str) else value)
        if self.field("language"):
            ctx.language = self.spec["language"]
        if self.field("voice"):
            ctx.voice = self.spec["voice"]
        return continue_or_hang_up(self, ctx)

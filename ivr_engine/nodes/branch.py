"""`branch`: go to the first case whose condition is true, else to `default`."""

from __future__ import annotations

from ..node import Goto, Node, Outcome, Target
from ..runtime.context import StepContext
from ..schema import builtin_node_schema


class BranchNode(Node):
    type_name = "branch"
    schema = builtin_node_schema("branch")
    expression_fields = ("cases.*.when",)
    target_fields = ("cases.*.next", "default")
    voice_only = False

    def targets(self) -> list[Target]:
        found = [
            Target(("cases", i, "next"), case["next"], f"when {case['when']}")
            for i, case in enumerate(self.spec["cases"])
        ]
        return [*found, Target(("default",), self.spec["default"], "otherwise")]

    def enter(self, ctx: StepContext) -> Outcome:
        for i, case in enumerate(self.spec["cases"]):
            if ctx.evaluate(("cases", i, "when")):
                return Goto(case["next"], via=f"when {case['when']}")
        return Goto(self.spec["default"], via="otherwise")

"""`return`: the end of a subflow; the call goes back to the subflow node that ran it.

A flow that was not run as a subflow (a caller dialled it directly) simply hangs up here.
"""

from __future__ import annotations

from ..node import Node, Outcome, Return
from ..runtime.context import StepContext
from ..schema import builtin_node_schema


class ReturnNode(Node):
    type_name = "return"
    schema = builtin_node_schema("return")
    target_fields = ()

    def enter(self, ctx: StepContext) -> Outcome:
        return Return()

"""`subflow`: run another flow of the same folder, then continue here when it returns.

The runtime keeps the caller's variables aside while the subflow runs with its own (its
defaults plus `vars` passed in). When the subflow reaches a `return` node, its results come
back either all at once as a map (`into: pin` -> `{{ pin.ok }}`) or one by one
(`return: {verified: "{{ ok }}"}`, each template read in the subflow).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..model import Flow
from ..node import FieldIssue, FieldPath, Node, Outcome, RunSubflow, SubflowResult, Target
from ..runtime.context import StepContext
from ..schema import builtin_node_schema
from ..templates import BUILTIN_NAMES, CompiledText, TemplateSyntaxProblem, check_template
from ..wording import quote, suggest
from .common import continue_or_hang_up


class SubflowNode(Node):
    type_name = "subflow"
    schema = builtin_node_schema("subflow")
    template_fields = ("vars.*",)
    flow_fields = ("flow",)

    def targets(self) -> list[Target]:
        return [Target(("next",), self.spec["next"], "returned")] if self.field("next") else []

    def variables_written(self) -> list[tuple[FieldPath, str]]:
        written = [(("return", name), name) for name in self.field("return", {})]
        if self.field("into"):
            written.append((("into",), self.spec["into"]))
        return written

    def check(self) -> Iterator[FieldIssue]:
        """`return` templates are read in the subflow: here only their syntax can be checked."""
        for name, value in self.field("return", {}).items():
            if isinstance(value, str):
                try:
                    check_template(value)
                except TemplateSyntaxProblem as exc:
                    yield FieldIssue(("return", name), str(exc))

    def check_called(self, path: FieldPath, flow: Flow) -> Iterator[FieldIssue]:
        known = variables_of(flow)
        for name in self.field("vars", {}):
            if name not in known:
                yield FieldIssue(
                    ("vars", name),
                    f"the flow {quote(flow.id)} has no variable {quote(name)}{suggest(name, known)}: "
                    f"pass one it declares under `vars:` ({', '.join(sorted(flow.vars)) or 'none'})",
                )
        for name, value in self.field("return", {}).items():
            if not isinstance(value, str):
                continue
            names, _, _ = check_template(value)
            for unknown in sorted(names - known - BUILTIN_NAMES):
                yield FieldIssue(
                    ("return", name),
                    f"uses the variable {quote(unknown)}, which the flow {quote(flow.id)} never sets"
                    f"{suggest(unknown, known)}",
                )

    def enter(self, ctx: StepContext) -> Outcome:
        passed: dict[str, Any] = {
            name: ctx.render(("vars", name)) if isinstance(value, str) else value
            for name, value in self.field("vars", {}).items()
        }
        return RunSubflow(self.spec["flow"], passed)

    def returned(self, ctx: StepContext, result: SubflowResult) -> Outcome:
        if self.field("into"):
            ctx.set_var(self.spec["into"], dict(result.vars))
        for name, value in self.field("return", {}).items():
            if isinstance(value, str):
                value = CompiledText({"*": value}, frozenset()).render(result.scope, ctx.language)
            ctx.set_var(name, value)
        return continue_or_hang_up(self, ctx)


def variables_of(flow: Flow) -> set[str]:
    """Variables a flow declares or fills: what a caller may pass in or read back."""
    names = set(flow.vars)
    for node in flow.nodes.values():
        names |= {name for _, name in node.variables_written()}
    return names

"""`gather`: collect digits or speech into a variable, checked against an optional pattern."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..node import FieldIssue, Goto, Node, Outcome, Target, Transition
from ..runtime.context import StepContext
from ..runtime.events import Event, EventKind
from ..schema import builtin_node_schema
from .prompting import PROMPT_FIELDS, ask, retry, retry_transitions

ANSWER = "answer"


class GatherNode(Node):
    type_name = "gather"
    schema = builtin_node_schema("gather")
    template_fields = PROMPT_FIELDS
    target_fields = ("next", "on_failure")
    variable_fields = ("into",)
    waits = True

    def targets(self) -> list[Target]:
        found = [Target(("next",), self.spec["next"], ANSWER)]
        if self.field("on_failure"):
            found.append(Target(("on_failure",), self.spec["on_failure"], "failure"))
        return found

    def transitions(self) -> list[Transition]:
        answer = Transition(ANSWER, self.spec["next"])
        return [answer, *retry_transitions(self, can_mismatch=self.field("pattern") is not None)]

    def check(self) -> Iterator[FieldIssue]:
        pattern = self.field("pattern")
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                yield FieldIssue(
                    ("pattern",),
                    f'"{pattern}" is not a valid pattern: {exc}: fix the regular expression',
                )
        if self.field("num_digits") and self.field("input", "dtmf") == "speech":
            yield FieldIssue(
                ("num_digits",),
                "has no effect when callers can only speak: remove it or allow dtmf",
                warning=True,
            )

    def enter(self, ctx: StepContext, lead_in: str | None = None) -> Outcome:
        options: dict[str, Any] = {
            "num_digits": self.field("num_digits"),
            "finish_on_key": self.field("finish_on_key"),
        }
        if self.field("hints"):
            options["hints"] = ", ".join(self.spec["hints"])
        return ask(self, ctx, options, lead_in)

    def resume(self, ctx: StepContext, event: Event) -> Outcome:
        if event.kind is not EventKind.INPUT or not event.has_input:
            return retry(self, ctx, "no_input", self.enter)
        answer = event.digits or event.speech
        pattern = self.field("pattern")
        if pattern is not None and not re.fullmatch(pattern, answer):
            spoken = _spoken_number(answer) if not event.digits else None
            if spoken is None or not re.fullmatch(pattern, spoken):
                return retry(self, ctx, "no_match", self.enter)
            answer = spoken
        ctx.set_var(self.spec["into"], answer)
        return Goto(self.spec["next"], via=ANSWER)


def _spoken_number(speech: str) -> str | None:
    """A number as speech recognition writes it ("1234 5678.") as keys would give it."""
    text = speech.strip().rstrip(".!?")
    return re.sub(r"[\s-]", "", text) if _SPOKEN_DIGITS.fullmatch(text) else None


_SPOKEN_DIGITS = re.compile(r"[0-9][0-9\s-]*")

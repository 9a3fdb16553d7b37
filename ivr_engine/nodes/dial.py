"""`dial`: connect the caller to numbers, SIP, a client or a queue; branch on the result."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..node import End, FieldIssue, Goto, Node, Outcome, Target, Transition, Wait
from ..runtime.context import StepContext
from ..runtime.events import Event, EventKind
from ..schema import builtin_node_schema

DESTINATIONS = ("to", "sip", "client", "queue")
OUTCOMES = ("completed", "answered", "busy", "no-answer", "failed", "canceled")
OTHER = "other outcome"  # the transition label of `next`: any outcome not listed under `on`


class DialNode(Node):
    type_name = "dial"
    schema = builtin_node_schema("dial")
    target_fields = ("on.*", "next")
    waits = True

    def targets(self) -> list[Target]:
        found = [
            Target(("on", outcome), target, outcome)
            for outcome, target in self.field("on", {}).items()
        ]
        if self.field("next"):
            found.append(Target(("next",), self.spec["next"], OTHER))
        return found

    def transitions(self) -> list[Transition]:
        found = super().transitions()
        if not self.field("next") and set(OUTCOMES) - set(self.field("on", {})):
            found.append(Transition(OTHER, None))  # an outcome nothing handles hangs up
        return found

    def destination(self) -> tuple[str, Any]:
        for name in DESTINATIONS:
            if name in self.spec:
                return name, self.spec[name]
        raise LookupError("dial node without destination")  # prevented by check()

    def check(self) -> Iterator[FieldIssue]:
        given = [name for name in DESTINATIONS if name in self.spec]
        if not given:
            yield FieldIssue((), "has no destination: add one of to, sip, client or queue")
        elif len(given) > 1:
            yield FieldIssue(
                (given[1],),
                f'is a second destination besides "{given[0]}": a dial calls only one, '
                "so keep one of them",
            )

    def enter(self, ctx: StepContext) -> Outcome:
        options: dict[str, Any] = {
            "action": ctx.action_url("dial"),
            "method": "POST",
            "timeout": self.field("timeout", 30),
        }
        if self.field("caller_id"):
            options["caller_id"] = self.spec["caller_id"]
        if self.field("record"):
            options["record"] = "record-from-answer"
        if self.field("time_limit"):
            options["time_limit"] = self.spec["time_limit"]
        dial = ctx.response.dial(**options)
        kind, value = self.destination()
        if kind == "to":
            for number in [value] if isinstance(value, str) else value:
                dial.number(number)
        elif kind == "sip":
            dial.sip(value)
        elif kind == "client":
            dial.client(value)
        else:
            dial.queue(value)
        return Wait()

    def resume(self, ctx: StepContext, event: Event) -> Outcome:
        status = (
            event.params.get("DialCallStatus", "failed")
            if event.kind is EventKind.DIAL
            else "failed"
        )
        listed = self.field("on", {}).get(status)
        if listed:
            return Goto(listed, via=status)
        if self.field("next"):
            return Goto(self.spec["next"], via=OTHER)
        ctx.response.hangup()
        return End(f"dial {status}", via=OTHER)

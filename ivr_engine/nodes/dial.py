"""`dial`: connect the caller to numbers, SIP, a client or a queue; branch on the result.

Every destination and the caller ID may be templates (`to: "{{ pharmacist }}"`, a number an
`http` node fetched): a literal is checked when the flow is loaded, a rendered value when the
call gets there. One that is not valid then takes the node's `on: failed` branch, else the
flow's `on_error`, and the log names the node and the value.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from ..errors import StepError
from ..node import End, FieldIssue, Goto, Node, Outcome, Target, Transition, Wait
from ..runtime.context import StepContext
from ..runtime.events import Event, EventKind
from ..schema import builtin_node_schema
from .common import E164, OTHER, outcome_targets

log = logging.getLogger("ivr_engine.nodes.dial")

DESTINATIONS = ("to", "sip", "client", "queue")
OUTCOMES = ("completed", "answered", "busy", "no-answer", "failed", "canceled")


class DialNode(Node):
    type_name = "dial"
    schema = builtin_node_schema("dial")
    target_fields = ("on.*", "next")
    template_fields = ("to", "to.*", "sip", "client", "queue", "caller_id")
    waits = True

    def targets(self) -> list[Target]:
        return outcome_targets(self)

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
        kind, value = self.destination()
        paths = [(kind,)] if isinstance(value, str) else [(kind, i) for i in range(len(value))]
        rendered = [(path, (ctx.render(path) or "").strip()) for path in paths]
        caller_id = (ctx.render("caller_id") or "").strip() if self.field("caller_id") else ""
        for path, text in [*rendered, (("caller_id",), caller_id)] if caller_id else rendered:
            problem = _invalid(path[0], text)
            if problem:
                return self._cannot_dial(ctx, path, text, problem)
        options: dict[str, Any] = {
            "action": ctx.action_url("dial"),
            "method": "POST",
            "timeout": self.field("timeout", 30),
        }
        if caller_id:
            options["caller_id"] = caller_id
        if self.field("record"):
            options["record"] = "record-from-answer"
        if self.field("time_limit"):
            options["time_limit"] = self.spec["time_limit"]
        dial = ctx.response.dial(**options)
        for _, text in rendered:
            if kind == "to":
                dial.number(text)
            elif kind == "sip":
                dial.sip(text)
            elif kind == "client":
                dial.client(text)
            else:
                dial.queue(text)
        return Wait()

    def _cannot_dial(
        self, ctx: StepContext, path: tuple[Any, ...], text: str, problem: str
    ) -> Outcome:
        field = ".".join(str(part) for part in path)
        where = f'node "{self.id}", field "{field}": "{text}" {problem}'
        failed = self.field("on", {}).get("failed")
        log.warning(
            "call %s: %s; %s",
            ctx.call.get("sid", ""),
            where,
            f'taking on: failed ("{failed}")' if failed else "taking the flow's on_error",
        )
        if failed:
            return Goto(failed, via="failed")
        raise StepError(f"cannot dial: {where}")

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


def _invalid(field: str, text: str) -> str | None:
    """Why a rendered destination or caller ID cannot be dialled, or None when it can."""
    if field in ("to", "caller_id"):
        if not E164.match(text):
            return "is not a phone number in E.164 form (+ then country code and number)"
    elif field == "sip":
        if not text.startswith(("sip:", "sips:")):
            return "is not a SIP address (sip:... or sips:...)"
    elif not text:
        return "is empty"
    return None

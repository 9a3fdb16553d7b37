"""`dequeue`: an agent's call takes the next caller waiting in a queue (`<Dial><Queue>`).

The counterpart of `enqueue`: both name the same queue. The caller being taken may first hear
`announce` ("you are now connected to an agent"): Twilio requests the `<Queue url>` for the
caller's leg, with `DequeingCallSid` naming the agent's call, whose session waits here, so
this node answers it (`Node.aside`). When the bridge ends Twilio requests the `<Dial>` action
of the agent's call: `bridged` (a caller was connected), `empty` (nobody came within
`timeout`), `failed` (no such queue, or Twilio could not connect).
"""

from __future__ import annotations

from typing import Any

from ..node import End, Goto, Node, Outcome, Target, Transition, Wait
from ..runtime.context import StepContext
from ..runtime.events import Event, EventKind
from ..schema import builtin_node_schema
from .common import OTHER, outcome_targets

OUTCOMES = ("bridged", "empty", "failed")
# DialCallStatus -> outcome (an empty queue waits until the <Dial> timeout: no-answer)
STATUSES = {"completed": "bridged", "answered": "bridged", "no-answer": "empty"}


class DequeueNode(Node):
    type_name = "dequeue"
    schema = builtin_node_schema("dequeue")
    template_fields = ("announce",)
    target_fields = ("on.*", "next")
    waits = True

    def targets(self) -> list[Target]:
        return outcome_targets(self)

    def transitions(self) -> list[Transition]:
        found = super().transitions()
        if not self.field("next") and set(OUTCOMES) - set(self.field("on", {})):
            found.append(Transition(OTHER, None))
        return found

    def enter(self, ctx: StepContext) -> Outcome:
        dial = ctx.response.dial(
            action=ctx.action_url(EventKind.DIAL.value),
            method="POST",
            timeout=self.field("timeout", 30),
        )
        options: dict[str, Any] = {}
        if self.field("announce"):
            options = {"url": ctx.action_url(EventKind.BRIDGE.value), "method": "POST"}
        dial.queue(self.spec["queue"], **options)
        return Wait()

    def aside(self, ctx: StepContext, event: Event) -> None:
        """What the caller taken from the queue hears before being connected."""
        ctx.say(ctx.response, ctx.render("announce"))

    def resume(self, ctx: StepContext, event: Event) -> Outcome:
        status = (
            event.params.get("DialCallStatus", "failed") if event.kind is EventKind.DIAL else ""
        )
        outcome = STATUSES.get(status, "failed")
        listed = self.field("on", {}).get(outcome)
        if listed:
            return Goto(listed, via=outcome)
        if self.field("next"):
            return Goto(self.spec["next"], via=OTHER)
        ctx.response.hangup()
        return End(f"dequeue {outcome}", via=OTHER)

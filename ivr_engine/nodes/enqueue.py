"""`enqueue`: hold the caller in a named queue until an agent takes the call; branch on how it ended.

The engine serves the hold treatment itself: `<Enqueue waitUrl=...>` points Twilio back at this
node (`Node.aside`), which answers each waitUrl request with the caller's position and expected
wait (when an announcement is due), then the hold music. After `max_wait` seconds the caller is
offered a call back (a key press in a `<Gather>` of the wait document, then `<Leave/>`), or,
when the flow takes no call backs, leaves the queue. When the call leaves the queue Twilio
requests the `<Enqueue>` action with `QueueResult`, and the call goes on from here.

The node's variable (`into`, default `queue`) holds what Twilio said about the wait
(`position`, `size`, `average_wait`, `waited`, `result`), so announcements and later nodes can
read it; it also remembers when the last announcement was made and whether the caller asked to
be called back.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..callbacks import CallbackRequest
from ..errors import StepError
from ..node import End, FieldIssue, Goto, Node, Outcome, Target, Transition, Wait
from ..runtime.context import StepContext
from ..runtime.events import Event, EventKind
from ..schema import builtin_node_schema
from .common import OTHER, outcome_targets

# Twilio's own hold music (its default waitUrl plays this classical collection).
DEFAULT_MUSIC = "http://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3"
DEFAULT_OFFER = "To be called back instead of waiting, press {key}."
DEFAULT_VARIABLE = "queue"
ANNOUNCE_EVERY = 60
OUTCOMES = ("bridged", "left", "timeout", "callback", "full", "failed")
HANGUP = "hangup"
# QueueResult values (twilio-reference.md) -> the node's outcomes; anything else is "failed".
RESULTS = {
    "bridged": "bridged",
    "bridging-in-process": "bridged",
    "redirected-from-bridged": "bridged",
    "leave": "left",
    "queue-full": "full",
    "hangup": HANGUP,
}


def _number(params: Any, name: str) -> int:
    raw = str(params.get(name, "")).strip()
    return int(raw) if raw.isdigit() else 0


class EnqueueNode(Node):
    type_name = "enqueue"
    schema = builtin_node_schema("enqueue")
    template_fields = ("announce", "callback_offer", "callback_number")
    target_fields = ("on.*", "next")
    variable_fields = ("into",)
    waits = True

    def targets(self) -> list[Target]:
        return outcome_targets(self)

    def transitions(self) -> list[Transition]:
        found = super().transitions()
        found.append(Transition(HANGUP, None))  # the caller hung up while waiting
        if not self.field("next") and set(self._possible()) - set(self.field("on", {})):
            found.append(Transition(OTHER, None))  # an outcome nothing handles hangs up
        return found

    def variables_written(self) -> list[tuple[tuple[str | int, ...], str]]:
        return [(("into",), self.field("into", DEFAULT_VARIABLE))]

    def _possible(self) -> list[str]:
        """The outcomes this node can have: call backs and time-outs only when configured."""
        found = ["bridged", "left", "full", "failed"]
        if self.field("max_wait"):
            found.append("callback" if self.offers_callback else "timeout")
        return found

    @property
    def offers_callback(self) -> bool:
        return "callback" in self.field("on", {})

    def check(self) -> Iterator[FieldIssue]:
        on = self.field("on", {})
        if ("callback" in on or "timeout" in on) and not self.field("max_wait"):
            outcome = "callback" if "callback" in on else "timeout"
            yield FieldIssue(
                ("on", outcome),
                f"never happens without max_wait: add max_wait (seconds before the caller is "
                f"{'offered a call back' if outcome == 'callback' else 'taken out of the queue'})",
            )
        if "callback" in on and "timeout" in on:
            yield FieldIssue(
                ("on", "timeout"),
                "never happens when call backs are offered: after max_wait the caller is "
                "offered a call back and stays in the queue; remove timeout or callback",
                warning=True,
            )
        every, most = self.field("announce_every", ANNOUNCE_EVERY), self.field("max_wait")
        if most and self.field("announce") and every > most:
            yield FieldIssue(
                ("announce_every",),
                f"is longer than max_wait ({every} > {most} seconds): the caller hears the "
                "announcement once at most",
                warning=True,
            )

    # ---- run time --------------------------------------------------------------------

    def _state(self, ctx: StepContext) -> dict[str, Any]:
        value = ctx.vars.get(self.field("into", DEFAULT_VARIABLE))
        return dict(value) if isinstance(value, dict) else {}

    def _keep(self, ctx: StepContext, state: dict[str, Any]) -> None:
        ctx.set_var(self.field("into", DEFAULT_VARIABLE), state)

    def enter(self, ctx: StepContext) -> Outcome:
        self._keep(
            ctx,
            {
                "name": self.spec["queue"],
                "position": 0,
                "size": 0,
                "average_wait": 0,
                "waited": 0,
                "result": "",
                "announced_at": None,
                "callback": False,
                "timed_out": False,
            },
        )
        ctx.response.enqueue(
            self.spec["queue"],
            action=ctx.action_url(EventKind.ENQUEUE.value),
            method="POST",
            wait_url=ctx.action_url(EventKind.WAIT.value),
            wait_url_method="POST",
        )
        return Wait()

    def aside(self, ctx: StepContext, event: Event) -> None:
        if event.kind is EventKind.HOLD:
            self._pressed(ctx, event)
        else:
            self._hold(ctx, event)

    def _hold(self, ctx: StepContext, event: Event) -> None:
        """One waitUrl document: announcement when due, call-back offer after max_wait, music."""
        state = self._state(ctx)
        waited = _number(event.params, "QueueTime")
        state.update(
            position=_number(event.params, "QueuePosition"),
            size=_number(event.params, "CurrentQueueSize"),
            average_wait=_number(event.params, "AvgQueueTime"),
            waited=waited,
        )
        self._keep(ctx, state)
        most = self.field("max_wait")
        if most and waited >= most and not self.offers_callback:
            state["timed_out"] = True
            self._keep(ctx, state)
            ctx.response.leave()
            return
        announced = state.get("announced_at")
        every = self.field("announce_every", ANNOUNCE_EVERY)
        if self.field("announce") and (announced is None or waited - announced >= every):
            state["announced_at"] = waited
            self._keep(ctx, state)
            ctx.say(ctx.response, ctx.render("announce"))
        if most and waited >= most:
            key = self.field("callback_key", "1")
            gather = ctx.response.gather(
                input="dtmf",
                num_digits=1,
                action=ctx.action_url(EventKind.HOLD.value),
                method="POST",
                timeout=5,
            )
            offer = ctx.render("callback_offer") or DEFAULT_OFFER.format(key=key)
            ctx.say(gather, offer)
        ctx.response.play(self.field("music", DEFAULT_MUSIC))

    def _pressed(self, ctx: StepContext, event: Event) -> None:
        """A key in the call-back offer: the right one takes the caller out of the queue."""
        if self.offers_callback and event.digits == self.field("callback_key", "1"):
            state = self._state(ctx)
            state["callback"] = True
            self._keep(ctx, state)
            ctx.response.leave()
        # any other key: an empty answer, and Twilio goes back to the waitUrl

    async def resume(self, ctx: StepContext, event: Event) -> Outcome:
        state = self._state(ctx)
        result = event.params.get("QueueResult", "") if event.kind is EventKind.ENQUEUE else ""
        state["result"] = result or "error"
        if event.params.get("QueueTime", "").isdigit():
            state["waited"] = int(event.params["QueueTime"])
        outcome = RESULTS.get(result, "failed")
        if outcome == "left" and state.get("callback"):
            outcome = "callback"
            await self._record_callback(ctx, state)
        elif outcome == "left" and state.get("timed_out"):
            outcome = "timeout"
        self._keep(ctx, state)
        if outcome == HANGUP:
            return End("caller hung up in the queue", via=HANGUP)
        listed = self.field("on", {}).get(outcome)
        if listed:
            return Goto(listed, via=outcome)
        if self.field("next"):
            return Goto(self.spec["next"], via=OTHER)
        ctx.response.hangup()
        return End(f"queue {outcome}", via=OTHER)

    async def _record_callback(self, ctx: StepContext, state: dict[str, Any]) -> None:
        store = ctx.services.callbacks
        if store is None:
            raise StepError("no call-back store was given to the runtime (Services.callbacks)")
        number = ctx.render("callback_number") or str(ctx.call.get("from", ""))
        await store.add(
            CallbackRequest(
                call_sid=str(ctx.call.get("sid", "")),
                step=ctx.step,
                flow_id=ctx.flow.id,
                node_id=self.id,
                queue=self.spec["queue"],
                number=number,
                waited=int(state.get("waited") or 0),
                requested_at=ctx.now,
            )
        )

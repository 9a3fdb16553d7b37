"""`verify`: check who is calling with a one-time code sent through Twilio Verify.

On arrival the node asks Verify (`ctx.services.verify`) to send a code to `to` (the caller's
number by default) over `channel`, then over each `fallback` channel in turn while sending
fails. The caller keys the code in (the same `<Gather>` prompting as `gather`), and Verify
checks it. Outcomes: `approved`; `denied` (wrong code `attempts` times, or Verify's own
attempt limit); `expired` (the code is no longer valid: Verify answers 20404 or `expired`);
`failed` (the code could not be sent or checked: 60200 invalid number, 60203 too many sends,
Twilio unreachable). The code itself never goes into TwiML, the session or a log line: only
Verify sees it. The node's variable (`into`) gets `status`, `channel` and `error_code`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import StepError
from ..node import End, FieldIssue, Goto, Node, Outcome, Target, Transition, Wait
from ..runtime.context import StepContext
from ..runtime.events import Event, EventKind
from ..schema import builtin_node_schema
from .common import OTHER, outcome_targets
from .prompting import NO_INPUT, ask

# What a Verify client (`Services.verify`, e.g. `ivr_engine.verify.VerifyClient`) raises
# and answers: the node knows only these, so loading flows needs no REST client.
NOT_FOUND = "20404"  # the verification expired, or was approved or canceled already


@dataclass(frozen=True)
class VerifyError(Exception):
    """Twilio refused a Verify request (`code` e.g. "60200"), or could not be reached ("")."""

    code: str
    reason: str

    def __str__(self) -> str:
        return f"Verify error {self.code}: {self.reason}" if self.code else self.reason


log = logging.getLogger("ivr_engine.nodes.verify")

OUTCOMES = ("approved", "denied", "expired", "failed")
WRONG_CODE = "wrong code"
DEFAULT_PROMPT = "Please enter the code we just sent you."
DEFAULT_ATTEMPTS = 3
# Sending again over another channel cannot help with these: the number is invalid, the
# verification has had too many sends, or the account is rate limited.
NO_FALLBACK = frozenset({"60200", "60203", "20429"})
MAX_CHECKS = "60202"  # Verify's own limit of 5 checks per verification
EXPIRED_STATUSES = frozenset({"expired", "canceled", "deleted"})


class VerifyNode(Node):
    type_name = "verify"
    schema = builtin_node_schema("verify")
    template_fields = ("to", "prompt", "no_input", "wrong_code")
    target_fields = ("on.*", "next")
    variable_fields = ("into",)
    secret_input = True  # the code the caller keys never reaches the call history
    waits = True

    def targets(self) -> list[Target]:
        return outcome_targets(self)

    def transitions(self) -> list[Transition]:
        found = super().transitions()
        if self.field("attempts", DEFAULT_ATTEMPTS) > 1:
            found += [Transition(NO_INPUT, self.id), Transition(WRONG_CODE, self.id)]
        if not self.field("next") and set(OUTCOMES) - set(self.field("on", {})):
            found.append(Transition(OTHER, None))
        return found

    def check(self) -> Iterator[FieldIssue]:
        channels = [self.field("channel", "sms"), *self.field("fallback", ())]
        for index, channel in enumerate(channels[1:]):
            if channel in channels[: index + 1]:
                yield FieldIssue(
                    ("fallback", index),
                    f'"{channel}" is tried already, as the channel or an earlier fallback: '
                    "list each channel once",
                )
        if "approved" not in self.field("on", {}) and not self.field("next"):
            yield FieldIssue(
                ("on",),
                "has no way on for a caller who keyed the right code: add approved",
            )

    # ---- run time --------------------------------------------------------------------

    def _client(self, ctx: StepContext) -> Any:
        client = ctx.services.verify
        if client is None:
            raise StepError(
                "Twilio Verify is not set up: set IVR_VERIFY_SERVICE_SID (and the Twilio "
                "account credentials) for verify nodes"
            )
        return client

    def _to(self, ctx: StepContext) -> str:
        return ctx.render("to") or str(ctx.call.get("from", ""))

    def _note(self, ctx: StepContext, status: str, channel: str = "", code: str = "") -> None:
        if self.field("into"):
            ctx.set_var(
                self.spec["into"], {"status": status, "channel": channel, "error_code": code}
            )

    async def enter(self, ctx: StepContext) -> Outcome:
        client = self._client(ctx)
        to = self._to(ctx)
        failure: VerifyError | None = None
        for channel in (self.field("channel", "sms"), *self.field("fallback", ())):
            try:
                await client.start(to, channel, self.field("locale"))
            except VerifyError as exc:
                failure = exc
                log.warning(
                    "call %s: node %r: sending a code by %s failed: %s",
                    ctx.call.get("sid", "?"),
                    self.id,
                    channel,
                    exc,
                )
                if exc.code in NO_FALLBACK:
                    break
                continue
            self._note(ctx, "pending", channel)
            return self._ask(ctx, None)
        self._note(ctx, "failed", code=failure.code if failure else "")
        return self._outcome(ctx, "failed")

    def _ask(self, ctx: StepContext, lead_in: str | None) -> Outcome:
        options = {"num_digits": self.field("digits", 6), "finish_on_key": "#"}
        if ctx.render("prompt") is None:  # the default prompt, as if written in the flow
            gather_lead = " ".join(t for t in (lead_in, DEFAULT_PROMPT) if t)
            return ask(self, ctx, options, gather_lead)
        return ask(self, ctx, options, lead_in)

    async def resume(self, ctx: StepContext, event: Event) -> Outcome:
        if event.kind is not EventKind.INPUT or not event.digits:
            return self._again(ctx, "no_input", NO_INPUT)
        current = ctx.vars.get(self.field("into") or "", {})
        channel = current.get("channel", "") if isinstance(current, dict) else ""
        try:
            status = await self._client(ctx).check(self._to(ctx), event.digits)
        except VerifyError as exc:
            outcome = {NOT_FOUND: "expired", MAX_CHECKS: "denied"}.get(exc.code, "failed")
            self._note(ctx, outcome, channel, exc.code)
            return self._outcome(ctx, outcome)
        if status == "approved":
            self._note(ctx, "approved", channel)
            return self._outcome(ctx, "approved")
        if status in EXPIRED_STATUSES or status in ("max_attempts_reached", "failed"):
            outcome = {"max_attempts_reached": "denied", "failed": "failed"}.get(status, "expired")
            self._note(ctx, outcome, channel)
            return self._outcome(ctx, outcome)
        return self._again(ctx, "wrong_code", WRONG_CODE)  # "pending": not the right code

    def _again(self, ctx: StepContext, message_field: str, via: str) -> Outcome:
        if ctx.attempt() >= self.field("attempts", DEFAULT_ATTEMPTS):
            current = ctx.vars.get(self.field("into") or "", {})
            channel = current.get("channel", "") if isinstance(current, dict) else ""
            self._note(ctx, "denied", channel)
            return self._outcome(ctx, "denied")
        default = "Sorry, that code is not right." if via == WRONG_CODE else None
        outcome = self._ask(ctx, ctx.render(message_field) or default)
        return Wait(via=via) if isinstance(outcome, Wait) else outcome

    def _outcome(self, ctx: StepContext, outcome: str) -> Outcome:
        listed = self.field("on", {}).get(outcome)
        if listed:
            return Goto(listed, via=outcome)
        if self.field("next"):
            return Goto(self.spec["next"], via=OTHER)
        ctx.response.hangup()
        return End(f"verification {outcome}", via=OTHER)

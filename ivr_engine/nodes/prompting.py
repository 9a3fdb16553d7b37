"""What menu and gather share: ask inside a `<Gather>`, count failed attempts, re-prompt.

The prompt is nested in the `<Gather>` so callers can barge in; Twilio skips the action when
the caller says nothing, so a `<Redirect>` after the `<Gather>` brings that case back as a
no-input event. After the last attempt the call goes to `on_failure`, else it hangs up.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..node import End, Goto, Node, Outcome, Transition, Wait
from ..runtime.context import StepContext

DEFAULT_ATTEMPTS = 3
# The keys of a phone's keypad: what a caller can press (`Digits`).
KEYS = frozenset("0123456789*#")
# Transition labels (`via`) of the ways a prompting node can go besides the answer.
NO_INPUT = "no input"
NO_MATCH = "no match"
FAILURE = "failure"


def ask(
    node: Node, ctx: StepContext, gather_options: dict[str, Any], lead_in: str | None = None
) -> Outcome:
    """Put the node's prompt (after an optional no-input / no-match text) into a `<Gather>`."""
    input_kind = node.field("input", "dtmf")
    options: dict[str, Any] = {
        "input": input_kind,
        "action": ctx.action_url("input"),
        "method": "POST",
        "timeout": node.field("timeout", 5),
        "language": ctx.speech_settings()["language"],
    }
    if "speech" in input_kind:
        options["speech_timeout"] = "auto"
    options.update({k: v for k, v in gather_options.items() if v is not None})
    gather = ctx.response.gather(**options)
    ctx.say(gather, lead_in)
    ctx.say(gather, ctx.render("prompt"))
    ctx.response.redirect(ctx.action_url("no-input"), method="POST")
    return Wait()


def retry(node: Node, ctx: StepContext, message_field: str, again: Any) -> Outcome:
    """One more failed attempt: re-prompt with the node's message, or give up."""
    if ctx.attempt() >= node.field("attempts", DEFAULT_ATTEMPTS):
        target = node.field("on_failure")
        if target:
            return Goto(target, via=FAILURE)
        ctx.response.hangup()
        return End("no valid input", via=FAILURE)
    outcome = again(ctx, ctx.render(message_field))
    if isinstance(outcome, Wait):
        return replace(outcome, via=NO_INPUT if message_field == "no_input" else NO_MATCH)
    return outcome


def retry_transitions(node: Node, *, can_mismatch: bool = True) -> list[Transition]:
    """The re-prompts (when more than one attempt is allowed) and the give-up way of a node."""
    found: list[Transition] = []
    if node.field("attempts", DEFAULT_ATTEMPTS) > 1:
        found.append(Transition(NO_INPUT, node.id))
        if can_mismatch:
            found.append(Transition(NO_MATCH, node.id))
    found.append(Transition(FAILURE, node.field("on_failure")))
    return found


PROMPT_FIELDS = ("prompt", "no_input", "no_match")

"""What menu and gather share: ask inside a `<Gather>`, count failed attempts, re-prompt.

The prompt is nested in the `<Gather>` so callers can barge in; Twilio skips the action when
the caller says nothing, so a `<Redirect>` after the `<Gather>` brings that case back as a
no-input event. After the last attempt the call goes to `on_failure`, else it hangs up.
"""

from __future__ import annotations

from typing import Any

from ..node import End, Goto, Node, Outcome, Wait
from ..runtime.context import StepContext

DEFAULT_ATTEMPTS = 3


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
            return Goto(target)
        ctx.response.hangup()
        return End("no valid input")
    return again(ctx, ctx.render(message_field))


PROMPT_FIELDS = ("prompt", "no_input", "no_match")
PROMPT_TARGETS = ("on_failure",)

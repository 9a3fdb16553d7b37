"""`survey_question`: ask the caller for a rating from 1 to 5 and store it as a number.

The caller presses a key or says the number. Anything else is asked again (after the
`invalid` text) up to `attempts` times; then the call goes to `on_failure`, or on to `next`
with no rating stored when there is no `on_failure`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ivr_engine import Event, EventKind, FieldIssue, Goto, Node, Outcome, StepContext, Target, Wait

SPOKEN = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}


class SurveyQuestionNode(Node):
    type_name = "survey_question"
    schema = {
        "type": "object",
        "title": "Survey question",
        "description": "Ask the caller for a rating from 1 to 5 and store it as a number.",
        "properties": {
            "question": {
                "type": "string",
                "minLength": 1,
                "title": "Question",
                "description": "What the caller hears. May use {{ variables }}.",
                "examples": ["On a scale of 1 to 5, how happy are you with our service?"],
            },
            "into": {
                "type": "string",
                "pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
                "title": "Store into variable",
                "description": "Variable that receives the rating, a number from 1 to 5.",
            },
            "invalid": {
                "type": "string",
                "title": "When the answer is not 1-5",
                "description": "Said before asking again.",
                "default": "Please answer with a number from 1 to 5.",
            },
            "attempts": {
                "type": "integer",
                "minimum": 1,
                "maximum": 5,
                "default": 2,
                "title": "Attempts",
                "description": "How many times to ask before giving up.",
            },
            "next": {
                "type": "string",
                "title": "Next node",
                "description": "Where the call goes after the question.",
            },
            "on_failure": {
                "type": "string",
                "title": "After the last attempt",
                "description": "Where the call goes when no valid rating came; next when omitted.",
            },
        },
        "required": ["question", "into", "next"],
        "additionalProperties": False,
    }
    template_fields = ("question", "invalid")
    target_fields = ("next", "on_failure")
    variable_fields = ("into",)
    waits = True

    def targets(self) -> list[Target]:
        found = [Target(("next",), self.spec["next"], "rated")]
        if self.field("on_failure"):
            found.append(Target(("on_failure",), self.spec["on_failure"], "no rating"))
        return found

    def check(self) -> Iterator[FieldIssue]:
        if self.field("attempts", 2) > 3:
            yield FieldIssue(
                ("attempts",),
                "callers rarely answer a survey after 3 tries: consider 2 or 3",
                warning=True,
            )

    def enter(self, ctx: StepContext, lead_in: str | None = None) -> Outcome:
        gather = ctx.response.gather(
            input="dtmf speech",
            num_digits=1,
            action=ctx.action_url("input"),
            method="POST",
            timeout=5,
            speech_timeout="auto",
            hints="one, two, three, four, five",
            language=ctx.speech_settings()["language"],
        )
        ctx.say(gather, lead_in)
        ctx.say(gather, ctx.render("question"))
        ctx.response.redirect(ctx.action_url("no-input"), method="POST")
        return Wait()

    def resume(self, ctx: StepContext, event: Event) -> Outcome:
        rating = rating_of(event) if event.kind is EventKind.INPUT else None
        if rating is not None:
            ctx.set_var(self.spec["into"], rating)
            return Goto(self.spec["next"])
        if ctx.attempt() >= self.field("attempts", 2):
            return Goto(self.field("on_failure") or self.spec["next"])
        invalid = ctx.render("invalid") or "Please answer with a number from 1 to 5."
        return self.enter(ctx, lead_in=invalid)


def rating_of(event: Event) -> Any:
    """1-5 from a key press or from speech ("four", "4", "I'd say four"), else None."""
    if event.digits:
        return int(event.digits) if event.digits in {"1", "2", "3", "4", "5"} else None
    for word in event.speech.lower().replace(".", " ").split():
        if word in SPOKEN:
            return SPOKEN[word]
        if word in {"1", "2", "3", "4", "5"}:
            return int(word)
    return None

"""`record`: record the caller (voicemail); the recording goes into a variable.

The variable holds `{url, sid, duration, transcription}`; the transcription arrives later,
through the transcription callback, and is filled in then.
"""

from __future__ import annotations

from typing import Any

from ..node import Goto, Node, Outcome, Transition, Wait
from ..runtime.context import StepContext
from ..runtime.events import Event, EventKind
from ..schema import builtin_node_schema
from ..twilio_fields import whole_number


def recording_value(params: dict[str, str] | Any) -> dict[str, Any]:
    return {
        "url": params.get("RecordingUrl") or None,
        "sid": params.get("RecordingSid") or None,
        "duration": whole_number(params.get("RecordingDuration")) or 0,
        "transcription": None,
    }


RECORDED = "recorded"
NOTHING_RECORDED = "no recording"


class RecordNode(Node):
    type_name = "record"
    schema = builtin_node_schema("record")
    template_fields = ("prompt",)
    variable_fields = ("into",)
    waits = True

    def transitions(self) -> list[Transition]:
        return [
            Transition(RECORDED, self.spec["next"]),
            Transition(NOTHING_RECORDED, self.spec["next"]),
        ]

    def enter(self, ctx: StepContext) -> Outcome:
        ctx.say(ctx.response, ctx.render("prompt"))
        options: dict[str, Any] = {
            "action": ctx.action_url("record"),
            "method": "POST",
            "max_length": self.field("max_length", 120),
            "timeout": self.field("timeout", 5),
            "finish_on_key": self.field("finish_on_key", "1234567890*#"),
            "play_beep": self.field("beep", True),
            "recording_status_callback": f"{ctx.url_prefix}/status/recording",
            "recording_status_callback_method": "POST",
        }
        if self.field("transcribe"):
            options["transcribe"] = True
            options["transcribe_callback"] = f"{ctx.url_prefix}/status/transcription"
        ctx.response.record(**options)
        ctx.response.redirect(ctx.action_url("no-recording"), method="POST")
        return Wait()

    def resume(self, ctx: StepContext, event: Event) -> Outcome:
        recorded = event.kind is EventKind.RECORD
        if self.field("into"):
            ctx.set_var(self.spec["into"], recording_value(dict(event.params if recorded else {})))
        return Goto(self.spec["next"], via=RECORDED if recorded else NOTHING_RECORDED)

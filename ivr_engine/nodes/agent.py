"""`agent`: hand the call to a real-time voice agent (Twilio ConversationRelay), then take it back.

`<Connect action=...><ConversationRelay url="wss://..."/></Connect>` connects the caller to
the user's own WebSocket server, which runs the agent; the engine does not. When the session
ends for any reason Twilio requests the `<Connect>` action: the call goes on at `next` with
the node's variable (`into`, default `agent`) holding `status` (`ended`: the agent handed the
call back; `completed`: the caller hung up; `failed`), `handoff` (the agent's `handoffData`,
parsed when it is JSON), `duration`, `session_id` and, on failure, `error_code` and
`error_message`. A failed session goes to `on_failure` when there is one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ..node import End, FieldIssue, Goto, Node, Outcome, Target, Transition, Wait
from ..runtime.context import StepContext
from ..runtime.events import Event, EventKind
from ..schema import builtin_node_schema

DEFAULT_VARIABLE = "agent"
HANDED_BACK = "handed back"
FAILED = "failed"
HUNG_UP = "hangup"
# YAML field -> <ConversationRelay> keyword of twilio-python, for the plain attributes.
ATTRIBUTES = {
    "language": "language",
    "voice": "voice",
    "tts_provider": "tts_provider",
    "transcription_provider": "transcription_provider",
    "speech_model": "speech_model",
    "interruptible": "interruptible",
    "dtmf_detection": "dtmf_detection",
    "hints": "hints",
}


class AgentNode(Node):
    type_name = "agent"
    schema = builtin_node_schema("agent")
    template_fields = ("welcome_greeting", "parameters.*")
    target_fields = ("next", "on_failure")
    variable_fields = ("into",)
    waits = True

    def targets(self) -> list[Target]:
        found = [Target(("next",), self.spec["next"], HANDED_BACK)]
        if self.field("on_failure"):
            found.append(Target(("on_failure",), self.spec["on_failure"], FAILED))
        return found

    def transitions(self) -> list[Transition]:
        found = super().transitions()
        if not self.field("on_failure"):
            found.append(Transition(FAILED, self.spec["next"]))  # a failed session goes on too
        return [*found, Transition(HUNG_UP, None)]

    def variables_written(self) -> list[tuple[tuple[str | int, ...], str]]:
        return [(("into",), self.field("into", DEFAULT_VARIABLE))]

    def check(self) -> Iterator[FieldIssue]:
        url = str(self.spec["url"])
        if not url.startswith("wss://"):
            yield FieldIssue(
                ("url",),
                f'"{url}" is not a secure WebSocket address: ConversationRelay needs one '
                "starting with wss://",
            )

    def enter(self, ctx: StepContext) -> Outcome:
        connect = ctx.response.connect(
            action=ctx.action_url(EventKind.CONNECT.value), method="POST"
        )
        options: dict[str, Any] = {"url": self.spec["url"]}
        greeting = ctx.render("welcome_greeting")
        if greeting:
            options["welcome_greeting"] = greeting
        for name, keyword in ATTRIBUTES.items():
            value = self.field(name)
            if value is None:
                continue
            if isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, list | tuple):
                value = ",".join(value)
            options[keyword] = value
        if "language" not in options:
            options["language"] = ctx.language
        relay = connect.conversation_relay(**options)
        for name in self.field("parameters", {}):
            relay.parameter(name=name, value=ctx.render(("parameters", name)) or "")
        return Wait()

    def resume(self, ctx: StepContext, event: Event) -> Outcome:
        params = event.params if event.kind is EventKind.CONNECT else {}
        status = params.get("SessionStatus", "") or FAILED
        duration = params.get("SessionDuration", "")
        result: dict[str, Any] = {
            "status": status,
            "handoff": _parsed(params.get("HandoffData")),
            "duration": int(duration) if duration.isdigit() else 0,
            "session_id": params.get("SessionId", ""),
        }
        if status == FAILED:
            result["error_code"] = params.get("ErrorCode", "")
            result["error_message"] = params.get("ErrorMessage", "")
        ctx.set_var(self.field("into", DEFAULT_VARIABLE), result)
        if params.get("CallStatus") == "completed" or status == "completed":
            return End("caller hung up during the agent session", via=HUNG_UP)
        if status == FAILED:
            return Goto(self.field("on_failure") or self.spec["next"], via=FAILED)
        return Goto(self.spec["next"], via=HANDED_BACK)


def _parsed(data: str | None) -> Any:
    """The agent's `handoffData`: JSON when it is (the usual), else the text as sent."""
    if data is None or data == "":
        return None
    try:
        return json.loads(data)
    except ValueError:
        return data

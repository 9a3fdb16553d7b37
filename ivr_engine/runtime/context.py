"""What a node sees while it runs: the call's data, the response being built, and helpers.

This is the whole run-time surface of the node API: a node renders its texts, adds verbs to
the response, reads and sets variables, counts its attempts and asks for messages through a
`StepContext`; it never sees HTTP or SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from twilio.twiml.voice_response import VoiceResponse

from ..model import Flow
from ..node import FieldPath, Node
from .effects import OutboundMessage
from .services import Services


class StepContext:
    """Mutable working state of one step; the step function turns it into a new `Session`."""

    def __init__(
        self,
        flow: Flow,
        *,
        call: Mapping[str, Any],
        variables: dict[str, Any],
        attempts: dict[str, int],
        language: str,
        voice: str | None,
        now: datetime,
        step: int,
        url_prefix: str,
        services: Services | None = None,
        stack: list[dict[str, Any]] | None = None,
        contact: Mapping[str, Any] | None = None,
    ) -> None:
        self.flow = flow
        self.contact: Mapping[str, Any] = contact or {}
        self.call: Mapping[str, Any] = call
        self.vars = variables
        self.attempts = attempts
        self.language = language
        self.voice = voice
        self.now = now
        self.step = step
        self.url_prefix = url_prefix
        self.services = services or Services()
        self.stack: list[dict[str, Any]] = stack if stack is not None else []
        self.response = VoiceResponse()
        self.messages: list[OutboundMessage] = []
        self.node: Node | None = None

    @property
    def env(self) -> Mapping[str, str]:
        """Server environment variables, for secret fields only (see `Node.secret_fields`)."""
        return self.services.env

    # ---- data ----------------------------------------------------------------------

    def scope(self) -> dict[str, Any]:
        """Names a template or condition can read: the flow's variables, `call`, `now`,
        `language` and `contact` (an outbound call's contact fields)."""
        return {
            **self.vars,
            "call": self.call,
            "now": self.local_now(),
            "language": self.language,
            "contact": self.contact,
        }

    def local_now(self, timezone: str | None = None) -> datetime:
        return self.now.astimezone(ZoneInfo(timezone or self.flow.timezone))

    def set_var(self, name: str, value: Any) -> None:
        self.vars[name] = value

    def render(
        self,
        field: str | FieldPath,
        node: Node | None = None,
        *,
        extra: Mapping[str, Any] | None = None,
    ) -> str | None:
        """The text of a template field of `node` (default: the current node), or None if unset.

        `extra` adds names to the scope for this one rendering (the http node adds `env` for
        its headers, and nowhere else).
        """
        node = node or self.node
        assert node is not None, "render() outside a node"
        path = (field,) if isinstance(field, str) else tuple(field)
        text = self.flow.text(node.id, path)
        if text is None:
            return None
        plain = text.static(self.language)
        if plain is not None:  # no template: no scope (and no clock in the flow's zone) needed
            return plain
        scope = self.scope() if extra is None else {**self.scope(), **extra}
        return text.render(scope, self.language)

    def evaluate(self, path: FieldPath, node: Node | None = None) -> Any:
        node = node or self.node
        assert node is not None, "evaluate() outside a node"
        return self.flow.expression(node.id, path).evaluate(self.scope())

    # ---- speech --------------------------------------------------------------------

    def speech_settings(self, node: Node | None = None) -> dict[str, str]:
        """Voice and language: the node's, else the call's current ones, else the flow's."""
        node = node or self.node
        voice = (node.field("voice") if node else None) or self.voice or self.flow.voice
        language = (node.field("language") if node else None) or self.language
        settings = {"language": language}
        if voice:
            settings["voice"] = voice
        return settings

    def say(self, parent: Any, text: str | None, *, loop: int | None = None) -> None:
        """Add a `<Say>` of `text` to `parent` (the response or a `<Gather>`) if there is text."""
        if not text:
            return
        extra = {"loop": loop} if loop is not None and loop != 1 else {}
        parent.say(text, **self.speech_settings(), **extra)

    # ---- flow control --------------------------------------------------------------

    def action_url(self, kind: str) -> str:
        """Where Twilio must send the caller's answer to the current node at this step."""
        return f"{self.url_prefix}/voice/{self.flow.id}/step/{self.step}/{kind}"

    def attempt(self) -> int:
        """Count one more failed attempt at the current node and return the count."""
        assert self.node is not None
        count = self.attempts.get(self.node.id, 0) + 1
        self.attempts[self.node.id] = count
        return count

    def queue_message(self, message: OutboundMessage) -> None:
        self.messages.append(message)

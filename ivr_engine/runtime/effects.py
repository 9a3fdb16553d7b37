"""Side effects a step asks for but does not perform (the store performs them durably).

Keeping them as data keeps the step function pure: the web layer writes the new session and
its effects in one transaction, so a message is queued exactly when the step that asked for
it is committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class OutboundMessage:
    """A message a `message` node asked to send, rendered with the call's variables."""

    flow_id: str
    node_id: str
    call_sid: str
    channel: str  # "sms" | "whatsapp"
    to: str
    sender: str | None  # the node's `from`, else the flow's `sms_from` / `whatsapp_from`
    body: str | None
    media_url: str | None = None
    template: str | None = None
    template_vars: dict[str, str] = field(default_factory=dict)
    fallback: str = "none"
    step: int = 0
    fallback_sender: str | None = None  # the SMS sender when a WhatsApp message falls back to SMS

    def as_dict(self) -> dict[str, Any]:
        return {
            "flow_id": self.flow_id,
            "node_id": self.node_id,
            "call_sid": self.call_sid,
            "channel": self.channel,
            "to": self.to,
            "sender": self.sender,
            "body": self.body,
            "media_url": self.media_url,
            "template": self.template,
            "template_vars": self.template_vars,
            "fallback": self.fallback,
            "step": self.step,
            "fallback_sender": self.fallback_sender,
        }

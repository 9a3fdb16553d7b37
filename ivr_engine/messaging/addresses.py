"""Phone numbers and senders as Twilio's Messages API wants them.

A recipient is kept as its bare E.164 number (the key of the suppression list and of the
WhatsApp window); the channel adds the `whatsapp:` prefix only on the wire. A sender is a
number or a Messaging Service SID (MG...), resolved from the node, the flow, then the
environment. Problems come back as sentences for `ivr messages`, not exceptions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..nodes.common import E164
from .settings import MessagingSettings

WHATSAPP = "whatsapp:"
SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")


def bare_number(address: str) -> str:
    """`whatsapp:+1555...` and ` +1555... ` both become `+1555...`."""
    return address.strip().removeprefix(WHATSAPP).strip()


def is_e164(number: str) -> bool:
    return bool(E164.match(number))


def wire_address(number: str, channel: str) -> str:
    return f"{WHATSAPP}{number}" if channel == "whatsapp" else number


def recipient_problem(address: str) -> str | None:
    number = bare_number(address)
    if not number:
        return "there is no recipient: the caller's number is unknown and the node has no `to`"
    if not is_e164(number):
        return (
            f'the recipient "{address}" is not a phone number in E.164 form (+ then country code '
            "and number): check the node's `to`"
        )
    return None


@dataclass(frozen=True)
class Route:
    """Who a message is sent from: exactly one of a number and a Messaging Service."""

    from_: str | None = None
    service_sid: str | None = None

    def as_dict(self) -> dict[str, str]:
        return (
            {"from": self.from_}
            if self.from_
            else {"messaging_service_sid": self.service_sid or ""}
        )

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> Route:
        return cls(data.get("from"), data.get("messaging_service_sid"))

    @property
    def key(self) -> str:
        """What the per-sender rate limit counts against."""
        return self.from_ or self.service_sid or ""


def resolve_route(channel: str, given: str | None, settings: MessagingSettings) -> Route | str:
    """The sender for `channel`: the node's or flow's, else the environment's; or a problem."""
    default = settings.whatsapp_from if channel == "whatsapp" else settings.sms_from
    candidate = (given or default or settings.messaging_service_sid or "").strip()
    if not candidate:
        variable = "TWILIO_WHATSAPP_FROM" if channel == "whatsapp" else "TWILIO_SMS_FROM"
        return (
            f"there is no {channel} sender: set `from` on the node, `{channel}_from` in the flow, "
            f"or {variable} or TWILIO_MESSAGING_SERVICE_SID on the server"
        )
    if SERVICE_SID.match(candidate):
        return Route(service_sid=candidate)
    number = bare_number(candidate)
    if not is_e164(number):
        return (
            f'the sender "{candidate}" is neither a phone number in E.164 form nor a Messaging '
            "Service SID (MG...)"
        )
    return Route(from_=wire_address(number, channel))

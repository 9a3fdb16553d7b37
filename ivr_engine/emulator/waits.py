"""The waiting verbs of queues and voice agents, read back from TwiML (emulator and tooling).

Kept apart from `twiml` (which reads the rest) so the reading of `<Enqueue>`, `<Leave>` and
`<Connect><ConversationRelay>` stays one small piece, whoever owns the interpreter around it.
`read` returns None for any other element.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass


@dataclass(frozen=True)
class Queue:
    """An `<Enqueue>`: the caller waits in a queue; the engine serves its `wait_url`.

    `offer` is the action of a key offer (a `<Gather>`) in the latest wait document, if any.
    """

    name: str
    action: str | None = None
    wait_url: str | None = None
    offer: str | None = None
    method: str = "POST"
    wait_method: str = "POST"


@dataclass(frozen=True)
class Relay:
    """A `<Connect><ConversationRelay>`: the caller talks to a voice agent until it hands back."""

    url: str
    action: str | None = None
    greeting: str | None = None
    parameters: tuple[tuple[str, str], ...] = ()
    method: str = "POST"


@dataclass(frozen=True)
class Leave:
    """`<Leave/>`: the caller leaves the queue; Twilio requests the `<Enqueue>` action."""


def read(element: ET.Element) -> Queue | Relay | Leave | None:
    tag = element.tag
    if tag == "Enqueue":
        return Queue(
            (element.text or "").strip(),
            element.get("action"),
            element.get("waitUrl"),
            method=(element.get("method") or "POST").upper(),
            wait_method=(element.get("waitUrlMethod") or "POST").upper(),
        )
    if tag == "Leave":
        return Leave()
    if tag == "Connect":
        relay = element.find("ConversationRelay")
        if relay is None:
            return None
        parameters = tuple((p.get("name", ""), p.get("value", "")) for p in relay.iter("Parameter"))
        return Relay(
            relay.get("url", ""),
            element.get("action"),
            relay.get("welcomeGreeting"),
            parameters,
            (element.get("method") or "POST").upper(),
        )
    return None


def describe(verb: Queue | Relay | Leave) -> str:
    if isinstance(verb, Queue):
        return f"wait in queue {verb.name}" + (" (call-back offered)" if verb.offer else "")
    if isinstance(verb, Relay):
        greeting = f': "{verb.greeting}"' if verb.greeting else ""
        return f"voice agent at {verb.url}{greeting}"
    return "leave the queue"

"""What the caller hears: a TwiML response read back into caller-facing verbs.

The runtime's last stage writes TwiML for Twilio. The author tooling (simulator, flow tests,
coverage) has no Twilio, so it reads that TwiML back here into the verbs a caller would
experience, in order, and splits a response the way Twilio runs it: what is heard first, the
verb the call then waits on (a `<Gather>`, `<Record>` or `<Dial>`), and what Twilio goes on
with when that verb ends without calling its action (silence, nothing recorded).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from . import waits
from .waits import Leave, Queue, Relay

# Twilio's defaults for attributes the runtime may leave out (see twilio-reference.md).
GATHER_FINISH_KEY = "#"
GATHER_TIMEOUT = 5
DIAL_TIMEOUT = 30


@dataclass(frozen=True)
class Say:
    text: str
    voice: str | None = None
    language: str | None = None
    loop: int = 1
    interruptible: bool = False  # nested in a <Gather>: the caller may answer before it ends


@dataclass(frozen=True)
class Play:
    url: str
    loop: int = 1
    interruptible: bool = False


@dataclass(frozen=True)
class Pause:
    seconds: int = 1


@dataclass(frozen=True)
class Listen:
    """A `<Gather>`: the call waits for keys or speech."""

    input: str = "dtmf"
    num_digits: int | None = None
    finish_on_key: str = GATHER_FINISH_KEY
    timeout: int = GATHER_TIMEOUT
    hints: tuple[str, ...] = ()
    language: str | None = None
    action: str | None = None

    @property
    def keys(self) -> bool:
        return "dtmf" in self.input.split()

    @property
    def speech(self) -> bool:
        return "speech" in self.input.split()


@dataclass(frozen=True)
class Record:
    """A `<Record>`: the call records the caller."""

    max_length: int | None = None
    timeout: int | None = None
    finish_on_key: str | None = None
    beep: bool = True
    transcribe: bool = False
    action: str | None = None


@dataclass(frozen=True)
class Dial:
    """A `<Dial>`: the call rings `destinations` (`(kind, value)`: number, sip, client, queue)."""

    destinations: tuple[tuple[str, str], ...]
    timeout: int = DIAL_TIMEOUT
    caller_id: str | None = None
    action: str | None = None

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(value for _, value in self.destinations)


@dataclass(frozen=True)
class Hangup:
    pass


@dataclass(frozen=True)
class Redirect:
    url: str


@dataclass(frozen=True)
class Other:
    """A verb the tooling does not model (`<Reject>`, `<Enqueue>`...), shown by name."""

    verb: str
    text: str = ""


Verb = (
    Say | Play | Pause | Listen | Record | Dial | Hangup | Redirect | Other | Queue | Relay | Leave
)
Waiting = Listen | Record | Dial | Queue | Relay


@dataclass(frozen=True)
class Reply:
    """One TwiML response, split the way Twilio runs it.

    `heard`: what the caller hears before the call waits or ends (prompts nested in a
    `<Gather>` included); `waits_on`: the verb the call waits on, if any; `then`: the verbs
    Twilio runs when that verb ends without requesting its action; `hangs_up`: the response
    ends the call (a `<Hangup>` before anything waits).
    """

    heard: tuple[Verb, ...]
    waits_on: Waiting | None
    then: tuple[Verb, ...] = field(default=())
    hangs_up: bool = False
    redirect: Redirect | None = None  # a plain `<Redirect>` reached before anything waits


def read_twiml(twiml: str) -> list[Verb]:
    """Every verb of a response in the order Twilio runs them (nested prompts first)."""
    root = ET.fromstring(twiml)
    verbs: list[Verb] = []
    for element in root:
        if element.tag == "Gather":
            for child in element:
                verbs.append(_verb(child, interruptible=True))
        verbs.append(_verb(element))
    return verbs


def split(verbs: list[Verb]) -> Reply:
    """Cut a response at the first verb that waits, hangs up or redirects."""
    for i, verb in enumerate(verbs):
        if isinstance(verb, Listen | Record | Dial | Queue | Relay):
            return Reply(tuple(verbs[:i]), verb, tuple(verbs[i + 1 :]))
        if isinstance(verb, Hangup):
            return Reply(tuple(verbs[:i]), None, hangs_up=True)
        if isinstance(verb, Redirect):
            return Reply(tuple(verbs[:i]), None, redirect=verb)
    return Reply(tuple(verbs), None, hangs_up=True)  # Twilio hangs up when a document runs out


def _int(element: ET.Element, name: str, default: int | None = None) -> int | None:
    value = element.get(name)
    return int(value) if value is not None and value.lstrip("-").isdigit() else default


def _verb(element: ET.Element, *, interruptible: bool = False) -> Verb:
    tag, text = element.tag, (element.text or "").strip()
    if tag == "Say":
        return Say(
            text,
            element.get("voice"),
            element.get("language"),
            _int(element, "loop", 1) or 0,
            interruptible,
        )
    if tag == "Play":
        return Play(text, _int(element, "loop", 1) or 0, interruptible)
    if tag == "Pause":
        return Pause(_int(element, "length", 1) or 1)
    if tag == "Gather":
        return Listen(
            input=element.get("input", "dtmf"),
            num_digits=_int(element, "numDigits"),
            finish_on_key=element.get("finishOnKey", GATHER_FINISH_KEY),
            timeout=_int(element, "timeout", GATHER_TIMEOUT) or GATHER_TIMEOUT,
            hints=tuple(h.strip() for h in element.get("hints", "").split(",") if h.strip()),
            language=element.get("language"),
            action=element.get("action"),
        )
    if tag == "Record":
        return Record(
            max_length=_int(element, "maxLength"),
            timeout=_int(element, "timeout"),
            finish_on_key=element.get("finishOnKey"),
            beep=element.get("playBeep", "true") != "false",
            transcribe=element.get("transcribe") == "true",
            action=element.get("action"),
        )
    if tag == "Dial":
        nouns = [(child.tag.lower(), (child.text or "").strip()) for child in element]
        if text:  # <Dial>+15550100</Dial>: a number written directly
            nouns.insert(0, ("number", text))
        return Dial(
            tuple(nouns),
            _int(element, "timeout", DIAL_TIMEOUT) or DIAL_TIMEOUT,
            element.get("callerId"),
            element.get("action"),
        )
    if tag == "Hangup":
        return Hangup()
    if tag == "Redirect":
        return Redirect(text)
    return waits.read(element) or Other(tag, text)


def describe(verb: Verb) -> str:
    """The verb in words, as a transcript line: `say "Goodbye."`, `dial +15550100`."""
    if isinstance(verb, Say):
        return f'say "{verb.text}"' + (f" ({verb.loop} times)" if verb.loop not in (0, 1) else "")
    if isinstance(verb, Play):
        return f"play {verb.url}"
    if isinstance(verb, Pause):
        return f"pause {verb.seconds}s"
    if isinstance(verb, Listen):
        return f"listen for {listens_for(verb)}"
    if isinstance(verb, Record):
        limit = f" (up to {verb.max_length}s)" if verb.max_length else ""
        return f"record a message{limit}"
    if isinstance(verb, Dial):
        return "dial " + ", ".join(verb.values)
    if isinstance(verb, Hangup):
        return "hang up"
    if isinstance(verb, Redirect):
        return f"redirect to {verb.url}"
    if isinstance(verb, Queue | Relay | Leave):
        return waits.describe(verb)
    return f"<{verb.verb}> {verb.text}".rstrip()


def listens_for(listen: Listen) -> str:
    """`keys (1 digit)`, `speech`, `keys or speech`: what a `<Gather>` accepts."""
    ways = []
    if listen.keys:
        digits = listen.num_digits
        if digits:
            ways.append(f"keys ({digits} digit{'s' if digits != 1 else ''})")
        elif listen.finish_on_key:
            ways.append(f"keys (end with {listen.finish_on_key})")
        else:
            ways.append("keys")
    if listen.speech:
        ways.append("speech")
    return " or ".join(ways) or listen.input

"""The one TwiML interpreter: a response read the way Twilio runs it, and played for a caller.

Everything that stands where Twilio stands uses this module: `ivr call`, the end-to-end tests
and the voice benchmark (through `EmulatedCall`, over HTTP) and `ivr simulate`, flow tests and
coverage (through `tooling.script.Call`, in-process). It knows no HTTP and no runtime:

- `read_twiml` turns a response into verbs (`Say`, `Listen` for `<Gather>`, `Dial`...), the
  prompts nested in a `<Gather>` first, with Twilio's defaults filled in;
- `split` cuts them where Twilio would stop: what is heard first, the verb the call then waits
  on (`<Gather>`, `<Record>`, `<Dial>`), and what Twilio goes on with when that verb ends
  without requesting its action; or the `<Redirect>`, `<Hangup>` or end that stops it;
- `gathered`, `recorded` and `dialled` are Twilio's rules for what a waiting verb sends
  (`Digits` cut at `finishOnKey` and `numDigits`, nothing gathered means no action request);
- `TwimlPlayer` plays one document for an emulated `Caller` and returns the next request
  (relative URLs resolved against the document's URL, `method` honoured), the status callbacks
  the document asked for, or why the call ended.
"""

from __future__ import annotations

import math
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urljoin

from . import holding, waits
from .caller import Caller, DialSpec, GatherSpec, Keys, Speech
from .errors import EmulatorError
from .waits import Leave, Queue, Relay

# Twilio's defaults for attributes a response may leave out (see twilio-reference.md).
GATHER_FINISH_KEY = "#"
GATHER_TIMEOUT = 5
RECORD_TIMEOUT = 5
DIAL_TIMEOUT = 30
WORDS_PER_SECOND = 2.5  # how fast a text-to-speech voice (or a caller) talks, for the clock
PLAY_SECONDS = 5  # how long an audio file lasts on the emulated clock
DIALLED_CALL_SECONDS = 60  # how long an answered dialled call lasts in the emulation
SPEECH_CONFIDENCE = "0.92"
DIAL_NOUNS = ("Number", "Sip", "Client", "Queue", "Conference")
API_BASE = "https://api.twilio.com/2010-04-01/Accounts"


# ---- the verbs -------------------------------------------------------------------------


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
    digits: str | None = None  # <Play digits="1w2">: keys played down the line


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
    method: str = "POST"
    action_on_empty_result: bool = False

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
    method: str = "POST"
    status_callback: str | None = None
    status_callback_method: str = "POST"
    transcribe_callback: str | None = None


@dataclass(frozen=True)
class Dial:
    """A `<Dial>`: the call rings `destinations` (`(kind, value)`: number, sip, client, queue)."""

    destinations: tuple[tuple[str, str], ...]
    timeout: int = DIAL_TIMEOUT
    caller_id: str | None = None
    action: str | None = None
    method: str = "POST"

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(value for _, value in self.destinations)


@dataclass(frozen=True)
class Hangup:
    pass


@dataclass(frozen=True)
class Reject:
    reason: str = "rejected"


@dataclass(frozen=True)
class Redirect:
    url: str
    method: str = "POST"


@dataclass(frozen=True)
class Other:
    """A verb this interpreter does not model (`<Enqueue>`, `<Connect>`...): the call stops there."""

    verb: str
    text: str = ""


Verb = (
    Say
    | Play
    | Pause
    | Listen
    | Record
    | Dial
    | Hangup
    | Reject
    | Redirect
    | Other
    | Queue
    | Relay
    | Leave
)
Waiting = Listen | Record | Dial | Queue | Relay
Stop = Hangup | Reject | Other | Leave


@dataclass(frozen=True)
class Reply:
    """One TwiML response, split the way Twilio runs it.

    `heard`: what the caller hears before the call waits or ends (prompts nested in a
    `<Gather>` included); `waits_on`: the verb the call waits on, if any; `then`: the verbs
    Twilio runs when that verb ends without requesting its action; `hangs_up`: the response
    ends the call (`stop` says with which verb; None when the document ran out of verbs).
    """

    heard: tuple[Verb, ...]
    waits_on: Waiting | None
    then: tuple[Verb, ...] = field(default=())
    hangs_up: bool = False
    redirect: Redirect | None = None  # a plain `<Redirect>` reached before anything waits
    stop: Stop | None = None


# ---- reading ---------------------------------------------------------------------------


def parse(xml: str, purpose: str) -> list[Verb]:
    """A response's verbs, or `EmulatorError` saying why Twilio could not use the answer."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise EmulatorError(
            f"the answer to the {purpose} request is not valid XML ({exc}): Twilio would "
            "hang up with an application error (error 12100)"
        ) from None
    if root.tag != "Response":
        raise EmulatorError(
            f"the answer to the {purpose} request is <{root.tag}>, not a TwiML <Response>: "
            "Twilio would hang up with an application error (error 12100)"
        )
    return _verbs(root)


def read_twiml(twiml: str) -> list[Verb]:
    """Every verb of a response in the order Twilio runs them (nested prompts first)."""
    return parse(twiml, "TwiML")


def _verbs(root: ET.Element) -> list[Verb]:
    verbs: list[Verb] = []
    for element in root:
        if element.tag == "Gather":
            verbs.extend(
                _verb(child, interruptible=True)
                for child in element
                if child.tag in ("Say", "Play", "Pause")
            )
        verbs.append(_verb(element))
    return verbs


def _int(element: ET.Element, name: str, default: int | None = None) -> int | None:
    """An integer attribute, or Twilio's default when it is missing or not a number."""
    value = (element.get(name) or "").strip()
    return int(value) if value.lstrip("-").isdigit() else default


def _method(element: ET.Element, name: str = "method") -> str:
    return (element.get(name) or "POST").upper()


def _text(element: ET.Element) -> str:
    return " ".join("".join(element.itertext()).split())


def _verb(element: ET.Element, *, interruptible: bool = False) -> Verb:
    tag, text = element.tag, _text(element)
    if tag == "Say":
        loop = _int(element, "loop", 1)
        return Say(
            text,
            element.get("voice"),
            element.get("language"),
            1 if loop is None else loop,
            interruptible,
        )
    if tag == "Play":
        loop = _int(element, "loop", 1)
        return Play(text, 1 if loop is None else loop, interruptible, element.get("digits"))
    if tag == "Pause":
        return Pause(_int(element, "length", 1) or 1)
    if tag == "Gather":
        return Listen(
            input=element.get("input", "dtmf"),
            num_digits=_int(element, "numDigits") or None,
            finish_on_key=element.get("finishOnKey", GATHER_FINISH_KEY),
            timeout=_int(element, "timeout", GATHER_TIMEOUT) or GATHER_TIMEOUT,
            hints=tuple(h.strip() for h in element.get("hints", "").split(",") if h.strip()),
            language=element.get("language"),
            action=element.get("action"),
            method=_method(element),
            action_on_empty_result=element.get("actionOnEmptyResult") == "true",
        )
    if tag == "Record":
        return Record(
            max_length=_int(element, "maxLength"),
            timeout=_int(element, "timeout"),
            finish_on_key=element.get("finishOnKey"),
            beep=element.get("playBeep", "true") != "false",
            transcribe=element.get("transcribe") == "true",
            action=element.get("action"),
            method=_method(element),
            status_callback=element.get("recordingStatusCallback"),
            status_callback_method=_method(element, "recordingStatusCallbackMethod"),
            transcribe_callback=element.get("transcribeCallback"),
        )
    if tag == "Dial":
        nouns = [(child.tag.lower(), _text(child)) for child in element if child.tag in DIAL_NOUNS]
        direct = (element.text or "").strip()
        if direct:  # <Dial>+15550100</Dial>: a number written directly
            nouns.insert(0, ("number", direct))
        return Dial(
            tuple(nouns),
            _int(element, "timeout", DIAL_TIMEOUT) or DIAL_TIMEOUT,
            element.get("callerId"),
            element.get("action"),
            _method(element),
        )
    if tag == "Hangup":
        return Hangup()
    if tag == "Reject":
        return Reject(element.get("reason") or "rejected")
    if tag == "Redirect":
        return Redirect(text, _method(element))
    return waits.read(element) or Other(tag, text)


def split(verbs: list[Verb] | tuple[Verb, ...]) -> Reply:
    """Cut a response at the first verb that waits, hangs up, redirects or is not modelled."""
    for i, verb in enumerate(verbs):
        if isinstance(verb, Listen | Record | Dial | Queue | Relay):
            return Reply(tuple(verbs[:i]), verb, tuple(verbs[i + 1 :]))
        if isinstance(verb, Leave):  # a queued caller leaves: the document stops there
            return Reply(tuple(verbs[:i]), None, stop=verb)
        if isinstance(verb, Hangup | Reject | Other):
            return Reply(tuple(verbs[:i]), None, hangs_up=True, stop=verb)
        if isinstance(verb, Redirect):
            return Reply(tuple(verbs[:i]), None, redirect=verb)
    return Reply(tuple(verbs), None, hangs_up=True)  # Twilio hangs up when a document runs out


# ---- Twilio's rules for what a waiting verb sends ----------------------------------------


def keyed(listen: Listen, pressed: str) -> tuple[str, str]:
    """The digits Twilio passes on for the keys pressed, and the finishing key pressed (or "")."""
    digits = ""
    for key in pressed:
        if listen.finish_on_key and key in listen.finish_on_key:
            return digits, key
        digits += key
        if listen.num_digits and len(digits) >= listen.num_digits:
            break
    return digits, ""


def gathered(listen: Listen, answer: Keys | Speech | None) -> dict[str, str] | None:
    """The action's parameters for an answer, or None when Twilio goes on with the next verb.

    Nothing gathered (silence, only the finishing key, an answer of a kind the `<Gather>` does
    not listen for) requests the action only with `actionOnEmptyResult`, with empty results.
    """
    if isinstance(answer, Speech) and listen.speech and answer.text.strip():
        return {"SpeechResult": answer.text, "Confidence": SPEECH_CONFIDENCE}
    if isinstance(answer, Keys) and listen.keys:
        digits, finished_on = keyed(listen, answer.digits)
        if digits:
            # FinishedOnKey: seen in Twilio's action requests, not in its reference (unconfirmed)
            return {"Digits": digits, "FinishedOnKey": finished_on}
    if not listen.action_on_empty_result:
        return None
    return {"Digits": ""} if listen.keys else {"SpeechResult": ""}


def recorded(record: Record, seconds: int, account_sid: str, recording_sid: str) -> dict[str, str]:
    """The action's recording parameters for a message `seconds` long (capped at maxLength)."""
    if record.max_length:
        seconds = min(seconds, record.max_length)
    return {
        "RecordingSid": recording_sid,
        "RecordingUrl": f"{API_BASE}/{account_sid}/Recordings/{recording_sid}",
        "RecordingDuration": str(seconds),
    }


def dialled(outcome: str, dial_sid: str, seconds: int = DIALLED_CALL_SECONDS) -> dict[str, str]:
    """The action's parameters for a `<Dial>` that ended with `outcome`."""
    params = {"DialCallStatus": outcome, "DialCallSid": dial_sid}
    if connected(outcome):
        params["DialCallDuration"] = str(seconds)
    return params


def connected(outcome: str) -> bool:
    return outcome in ("completed", "answered")


def spoken_seconds(text: str) -> float:
    return len(text.split()) / WORDS_PER_SECOND


def sid(prefix: str) -> str:
    """A Twilio-shaped id: two letters and 32 hex digits."""
    return prefix + secrets.token_hex(16)


# ---- in words --------------------------------------------------------------------------


def describe(verb: Verb) -> str:
    """The verb in words, as a transcript line: `say "Goodbye."`, `dial +15550100`."""
    if isinstance(verb, Say):
        return f'say "{verb.text}"' + (f" ({verb.loop} times)" if verb.loop not in (0, 1) else "")
    if isinstance(verb, Play):
        return f"play keys {verb.digits}" if verb.digits else f"play {verb.url}"
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
    if isinstance(verb, Reject):
        return f"reject the call ({verb.reason})"
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


# ---- playing a document for an emulated caller ------------------------------------------


@dataclass(frozen=True)
class Request:
    """One webhook request as Twilio would send it (signed later, by the transport)."""

    method: str
    url: str
    params: Mapping[str, str]
    purpose: str  # "incoming call", "gather", "redirect", "record", "dial", "... callback"


@dataclass
class Turn:
    """What playing one document led to."""

    next: Request | None = None
    callbacks: list[Request] = field(default_factory=list)  # sent right after `next`
    later: list[Request] = field(default_factory=list)  # sent after the call (transcriptions)
    ended: str | None = None  # why the call ended, when it did


class TwimlPlayer:
    """Plays documents for one call; `seconds` is the call's emulated length so far."""

    def __init__(
        self,
        caller: Caller,
        call_params: Callable[[], dict[str, str]],
        hear: Callable[[str], None],
    ) -> None:
        self.caller = caller
        self.call_params = call_params
        self.hear = hear
        self.seconds = 0.0
        self.queue: holding.QueueLeg | None = None  # set while the caller waits in a queue

    async def play(self, url: str, verbs: list[Verb]) -> Turn:
        turn = Turn()
        reply = split(verbs)
        while True:
            for verb in reply.heard:
                self._prompt(verb)
            if reply.redirect is not None:
                target = reply.redirect
                turn.next = _request(url, target.url, target.method, self.call_params(), "redirect")
                return turn
            if reply.waits_on is None:
                await self._stop(reply.stop, turn)
                return turn
            if await self._wait(reply.waits_on, url, turn):
                return turn
            reply = split(reply.then)  # the verb ended without its action: Twilio goes on

    async def _stop(self, stop: Stop | None, turn: Turn) -> None:
        if isinstance(stop, Leave) and self.queue is not None:
            holding.leave(self, turn)
        elif stop is None and self.queue is not None:  # Twilio requests the waitUrl again
            await holding.wait_document_ended(self, turn)
        elif isinstance(stop, Hangup):
            self.hear("[hang up]")
            turn.ended = "hang up"
        elif isinstance(stop, Reject):
            self.hear(f"[call rejected: {stop.reason}]")
            turn.ended = "rejected"
        elif isinstance(stop, Other):
            self.hear(f"[<{stop.verb}> is not emulated: the call ends here]")
            turn.ended = f"<{stop.verb}> is not emulated"
        else:
            self.hear("[end of instructions: the call ends]")
            turn.ended = "end of instructions"

    async def _wait(self, verb: Waiting, url: str, turn: Turn) -> bool:
        """Let the caller act on a waiting verb; True when that leads to a request."""
        if isinstance(verb, Listen):
            return await self._gather(verb, url, turn)
        if isinstance(verb, Record):
            return await self._record(verb, url, turn)
        if isinstance(verb, Queue):
            return holding.enqueue(self, verb, url, turn)
        if isinstance(verb, Relay):
            return await holding.connect(self, verb, url, turn)
        return await self._dial(verb, url, turn)

    # ---- what the caller hears ------------------------------------------------------

    def _prompt(self, verb: Verb) -> None:
        loops = max(getattr(verb, "loop", 1), 1)
        times = f" (x{loops})" if loops > 1 else ""
        if isinstance(verb, Say):
            self.hear(verb.text + times)
            self.seconds += spoken_seconds(verb.text) * loops
        elif isinstance(verb, Play) and self.queue is not None:
            holding.hold_music(self, verb)
        elif isinstance(verb, Play):
            self.hear(
                f"[playing keys {verb.digits}]" if verb.digits else f"[playing {verb.url}]{times}"
            )
            self.seconds += PLAY_SECONDS * loops
        elif isinstance(verb, Pause):
            self.hear(f"[pause {verb.seconds} s]")
            self.seconds += verb.seconds

    # ---- verbs that wait for the caller ---------------------------------------------

    async def _gather(self, verb: Listen, url: str, turn: Turn) -> bool:
        spec = GatherSpec(verb.input, verb.num_digits, verb.finish_on_key, verb.timeout)
        answer = await self.caller.answer(spec)
        self._say_back(self._heard_answer(verb, spec, answer))
        params = gathered(verb, answer)
        if params is None or not any(params.values()):
            self.seconds += verb.timeout
        if params is None:
            return False  # Twilio goes on with the next verb (the engine's <Redirect>)
        self.seconds += 2
        turn.next = _request(
            url, verb.action, verb.method, {**self.call_params(), **params}, "gather"
        )
        return True

    @staticmethod
    def _heard_answer(verb: Listen, spec: GatherSpec, answer: Keys | Speech) -> str:
        waiting = f"[waiting for {spec.listening_for}]"
        if isinstance(answer, Speech):
            if not verb.speech:
                return f'{waiting} said "{answer.text}", but only keys count here'
            return f'{waiting} said "{answer.text}"'
        if not keyed(verb, answer.digits)[0]:
            return f"{waiting} no input"
        if not verb.keys:
            return f"{waiting} pressed {answer.digits}, but only speech counts here"
        return f"{waiting} pressed {answer.digits}"

    async def _record(self, verb: Record, url: str, turn: Turn) -> bool:
        if verb.beep:
            self.hear("[beep]")
        message = await self.caller.message()
        if message is None:
            self._say_back("[recording] silence: nothing recorded")
            self.seconds += verb.timeout or RECORD_TIMEOUT
            return False  # Twilio goes on with the next verb
        call = self.call_params()
        recording = recorded(
            verb, max(1, math.ceil(spoken_seconds(message))), call["AccountSid"], sid("RE")
        )
        self._say_back(f'[recording] {recording["RecordingDuration"]} s: "{message}"')
        self.seconds += int(recording["RecordingDuration"])
        turn.next = _request(url, verb.action, verb.method, {**call, **recording}, "record")
        if verb.status_callback:
            status = {
                "AccountSid": call["AccountSid"],
                "CallSid": call["CallSid"],
                **recording,
                "RecordingStatus": "completed",
                "RecordingChannels": "1",
                "RecordingSource": "RecordVerb",
            }
            turn.callbacks.append(
                Request(
                    verb.status_callback_method,
                    urljoin(url, verb.status_callback),
                    status,
                    "recording status callback",
                )
            )
        if verb.transcribe_callback and verb.transcribe:
            transcription = {
                **call,
                **recording,
                "TranscriptionSid": sid("TR"),
                "TranscriptionText": message,
                "TranscriptionStatus": "completed",
            }
            turn.later.append(
                Request(
                    "POST",
                    urljoin(url, verb.transcribe_callback),
                    transcription,
                    "transcription callback",
                )
            )
        return True

    async def _dial(self, verb: Dial, url: str, turn: Turn) -> bool:
        spec = DialSpec(verb.values, timeout=verb.timeout)
        outcome = await self.caller.dial_outcome(spec)
        self._say_back(f"[dialling {', '.join(verb.values)}] {outcome}")
        if connected(outcome):
            self.seconds += DIALLED_CALL_SECONDS
        elif outcome == "no-answer":
            self.seconds += verb.timeout
        if not verb.action:
            return False  # without an action the caller goes on with the next verb
        params = {**self.call_params(), **dialled(outcome, sid("CA"))}
        turn.next = _request(url, verb.action, verb.method, params, "dial")
        return True

    def _say_back(self, line: str) -> None:
        """Tell what the caller did, unless they typed it themselves on the terminal."""
        if not self.caller.interactive:
            self.hear(line)


def _request(
    url: str, target: str | None, method: str, params: Mapping[str, str], purpose: str
) -> Request:
    """A request to `target` (relative to the document, empty = the document itself)."""
    return Request(method, urljoin(url, target) if target else url, dict(params), purpose)

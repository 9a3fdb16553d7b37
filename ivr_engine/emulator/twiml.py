"""Play one TwiML document the way Twilio does and decide the next request.

This is the heart of the emulator and knows no HTTP: given the document and the URL it came
from, it runs the verbs in order, tells what the caller hears, asks the `Caller` at each
`<Gather>`, `<Record>` and `<Dial>`, and returns the next request Twilio would send (an action
or redirect, relative URLs resolved against the document's URL, `method` honoured), the
status callbacks the document asked for, or why the call ended. Twilio's rules followed:
a `<Gather>` or `<Record>` that gets nothing does not request its action and the document
goes on with the next verb; a `<Dial>` without an action goes on too; a document that runs out
of verbs ends the call.
"""

from __future__ import annotations

import math
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urljoin

from . import holding
from .caller import Caller, DialSpec, GatherSpec, Input, Keys, Speech
from .errors import EmulatorError

WORDS_PER_SECOND = 2.5  # how fast a text-to-speech voice talks, for the emulated clock
DIALLED_CALL_SECONDS = 60  # how long an answered dialled call lasts in the emulation
DIAL_NOUNS = ("Number", "Sip", "Client", "Queue", "Conference")


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


def sid(prefix: str) -> str:
    """A Twilio-shaped id: two letters and 32 hex digits."""
    return prefix + secrets.token_hex(16)


def number(verb: ET.Element, attribute: str, default: int) -> int:
    """An integer attribute, or Twilio's default when it is missing or not a number."""
    try:
        return int(verb.get(attribute) or default)
    except ValueError:
        return default


def spoken_seconds(text: str) -> float:
    return len(text.split()) / WORDS_PER_SECOND


def parse(xml: str, purpose: str) -> ET.Element:
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
    return root


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

    async def play(self, url: str, root: ET.Element) -> Turn:
        turn = Turn()
        for verb in root:
            if await self._verb(verb, url, turn):
                return turn
        if not turn.ended and self.queue is not None:  # Twilio requests the waitUrl again
            await holding.wait_document_ended(self, turn)
        elif not turn.ended:
            self.hear("[end of instructions: the call ends]")
            turn.ended = "end of instructions"
        return turn

    async def _verb(self, verb: ET.Element, url: str, turn: Turn) -> bool:
        """Run one verb; True when the document stops here (a request to make or the end)."""
        tag = verb.tag
        if tag in holding.TAGS or tag == "Leave" or (tag == "Play" and self.queue is not None):
            handled = await holding.verb(self, verb, url, turn)
            if handled is not None:
                return handled
        if tag in ("Say", "Play", "Pause"):
            self._prompt(verb)
            return False
        if tag == "Gather":
            return await self._gather(verb, url, turn)
        if tag == "Record":
            return await self._record(verb, url, turn)
        if tag == "Dial":
            return await self._dial(verb, url, turn)
        if tag == "Redirect":
            target = (verb.text or "").strip()
            turn.next = self._request(verb, url, target, self.call_params(), "redirect")
            return True
        if tag == "Hangup":
            self.hear("[hang up]")
            turn.ended = "hang up"
            return True
        if tag == "Reject":
            self.hear(f"[call rejected: {verb.get('reason', 'rejected')}]")
            turn.ended = "rejected"
            return True
        self.hear(f"[<{tag}> is not emulated: the call ends here]")
        turn.ended = f"<{tag}> is not emulated"
        return True

    # ---- what the caller hears ------------------------------------------------------

    def _prompt(self, verb: ET.Element) -> None:
        loop = number(verb, "loop", 1)
        times = f" (x{loop})" if loop > 1 else ""
        if verb.tag == "Say":
            text = " ".join((verb.text or "").split())
            self.hear(text + times)
            self.seconds += spoken_seconds(text) * max(loop, 1)
        elif verb.tag == "Play":
            if verb.get("digits"):
                self.hear(f"[playing keys {verb.get('digits')}]")
            else:
                self.hear(f"[playing {(verb.text or '').strip()}]{times}")
            self.seconds += 5 * max(loop, 1)
        else:
            length = number(verb, "length", 1)
            self.hear(f"[pause {length} s]")
            self.seconds += length

    # ---- verbs that wait for the caller ---------------------------------------------

    async def _gather(self, verb: ET.Element, url: str, turn: Turn) -> bool:
        for prompt in verb:
            if prompt.tag in ("Say", "Play", "Pause"):
                self._prompt(prompt)
        spec = GatherSpec(
            input=verb.get("input", "dtmf"),
            num_digits=number(verb, "numDigits", 0) or None,
            finish_on_key=verb.get("finishOnKey", "#"),
            timeout=number(verb, "timeout", 5),
        )
        answer = await self.caller.answer(spec)
        params = self._gathered(spec, answer)
        if params is None:
            self.seconds += spec.timeout
            if verb.get("actionOnEmptyResult") != "true":
                return False  # Twilio goes on with the next verb (the engine's <Redirect>)
            params = {"Digits": ""} if "dtmf" in spec.input else {"SpeechResult": ""}
        self.seconds += 2
        turn.next = self._request(
            verb, url, verb.get("action", ""), {**self.call_params(), **params}, "gather"
        )
        return True

    def _gathered(self, spec: GatherSpec, answer: Input) -> dict[str, str] | None:
        """Twilio's action parameters for the answer, or None when the gather got nothing."""
        waiting = f"[waiting for {spec.listening_for}]"
        kinds = spec.input.split()
        if isinstance(answer, Speech):
            if "speech" not in kinds:
                self._say_back(f'{waiting} said "{answer.text}", but only keys count here')
                return None
            self._say_back(f'{waiting} said "{answer.text}"')
            return {"SpeechResult": answer.text, "Confidence": "0.92"}
        digits, finished_on = keyed(spec, answer)
        if not digits:
            self._say_back(f"{waiting} no input")
            return None
        if "dtmf" not in kinds:
            self._say_back(f"{waiting} pressed {answer.digits}, but only speech counts here")
            return None
        self._say_back(f"{waiting} pressed {answer.digits}")
        # FinishedOnKey: seen in Twilio's action requests, not in its reference table (unconfirmed)
        return {"Digits": digits, "FinishedOnKey": finished_on}

    async def _record(self, verb: ET.Element, url: str, turn: Turn) -> bool:
        if verb.get("playBeep", "true") == "true":
            self.hear("[beep]")
        message = await self.caller.message()
        if message is None:
            self._say_back("[recording] silence: nothing recorded")
            self.seconds += number(verb, "timeout", 5)
            return False  # Twilio goes on with the next verb
        duration = max(1, math.ceil(spoken_seconds(message)))
        self._say_back(f'[recording] {duration} s: "{message}"')
        self.seconds += duration
        call = self.call_params()
        recording_sid = sid("RE")
        recording = {
            "RecordingSid": recording_sid,
            "RecordingUrl": (
                f"https://api.twilio.com/2010-04-01/Accounts/{call['AccountSid']}"
                f"/Recordings/{recording_sid}"
            ),
            "RecordingDuration": str(duration),
        }
        turn.next = self._request(
            verb, url, verb.get("action", ""), {**call, **recording}, "record"
        )
        status_url = verb.get("recordingStatusCallback")
        if status_url:
            turn.callbacks.append(
                Request(
                    verb.get("recordingStatusCallbackMethod", "POST").upper(),
                    urljoin(url, status_url),
                    {
                        "AccountSid": call["AccountSid"],
                        "CallSid": call["CallSid"],
                        **recording,
                        "RecordingStatus": "completed",
                        "RecordingChannels": "1",
                        "RecordingSource": "RecordVerb",
                    },
                    "recording status callback",
                )
            )
        transcribe_url = verb.get("transcribeCallback")
        if transcribe_url and verb.get("transcribe", "true") == "true":
            turn.later.append(
                Request(
                    "POST",
                    urljoin(url, transcribe_url),
                    {
                        **call,
                        **recording,
                        "TranscriptionSid": sid("TR"),
                        "TranscriptionText": message,
                        "TranscriptionStatus": "completed",
                    },
                    "transcription callback",
                )
            )
        return True

    async def _dial(self, verb: ET.Element, url: str, turn: Turn) -> bool:
        targets = tuple(
            " ".join("".join(noun.itertext()).split()) for noun in verb if noun.tag in DIAL_NOUNS
        )
        if not targets and (verb.text or "").strip():
            targets = ((verb.text or "").strip(),)
        spec = DialSpec(targets, timeout=number(verb, "timeout", 30))
        outcome = await self.caller.dial_outcome(spec)
        self._say_back(f"[dialling {', '.join(targets)}] {outcome}")
        params = {"DialCallStatus": outcome, "DialCallSid": sid("CA")}
        if outcome in ("completed", "answered"):
            params["DialCallDuration"] = str(DIALLED_CALL_SECONDS)
            self.seconds += DIALLED_CALL_SECONDS
        elif outcome == "no-answer":
            self.seconds += spec.timeout
        if not verb.get("action"):
            return False  # without an action the caller goes on with the next verb
        turn.next = self._request(
            verb, url, verb.get("action", ""), {**self.call_params(), **params}, "dial"
        )
        return True

    # ---- helpers --------------------------------------------------------------------

    def _say_back(self, line: str) -> None:
        """Tell what the caller did, unless they typed it themselves on the terminal."""
        if not self.caller.interactive:
            self.hear(line)

    @staticmethod
    def _request(
        verb: ET.Element, url: str, target: str, params: Mapping[str, str], purpose: str
    ) -> Request:
        """A request to `target` (relative to the document, empty = the document itself)."""
        method = (verb.get("method") or "POST").upper()
        return Request(method, urljoin(url, target) if target else url, dict(params), purpose)


def keyed(spec: GatherSpec, keys: Keys) -> tuple[str, str]:
    """The digits Twilio would pass on, and the finishing key pressed (or "")."""
    digits = ""
    for key in keys.digits:
        if spec.finish_on_key and key in spec.finish_on_key:
            return digits, key
        digits += key
        if spec.num_digits and len(digits) >= spec.num_digits:
            break
    return digits, ""

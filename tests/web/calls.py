"""Follow a call the way Twilio would: read each TwiML answer, request its action URLs."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from tests.conftest import Twilio


@dataclass
class Answer:
    status: int
    xml: str
    root: ET.Element

    def verbs(self) -> list[str]:
        return [child.tag for child in self.root]

    def said(self) -> list[str]:
        return [el.text or "" for el in self.root.iter("Say")]

    def url(self, verb: str) -> str:
        """The URL the next request goes to: a verb's action, or a Redirect's text."""
        for el in self.root.iter(verb):
            return (el.text or "").strip() if verb == "Redirect" else el.attrib["action"]
        raise AssertionError(f"no <{verb}> in {self.xml}")


@dataclass
class Call:
    twilio: Twilio
    flow: str
    sid: str = "CA" + "0" * 31 + "1"
    caller: str = "+15551234567"
    answers: list[Answer] = field(default_factory=list)

    @property
    def base_params(self) -> dict[str, str]:
        return {
            "CallSid": self.sid,
            "AccountSid": "AC" + "1" * 32,
            "From": self.caller,
            "To": "+15550000000",
            "CallStatus": "in-progress",
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
        }

    def _answer(self, response) -> Answer:  # type: ignore[no-untyped-def]
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/xml")
        answer = Answer(response.status_code, response.text, ET.fromstring(response.text))
        self.answers.append(answer)
        return answer

    def start(self, **extra: str) -> Answer:
        return self._answer(
            self.twilio.post(
                f"/voice/{self.flow}", {**self.base_params, "CallStatus": "ringing", **extra}
            )
        )

    @property
    def last(self) -> Answer:
        return self.answers[-1]

    def press(self, digits: str) -> Answer:
        return self._answer(
            self.twilio.post(self.last.url("Gather"), {**self.base_params, "Digits": digits})
        )

    def say(self, speech: str) -> Answer:
        params = {**self.base_params, "SpeechResult": speech, "Confidence": "0.9"}
        return self._answer(self.twilio.post(self.last.url("Gather"), params))

    def silence(self) -> Answer:
        return self._answer(self.twilio.post(self.last.url("Redirect"), self.base_params))

    def dial_result(self, status: str) -> Answer:
        params = {**self.base_params, "DialCallStatus": status, "DialCallSid": "CA" + "9" * 32}
        return self._answer(self.twilio.post(self.last.url("Dial"), params))

    def record(
        self,
        url: str = "https://api.twilio.com/rec/RE1",
        sid: str = "RE" + "1" * 32,
        seconds: str = "7",
    ) -> Answer:
        params = {
            **self.base_params,
            "RecordingUrl": url,
            "RecordingSid": sid,
            "RecordingDuration": seconds,
            "Digits": "#",
        }
        return self._answer(self.twilio.post(self.last.url("Record"), params))

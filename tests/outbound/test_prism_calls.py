"""Our calls.create and calls.list requests against Prism serving Twilio's OpenAPI description.

Prism refuses (422) any request Twilio's spec does not allow, so a call it accepts is one
Twilio documents: each shape the flows can ask for (no detection, detection, detection
waiting for the beep, asynchronous detection).

Known gaps, both Prism's: it reads a repeated form field as one string, never an array
(stoplightio/prism#2473), so it refuses `StatusCallbackEvent` sent as Twilio documents it;
the events are checked against our own fake (`test_api.py`), and left out here. And it
refuses every `calls.list` that does not send the `StartTime`/`EndTime` filters the spec
types as date-times, so the lookup after a lost answer is checked against the fake only.
"""

from __future__ import annotations

import asyncio

from ivr_engine.messaging.sender import Accepted, Outcome, Refused
from ivr_engine.outbound.dialer import CallRequest, TwilioDialer
from tests.conftest import AUTH_TOKEN
from tests.messaging.fake_twilio import ACCOUNT_SID
from tests.messaging.test_prism_conformance import prism  # noqa: F401  (the fixture)

BASE = "https://ivr.example.com"


def place(url: str, *requests: CallRequest) -> list[Outcome]:
    async def scenario() -> list[Outcome]:
        dialer = TwilioDialer.open(ACCOUNT_SID, AUTH_TOKEN, url, timeout=20)
        try:
            return [await dialer.place(request) for request in requests]
        finally:
            await dialer.close()

    return asyncio.run(scenario())


def request(**changes: object) -> CallRequest:
    fields: dict[str, object] = {
        "to": "+15551230001",
        "from_": "+15550100",
        "url": f"{BASE}/voice/reminder/outbound/abc",
        "status_callback": f"{BASE}/status/outbound/abc",
        "ring_timeout": 25,
        "events": (),  # Prism cannot read a repeated form field as an array (see above)
    }
    fields.update(changes)
    return CallRequest(**fields)  # type: ignore[arg-type]


def test_every_kind_of_call_we_place_is_a_request_twilios_spec_accepts(prism: str) -> None:  # noqa: F811
    outcomes = place(
        prism,
        request(),
        request(machine_detection="Enable"),
        request(machine_detection="DetectMessageEnd"),
        request(
            machine_detection="DetectMessageEnd",
            async_amd_callback=f"{BASE}/status/amd/abc",
        ),
    )
    assert [type(outcome) for outcome in outcomes] == [Accepted] * 4, outcomes
    assert all(isinstance(o, Accepted) and o.sid.startswith("CA") for o in outcomes)


def test_prism_does_refuse_a_call_the_spec_does_not_allow(prism: str) -> None:  # noqa: F811
    [outcome] = place(prism, request(status_callback="not a url"))
    assert isinstance(outcome, Refused) and "HTTP 422" in outcome.reason

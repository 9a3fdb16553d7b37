"""`verify` node: a one-time code through the real twilio client against a fake Verify v2.

Each call runs inside one event loop with one `VerifyClient` (as a server has it), pointed at
tests/fake_verify.py over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import logging
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from ivr_engine import json_text
from ivr_engine.history.log import Secrets, entry
from ivr_engine.model import Flow
from ivr_engine.nodes import VerifyNode
from ivr_engine.runtime import Event, EventKind, Services, StepResult, start_call, step
from ivr_engine.verify import VerifyClient
from tests.fake_verify import AUTH_TOKEN, FakeVerify, serve_fake_verify
from tests.support import CALLER, NOW, PREFIX, action, load_valid

Script = Callable[["Walk"], Awaitable[None]]


@pytest.fixture
def fake() -> Iterator[FakeVerify]:
    with serve_fake_verify() as server:
        yield server


class Walk:
    """One call through the pure runtime, with the Verify client of the services."""

    def __init__(self, flow: Flow, services: Services) -> None:
        self.flow, self.services = flow, services
        self.result: StepResult | None = None
        self.event: Event | None = None

    async def start(self) -> StepResult:
        self.result = await start_call(
            self.flow, CALLER, now=NOW, url_prefix=PREFIX, services=self.services
        )
        return self.result

    async def press(self, digits: str | None) -> StepResult:
        assert self.result is not None
        event = (
            Event(EventKind.INPUT, {**CALLER, "Digits": digits})
            if digits is not None
            else Event(EventKind.NO_INPUT, CALLER)
        )
        self.event = event
        self.result = await step(
            self.flow,
            self.result.session,
            event,
            now=NOW,
            url_prefix=PREFIX,
            services=self.services,
        )
        return self.result


def run(fake: FakeVerify, flow: Flow, script: Script) -> None:
    async def main() -> None:
        client = VerifyClient.open(fake.account_sid, AUTH_TOKEN, fake.service_sid, fake.url)
        try:
            await script(Walk(flow, Services(verify=client)))
        finally:
            await client.close()

    asyncio.run(main())


def history(call: Walk, before: StepResult) -> str:
    """The call-history entry of the call's last step, as the server stores it."""
    assert call.result is not None and call.event is not None
    record = entry(
        call.flow, before.session, call.event, call.result, at=NOW, seconds=0.001,
        secrets=Secrets(),
    )  # fmt: skip
    return json_text.dumps(record)


def said(result: StepResult) -> list[str]:
    return [el.text or "" for el in ET.fromstring(result.twiml).iter("Say")]


def test_a_minimal_verify_texts_the_caller_and_asks_for_six_digits(fake: FakeVerify) -> None:
    flow = load_valid("verify_minimal")
    assert isinstance(flow.nodes["check"], VerifyNode)

    async def script(call: Walk) -> None:
        first = await call.start()
        root = ET.fromstring(first.twiml)
        gather = root.find("Gather")
        assert gather is not None
        assert gather.attrib == {
            "action": action(flow, 1, "input"),
            "finishOnKey": "#",
            "input": "dtmf",
            "language": "en-US",
            "method": "POST",
            "numDigits": "6",
            "timeout": "5",
        }
        assert said(first) == ["Please enter the code we just sent you."]
        assert fake.requests == [("Verifications", {"To": CALLER["From"], "Channel": "sms"})]
        done = await call.press(fake.codes[CALLER["From"]])
        assert done.session.path == ["check", "welcome"]
        assert fake.requests[-1] == (
            "VerificationCheck",
            {"To": CALLER["From"], "Code": "482913"},
        )

    run(fake, flow, script)


def test_the_code_never_reaches_twiml_the_session_or_the_log(
    fake: FakeVerify, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    async def script(call: Walk) -> None:
        first = await call.start()
        texts = [first.twiml]
        wrong = await call.press("260584")
        texts += [wrong.twiml, wrong.session.to_json(), history(call, first)]
        right = await call.press("482913")
        texts += [right.twiml, right.session.to_json(), history(call, wrong)]
        assert '"digits":"•••"' in texts[-1]  # the history says a code was keyed, not which
        assert right.session.vars["verification"] == {
            "status": "approved",
            "channel": "sms",
            "error_code": "",
        }
        for where, text in [*enumerate(texts), ("log", caplog.text)]:
            assert "482913" not in text, where
            assert "260584" not in text, where

    run(fake, load_valid("verify_full"), script)


def test_a_wrong_code_asks_again_and_after_every_attempt_the_caller_is_denied(
    fake: FakeVerify,
) -> None:
    async def script(call: Walk) -> None:
        await call.start()
        again = await call.press("000000")
        assert said(again) == [
            "That code did not match.",
            "We sent you a code. Please enter it now.",
        ]
        assert (await call.press(None)).session.node == "check"  # silence counts as a try
        denied = await call.press("123123")
        assert denied.session.path == ["check", "goodbye"]
        assert denied.session.vars["verification"]["status"] == "denied"

    run(fake, load_valid("verify_full"), script)


def test_a_channel_that_fails_falls_back_to_the_next_in_order(fake: FakeVerify) -> None:
    fake.refuse["sms"] = (403, 60205, "SMS is not supported by landline phone number")
    fake.refuse["whatsapp"] = (400, 63003, "Channel could not find To address")

    async def script(call: Walk) -> None:
        await call.start()
        assert [(k, p["Channel"]) for k, p in fake.requests] == [
            ("Verifications", "sms"),
            ("Verifications", "whatsapp"),
            ("Verifications", "call"),
        ]
        assert call.result is not None
        assert call.result.session.vars["verification"]["channel"] == "call"
        assert (await call.press("482913")).session.path == ["check", "welcome"]

    run(fake, load_valid("verify_full"), script)


@pytest.mark.parametrize(
    ("vars_phone", "refuse", "code", "requests"),
    [
        ("12345", {}, "60200", 1),  # not E.164: another channel cannot help
        ("+15550100", {"sms": (429, 60203, "Max send attempts reached")}, "60203", 1),
        (
            "+15550100",
            {c: (403, 60605, "Blocked by geo permissions") for c in ("sms", "whatsapp", "call")},
            "60605",
            3,
        ),
    ],
)
def test_a_code_that_cannot_be_sent_is_the_failed_outcome_with_verifys_error_code(
    fake: FakeVerify, vars_phone: str, refuse: dict[str, Any], code: str, requests: int
) -> None:
    fake.refuse.update(refuse)
    flow = load_valid("verify_full")
    flow = type(flow)(**{**flow.__dict__, "vars": {**flow.vars, "phone": vars_phone}})

    async def script(call: Walk) -> None:
        failed = await call.start()
        assert failed.session.path == ["check", "sorry"]
        assert said(failed) == [f"We could not send you a code ({code})."]
        assert len(fake.requests) == requests

    run(fake, flow, script)


def test_an_expired_code_is_the_expired_outcome(fake: FakeVerify) -> None:
    async def script(call: Walk) -> None:
        await call.start()
        fake.expire("+15550100")  # Verify answers 20404 once a verification expired
        expired = await call.press("482913")
        assert expired.session.path == ["check", "expired"]
        assert expired.session.vars["verification"]["error_code"] == "20404"

    run(fake, load_valid("verify_full"), script)


def test_without_a_verify_service_the_step_fails_with_an_apology() -> None:
    result = asyncio.run(
        start_call(load_valid("verify_minimal"), CALLER, now=NOW, url_prefix=PREFIX)
    )
    assert "IVR_VERIFY_SERVICE_SID" in (result.error or "")
    assert result.session.ended

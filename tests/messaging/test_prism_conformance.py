"""Our real requests against Prism serving Twilio's own OpenAPI description of the API.

Prism validates each request against `twilio_api_v2010.yaml` (required fields, formats, Basic
auth) and answers 422/401 when the spec does not allow it, so a message it accepts is one
Twilio documents. It is stateless; the stateful behaviour is tested against our own fake.
Prism and the spec are npm packages installed by `.ci/install-prism` into `.cache/prism`
(this module runs that script itself when they are missing).

Known gap: Prism reads a form field sent once as a string, never as a one-item array
(stoplightio/prism#2473, open), so a message with one `MediaUrl`, which Twilio accepts, is
refused by Prism as "MediaUrl must be array". Media is therefore checked against our own fake
(`test_sending.py`), not here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from ivr_engine.messaging.addresses import Route
from ivr_engine.messaging.sender import Accepted, Outcome, Refused, SendRequest, TwilioSender
from ivr_engine.web import Settings, create_app
from tests.conftest import AUTH_TOKEN, Twilio
from tests.messaging.conftest import CALLER, SMS_FROM, WHATSAPP_FROM, settled, wait_until
from tests.messaging.fake_twilio import ACCOUNT_SID
from tests.prism import API_SPEC, serve_prism
from tests.web.calls import Call

SERVICE = "MG" + "0123456789abcdef" * 2
TEMPLATE = "HX0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def prism(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_prism(API_SPEC, tmp_path_factory.mktemp("prism")) as url:
        yield url


def send(prism: str, *requests: SendRequest) -> list[Outcome]:
    async def scenario() -> list[Outcome]:
        sender = TwilioSender.open(ACCOUNT_SID, AUTH_TOKEN, prism, timeout=20)
        try:
            return [await sender.send(request) for request in requests]
        finally:
            await sender.close()

    return asyncio.run(scenario())


def test_every_kind_of_message_we_send_is_a_request_twilios_spec_accepts(prism: str) -> None:
    callback = "https://ivr.example.com/status/message?outbox=7"
    outcomes = send(
        prism,
        SendRequest(CALLER, Route(from_=SMS_FROM), "Your ticket is T-1", status_callback=callback),
        SendRequest(CALLER, Route(service_sid=SERVICE), "Via a Messaging Service"),
        SendRequest(
            "whatsapp:" + CALLER, Route(from_="whatsapp:" + WHATSAPP_FROM), "Free-form WhatsApp"
        ),
        SendRequest(
            "whatsapp:" + CALLER,
            Route(from_="whatsapp:" + WHATSAPP_FROM),
            content_sid=TEMPLATE,
            content_variables={"1": "Ada", "2": "9am"},
            status_callback=callback,
        ),
    )
    assert [type(outcome) for outcome in outcomes] == [Accepted] * 4, outcomes
    assert all(isinstance(o, Accepted) and o.sid.startswith("SM") for o in outcomes)


def test_prism_does_refuse_what_the_spec_does_not_allow(prism: str) -> None:
    [outcome] = send(
        prism, SendRequest(CALLER, Route(from_=SMS_FROM), "x", status_callback="not a url")
    )
    assert isinstance(outcome, Refused)
    assert "HTTP 422" in outcome.reason and not outcome.retry


def test_the_lookup_before_a_resend_is_a_request_the_spec_accepts(prism: str) -> None:
    async def scenario() -> str | None:
        sender = TwilioSender.open(ACCOUNT_SID, AUTH_TOKEN, prism, timeout=20)
        try:
            request = SendRequest(CALLER, Route(from_=SMS_FROM), "Your ticket is T-1")
            return await sender.find(request, since=0.0, taken=set())
        finally:
            await sender.close()

    # Prism answers with the spec's example messages, none from our sender: no match, and a
    # request the spec refused would have raised instead.
    assert asyncio.run(scenario()) is None


def test_the_server_sends_a_calls_follow_ups_through_prism(settings: Settings, prism: str) -> None:
    through_prism = replace(settings, messaging=replace(settings.messaging, api_url=prism))
    with TestClient(create_app(through_prism)) as client:
        for n, key in enumerate(["1", "2"]):  # a WhatsApp template, then the SMS fallback
            call = Call(Twilio(client), "whatsapp", sid=f"CA{n:032x}")
            call.start()
            call.press(key)
        found = wait_until(lambda: settled(through_prism, 2), "both messages are settled", 30)
    assert [(row["status"], row["reason"]) for row in found] == [("sent", "")] * 2
    assert all(row["message_sid"].startswith("SM") for row in found)

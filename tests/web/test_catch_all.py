"""The one catch-all in front of every Twilio route: no exception becomes a 500.

A handler that raises is a bug we have not found yet; the caller must still hear the apology
and Twilio must still get an answer it can act on, on a connection that is then closed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.types import Scope

from ivr_engine.calls import apology_twiml
from ivr_engine.web import Settings
from ivr_engine.web.responses import Answer
from ivr_engine.web.twilio_auth import FormParams
from ivr_engine.web.webhooks import TwilioWebhooks, Webhook
from tests.conftest import AUTH_TOKEN
from tests.web.live import FORM, Connection, live_server, signed_post

CALLS: list[str] = []


async def broken(scope: Scope, params: FormParams) -> Answer:
    CALLS.append(scope["path"])
    raise RuntimeError("a bug in a handler")


@pytest.fixture
def port() -> Iterator[int]:
    webhooks = [Webhook("/voice/{flow_id}", broken), Webhook("/status/call", broken)]
    middleware = Middleware(
        TwilioWebhooks, settings=Settings(auth_token=AUTH_TOKEN), webhooks=webhooks
    )
    CALLS.clear()
    with live_server(Starlette(middleware=[middleware])) as server_port:
        yield server_port


def test_a_voice_webhook_that_raises_answers_the_apology_and_closes(
    port: int, caplog: pytest.LogCaptureFixture
) -> None:
    with Connection(port) as connection:
        reply = signed_post(connection, "/voice/acme", {"CallSid": "CA1"})
        assert (reply.status, reply.text) == (200, apology_twiml())
        assert reply.headers["content-type"] == "text/xml; charset=utf-8"
        assert reply.closes and connection.at_eof()
    assert CALLS == ["/voice/acme"]
    assert "POST /voice/acme failed unexpectedly" in caplog.text
    assert "RuntimeError: a bug in a handler" in caplog.text


def test_a_callback_that_raises_answers_400_and_closes(port: int) -> None:
    with Connection(port) as connection:
        reply = signed_post(connection, "/status/call", {"CallSid": "CA1"})
        assert (reply.status, reply.text) == (400, "bad request")
        assert reply.closes and connection.at_eof()


def test_an_unsigned_request_never_reaches_the_handler(port: int) -> None:
    with Connection(port) as connection:
        reply = connection.request("POST", "/voice/acme", [FORM], b"CallSid=CA1")
        assert reply.status == 403
        assert not reply.closes
    assert CALLS == []

"""Whole emulated calls over real HTTP: `ivr serve` in a subprocess, signed requests, real SQLite."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from ivr_engine.emulator import (
    SILENCE,
    CallResult,
    EmulatedCall,
    EmulatorError,
    Keys,
    ScriptedCaller,
    SignedHttp,
    Speech,
    new_session,
)
from tests.conftest import AUTH_TOKEN, Served

MENU = "Press 1 for sales, 2 for support, or 0 to leave a message."


def call(
    url: str, caller: ScriptedCaller, *, token: str | None = AUTH_TOKEN, **options: Any
) -> CallResult:
    async def run() -> CallResult:
        async with new_session() as session:
            return await EmulatedCall(SignedHttp(session, token), url, caller, **options).run()

    return asyncio.run(run())


def session_of(served: Served, call_sid: str) -> dict[str, Any] | None:
    with sqlite3.connect(served.db_path) as db:
        row = db.execute("SELECT data FROM sessions WHERE call_sid = ?", (call_sid,)).fetchone()
    return json.loads(row[0]) if row else None


def paths(result: CallResult) -> list[str]:
    return [e.request.url.split("/", 3)[3] for e in result.exchanges]


def test_sales_busy_goes_to_voicemail_and_the_recording_and_transcription_land_on_the_session(
    served: Served,
) -> None:
    caller = ScriptedCaller([Keys("1"), Speech("Please call me back")], ["busy"])
    result = call(served.url("/voice/acme"), caller)
    assert result.heard == [
        "Thanks for calling Acme.",
        MENU,
        "[waiting for keys] pressed 1",
        "[dialling +15550100] busy",
        "Nobody can take your call right now. Please leave a message after the beep.",
        "[beep]",
        '[recording] 2 s: "Please call me back"',
        "Thanks, we'll call you back soon. Goodbye.",
        "[hang up]",
    ]
    assert result.ended == "hang up"
    assert paths(result) == [
        "voice/acme",
        "voice/acme/step/1/input",
        "voice/acme/step/2/dial",
        "voice/acme/step/3/record",
        "status/recording",
        "status/call",
        "status/transcription",
    ]
    assert [e.reply.status for e in result.exchanges] == [200, 200, 200, 200, 204, 204, 204]
    session = session_of(served, result.call_sid)
    assert session is not None
    assert session["ended"] is True
    assert session["call"]["status"] == "completed"
    assert session["call"]["duration"] == result.seconds
    voicemail = session["vars"]["voicemail"]
    record = result.exchanges[3].request.params
    assert voicemail["sid"] == record["RecordingSid"]
    assert voicemail["url"] == record["RecordingUrl"]
    assert voicemail["duration"] == 2
    assert voicemail["transcription"] == "Please call me back"


def test_support_rings_both_numbers_and_an_answered_call_says_goodbye(served: Served) -> None:
    result = call(served.url("/voice/acme"), ScriptedCaller([Keys("2")], ["completed"]))
    assert result.heard[2:] == [
        "[waiting for keys] pressed 2",
        "[dialling +15550111, +15550112] completed",
        "Goodbye.",
        "[hang up]",
    ]


def test_an_invalid_key_then_silence_twice_ends_in_goodbye(served: Served) -> None:
    result = call(served.url("/voice/acme"), ScriptedCaller([Keys("7")]))
    assert result.heard == [
        "Thanks for calling Acme.",
        MENU,
        "[waiting for keys] pressed 7",
        "Sorry, that's not a valid choice.",
        MENU,
        "[waiting for keys] no input",
        "Sorry, I didn't hear anything.",
        MENU,
        "[waiting for keys] no input",
        "Goodbye.",
        "[hang up]",
    ]
    assert paths(result) == [
        "voice/acme",
        "voice/acme/step/1/input",
        "voice/acme/step/2/no-input",
        "voice/acme/step/3/no-input",
        "status/call",
    ]
    session = session_of(served, result.call_sid)
    assert session is not None and session["ended"] is True


def test_silence_at_the_beep_follows_the_redirect_and_stores_no_recording(served: Served) -> None:
    result = call(served.url("/voice/acme"), ScriptedCaller([Keys("0"), SILENCE]))
    assert result.heard[-4:] == [
        "[beep]",
        "[recording] silence: nothing recorded",
        "Thanks, we'll call you back soon. Goodbye.",
        "[hang up]",
    ]
    assert paths(result)[2] == "voice/acme/step/2/no-recording"
    session = session_of(served, result.call_sid)
    assert session is not None and session["vars"]["voicemail"]["url"] is None


def test_an_incoming_call_by_get_is_signed_over_its_query_string_and_accepted(
    served: Served,
) -> None:
    result = call(served.url("/voice/acme"), ScriptedCaller([Keys("2")]), method="GET")
    first = result.exchanges[0]
    assert first.request.method == "GET" and first.reply.status == 200
    assert result.heard[-1] == "[hang up]"


def test_the_caller_number_is_what_the_flow_sees(served: Served) -> None:
    result = call(
        served.url("/voice/acme"), ScriptedCaller([Keys("2")]), from_number="+447700900123"
    )
    session = session_of(served, result.call_sid)
    assert session is not None and session["call"]["from"] == "+447700900123"


def test_a_wrong_token_is_refused_with_a_clear_message_and_changes_nothing(served: Served) -> None:
    caller = ScriptedCaller([Keys("1")])
    call_sid = "CA" + "e" * 32
    with pytest.raises(
        EmulatorError,
        match=r"^403: the server rejected the signature of the incoming call request "
        r"\(is TWILIO_AUTH_TOKEN the same on both sides\?\)$",
    ):
        call(served.url("/voice/acme"), caller, token="not-the-token", call_sid=call_sid)
    assert session_of(served, call_sid) is None


def test_unsigned_requests_are_refused_with_advice_to_set_the_token(served: Served) -> None:
    with pytest.raises(
        EmulatorError,
        match=r"^403: the server rejected the incoming call request: it was not signed "
        r"\(set TWILIO_AUTH_TOKEN to the server's token\)$",
    ):
        call(served.url("/voice/acme"), ScriptedCaller(), token=None)


def test_a_server_that_is_not_there_is_reported_without_a_traceback() -> None:
    from tests.conftest import free_port

    port = free_port()
    with pytest.raises(
        EmulatorError,
        match=rf"^cannot connect to http://127.0.0.1:{port}: connection refused "
        r"\(is `ivr serve` running there\?\)$",
    ):
        call(f"http://127.0.0.1:{port}/voice/acme", ScriptedCaller())


# ---- servers Twilio could not work with --------------------------------------------------

Handler = Callable[[web.Request], Awaitable[web.Response]]


def call_odd_server(handler: Handler, **options: Any) -> CallResult:
    """Run an emulated call against a small aiohttp server answering with `handler`."""

    async def run() -> CallResult:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            async with new_session() as session:
                url = f"http://127.0.0.1:{port}/voice/x"
                return await EmulatedCall(
                    SignedHttp(session, AUTH_TOKEN), url, ScriptedCaller(), **options
                ).run()
        finally:
            await runner.cleanup()

    return asyncio.run(run())


def test_a_500_is_reported_as_what_the_caller_would_hear() -> None:
    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=500, text="Internal Server Error\nTraceback ...")

    with pytest.raises(
        EmulatorError,
        match=r"^500 from POST http://127.0.0.1:\d+/voice/x \(incoming call\): Internal Server "
        r"Error: Twilio would hang up with an application error \(error 11200\)$",
    ):
        call_odd_server(broken)


def test_twiml_sent_as_plain_text_is_reported_as_twilio_error_12300() -> None:
    async def plain(request: web.Request) -> web.Response:
        return web.Response(text="<Response><Hangup/></Response>", content_type="text/plain")

    with pytest.raises(
        EmulatorError,
        match=r'^the answer to the incoming call request has Content-Type "text/plain; '
        r'charset=utf-8", not text/xml: Twilio would hang up with an application error '
        r"\(error 12300\)$",
    ):
        call_odd_server(plain)


def test_a_flow_that_redirects_forever_is_stopped_after_the_request_limit() -> None:
    async def loop(request: web.Request) -> web.Response:
        return web.Response(text="<Response><Redirect/></Response>", content_type="text/xml")

    with pytest.raises(EmulatorError, match=r"^the call was still going after 5 requests"):
        call_odd_server(loop, max_requests=5)


def test_a_status_callback_url_can_be_turned_off() -> None:
    seen: list[str] = []

    async def hang_up(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.Response(text="<Response><Hangup/></Response>", content_type="text/xml")

    result = call_odd_server(hang_up, status_callback=None)
    assert seen == ["/voice/x"] and result.ended == "hang up"

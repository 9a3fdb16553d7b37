"""`--log-format json`: one JSON object per line, CallSid and flow on every line about a call,
and no secret (auth token, dashboard password, env values) in any line, whatever the format."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from ivr_engine.history.context import CallContext, JsonFormatter, Redactor, about_call
from ivr_engine.history.log import Secrets
from ivr_engine.web import Settings, create_app
from tests.conftest import AUTH_TOKEN
from tests.history.conftest import BROKEN_FLOW, CRM_TOKEN, PASSWORD, Server, make_call, start_server
from tests.messaging.fake_twilio import FakeTwilio


@pytest.fixture(scope="module")
def json_server(
    tmp_path_factory: pytest.TempPathFactory, fake_twilio: FakeTwilio
) -> Iterator[Server]:
    process, found = start_server(
        tmp_path_factory.mktemp("json-logs"), fake_twilio, "--log-format", "json"
    )
    try:
        yield found
    finally:
        process.terminate()
        process.wait(timeout=10)


def log_lines(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def test_every_line_is_json_and_lines_about_a_call_name_it(json_server: Server) -> None:
    sid = make_call(json_server, "broken", ["1"])  # its step fails: an error line about it
    lines = log_lines(json_server.log)  # each line parses, or this fails
    about = [line for line in lines if sid in line["message"]]
    assert about, "no line mentions the call"
    for line in about:
        assert (line["call_sid"], line["flow"]) == (sid, "broken"), line
    errors = [line for line in about if line["level"] == "error"]
    assert errors and "step failed, caller heard an apology" in errors[0]["message"]
    assert {"time", "level", "logger", "message"} <= set(lines[0])


def test_no_secret_appears_in_the_log(json_server: Server) -> None:
    make_call(json_server, "pin", ["4321"])
    text = json_server.log.read_text()
    for secret in (AUTH_TOKEN, PASSWORD, CRM_TOKEN):
        assert secret not in text


def test_a_secret_in_a_log_message_is_masked(caplog: pytest.LogCaptureFixture) -> None:
    record = logging.LogRecord(
        "ivr_engine.x", logging.ERROR, __file__, 1, "token %s!", (AUTH_TOKEN,), None
    )
    Redactor(Secrets([AUTH_TOKEN])).filter(record)
    about_call("CA123", "acme")
    CallContext().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "token •••!"
    assert (line["call_sid"], line["flow"]) == ("CA123", "acme")


def test_a_flow_added_later_has_the_environment_values_it_reads_masked_too(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IVR_TEST_PLAIN_NAME", "plain-but-private-4711")
    with TestClient(create_app(settings)) as client:
        assert "plain-but-private-4711" not in client.app.state.secrets  # nothing reads it yet
        flow = BROKEN_FLOW.replace("IVR_TEST_NOT_SET_ANYWHERE", "IVR_TEST_PLAIN_NAME")
        (settings.flows_dir / "later.yaml").write_text(flow)
        deadline = time.monotonic() + 10
        while "plain-but-private-4711" not in client.app.state.secrets:
            assert time.monotonic() < deadline, "the new flow's environment value is not masked"
            time.sleep(0.05)
        assert client.app.state.calls.secrets is client.app.state.secrets

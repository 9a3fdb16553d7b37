"""One deadline per answer: a chain of slow nodes never keeps Twilio waiting past 15 s.

Through the real app over HTTP with signed requests and a real SQLite file; the budget is
shrunk so the test runs in about a second, but the mechanism is the one `ivr serve` uses.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from ivr_engine.web import Settings, create_app
from tests.conftest import AUTH_TOKEN, Twilio, session_data
from tests.fakeapi import FakeApi
from tests.web.calls import Call

TWO_SLOW_LOOKUPS = """
start: first
on_error: sorry
nodes:
  first:
    type: http
    url: "{api}/never"
    timeout: 0.4
    into: one
    on_error: second
    next: second
  second:
    type: http
    url: "{api}/never"
    timeout: 0.4
    into: two
    on_error: told
    next: told
  told:
    type: say
    text: Both lookups are done.
    next: bye
  sorry:
    type: hangup
    text: Please call again later.
  bye:
    type: hangup
    text: Goodbye.
"""

pytestmark = pytest.mark.backends("sqlite", "postgresql")


@pytest.fixture
def slow_app(
    tmp_path: Path, fake_api: FakeApi, database_url: str | None
) -> Iterator[tuple[Twilio, Settings]]:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "lookups.yaml").write_text(TWO_SLOW_LOOKUPS.replace("{api}", fake_api.url))
    settings = Settings(
        flows_dir=flows,
        db_path=str(tmp_path / "ivr.sqlite3"),
        database_url=database_url,
        auth_token=AUTH_TOKEN,
        answer_budget=0.6,  # each lookup alone fits (0.4 s), the two together do not
    )
    with TestClient(create_app(settings)) as client:
        yield Twilio(client), settings


def test_a_chain_over_the_answer_budget_is_abandoned_for_the_apology_and_on_error(
    slow_app: tuple[Twilio, Settings],
) -> None:
    twilio, settings = slow_app
    call = Call(twilio, "lookups")
    began = time.monotonic()
    answer = call.start()
    took = time.monotonic() - began
    assert answer.said() == ["We're sorry, something went wrong.", "Please call again later."]
    assert answer.verbs() == ["Say", "Say", "Hangup"]
    # the budget (0.6 s) plus the error path, nowhere near the two lookups' own 0.8 s + timeouts
    assert took < 0.6 + 2.0
    stored = session_data(settings, call.sid)
    # Nothing of the abandoned chain was kept: not its variables, not its path.
    assert stored["path"] == ["sorry"]
    assert "one" not in stored["vars"] or stored["vars"]["one"] is None
    assert stored["last_twiml"] == answer.xml

"""Dialling a number a flow holds in a variable, through the real app with signed requests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from ivr_engine.web import Settings, create_app
from tests.conftest import AUTH_TOKEN, Twilio
from tests.web.calls import Call

PHARMACY = """
start: menu
on_error: sorry
vars:
  pharmacist: "+15550123"
nodes:
  menu:
    type: menu
    prompt: Press 1 for the pharmacist, 2 for the night line.
    options:
      1: pharmacist
      2: night
  night:
    type: set
    vars:
      pharmacist: "call {{ call.to }} tomorrow"
    next: pharmacist
  pharmacist:
    type: dial
    to: "{{ pharmacist }}"
    caller_id: "{{ call.to }}"
    next: bye
  sorry:
    type: hangup
    text: Sorry, the pharmacist cannot be reached.
  bye:
    type: hangup
    text: Goodbye.
"""

pytestmark = pytest.mark.backends("sqlite", "postgresql")


@pytest.fixture
def twilio(tmp_path: Path, database_url: str | None) -> Iterator[Twilio]:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "pharmacy.yaml").write_text(PHARMACY)
    settings = Settings(
        flows_dir=flows,
        db_path=str(tmp_path / "db.sqlite3"),
        database_url=database_url,
        auth_token=AUTH_TOKEN,
    )
    with TestClient(create_app(settings)) as client:
        yield Twilio(client)


def test_a_flow_dialling_a_variable_is_served_and_rings_the_rendered_number(
    twilio: Twilio,
) -> None:
    call = Call(twilio, "pharmacy")
    call.start()
    dial = call.press("1").root.find("Dial")
    assert dial is not None
    assert [n.text for n in dial.iter("Number")] == ["+15550123"]
    assert dial.attrib["callerId"] == "+15550000000"


def test_a_variable_that_is_not_a_number_at_run_time_takes_on_error_not_a_crash(
    twilio: Twilio, caplog: pytest.LogCaptureFixture
) -> None:
    call = Call(twilio, "pharmacy")
    call.start()
    answer = call.press("2")
    assert answer.said() == [
        "We're sorry, something went wrong.",
        "Sorry, the pharmacist cannot be reached.",
    ]
    assert 'node "pharmacist", field "to": "call +15550000000 tomorrow"' in caplog.text

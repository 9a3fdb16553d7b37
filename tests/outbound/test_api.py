"""`/api/calls` and `/api/campaigns` in process: authentication, JSON errors, and exactly
what reaches Twilio's Calls API (the real client against the fake over HTTP)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from ivr_engine.outbound.config import OutboundConfig
from ivr_engine.web import Settings, create_app
from tests.conftest import AUTH_TOKEN, BASE, ROOT
from tests.messaging.conftest import fast_messaging, wait_until
from tests.messaging.fake_twilio import FakeTwilio, Reply
from tests.outbound.conftest import API_TOKEN

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
CONTACT = {"name": "Ada", "appointment": "tomorrow at 9 AM", "link": "https://x.example/a"}


@pytest.fixture
def client(tmp_path: Path, fake: FakeTwilio) -> Iterator[TestClient]:
    flows = tmp_path / "flows"
    flows.mkdir()
    shutil.copy(ROOT / "flows" / "reminder.yaml", flows / "reminder.yaml")
    settings = Settings(
        flows_dir=flows,
        db_path=str(tmp_path / "ivr.sqlite3"),
        auth_token=AUTH_TOKEN,
        public_url=BASE,
        messaging=fast_messaging(fake),
        outbound=OutboundConfig(api_token=API_TOKEN, calls_per_second=0, poll_interval=0.05),
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def call(client: TestClient, body: Any, headers: dict[str, str] = AUTH) -> Any:
    return client.post("/api/calls", json=body, headers=headers)


def test_a_call_through_the_api_is_created_at_twilio_as_the_flow_asks(
    client: TestClient, fake: FakeTwilio
) -> None:
    answer = call(client, {"flow": "reminder", "to": "+15551230001", "vars": CONTACT})
    assert answer.status_code == 201, answer.text
    found = answer.json()
    assert found["status"] == "placed" and found["call_sid"].startswith("CA")
    [created] = fake.calls
    assert created.sid == found["call_sid"]
    params = {name: values for name, values in created.params.items()}
    assert params["To"] == ["+15551230001"] and params["From"] == ["+15550100"]
    assert params["Url"] == [f"{BASE}/voice/reminder/outbound/{found['id']}"]
    assert params["Method"] == ["POST"]
    assert params["StatusCallback"] == [f"{BASE}/status/outbound/{found['id']}"]
    assert params["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert params["MachineDetection"] == ["DetectMessageEnd"]
    assert params["Timeout"] == ["25"]
    assert "AsyncAmd" not in params
    shown = client.get(f"/api/calls/{found['id']}", headers=AUTH).json()
    assert shown["call_sid"] == found["call_sid"]


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "missing or wrong bearer token"),
        ({"Authorization": "Bearer nope"}, "missing or wrong bearer token"),
        ({"Authorization": f"Basic {API_TOKEN}"}, "missing or wrong bearer token"),
    ],
)
def test_the_api_refuses_requests_without_the_token(
    client: TestClient, fake: FakeTwilio, headers: dict[str, str], message: str
) -> None:
    answer = call(client, {"flow": "reminder", "to": "+15551230001", "vars": CONTACT}, headers)
    assert answer.status_code == 401
    assert message in answer.json()["error"]
    assert fake.calls == []


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{not json", 400, "the body is not JSON"),
        (b"[1, 2]", 400, "the body must be a JSON object"),
        ({"flow": "remindr", "to": "+15551230001", "vars": CONTACT}, 404, 'no flow "remindr"'),
        ({"to": "+15551230001"}, 422, '"flow" is required'),
        ({"flow": "reminder", "to": "5551230001", "vars": CONTACT}, 422, "not an E.164 number"),
        ({"flow": "reminder", "to": 15551230001, "vars": CONTACT}, 422, '"to" is required'),
        (
            {"flow": "reminder", "to": "+15551230001", "vars": {"name": "Ada"}},
            422,
            'no value for "appointment" or "link", which the flow "reminder" reads as '
            "contact.appointment or contact.link",
        ),
        (
            {"flow": "reminder", "to": "+15551230001", "vars": {**CONTACT, "nmae": "x"}},
            422,
            'reads no contact field "nmae"',
        ),
        ({"flow": "reminder", "to": "+15551230001", "vars": []}, 422, '"vars" must be an object'),
    ],
)
def test_bad_call_requests_get_a_json_error_and_place_nothing(
    client: TestClient, fake: FakeTwilio, body: Any, status: int, message: str
) -> None:
    if isinstance(body, bytes):
        answer = client.post("/api/calls", content=body, headers=AUTH)
    else:
        answer = call(client, body)
    assert answer.status_code == status, answer.text
    assert message in answer.json()["error"]
    assert fake.calls == []


def test_a_number_on_the_do_not_call_list_is_refused(client: TestClient, fake: FakeTwilio) -> None:
    added = client.post(
        "/api/do-not-call", json={"numbers": ["+15551230009"], "reason": "asked"}, headers=AUTH
    )
    assert added.status_code == 200
    answer = call(client, {"flow": "reminder", "to": "+15551230009", "vars": CONTACT})
    assert answer.status_code == 422
    assert answer.json()["error"] == ("not called: +15551230009 is on the do-not-call list (asked)")
    assert fake.calls == []


def test_a_call_twilio_refuses_is_a_502_with_twilios_reason(
    client: TestClient, fake: FakeTwilio
) -> None:
    fake.refuse["+15551230002"] = Reply(400, 21215, "Geographic permission required")
    answer = call(client, {"flow": "reminder", "to": "+15551230002", "vars": CONTACT})
    assert answer.status_code == 502
    assert "Geographic permission required (error 21215, HTTP 400)" in answer.json()["error"]
    assert answer.json()["call"]["status"] == "not-placed"


CSV = """phone,name,appointment,link
+15551230001,Ada,9 AM,https://x.example/1
5551230002,Bob,10 AM,https://x.example/2
+15551230003,Cy,11 AM
+15551230001,Ada again,12 PM,https://x.example/4
+15551230005,,1 PM,https://x.example/5
+15551230006,Eve,2 PM,https://x.example/6
"""


def test_bad_csv_rows_are_reported_by_line_and_skipped(
    client: TestClient, fake: FakeTwilio
) -> None:
    answer = client.post(
        "/api/campaigns",
        json={"name": "spring", "flow": "reminder", "contacts_csv": CSV, "options": {"rate": 0}},
        headers=AUTH,
    )
    assert answer.status_code == 201, answer.text
    assert answer.json() == {
        "name": "spring",
        "accepted": 2,
        "skipped": [
            {
                "line": 3,
                "problem": 'phone "5551230002" is not an E.164 number: write it with + and the '
                'country code, e.g. "+15551234567": skipped',
            },
            {"line": 4, "problem": "3 value(s) where the header names 4 column(s): skipped"},
            {"line": 5, "problem": "+15551230001 is already the contact on line 2: skipped"},
            {"line": 6, "problem": 'no value for "name", which the flow reads: skipped'},
        ],
    }
    wait_until(lambda: len(fake.calls) == 2, "both good contacts are called")
    assert sorted(c.first("To") for c in fake.calls) == ["+15551230001", "+15551230006"]
    status = client.get("/api/campaigns/spring", headers=AUTH).json()
    assert status["total"] == 2 and status["counts"] == {"calling": 2}


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (
            {"name": "x", "flow": "reminder", "contacts_csv": "number,name\n+15551230001,Ada\n"},
            422,
            'contacts: line 1: there is no "phone" column',
        ),
        (
            {"name": "x", "flow": "reminder", "contacts_csv": "phone,name\n+15551230001,Ada\n"},
            422,
            'contacts: line 1: there is no column "appointment" or "link", which the flow reads '
            "as contact.appointment or contact.link",
        ),
        ({"name": "x y", "flow": "reminder", "contacts_csv": CSV}, 422, "is not a campaign name"),
        ({"name": "x", "flow": "nope", "contacts_csv": CSV}, 404, 'no flow "nope"'),
        (
            {"name": "x", "flow": "reminder", "contacts_csv": CSV, "options": {"rate": "fast"}},
            422,
            '"rate" must be a number of at least 0',
        ),
        (
            {"name": "x", "flow": "reminder", "contacts_csv": CSV, "options": {"window": ["9-5"]}},
            422,
            '"window": "9-5" is not a window',
        ),
    ],
)
def test_campaigns_that_cannot_start_get_a_json_error(
    client: TestClient, fake: FakeTwilio, body: Any, status: int, message: str
) -> None:
    answer = client.post("/api/campaigns", json=body, headers=AUTH)
    assert answer.status_code == status, answer.text
    assert message in answer.json()["error"]
    assert client.get("/api/campaigns/x", headers=AUTH).status_code == 404


def test_a_campaign_name_is_used_once_and_unknown_ones_are_404(client: TestClient) -> None:
    body = {"name": "once", "flow": "reminder", "contacts_csv": CSV, "options": {"rate": 0}}
    assert client.post("/api/campaigns", json=body, headers=AUTH).status_code == 201
    again = client.post("/api/campaigns", json=body, headers=AUTH)
    assert again.status_code == 409 and "already a campaign" in again.json()["error"]
    for path in ("/api/campaigns/nope", "/api/campaigns/nope/report"):
        assert client.get(path, headers=AUTH).status_code == 404
    assert client.post("/api/campaigns/nope/pause", headers=AUTH).status_code == 404

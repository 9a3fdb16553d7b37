"""The dashboard's doors: nothing without a login, no form without its CSRF token, a slow
wrong password, and no secret on any page."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from ivr_engine.web import Settings, create_app
from tests.conftest import AUTH_TOKEN, Twilio
from tests.history.conftest import PASSWORD

PAGES = [
    "/dashboard/",
    "/dashboard/flows",
    "/dashboard/flows/acme",
    "/dashboard/flows/nope",
    "/dashboard/calls",
    "/dashboard/calls?partial=1",
    "/dashboard/calls/CAsecret",
    "/dashboard/messages",
    "/dashboard/static/dashboard.css",
    "/dashboard/static/dashboard.js",
    "/dashboard/anything/else",
]
FORMS = ["/dashboard/messages/1/retry", "/dashboard/logout"]


@pytest.fixture
def dashboard(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(replace(settings, dashboard_password=PASSWORD))) as client:
        yield client


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the page has no CSRF field"
    return found.group(1)


def log_in(client: TestClient) -> str:
    token = csrf_of(client.get("/dashboard/login").text)
    answer = client.post(
        "/dashboard/login", data={"csrf": token, "password": PASSWORD}, follow_redirects=False
    )
    assert answer.status_code == 303
    return csrf_of(client.get("/dashboard/calls").text)


def test_the_dashboard_is_off_without_a_password(client: TestClient) -> None:
    assert client.get("/dashboard/calls").status_code == 404


@pytest.mark.parametrize("path", PAGES)
def test_every_page_without_a_login_answers_401_with_the_login_form(
    dashboard: TestClient, path: str
) -> None:
    answer = dashboard.get(path)
    assert answer.status_code == 401
    assert "Refused" not in answer.text
    if "/static/" not in path:
        assert 'type="password"' in answer.text
    assert "Thanks for calling" not in answer.text


@pytest.mark.parametrize("path", FORMS)
def test_every_form_without_a_login_is_refused(dashboard: TestClient, path: str) -> None:
    assert dashboard.post(path, data={"csrf": "x"}).status_code in (401, 403)


def test_a_form_without_its_csrf_token_or_with_anothers_is_refused(
    dashboard: TestClient, settings: Settings
) -> None:
    token = log_in(dashboard)
    for data in ({}, {"csrf": ""}, {"csrf": "forged-token"}, {"csrf": token + "x"}):
        answer = dashboard.post("/dashboard/messages/1/retry", data=data)
        assert answer.status_code == 403, data
        assert "CSRF token is missing or wrong" in answer.text
    with TestClient(create_app(replace(settings, dashboard_password=PASSWORD))) as other:
        other_token = log_in(other)
        assert other_token != token
        refused = dashboard.post("/dashboard/logout", data={"csrf": other_token})
        assert refused.status_code == 403
    # the right token works; after logging out, replaying the same form is refused
    ok = dashboard.post("/dashboard/logout", data={"csrf": token}, follow_redirects=False)
    assert ok.status_code == 303
    replayed = dashboard.post("/dashboard/messages/1/retry", data={"csrf": token})
    assert replayed.status_code in (401, 403)
    assert dashboard.get("/dashboard/calls").status_code == 401


def test_logging_in_needs_the_forms_token_too(dashboard: TestClient) -> None:
    answer = dashboard.post("/dashboard/login", data={"password": PASSWORD})
    assert answer.status_code == 403
    assert dashboard.get("/dashboard/calls").status_code == 401


def test_a_wrong_password_is_answered_slowly_and_more_slowly_each_time(
    dashboard: TestClient,
) -> None:
    token = csrf_of(dashboard.get("/dashboard/login").text)
    waits = []
    for _ in range(2):
        began = time.monotonic()
        answer = dashboard.post("/dashboard/login", data={"csrf": token, "password": "guess"})
        waits.append(time.monotonic() - began)
        assert answer.status_code == 401
        assert "That password is not right." in answer.text
    assert waits[0] >= 0.45 and waits[1] >= 0.95
    assert dashboard.get("/dashboard/calls").status_code == 401


def test_the_auth_token_never_appears_in_any_page(dashboard: TestClient) -> None:
    twilio = Twilio(dashboard)
    caller = {"CallSid": "CAsecret", "From": "+15551230000", "To": "+15550000000"}
    twilio.post("/voice/acme", caller)
    # a caller who says the token (or a node that echoes it) still never shows it
    twilio.post("/voice/acme/step/1/input", {**caller, "SpeechResult": f"my code {AUTH_TOKEN}"})
    twilio.post("/status/call", {**caller, "CallStatus": "completed"})
    log_in(dashboard)
    for path in PAGES:
        answer = dashboard.get(path)
        assert answer.status_code in (200, 404), path
        assert AUTH_TOKEN not in answer.text, path
        assert PASSWORD not in answer.text, path
    call_page = dashboard.get("/dashboard/calls/CAsecret").text
    assert "my code •••" in call_page
    headers = dashboard.get("/dashboard/calls").headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"

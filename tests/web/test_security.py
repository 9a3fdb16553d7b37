"""Every Twilio-facing route checks X-Twilio-Signature; bad requests change nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from ivr_engine.web import Settings, create_app
from tests.conftest import AUTH_TOKEN, Twilio, values
from tests.web.calls import Call

pytestmark = pytest.mark.backends("sqlite", "postgresql")

SID = "CA" + "4" * 32
ROUTES = [
    "/voice/acme",
    "/voice/acme/step/1/input",
    "/status/call",
    "/status/recording",
    "/status/transcription",
    "/status/message",
    "/messaging/inbound",
]


def rows(settings: Settings) -> list[tuple[str, int, str]]:
    return values(settings, "SELECT call_sid, step, data FROM sessions ORDER BY call_sid")  # type: ignore[return-value]


@pytest.mark.parametrize("path", ROUTES)
def test_a_forged_signature_gets_403_on_every_route(twilio: Twilio, path: str) -> None:
    forged = Twilio(twilio.client, token="not-the-real-token")
    response = forged.post(path, {"CallSid": SID, "Digits": "1"})
    assert response.status_code == 403
    assert response.text == "invalid Twilio signature"


@pytest.mark.parametrize("path", ROUTES)
def test_a_missing_signature_gets_403_on_every_route(twilio: Twilio, path: str) -> None:
    response = twilio.client.post(path, data={"CallSid": SID})
    assert response.status_code == 403


def test_a_signature_replayed_with_other_params_gets_403_and_the_call_does_not_move(
    twilio: Twilio, settings: Settings
) -> None:
    call = Call(twilio, "acme", sid=SID)
    call.start()
    before = rows(settings)
    url = "http://testserver" + call.last.url("Gather")
    signature = twilio.sign(url, {**call.base_params, "Digits": "7"})
    response = twilio.post(url, {**call.base_params, "Digits": "1"}, signature=signature)
    assert response.status_code == 403
    assert rows(settings) == before


def test_a_forged_incoming_call_creates_no_session(twilio: Twilio, settings: Settings) -> None:
    Twilio(twilio.client, token="wrong").post(
        "/voice/acme", {"CallSid": SID, "From": "+15551234567"}
    )
    assert rows(settings) == []


def test_a_signed_get_with_query_parameters_is_accepted(twilio: Twilio) -> None:
    response = twilio.get(f"/voice/acme?CallSid={SID}&From=%2B15551234567&To=%2B15550000000")
    assert response.status_code == 200
    assert "Thanks for calling Acme." in response.text


def test_behind_a_proxy_the_signature_is_checked_against_the_public_url(settings: Settings) -> None:
    public = Settings(**{**settings.__dict__, "public_url": "https://ivr.example.com/base"})
    with TestClient(create_app(public)) as client:
        proxied = Twilio(client, base="https://ivr.example.com/base")
        params = {"CallSid": SID, "From": "+15551234567", "To": "+15550000000"}
        signature = proxied.sign("https://ivr.example.com/base/voice/acme", params)
        response = client.post(
            "/voice/acme", data=params, headers={"X-Twilio-Signature": signature}
        )
        assert response.status_code == 200
        # action URLs point back through the proxy
        assert 'action="https://ivr.example.com/base/voice/acme/step/1/input"' in response.text
        local = Twilio(client).post("/voice/acme", {**params, "CallSid": "CA" + "5" * 32})
        assert local.status_code == 403


def test_a_request_without_callsid_is_malformed(twilio: Twilio) -> None:
    response = twilio.post("/voice/acme", {"From": "+15551234567"})
    assert response.status_code == 400


def test_an_oversized_body_is_refused_before_it_is_read(twilio: Twilio, settings: Settings) -> None:
    response = twilio.post("/voice/acme", {"CallSid": SID, "Junk": "x" * 70_000})
    assert response.status_code == 400
    assert rows(settings) == []


def test_an_unknown_action_kind_is_malformed(twilio: Twilio) -> None:
    assert twilio.post("/voice/acme/step/1/explode", {"CallSid": SID}).status_code == 400


def test_the_server_refuses_to_start_without_a_token_unless_insecure(
    tmp_path: Path, flows_dir: Path
) -> None:
    with pytest.raises(SystemExit, match="TWILIO_AUTH_TOKEN is not set"):
        create_app(Settings(flows_dir=flows_dir, db_path=str(tmp_path / "x.db")))
    insecure = Settings(flows_dir=flows_dir, db_path=str(tmp_path / "x.db"), insecure=True)
    with TestClient(create_app(insecure)) as client:
        assert client.post("/voice/acme", data={"CallSid": SID}).status_code == 200


def test_healthz_needs_no_signature(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.text.startswith("ok")


def test_the_auth_token_never_appears_in_settings_repr() -> None:
    assert AUTH_TOKEN not in repr(Settings(auth_token=AUTH_TOKEN))


class _MultiValued(dict[str, list[str]]):
    """Form fields with every value, as the SDK signs them (it asks `getall` for each name)."""

    def getall(self, name: str) -> list[str]:
        return self[name]


def test_a_repeated_field_is_covered_by_the_signature_with_all_its_values(
    twilio: Twilio, settings: Settings
) -> None:
    body = f"CallSid={SID}&From=%2B15551234567&Tag=a&Tag=b"
    url = "http://testserver/voice/acme"
    every_value = _MultiValued(CallSid=[SID], From=["+15551234567"], Tag=["a", "b"])
    first_only = {"CallSid": SID, "From": "+15551234567", "Tag": "a"}
    headers = {"Content-Type": "application/x-www-form-urlencoded"}

    forged = twilio.client.post(
        url, content=body, headers={**headers, "X-Twilio-Signature": twilio.sign(url, first_only)}
    )
    assert forged.status_code == 403
    assert rows(settings) == []
    signature = twilio.validator.compute_signature(url, every_value)
    signed = twilio.client.post(
        url, content=body, headers={**headers, "X-Twilio-Signature": signature}
    )
    assert signed.status_code == 200
    assert "Thanks for calling Acme." in signed.text


def _rejections(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("rejected ")]


def test_a_rejection_behind_a_tunnel_names_the_url_checked_the_headers_and_ivr_public_url(
    twilio: Twilio, caplog: pytest.LogCaptureFixture
) -> None:
    params = {"CallSid": SID, "From": "+15551234567", "To": "+15550000000"}
    signature = twilio.sign("https://abc.ngrok.app/voice/acme", params)
    headers = {
        "X-Twilio-Signature": signature,
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "abc.ngrok.app",
    }
    with caplog.at_level("WARNING", logger="ivr_engine.web"):
        response = twilio.client.post("/voice/acme", data=params, headers=headers)
    assert response.status_code == 403
    assert _rejections(caplog) == [
        "rejected POST /voice/acme: bad X-Twilio-Signature; checked against URL "
        "http://testserver/voice/acme; headers seen: Host: testserver, X-Forwarded-Proto: https, "
        "X-Forwarded-Host: abc.ngrok.app; the proxy headers say Twilio called "
        "https://abc.ngrok.app, not the URL checked: set IVR_PUBLIC_URL=https://abc.ngrok.app "
        "(the public base URL Twilio calls)"
    ]
    assert signature not in caplog.text and AUTH_TOKEN not in caplog.text


def test_a_rejection_without_proxy_headers_points_at_the_token_and_ivr_public_url(
    twilio: Twilio, caplog: pytest.LogCaptureFixture
) -> None:
    forged = Twilio(twilio.client, token="not-the-real-token")
    with caplog.at_level("WARNING", logger="ivr_engine.web"):
        forged.post("/voice/acme", {"CallSid": SID})
        twilio.client.post("/status/call", data={"CallSid": SID})
    assert _rejections(caplog) == [
        "rejected POST /voice/acme: bad X-Twilio-Signature; checked against URL "
        "http://testserver/voice/acme; headers seen: Host: testserver; if Twilio calls another "
        "URL (through a proxy or tunnel), set IVR_PUBLIC_URL to that public base URL; otherwise "
        "TWILIO_AUTH_TOKEN differs from the account's",
        "rejected POST /status/call: missing X-Twilio-Signature; checked against URL "
        "http://testserver/status/call; headers seen: Host: testserver; Twilio signs every "
        "request: was it sent by Twilio?",
    ]
    assert AUTH_TOKEN not in caplog.text


def test_a_rejection_with_ivr_public_url_set_says_the_url_came_from_it(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    public = Settings(**{**settings.__dict__, "public_url": "https://ivr.example.com/base"})
    with TestClient(create_app(public)) as client, caplog.at_level("WARNING"):
        Twilio(client, token="wrong").post("/voice/acme", {"CallSid": SID})
    [line] = _rejections(caplog)
    assert line.startswith(
        "rejected POST /voice/acme: bad X-Twilio-Signature; checked against URL "
        "https://ivr.example.com/base/voice/acme (from IVR_PUBLIC_URL); headers seen: "
        "Host: testserver; if IVR_PUBLIC_URL is the URL Twilio calls, TWILIO_AUTH_TOKEN differs"
    )

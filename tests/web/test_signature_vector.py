"""A known answer from Twilio's own documentation, checked through the server's verification.

Every other test signs with the SDK function the server checks with, so a mistake shared by
both (the URL rebuilt wrongly, parameters joined wrongly) would pass them all. This vector is
the worked example on Twilio's "Webhooks security" page: auth token 12345, a POST to
https://mycompany.com/myapp.php?foo=1&bar=2 with five parameters.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from typing import Any
from urllib.parse import urlencode

import pytest

from ivr_engine.web import Settings
from ivr_engine.web.responses import Answer
from ivr_engine.web.twilio_auth import SignatureCheck

TOKEN = "12345"
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+12349013030",
    "Digits": "1234",
    "From": "+12349013030",
    "To": "+18005551212",
}
EXPECTED = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def admit(params: dict[str, str], signature: str) -> Any:
    """Run the server's check on the documented request as uvicorn would hand it over."""
    check = SignatureCheck(Settings(auth_token=TOKEN, public_url="https://mycompany.com"))
    body = urlencode(list(reversed(params.items()))).encode()  # any order: the check sorts
    scope = {
        "type": "http",
        "method": "POST",
        "scheme": "https",
        "path": "/myapp.php",
        "raw_path": b"/myapp.php",
        "query_string": b"foo=1&bar=2",
        "headers": [
            (b"host", b"mycompany.com"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(len(body)).encode()),
            (b"x-twilio-signature", signature.encode()),
        ],
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    return asyncio.run(check.admit(scope, receive))


def test_the_documented_signature_is_the_hmac_the_documentation_describes() -> None:
    signed = URL + "".join(name + PARAMS[name] for name in sorted(PARAMS))
    digest = hmac.new(TOKEN.encode(), signed.encode(), hashlib.sha1).digest()
    assert base64.b64encode(digest).decode() == EXPECTED


def test_the_server_admits_the_documented_request() -> None:
    admitted = admit(PARAMS, EXPECTED)
    assert not isinstance(admitted, Answer)
    assert dict(admitted) == PARAMS


@pytest.mark.parametrize(
    "changed",
    [{"Digits": "1235"}, {"To": "+18005551213"}, {"Extra": "1"}],
)
def test_the_server_refuses_the_documented_signature_on_changed_parameters(
    changed: dict[str, str],
) -> None:
    refused = admit({**PARAMS, **changed}, EXPECTED)
    assert isinstance(refused, Answer)
    assert (refused.status, refused.body) == (403, b"invalid Twilio signature")

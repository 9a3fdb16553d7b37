"""The form parser reads bodies exactly as the standard library's parse_qsl does."""

import random
from urllib.parse import parse_qsl, urlencode

import pytest

from ivr_engine.web.twilio_auth import parse_form

pytestmark = pytest.mark.backends("sqlite", "postgresql")

BODIES = [
    urlencode(
        {"CallSid": "CA" + "1" * 32, "From": "+15551234567", "SpeechResult": "one two & three = 4%"}
    ),
    "a=1&a=2&b=",
    "flag&x=%2B1+2&&y=caf%C3%A9",
    "name%20with%20space=value+with+plus",
    "",
    "=nothing-named",
    "x=%zz&y=%",
]


@pytest.mark.parametrize("body", BODIES)
def test_a_body_parses_as_parse_qsl_keeping_blank_values(body: str) -> None:
    expected: dict[str, list[str]] = {}
    for name, value in parse_qsl(body, keep_blank_values=True):
        expected.setdefault(name, []).append(value)
    parsed = parse_form(body.encode())
    assert {name: parsed.getall(name) for name in parsed} == expected
    assert dict(parsed) == {name: values[0] for name, values in expected.items()}


PIECES = ["a", "B", "=", "&", "+", " ", "%", "2", "b", "6", "3", "D", "d", "z", "é", "📞"]
PIECES += ["%2B", "%2b", "%26", "%3D", "%3d", "%25", "%C3", "%A9", "%C3%A9", "%F0%9F", "%zz"]


@pytest.mark.parametrize("seed", range(300))
def test_any_body_parses_as_parse_qsl(seed: int) -> None:
    rng = random.Random(seed)
    body = "".join(rng.choices(PIECES, k=rng.randint(0, 30)))
    test_a_body_parses_as_parse_qsl_keeping_blank_values(body)

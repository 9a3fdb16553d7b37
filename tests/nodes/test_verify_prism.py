"""The Verify client's requests against Prism serving Twilio's own OpenAPI description of Verify v2.

Prism checks each request against `twilio_verify_v2.yaml` (path, required fields, Basic auth)
and answers 422/401 when the spec does not allow it, so a request it accepts is one Twilio
documents; it answers with the spec's example resources. Stateless: the behaviour (codes,
errors) is tested against tests/fake_verify.py. Installed by `.ci/install-prism`.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import aiohttp
import pytest

from ivr_engine.verify import VerifyClient
from tests.conftest import AUTH_TOKEN
from tests.prism import VERIFY_SPEC, serve_prism

ACCOUNT_SID = "AC" + "1" * 32
SERVICE_SID = "VA" + "0123456789abcdef" * 2


@pytest.fixture(scope="module")
def prism(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_prism(VERIFY_SPEC, tmp_path_factory.mktemp("prism-verify")) as url:
        yield url


def with_client(prism: str, use: Callable[[VerifyClient], Awaitable[Any]]) -> Any:
    async def scenario() -> Any:
        client = VerifyClient.open(ACCOUNT_SID, AUTH_TOKEN, SERVICE_SID, prism, timeout=20)
        try:
            return await use(client)
        finally:
            await client.close()

    return asyncio.run(scenario())


@pytest.mark.parametrize("channel", ["sms", "whatsapp", "call"])
def test_sending_a_code_over_each_channel_is_a_request_the_spec_accepts(
    prism: str, channel: str
) -> None:
    status = with_client(prism, lambda c: c.start("+15551234567", channel, "en"))
    assert isinstance(status, str) and status


def test_checking_a_code_is_a_request_the_spec_accepts(prism: str) -> None:
    status = with_client(prism, lambda c: c.check("+15551234567", "482913"))
    assert isinstance(status, str) and status


@pytest.mark.parametrize(
    ("form", "auth", "status"),
    [({"To": "+15551234567"}, True, 422), ({"To": "+15551234567", "Channel": "sms"}, False, 401)],
)
def test_prism_does_refuse_what_the_spec_does_not_allow(
    prism: str, form: dict[str, str], auth: bool, status: int
) -> None:
    """So an accepted request above means something: no Channel is a 422, no credentials 401."""

    async def post() -> int:
        token = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        headers = {"Authorization": f"Basic {token}"} if auth else {}
        async with aiohttp.ClientSession() as session:
            url = f"{prism}/v2/Services/{SERVICE_SID}/Verifications"
            async with session.post(url, data=form, headers=headers) as answer:
                return answer.status

    assert asyncio.run(post()) == status

"""The outbox's small decisions, one at a time: routing, error judgement, backoff, pacing."""

from __future__ import annotations

import pytest
from twilio.base.exceptions import TwilioRestException

from ivr_engine.messaging.outbox import NOT_SENT, PENDING, prepare
from ivr_engine.messaging.ratelimit import SenderPace
from ivr_engine.messaging.sender import judge
from ivr_engine.messaging.settings import MessagingSettings
from ivr_engine.messaging.worker import OutboxWorker
from ivr_engine.runtime.effects import OutboundMessage

SERVICE = "MG" + "a" * 32


def message(**changes: object) -> OutboundMessage:
    fields: dict[str, object] = {
        "flow_id": "f",
        "node_id": "n",
        "call_sid": "CA" + "1" * 32,
        "channel": "sms",
        "to": "+15551234567",
        "sender": None,
        "body": "Hello",
    }
    fields.update(changes)
    return OutboundMessage(**fields)  # type: ignore[arg-type]


def test_the_environment_sender_is_used_when_the_node_and_flow_name_none() -> None:
    status, reason, payload = prepare(message(), MessagingSettings(sms_from="+15550001111"))
    assert (status, reason, payload["route"]) == (PENDING, "", {"from": "+15550001111"})


def test_a_messaging_service_sid_routes_through_the_service() -> None:
    _, _, payload = prepare(message(sender=SERVICE), MessagingSettings())
    assert payload["route"] == {"messaging_service_sid": SERVICE}


def test_whatsapp_senders_get_the_prefix_and_the_sms_fallback_its_own_sender() -> None:
    settings = MessagingSettings(whatsapp_from="+15550002222", sms_from="+15550001111")
    _, _, payload = prepare(message(channel="whatsapp", fallback="sms"), settings)
    assert payload["route"] == {"from": "whatsapp:+15550002222"}
    assert payload["fallback_route"] == {"from": "+15550001111"}


def test_without_any_sender_the_message_is_not_sent_and_says_where_to_set_one() -> None:
    status, reason, _ = prepare(message(), MessagingSettings())
    assert status == NOT_SENT
    assert reason == (
        "there is no sms sender: set `from` on the node, `sms_from` in the flow, or "
        "TWILIO_SMS_FROM or TWILIO_MESSAGING_SERVICE_SID on the server"
    )


def test_a_sender_that_is_neither_number_nor_service_is_refused() -> None:
    status, reason, _ = prepare(message(sender="ACME"), MessagingSettings())
    assert (status, reason) == (
        NOT_SENT,
        'the sender "ACME" is neither a phone number in E.164 form nor a Messaging Service SID '
        "(MG...)",
    )


def test_a_message_whose_body_rendered_empty_is_not_sent() -> None:
    status, reason, _ = prepare(message(body=""), MessagingSettings(sms_from="+15550001111"))
    assert (status, reason) == (
        NOT_SENT,
        "there is nothing to send: the body and media URL rendered empty",
    )


def test_a_caller_without_a_number_gets_no_message() -> None:
    status, reason, _ = prepare(message(to=""), MessagingSettings(sms_from="+15550001111"))
    assert (status, reason) == (
        NOT_SENT,
        "there is no recipient: the caller's number is unknown and the node has no `to`",
    )


@pytest.mark.parametrize(
    ("status", "code", "retry"),
    [
        (429, 20429, True),
        (429, 30429, True),
        (429, None, True),
        (500, None, True),
        (503, 20500, True),
        (400, 21610, False),
        (400, 21211, False),
        (400, 21614, False),
        (400, 21408, False),
        (400, 63016, False),
        (400, 63018, False),
        (503, 63016, False),  # a permanent code stays permanent whatever the HTTP status
        (401, 20003, False),
        (400, 21602, False),
    ],
)
def test_only_rate_limits_and_server_errors_are_worth_retrying(
    status: int, code: int | None, retry: bool
) -> None:
    refused = judge(TwilioRestException(status, "/Messages.json", "nope", code))
    assert refused.retry is retry
    assert refused.opted_out is (code == 21610)


def test_the_reason_names_twilios_message_code_and_status() -> None:
    exc = TwilioRestException(400, "/Messages.json", "Unable to create record: Bad number", 21211)
    assert judge(exc).reason == "Twilio refused it: Bad number (error 21211, HTTP 400)"


def worker(jitter: float, **settings: float) -> OutboxWorker:
    return OutboxWorker(
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        MessagingSettings(**settings),  # type: ignore[arg-type]
        jitter=lambda: jitter,
    )


def test_backoff_doubles_each_attempt_with_half_of_it_jittered_up_to_the_cap() -> None:
    low, high = (
        worker(0.0, retry_base=2.0, retry_max=30.0),
        worker(1.0, retry_base=2.0, retry_max=30.0),
    )
    assert [low.backoff(n) for n in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 15.0, 15.0]
    assert [high.backoff(n) for n in range(1, 7)] == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_a_sender_is_paced_and_other_senders_are_not_held_up() -> None:
    now = [100.0]
    pace = SenderPace(2.0, clock=lambda: now[0])
    assert [pace.reserve("+1555A") for _ in range(3)] == [0.0, 0.5, 1.0]
    assert pace.reserve("+1555B") == 0.0
    now[0] = 105.0  # a quiet sender starts afresh, without credit for the quiet time
    assert [pace.reserve("+1555A"), pace.reserve("+1555A")] == [0.0, 0.5]


def test_bad_rate_settings_stop_the_server_with_the_variable_named() -> None:
    with pytest.raises(
        SystemExit,
        match=r"^IVR_MESSAGES_PER_SECOND must be a positive number of messages per second, e.g. 1.0; it is 'fast'$",
    ):
        MessagingSettings.from_env({"IVR_MESSAGES_PER_SECOND": "fast"})
    with pytest.raises(
        SystemExit, match="IVR_MESSAGE_MAX_ATTEMPTS must be a positive whole number"
    ):
        MessagingSettings.from_env({"IVR_MESSAGE_MAX_ATTEMPTS": "0"})


def test_settings_come_from_the_environment() -> None:
    settings = MessagingSettings.from_env(
        {
            "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
            "TWILIO_SMS_FROM": "+15550001111",
            "IVR_TWILIO_API_URL": "http://127.0.0.1:9999/",
            "IVR_MESSAGES_PER_SECOND": "0.5",
        }
    )
    assert (
        settings.account_sid,
        settings.sms_from,
        settings.api_url,
        settings.per_sender_rate,
    ) == (
        "AC" + "1" * 32,
        "+15550001111",
        "http://127.0.0.1:9999",
        0.5,
    )
    assert MessagingSettings.from_env({}).api_url == "https://api.twilio.com"

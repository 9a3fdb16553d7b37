"""Messaging settings: who sends, where the REST API is, and how hard the worker pushes.

All of it comes from the environment (the auth token is the server's own `TWILIO_AUTH_TOKEN`),
so the same container runs against Twilio, an egress proxy or a local fake.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

TWILIO_API_URL = "https://api.twilio.com"


@dataclass(frozen=True)
class MessagingSettings:
    account_sid: str | None = None  # TWILIO_ACCOUNT_SID; without it messages queue but wait
    sms_from: str | None = None  # TWILIO_SMS_FROM
    whatsapp_from: str | None = None  # TWILIO_WHATSAPP_FROM
    messaging_service_sid: str | None = None  # TWILIO_MESSAGING_SERVICE_SID
    api_url: str = TWILIO_API_URL  # IVR_TWILIO_API_URL
    per_sender_rate: float = 1.0  # IVR_MESSAGES_PER_SECOND: a long code sends about 1/s
    max_attempts: int = 8  # IVR_MESSAGE_MAX_ATTEMPTS, then the message is dead-lettered
    retry_base: float = 2.0  # IVR_MESSAGE_RETRY_BASE: first backoff, doubling each attempt
    retry_max: float = 600.0  # IVR_MESSAGE_RETRY_MAX: backoff ceiling
    concurrency: int = 4  # IVR_MESSAGE_CONCURRENCY: requests in flight at once
    request_timeout: float = 15.0  # IVR_MESSAGE_TIMEOUT: one REST request, seconds
    poll_interval: float = 1.0  # how often the worker looks for due rows without a nudge
    stop_grace: float = 5.0  # on shutdown, how long requests in flight may finish

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> MessagingSettings:
        env = os.environ if env is None else env

        def text(name: str) -> str | None:
            return (env.get(name) or "").strip() or None

        def number(name: str, default: Any, kind: Callable[[str], Any], what: str) -> Any:
            raw = text(name)
            if raw is None:
                return default
            try:
                value = kind(raw)
            except ValueError:
                value = None
            if value is None or value <= 0:
                raise SystemExit(f"{name} must be {what}, e.g. {default}; it is {raw!r}")
            return value

        return cls(
            account_sid=text("TWILIO_ACCOUNT_SID"),
            sms_from=text("TWILIO_SMS_FROM"),
            whatsapp_from=text("TWILIO_WHATSAPP_FROM"),
            messaging_service_sid=text("TWILIO_MESSAGING_SERVICE_SID"),
            api_url=(text("IVR_TWILIO_API_URL") or TWILIO_API_URL).rstrip("/"),
            per_sender_rate=number(
                "IVR_MESSAGES_PER_SECOND", 1.0, float, "a positive number of messages per second"
            ),
            max_attempts=number(
                "IVR_MESSAGE_MAX_ATTEMPTS", 8, int, "a positive whole number of attempts"
            ),
            retry_base=number("IVR_MESSAGE_RETRY_BASE", 2.0, float, "a positive number of seconds"),
            retry_max=number("IVR_MESSAGE_RETRY_MAX", 600.0, float, "a positive number of seconds"),
            concurrency=number(
                "IVR_MESSAGE_CONCURRENCY", 4, int, "a positive whole number of requests"
            ),
            request_timeout=number(
                "IVR_MESSAGE_TIMEOUT", 15.0, float, "a positive number of seconds"
            ),
        )

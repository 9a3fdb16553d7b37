"""Server-wide settings of outbound calling, from the environment.

IVR_API_TOKEN (the bearer token of `/api/`; secret, never shown), IVR_CALLER_ID (the caller
ID of flows whose `outbound:` names none), IVR_CALLS_PER_SECOND and IVR_MAX_CALLS (the whole
account's pace and calls at once, over every campaign; Twilio's default is 1 call per second),
IVR_CAMPAIGN_POLL_INTERVAL and IVR_CALL_REQUEST_TIMEOUT (seconds).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class OutboundConfig:
    api_token: str | None = field(default=None, repr=False)
    caller_id: str | None = None
    calls_per_second: float = 1.0  # 0: no pacing (benchmarks)
    max_calls: int = 50
    poll_interval: float = 1.0  # how often the campaign runner looks for due contacts
    lookup_skew: float = 300.0  # clock difference allowed between us and Twilio in a lookup
    lease: float = 60.0  # how long a runner holds contacts it claimed before placing them
    request_timeout: float = 15.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OutboundConfig:
        env = os.environ if env is None else env

        def number(name: str, default: float) -> float:
            raw = (env.get(name) or "").strip()
            if not raw:
                return default
            try:
                value = float(raw)
            except ValueError:
                value = -1.0
            if value < 0:
                raise SystemExit(
                    f"{name} must be a number of 0 or more, e.g. {default}; it is {raw!r}"
                )
            return value

        return cls(
            api_token=(env.get("IVR_API_TOKEN") or "").strip() or None,
            caller_id=(env.get("IVR_CALLER_ID") or "").strip() or None,
            calls_per_second=number("IVR_CALLS_PER_SECOND", 1.0),
            max_calls=int(number("IVR_MAX_CALLS", 50)) or 1,
            poll_interval=number("IVR_CAMPAIGN_POLL_INTERVAL", 1.0) or 1.0,
            request_timeout=number("IVR_CALL_REQUEST_TIMEOUT", 15.0) or 15.0,
        )

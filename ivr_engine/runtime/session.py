"""The state of one call between webhooks, and its JSON form for storage.

A session pins the flow version the call started with, so an edited flow only affects new
calls. It is replaced, never mutated, by each step.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from ..templates import CALL_FIELDS


@dataclass(frozen=True)
class CallInfo:
    """Call data as templates see it under `call`.

    Every field is always there, empty when Twilio did not send it (a SIP call has no
    `FromCountry`), so `call.from_country == 'MX'` is simply false instead of failing the call.
    """

    data: Mapping[str, str]

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> CallInfo:
        return cls({name: params.get(key, "") for key, name in CALL_FIELDS.items()})


@dataclass(frozen=True)
class Session:
    call_sid: str
    flow_id: str
    flow_version: str
    call: dict[str, Any]
    vars: dict[str, Any]
    language: str
    voice: str | None
    node: str | None = None  # the waiting node, None before the first step or after the end
    attempts: dict[str, int] = field(default_factory=dict)
    step: int = 0
    path: list[str] = field(default_factory=list)
    last_twiml: str = ""
    ended: bool = False
    end_reason: str = ""
    status: str = ""  # the latest CallStatus Twilio reported
    after_call_done: bool = False

    def evolve(self, **changes: Any) -> Session:
        return replace(self, **changes)

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Session:
        return cls(**json.loads(text))

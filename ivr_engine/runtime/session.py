"""The state of one call between webhooks, and its JSON form for storage.

A session pins the flow version the call started with, so an edited flow only affects new
calls. It is replaced, never mutated, by each step.

Inside subflows, `stack` holds one frame per subflow entered, innermost last:
`{"flow": id, "version": pinned version, "caller": id of the calling node in the flow below,
"vars": that flow's variables, given back on return}`. `node` and `vars` are then the
innermost flow's, and `path` entries inside a subflow read `flow_id:node_id`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from .. import json_text
from ..templates import CALL_FIELDS
from ..twilio_fields import whole_number


@dataclass(frozen=True)
class CallInfo:
    """Call data as templates see it under `call`.

    Every field is always there, empty when Twilio did not send it (a SIP call has no
    `FromCountry`), so `call.from_country == 'MX'` is simply false instead of failing the call.
    """

    data: Mapping[str, Any]

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> CallInfo:
        data: dict[str, Any] = {name: params.get(key, "") for key, name in CALL_FIELDS.items()}
        data["duration"] = whole_number(str(data["duration"])) or 0
        return cls(data)


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
    stack: list[dict[str, Any]] = field(default_factory=list)
    # The call ended while a `record` node waited for its recording: `{"waiting", "node",
    # "into", "step", "since"}` (epoch seconds). `on_hangup` waits (`waiting`) for the
    # recording or a grace period; a recording that comes later still fills `into`.
    pending_recording: dict[str, Any] | None = None
    # Recording / transcription callbacks that came before the variable they update: by
    # RecordingSid, merged once the <Record> action fills the variable.
    recording_updates: dict[str, dict[str, Any]] = field(default_factory=dict)
    contact: dict[str, Any] = field(default_factory=dict)  # an outbound call's contact fields

    def evolve(self, **changes: Any) -> Session:
        """A copy with `changes`; every step makes one, so it skips `dataclasses.replace`'s
        per-field `__init__` (this class is frozen: each field set costs a call)."""
        unknown = changes.keys() - _FIELD_SET
        if unknown:
            raise TypeError(f"Session has no field(s) {', '.join(sorted(unknown))}")
        new = object.__new__(Session)
        new.__dict__.update(self.__dict__)
        new.__dict__.update(changes)
        return new

    def unwound(self) -> Session:
        """The call back in the flow it started with (its variables), out of every subflow.

        For what runs after a call that ended inside a subflow: the main flow's `on_hangup`
        reads the main flow's variables.
        """
        if not self.stack:
            return self
        return self.evolve(vars=dict(self.stack[0]["vars"]), stack=[])

    def to_json(self) -> str:
        # Not dataclasses.asdict: it deep-copies every value, which cost more than the rest of a step.
        return json_text.dumps({name: getattr(self, name) for name in _FIELDS})

    @classmethod
    def from_json(cls, text: str) -> Session:
        return cls(**json_text.loads(text))


_FIELDS = tuple(f.name for f in fields(Session))
_FIELD_SET = frozenset(_FIELDS)

"""A flow's `outbound:` settings, read from the validated flow into one typed value.

The loader keeps the raw mapping in `Flow.settings["outbound"]`; everything that places or
answers an outbound call reads it through `OutboundSettings.of(flow)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..model import Flow

# The flow's `amd:` word -> Twilio's `MachineDetection` value.
AMD_MODES = {"off": None, "detect": "Enable", "detect_message_end": "DetectMessageEnd"}
DEFAULT_RING_TIMEOUT = 30
MACHINE_ANSWERS = frozenset(
    {"machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax"}
)


@dataclass(frozen=True)
class OutboundSettings:
    caller_id: str | None = None
    amd: str = "off"
    async_amd: bool = False
    ring_timeout: int = DEFAULT_RING_TIMEOUT
    machine: str | None = None
    contact: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any] | None) -> OutboundSettings:
        spec = spec or {}
        return cls(
            caller_id=spec.get("caller_id"),
            amd=spec.get("amd", "off"),
            async_amd=bool(spec.get("async_amd", False)),
            ring_timeout=int(spec.get("ring_timeout", DEFAULT_RING_TIMEOUT)),
            machine=spec.get("machine"),
            contact=tuple(spec.get("contact") or ()),
        )

    @classmethod
    def of(cls, flow: Flow) -> OutboundSettings:
        return cls.from_spec(flow.settings.get("outbound"))

    @property
    def machine_detection(self) -> str | None:
        """Twilio's `MachineDetection` parameter, None when the flow does not detect."""
        return AMD_MODES.get(self.amd)


def start_node(flow: Flow, answered_by: str) -> str:
    """Where a call starts: the flow's machine node when a machine answered, else its start.

    With asynchronous detection Twilio knows nothing yet when the call starts, so the flow
    starts at its start node whatever comes later.
    """
    outbound = OutboundSettings.of(flow)
    if outbound.machine and not outbound.async_amd and answered_by in MACHINE_ANSWERS:
        return outbound.machine
    return flow.start

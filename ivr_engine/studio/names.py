"""Studio names -> engine names: node ids, variable names, and the Liquid roots Studio offers.

`Names.resolve` is the `liquid.Resolver` of an import: it knows which widget became which
node (a gather's answer is its `into` variable, an http widget's `parsed` is the http node's
`body`) and which Studio roots have an engine counterpart (`trigger.call.From` is
`call.from`). A root without one answers None, and the Liquid stays a marked TODO.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..templates import BUILTIN_NAMES, CALL_FIELDS
from .liquid import Parts

RESERVED = BUILTIN_NAMES | {"env", "loop", "range", "true", "false", "none"}
# Studio's names for call fields that the engine calls otherwise.
_CALL_ALIASES = {"Caller": "from", "Called": "to", **CALL_FIELDS}
_CALL_ALIASES.update({"CallerCity": "from_city", "CallerState": "from_state"})
_CALL_ALIASES.update({"CallerZip": "from_zip", "CallerCountry": "from_country"})
_CALL_ALIASES.update({"CalledCity": "to_city", "CalledState": "to_state"})
_CALL_ALIASES.update({"CalledZip": "to_zip", "CalledCountry": "to_country"})


def node_id(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "_", name.strip()) or "widget"
    return cleaned if re.match(r"[A-Za-z_]", cleaned) else f"w_{cleaned}"


def var_name(name: str) -> str:
    cleaned = re.sub(r"\W", "_", name.strip()) or "value"
    if not re.match(r"[A-Za-z_]", cleaned):
        cleaned = f"v_{cleaned}"
    return f"studio_{cleaned}" if cleaned in RESERVED else cleaned


def _tail(parts: Parts) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


@dataclass
class Names:
    """How each widget's outputs are read after the import; filled in by the importer."""

    gather_vars: dict[str, str] = field(default_factory=dict)  # widget -> its answer variable
    http_vars: dict[str, str] = field(default_factory=dict)
    record_vars: dict[str, str] = field(default_factory=dict)
    flow_vars: set[str] = field(default_factory=set)  # variables templates read

    def resolve(self, parts: Parts) -> str | None:
        head = [str(p) for p in parts[:3]]
        if head[:2] == ["flow", "variables"] and len(parts) >= 3:
            return self._var(str(parts[2])) + _tail(parts[3:])
        if head[:3] == ["trigger", "parent", "parameters"] and len(parts) >= 4:
            return self._var(str(parts[3])) + _tail(parts[4:])  # a subflow's inputs
        if head[:2] == ["trigger", "call"] and len(parts) == 3:
            field_name = _CALL_ALIASES.get(str(parts[2]))
            return f"call.{field_name}" if field_name else None
        if head[:3] == ["contact", "channel", "address"] and len(parts) == 3:
            return "call.from"
        if head[:3] == ["flow", "channel", "address"] and len(parts) == 3:
            return "call.to"
        if head[:1] == ["widgets"] and len(parts) >= 3:
            return self._widget(str(parts[1]), str(parts[2]), parts[3:])
        return None

    def _var(self, name: str) -> str:
        var = var_name(name)
        self.flow_vars.add(var)
        return var

    def _widget(self, widget: str, output: str, rest: Parts) -> str | None:
        if widget in self.gather_vars and output in ("Digits", "SpeechResult") and not rest:
            return self.gather_vars[widget]
        if widget in self.http_vars:
            var = self.http_vars[widget]
            if output == "parsed":
                return f"{var}.body" + _tail(rest)
            if output == "body" and not rest:
                return f"{var}.body"
            if output == "status_code" and not rest:
                return f"{var}.status"
        if widget in self.record_vars and not rest:
            key = {"RecordingUrl": "url", "RecordingDuration": "duration"}.get(output)
            key = key or {"TranscriptionText": "transcription", "RecordingSid": "sid"}.get(output)
            if key:
                return f"{self.record_vars[widget]}.{key}"
        return None

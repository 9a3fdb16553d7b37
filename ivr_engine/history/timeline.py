"""A call's log entries told in words, for `ivr calls show` and the dashboard's call page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def answer(entry: Mapping[str, Any]) -> str:
    """What arrived with the step: the keys pressed, words said, dial outcome, recording."""
    event = entry.get("event") or {}
    kind = entry.get("kind", "")
    parts = []
    if "digits" in event:
        parts.append(f"pressed {event['digits']}")
    if "speech" in event:
        confidence = f" (confidence {event['confidence']})" if "confidence" in event else ""
        parts.append(f'said "{event["speech"]}"{confidence}')
    if "dial_status" in event:
        duration = f", {event['dial_duration']} s" if "dial_duration" in event else ""
        parts.append(f"dial {event['dial_status']}{duration}")
    if "recording_url" in event:
        duration = f"{event['recording_duration']} s " if "recording_duration" in event else ""
        parts.append(f"recording {duration}{event['recording_url']}")
    if parts:
        return "; ".join(parts)
    return {
        "start": "call came in",
        "no-input": "no answer (silence)",
        "no-recording": "no recording",
        "redirect": "continued",
    }.get(kind, kind)


def hops(entry: Mapping[str, Any]) -> str:
    """Where the call went in this step: `main_menu -[1]-> sales -> voicemail`."""
    types = entry.get("types") or {}
    text = ""
    for hop in entry.get("path") or []:
        via = hop.get("via")
        source = hop.get("from")
        target = hop.get("to")
        name = f"{target} ({types[target]})" if target in types else (target or "the end")
        if target == source and source is not None:
            name = f"{target} again"
        arrow = f" -[{via}]-> " if via not in (None, "next", "start") else " -> "
        if not text:
            text = source or ("(error)" if via == "error" else "")
        text += arrow + name if text else name
    return text


def outcome(entry: Mapping[str, Any]) -> str:
    if entry.get("ended"):
        return f"call ended ({entry.get('end_reason') or 'hang up'})"
    if entry.get("waits"):
        return f"waits at {entry['waits']}"
    return ""

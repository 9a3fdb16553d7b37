"""One execution-log entry per step: what arrived, where the call went, what it heard.

`CallService` builds an entry from the step's result and hands it to `SessionStore.save`,
which writes it in the session's own statement (see `ivr_engine.store.history`). Building it
is plain dictionary work on data the step already produced; no TwiML is parsed.

Values are masked before anything is stored: variables a flow declares `sensitive: true`
(and the keys or words that filled them), and any secret (`Secrets`) wherever it appears.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from ..model import Flow
from ..runtime import Event, Session, StepResult
from ..store.history import timestamp

MASK = "•••"
# Parameters of a webhook worth keeping, by the name the log gives them.
EVENT_FIELDS = {
    "Digits": "digits",
    "SpeechResult": "speech",
    "Confidence": "confidence",
    "DialCallStatus": "dial_status",
    "DialCallDuration": "dial_duration",
    "RecordingUrl": "recording_url",
    "RecordingDuration": "recording_duration",
    "RecordingSid": "recording_sid",
}
INPUT_FIELDS = ("digits", "speech")
MAX_TEXT = 2000  # longer values (an http node's whole answer) are cut


class Secrets:
    """Text that must never be stored or shown: the auth token, passwords, env values.

    `mask` replaces every occurrence. Values shorter than 4 characters are not searched for
    (they would match everywhere and protect nothing).
    """

    def __init__(self, values: Iterable[str | None] = ()) -> None:
        kept = sorted({v for v in values if v and len(v) >= 4}, key=len, reverse=True)
        self.values = tuple(kept)
        self._pattern = re.compile("|".join(re.escape(v) for v in kept)) if kept else None

    def mask(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(MASK, text)

    def __contains__(self, text: str) -> bool:
        return self._pattern is not None and self._pattern.search(text) is not None


SECRET_NAMES = re.compile(r"TOKEN|SECRET|PASSW|KEY|CREDENTIAL|AUTH", re.IGNORECASE)
ENV_REFERENCE = re.compile(r"\benv\s*(?:\.\s*([A-Za-z_]\w*)|\[\s*['\"]([^'\"]+)['\"]\s*\])")


def env_secrets(env: Mapping[str, str], flows: Iterable[Flow]) -> list[str]:
    """Environment values a flow could leak: those its templates read, and secret-looking ones."""
    names = {name for name in env if SECRET_NAMES.search(name)}
    for flow in flows:
        for text in flow.texts.values():
            for source in text.by_language.values():
                if "env" in source:
                    for match in ENV_REFERENCE.finditer(source):
                        names.add(match.group(1) or match.group(2))
    return [env[name] for name in names if name in env]


def _value(value: Any, secrets: Secrets) -> Any:
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            value = value[:MAX_TEXT] + "…"
        return secrets.mask(value) if value in secrets else value
    if isinstance(value, dict | list):
        from .. import json_text  # values from an http node's answer: masked as their text

        text = json_text.dumps(value)
        if text in secrets or len(text) > MAX_TEXT:
            return _value(text, secrets)
    return value


def entry(
    flow: Flow,
    before: Session | None,
    event: Event | None,
    result: StepResult,
    *,
    at: datetime,
    seconds: float,
    secrets: Secrets,
) -> dict[str, Any]:
    """The log entry of one step (`before` is None for the call's first)."""
    after = result.session
    old_vars: Mapping[str, Any] = before.vars if before is not None else {}
    sensitive = flow.sensitive
    changed: dict[str, Any] = {}
    hidden: list[str] = []  # values of sensitive variables, masked wherever they show
    for name, value in after.vars.items():
        if name in old_vars and old_vars[name] == value:
            continue
        if name in sensitive:
            changed[name] = MASK
            if isinstance(value, str | int) and len(str(value)) >= 2:
                hidden.append(str(value))
        else:
            changed[name] = _value(value, secrets)
    for name in old_vars.keys() - after.vars.keys():
        changed[name] = None
    data: dict[str, Any] = {
        "at": timestamp(at),
        "step": after.step,
        "kind": event.kind.value if event is not None else "start",
        "flow": after.stack[-1]["flow"] if after.stack else after.flow_id,
        "node": before.node if before is not None else None,
    }
    if event is not None:
        got = {
            name: _value(event.params[key], secrets)
            for key, name in EVENT_FIELDS.items()
            if event.params.get(key, "") != ""
        }
        if hidden or result.secret_input:  # a sensitive variable's value, or a one-time code
            for name in INPUT_FIELDS:
                if name in got:
                    got[name] = MASK
        if got:
            data["event"] = got
    if result.taken:
        data["path"] = [
            {"from": t.node, "via": t.via, "to": t.target, "flow": t.flow} for t in result.taken
        ]
        types = {}
        for hop in result.taken:
            for node_id in (hop.node, hop.target):
                if node_id and node_id in flow.nodes and node_id not in types:
                    types[node_id] = flow.nodes[node_id].type_name
        data["types"] = types
    if changed:
        data["vars"] = changed
    if result.told:
        told = [secrets.mask(text) if text in secrets else text for text in result.told]
        for value in hidden:
            told = [text.replace(value, MASK) for text in told]
        data["told"] = told
    data["waits"] = after.node
    if after.ended:
        data["ended"] = True
        data["end_reason"] = after.end_reason
    data["ms"] = round(seconds * 1000, 2)
    if result.error:
        data["error"] = secrets.mask(result.error)
        node_id = result.failed_node
        data["error_node"] = node_id
        if node_id and node_id in flow.nodes:
            data["error_node_type"] = flow.nodes[node_id].type_name
        on_error = next(
            (t.target for t in result.taken if t.node is None and t.via == "error"), None
        )
        if on_error:
            data["on_error"] = on_error
    if result.messages:
        data["messages"] = [
            {"node": m.node_id, "channel": m.channel, "to": m.to} for m in result.messages
        ]
    return data

"""Studio JSON text -> `StudioFlow`: the first step of an import.

Accepts both shapes Studio hands out: the "Export to JSON" document (`states`,
`initial_state`, `flags`, `description`) and the Studio v2 REST API's flow resource, which
wraps that document in `definition` (and names the flow in `friendly_name`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..errors import DefinitionError


class StudioError(DefinitionError):
    """The file is not a Studio flow definition; the message says what is missing."""


@dataclass(frozen=True)
class Widget:
    name: str
    type: str
    properties: dict[str, Any]
    transitions: dict[str, str | None]  # event -> next widget (None: unwired)
    # every transition as written: (event, next, conditions); a split has one per condition
    order: list[tuple[str, str | None, list[dict[str, Any]]]] = field(default_factory=list)

    def next(self, event: str) -> str | None:
        return self.transitions.get(event)


@dataclass(frozen=True)
class StudioFlow:
    description: str
    initial_state: str
    flags: dict[str, Any]
    widgets: dict[str, Widget]  # in the file's order

    @property
    def trigger(self) -> Widget:
        return self.widgets[self.initial_state]


def read_studio(text: str, source: str = "flow.json") -> StudioFlow:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise StudioError(f"{source}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise StudioError(f"{source}: a Studio flow is a JSON object, not {type(data).__name__}")
    name = data.get("friendly_name")
    if "definition" in data:  # the REST API's flow resource
        data = data["definition"]
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError as exc:
                raise StudioError(f"{source}: its definition is not JSON ({exc})") from None
    states = data.get("states") if isinstance(data, dict) else None
    if not isinstance(states, list) or not states:
        raise StudioError(
            f'{source}: no "states" list: this is not a Studio flow definition (export it with '
            "Studio's \"Export to JSON\", or take the REST API flow's definition)"
        )
    widgets: dict[str, Widget] = {}
    for i, state in enumerate(states):
        if not isinstance(state, dict) or not isinstance(state.get("name"), str):
            raise StudioError(f"{source}: state {i + 1} has no name")
        transitions: dict[str, str | None] = {}
        order = []
        for transition in state.get("transitions") or []:
            event = str(transition.get("event", ""))
            target = transition.get("next") or None
            conditions = list(transition.get("conditions") or [])
            order.append((event, target, conditions))
            transitions.setdefault(event, target)
        widgets[state["name"]] = Widget(
            state["name"],
            str(state.get("type", "")),
            dict(state.get("properties") or {}),
            transitions,
            order=order,
        )
    initial = data.get("initial_state")
    if initial not in widgets:
        triggers = [w.name for w in widgets.values() if w.type == "trigger"]
        if not triggers:
            raise StudioError(f'{source}: no "initial_state" and no trigger widget')
        initial = triggers[0]
    return StudioFlow(
        str(data.get("description") or name or ""),
        initial,
        dict(data.get("flags") or {}),
        widgets,
    )

"""One entry point: Studio JSON text -> YAML flow text, its report and (optionally) tests.

Runs the steps in order (read, build nodes, write YAML) and then checks the result with the
engine's own loader, exactly as `ivr validate` would, so the report says whether the flow is
ready to run and every remaining problem is listed beside the widgets it came from.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import FlowError
from ..loader import FlowLoader
from ..project import project_registry
from .reader import read_studio
from .report import Entry, Report
from .widgets import Builder
from .writer import write_flow

PACIFIC = "America/Los_Angeles"  # Studio's Liquid dates run in Pacific time
LOOP = re.compile(
    r'node "([^"]+)": the call can loop forever without waiting for the caller \(([^)]*)\)'
)
VOICE_TRIGGERS = ("incomingCall", "incomingRequest", "incomingParent")
BILINGUAL = re.compile(
    r"(?:^|[_-])(english|spanish|espanol|french|en|es|fr|eng|spa|ingles)(?=$|[_-])", re.I
)


@dataclass(frozen=True)
class ImportResult:
    name: str
    yaml: str
    report: Report
    voice: bool


def import_studio(
    text: str,
    source: str = "flow.json",
    name: str | None = None,
    *,
    subflow: bool = False,
    subflows: Mapping[str, str] | None = None,
    beside: Mapping[str, str] | None = None,
) -> ImportResult:
    """Import one Studio flow.

    `subflow`: the flow is run by another one (its ends return instead of hanging up);
    `subflows`: Studio flow SID -> the flow name it was imported as; `beside`: flow name ->
    YAML text of flows that will sit beside this one (so a subflow reference validates).
    """
    flow = read_studio(text, source)
    report = Report(source)
    builder = Builder(flow, report, subflow=subflow, subflow_names=dict(subflows or {}))
    builder.build()
    trigger = flow.trigger
    events = ("incomingParent", *VOICE_TRIGGERS) if subflow else VOICE_TRIGGERS
    start = next((trigger.next(e) for e in events if trigger.next(e)), None)
    voice = start is not None
    if start is None:
        start = trigger.next("incomingMessage") or trigger.next("incomingConversationMessage")
        report.notes.append(
            Entry(
                trigger.name,
                "no call comes in (incomingCall is unwired): a messaging-only flow, imported "
                "as a voice flow for review",
            )
        )
    if trigger.next("incomingMessage") and voice:
        report.notes.append(
            Entry(trigger.name, "incomingMessage is wired too: the messaging part is not imported")
        )
    settings: dict[str, Any] = {}
    settings["description"] = flow.description or f"Imported from Twilio Studio ({source})"
    settings["start"] = builder.target(start)
    builder.build_end()
    if builder.uses_clock:
        settings["timezone"] = PACIFIC
        report.notes.append(
            Entry(
                trigger.name, f"dates in Liquid run in Pacific time in Studio: timezone {PACIFIC}"
            )
        )
    defaults = sorted(builder.names.flow_vars | set(builder.names.gather_vars.values()))
    if defaults:
        settings["vars"] = {var: "" for var in defaults}
    _bilingual(builder, report)
    header = [
        f"Imported from Twilio Studio: {Path(source).name} (ivr import studio).",
        "Each node names the Studio widget it came from; review every 'TODO Studio'.",
    ]
    yaml_text = write_flow(header, settings, builder.nodes.values())
    flow_name = name or _flow_name(source)
    report.validation = validate_text(yaml_text, flow_name, beside or {})
    for line in report.validation:
        if found := LOOP.search(line):
            node, route = found.groups()
            widget = next((w for w, i in builder.ids.items() if i == node), node)
            report.problems.append(
                Entry(
                    widget,
                    f"loops without waiting for the caller ({route}): Studio replays it until the "
                    "execution stops at 1,000 steps; the engine refuses the flow: break the loop",
                )
            )
    return ImportResult(flow_name, yaml_text, report, voice)


def validate_text(yaml_text: str, name: str, beside: Mapping[str, str]) -> list[str]:
    """What `ivr validate` says of the text, one line per problem (empty: it validates)."""
    with tempfile.TemporaryDirectory() as folder:
        for other, text in beside.items():
            (Path(folder) / f"{other}.yaml").write_text(text, encoding="utf-8")
        path = Path(folder) / f"{name}.yaml"
        path.write_text(yaml_text, encoding="utf-8")
        try:
            result = FlowLoader(project_registry()).load_file(path)
            problems = result.warnings
        except FlowError as exc:
            problems = exc.problems
    return [str(p).replace(str(path), f"{name}.yaml") for p in problems]


def _flow_name(source: str) -> str:
    stem = Path(source).stem.lower()
    return re.sub(r"[^a-z0-9_-]+", "-", stem).strip("-") or "studio"


def _bilingual(builder: Builder, report: Report) -> None:
    """Widgets that differ only by a language word: pointed at, never merged."""
    groups: dict[tuple[str, str], list[str]] = {}
    for widget in builder.flow.widgets.values():
        if BILINGUAL.search(widget.name):
            key = (BILINGUAL.sub("", widget.name).lower(), widget.type)
            groups.setdefault(key, []).append(widget.name)
    pairs = [names for names in groups.values() if len(names) > 1]
    if pairs:
        shown = "; ".join(" / ".join(names) for names in pairs[:8])
        more = f" (and {len(pairs) - 8} more)" if len(pairs) > 8 else ""
        report.notes.append(
            Entry(
                builder.flow.trigger.name,
                f"{len(pairs)} widget(s) are copied per language, left as they are: {shown}{more}; "
                "one node with a text per language (text: {{en-US: ..., es-US: ...}}) would do",
            )
        )

"""What an import did, in words a person can act on: printed after every import.

Four lists, each entry naming the Studio widget: widgets mapped (and to which node type),
widgets with no counterpart (and what stands in their place), Liquid kept as TODO, and the
problems Studio let through (dead ends, loops, unwired no-input paths). Improvements the
importer made where the meaning is unchanged are listed too, so nothing happens silently.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Entry:
    widget: str
    message: str

    def __str__(self) -> str:
        return f'  - "{self.widget}": {self.message}'


@dataclass
class Report:
    source: str
    mapped: list[tuple[str, str, str]] = field(default_factory=list)  # widget, type, node type
    unmapped: list[Entry] = field(default_factory=list)
    todos: list[Entry] = field(default_factory=list)
    problems: list[Entry] = field(default_factory=list)
    improvements: list[Entry] = field(default_factory=list)
    notes: list[Entry] = field(default_factory=list)
    validation: list[str] = field(default_factory=list)  # what `ivr validate` says of the result

    def map(self, widget: str, studio_type: str, node_type: str) -> None:
        self.mapped.append((widget, studio_type, node_type))

    def unmapped_types(self) -> list[str]:
        return [e.message.split(" ", 1)[0] for e in self.unmapped]

    @property
    def validates(self) -> bool:
        return not any(": warning: " not in line for line in self.validation)

    def render(self) -> str:
        kinds = Counter(f"{studio} -> {node}" for _, studio, node in self.mapped)
        lines = [f"Imported {self.source}: {len(self.mapped)} widget(s) mapped"]
        lines += [f"  {count} x {kind}" for kind, count in sorted(kinds.items())]
        sections = [
            ("Widgets with no counterpart (a node says so and the flow continues)", self.unmapped),
            ("Liquid kept as a marked TODO (search the flow for 'TODO Studio')", self.todos),
            ("Problems Studio let through", self.problems),
            ("Improved while importing (same meaning)", self.improvements),
            ("Notes", self.notes),
        ]
        for title, entries in sections:
            if entries:
                lines.append(f"{title}: {len(entries)}")
                lines += [str(e) for e in entries]
        if self.validation:
            lines.append("ivr validate says:")
            lines += [f"  {line}" for line in self.validation]
        else:
            lines.append("ivr validate: no problems")
        return "\n".join(lines)

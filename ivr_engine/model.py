"""The compiled flow: immutable, shared by every call that runs this version of the flow.

A `Flow` is what the loader hands the runtime. It carries its nodes (frozen `Node`
instances found through the registry), the templates and expressions already checked, and a
content hash that is the version a call pins when it starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .node import FieldPath, Node
from .templates import CompiledExpression, CompiledText

DEFAULT_LANGUAGE = "en-US"
DEFAULT_TIMEZONE = "UTC"


@dataclass(frozen=True)
class Flow:
    id: str
    file: str
    version: str
    start: str
    nodes: Mapping[str, Node]
    language: str = DEFAULT_LANGUAGE
    voice: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    vars: Mapping[str, Any] = field(default_factory=dict)
    # variables declared `sensitive: true`: their values are masked in the call history
    sensitive: frozenset[str] = frozenset()
    on_error: str | None = None
    on_hangup: str | None = None
    description: str = ""
    settings: Mapping[str, Any] = field(default_factory=dict)
    texts: Mapping[tuple[str, FieldPath], CompiledText] = field(default_factory=dict)
    expressions: Mapping[tuple[str, FieldPath], CompiledExpression] = field(default_factory=dict)

    def node(self, node_id: str) -> Node:
        return self.nodes[node_id]

    def text(self, node_id: str, path: FieldPath) -> CompiledText | None:
        return self.texts.get((node_id, path))

    def expression(self, node_id: str, path: FieldPath) -> CompiledExpression:
        return self.expressions[(node_id, path)]

    def warm(self) -> None:
        """Generate the code of every template and condition now, so no caller waits for it."""
        for text in self.texts.values():
            text.warm()
        for expression in self.expressions.values():
            expression.warm()

"""Imported nodes -> the YAML text of one flow, each node under a comment naming its widget.

The text is meant to be read and reviewed as a diff, so it is written by hand around
`yaml.safe_dump` (which quotes what YAML would misread, such as `yes` or `1`): header
comments, top-level settings, then the nodes in Studio's order with one comment each.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from .widgets import Node


class _Dumper(yaml.SafeDumper):
    """Multi-line texts as `|` blocks, short lists of words on one line, no anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if "\n" in value.strip() and not any(c in value for c in "\t\r"):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value.strip() + "\n", style="|")
    return dumper.represent_str(value)


def _list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.Node:
    flat = all(isinstance(v, str) and "\n" not in v and len(v) < 40 for v in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flat)


_Dumper.add_representer(str, _text)
_Dumper.add_representer(list, _list)


def dump(value: Any) -> str:
    return yaml.dump(
        value,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )


def write_flow(header: Iterable[str], settings: Mapping[str, Any], nodes: Iterable[Node]) -> str:
    lines = ["# yaml-language-server: $schema=../schemas/flow.schema.json"]
    lines += [f"# {line}" if line else "#" for line in header]
    lines.append(dump(dict(settings)).rstrip())
    lines.append("")
    lines.append("nodes:")
    for node in nodes:
        if node.widget:
            lines.append(f'  # Studio widget "{node.widget}" ({node.studio_type})')
        if node.note:
            lines.append(f"  # {node.note}")
        body = dump({node.id: node.spec}).rstrip().splitlines()
        lines += [f"  {line}" for line in body]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"

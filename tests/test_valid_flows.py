"""Sample flows that must load cleanly: a minimal and a full one per built-in node type."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ivr_engine.nodes import BUILTIN_NODES
from tests.support import EXAMPLES, ROOT, VALID, load

SAMPLES = sorted(VALID.glob("*.yaml")) + sorted(EXAMPLES.glob("*.yaml"))


def test_every_built_in_node_type_has_a_minimal_and_a_full_sample() -> None:
    names = {p.stem for p in VALID.glob("*.yaml")}
    for cls in BUILTIN_NODES:
        assert {f"{cls.type_name}_minimal", f"{cls.type_name}_full"} <= names


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_sample_flow_loads_without_errors_or_warnings(path: Path) -> None:
    flow = load(path)
    assert flow.id == path.stem
    assert flow.start in flow.nodes


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_sample_flow_points_editors_at_the_shipped_schema(path: Path) -> None:
    schema = Path(os.path.relpath(ROOT / "schemas" / "flow.schema.json", path.parent))
    first_line = path.read_text(encoding="utf-8").splitlines()[0]
    assert first_line == f"# yaml-language-server: $schema={schema.as_posix()}"

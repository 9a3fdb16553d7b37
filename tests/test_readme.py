"""The README's "Flow format" section stays true: every field documented, examples valid."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ivr_engine.reader import read_yaml
from ivr_engine.schema import shipped_schema
from ivr_engine.templates import compile_expression
from ivr_engine.validation import SchemaChecker
from tests.support import ROOT, load_text

README = (ROOT / "README.md").read_text(encoding="utf-8")
_FORMAT_START = README.index("\n## Flow format\n")
_FORMAT_END = README.find("\n## ", _FORMAT_START + 1)
FORMAT = README[_FORMAT_START : _FORMAT_END if _FORMAT_END >= 0 else len(README)]
SCHEMA = shipped_schema()
TYPE_NAMES = SCHEMA["$defs"]["node"]["properties"]["type"]["enum"]


def _section(title_start: str) -> str:
    """The text of the `### ...` subsection whose title starts with `title_start`."""
    start = FORMAT.index(f"\n### {title_start}")
    end = FORMAT.find("\n### ", start + 1)
    return FORMAT[start : end if end >= 0 else len(FORMAT)]


def _blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def _documented(section: str) -> set[str]:
    """Every `name` in backticks in the first column of the section's tables."""
    cells = re.findall(r"^\| ([^|]+) \|", section, flags=re.MULTILINE)
    return {name for cell in cells for name in re.findall(r"`([a-z_]+)`", cell)}


def test_the_quick_start_still_opens_the_readme() -> None:
    assert README.index("## Quick start") < README.index("## Flow format")


def test_every_top_level_field_is_documented() -> None:
    assert _documented(_section("Top-level fields")) == set(SCHEMA["properties"])


@pytest.mark.parametrize("type_name", TYPE_NAMES)
def test_every_field_of_every_node_type_is_documented(type_name: str) -> None:
    fields = set(SCHEMA["$defs"][type_name]["properties"]) - {"type"}
    assert _documented(_section(f"`{type_name}`")) == fields


def test_the_opening_example_is_a_flow_that_loads_cleanly() -> None:
    example = _blocks(FORMAT, "yaml")[0]
    flow = load_text(example, "example")
    assert flow.start == "welcome"


def _node_snippets() -> list[str]:
    found = []
    for block in _blocks(FORMAT, "yaml")[1:]:
        data = read_yaml(block, "README.md").data
        if all(isinstance(v, dict) and "type" in v for v in data.values()):
            found.append(block)
    return found


@pytest.mark.parametrize("block", _node_snippets(), ids=lambda b: b.split(":")[0])
def test_every_node_example_passes_the_schema(block: str) -> None:
    indented = "".join(f"  {line}\n" for line in block.splitlines())
    doc = read_yaml("nodes:\n" + indented, "README.md")
    first = next(iter(doc.data["nodes"]))
    doc.data["start"] = first
    checker = SchemaChecker(SCHEMA)
    checker.coerce(doc)
    assert checker.problems(doc)[0] == []


def test_every_condition_shown_compiles() -> None:
    spans = re.findall(r"`([^`]+)`", _section("Conditions"))
    conditions = [s for s in spans if s not in ("branch", "when")]
    assert len(conditions) >= 5
    for condition in conditions:
        compile_expression(condition)


def test_the_error_example_is_what_ivr_validate_prints(tmp_path: Path) -> None:
    (session,) = _blocks(_section("Errors"), "text")
    command, *shown = session.splitlines()
    assert command == "$ ivr validate"
    (tmp_path / "flows").mkdir()
    shutil.copy(ROOT / "tests" / "flows" / "readme" / "acme.yaml", tmp_path / "flows")
    done = subprocess.run(
        [sys.executable, "-m", "ivr_engine", "validate"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stdout.splitlines() + done.stderr.splitlines() == shown


def test_the_language_map_example_is_a_valid_text() -> None:
    (block,) = [b for b in _blocks(_section("Templates"), "yaml") if b.startswith("prompt:")]
    data: Any = read_yaml(block, "README.md").data
    flow = load_text(
        "start: m\nnodes:\n  m:\n    type: menu\n"
        + "".join(f"    {line}\n" for line in block.splitlines())
        + "    options:\n      1: m\n"
    )
    text = flow.text("m", ("prompt",))
    assert text is not None and dict(text.by_language) == data["prompt"]

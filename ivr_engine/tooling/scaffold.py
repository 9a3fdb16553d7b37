"""`ivr new`: a new flow and its tests, from a small template that validates and passes.

The template (`templates/flow.yaml`, `templates/test.yaml` in this package) is a complete
small flow whose tests take every transition, so a new author starts from something that
works and is tested, and changes it step by step.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import DefinitionError
from ..loader import FLOW_ID
from .testfile import TESTS_FOLDER

SCHEMA = Path("schemas") / "flow.schema.json"
TEST_SCHEMA = Path("schemas") / "flowtest.schema.json"


@dataclass(frozen=True)
class Scaffold:
    flow: Path
    test: Path


def paths_for(name: str, folder: Path) -> Scaffold:
    return Scaffold(folder / f"{name}.yaml", folder / TESTS_FOLDER / f"{name}.yaml")


def create(name: str, folder: Path, root: Path | None = None) -> Scaffold:
    """Write `<folder>/<name>.yaml` and its test file; refuse to overwrite either."""
    if not FLOW_ID.match(name):
        raise DefinitionError(
            f'"{name}" cannot be a flow name: use lowercase letters, digits, - and _ '
            "(e.g. acme-support)"
        )
    target = paths_for(name, folder)
    existing = [str(p) for p in (target.flow, target.test) if p.exists()]
    if existing:
        raise DefinitionError(
            f"{' and '.join(existing)} already exist{'s' if len(existing) == 1 else ''}: "
            "nothing was written; choose another name or remove the file first"
        )
    values = {
        "__NAME__": name,
        "__FILE__": target.flow.as_posix(),
        "__SCHEMA_LINE__": _schema_line(target.flow, (root or Path.cwd()) / SCHEMA),
        "__TEST_SCHEMA_LINE__": _schema_line(target.test, (root or Path.cwd()) / TEST_SCHEMA),
    }
    target.test.parent.mkdir(parents=True, exist_ok=True)
    target.flow.write_text(_render("flow.yaml", values), encoding="utf-8")
    target.test.write_text(_render("test.yaml", values), encoding="utf-8")
    return target


def _render(template: str, values: dict[str, str]) -> str:
    text = (resources.files(__package__) / "templates" / template).read_text(encoding="utf-8")
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text


def _schema_line(file: Path, schema: Path) -> str:
    """The editor's schema line, when the project has the schema file to point at."""
    if not schema.is_file():
        return ""
    relative = os.path.relpath(schema.resolve(), file.parent.resolve())
    return f"# yaml-language-server: $schema={Path(relative).as_posix()}\n"

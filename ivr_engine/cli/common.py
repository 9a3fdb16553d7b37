"""What several subcommands share: naming a flow on the command line and loading it."""

from __future__ import annotations

from pathlib import Path

from ..errors import DefinitionError
from ..links import FLOW_SUFFIXES
from ..loader import FlowLoader
from ..model import Flow
from ..project import project_registry

FLOWS_FOLDER = Path("flows")


def flow_path(name: str) -> Path:
    """A flow file as given, or a flow id (`acme`) looked up as flows/<id>.yaml."""
    path = Path(name)
    if path.exists() or path.suffix in FLOW_SUFFIXES or len(path.parts) > 1:
        return path
    return FLOWS_FOLDER / f"{name}{FLOW_SUFFIXES[0]}"


def load_flow(name: str) -> Flow:
    """Load a flow named on the command line; `FlowError` lists its problems if it has any."""
    path = flow_path(name)
    if not path.is_file():
        raise DefinitionError(f"{path}: no such flow file (give a flow file or a flow id)")
    return FlowLoader(project_registry()).load_file(path).flow

"""Shared helpers for the tooling tests: load flows through the real loader."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr_engine.loader import FlowLoader
from ivr_engine.model import Flow
from ivr_engine.project import project_registry

ROOT = Path(__file__).resolve().parents[2]
EVERY_NODE = Path(__file__).parent / "flows" / "every_node.yaml"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def every_node_path() -> Path:
    return EVERY_NODE


@pytest.fixture(scope="session")
def loader() -> FlowLoader:
    return FlowLoader(project_registry(ROOT))


@pytest.fixture(scope="session")
def acme(loader: FlowLoader) -> Flow:
    return loader.load_file(ROOT / "flows" / "acme.yaml").flow


@pytest.fixture(scope="session")
def every_node(loader: FlowLoader) -> Flow:
    return loader.load_file(EVERY_NODE).flow

"""Shared helpers for the Studio import tests: fixtures beside the YAML they must produce."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest

from ivr_engine.emulator.twiml import Say
from ivr_engine.loader import FlowLoader
from ivr_engine.model import Flow
from ivr_engine.project import project_registry
from ivr_engine.studio import import_studio
from ivr_engine.studio.importer import ImportResult
from ivr_engine.tooling.script import Action, Call

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[2]
CHILD_SID = "FW11111111111111111111111111111111"
NOON = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)


@cache
def imported(name: str) -> ImportResult:
    """Import a fixture as `ivr import studio` would (the subflow pair together)."""
    if name == "subflow_child":
        return import_studio(_text(name), f"{name}.json", subflow=True)
    if name == "subflow_parent":
        child = imported("subflow_child")
        return import_studio(
            _text(name),
            f"{name}.json",
            subflows={CHILD_SID: child.name},
            beside={child.name: child.yaml},
        )
    return import_studio(_text(name), f"{name}.json")


def _text(name: str) -> str:
    return (FIXTURES / f"{name}.json").read_text(encoding="utf-8")


@pytest.fixture
def load(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Import fixtures into a flows folder and load one through the real loader."""

    def go(*names: str) -> Flow:
        for name in names:
            (tmp_path / f"{name}.yaml").write_text(imported(name).yaml, encoding="utf-8")
        return FlowLoader(project_registry(ROOT)).load_file(tmp_path / f"{names[0]}.yaml").flow

    return go


def hear(flow: Flow, *actions: Action, caller: str = "+15550001234") -> tuple[Call, list[str]]:
    """Play a call and return it with every text the caller heard, in order."""
    call = Call(flow, at=NOON, caller=caller)

    async def go() -> None:
        await call.start()
        for action in actions:
            await call.act(action)

    asyncio.run(go())
    said = [verb.text for turn in call.turns for verb in turn.heard if isinstance(verb, Say)]
    return call, said

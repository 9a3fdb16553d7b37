"""`ivr --help`, `--version` and `validate` import only what they use (startup time).

Speed itself is measured, not tested (README, "Startup"); what is pinned here is the cause of
a slow start: a command importing the emulator's aiohttp, the server or messaging it never
uses. Each case runs in a fresh interpreter and lists the modules it ended up with.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support import ROOT

PROBE = """
import json, sys
from ivr_engine.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""
NEVER_FOR_AUTHORING = ("aiohttp", "uvicorn", "starlette", "ivr_engine.messaging", "ivr_engine.web")


def modules_after(*args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize("args", [["--help"], ["--version"]])
def test_help_and_version_import_no_subcommand_and_no_engine_stage(args: list[str]) -> None:
    loaded = modules_after(*args)
    heavy = ("twilio", "jsonschema", "jinja2", "yaml", "ivr_engine.loader", *NEVER_FOR_AUTHORING)
    assert sorted(m for m in loaded if m.split(".")[0] in heavy or m.startswith(heavy)) == []
    assert sorted(m for m in loaded if m.startswith("ivr_engine.cli.")) == []


def test_validate_imports_neither_the_emulator_nor_the_server_nor_messaging() -> None:
    loaded = modules_after("validate", "flows/acme.yaml")
    assert "ivr_engine.loader" in loaded  # it did validate
    unwanted = (
        "ivr_engine.emulator",
        "ivr_engine.cli.call",
        "httpx2",
        "aiohttp",
        "aiosqlite",  # the enqueue node's call-back store is imported when a call needs it
        "ivr_engine.store",
        *NEVER_FOR_AUTHORING,
    )
    assert sorted(m for m in loaded if m.startswith(unwanted)) == []


def test_every_command_in_the_overview_has_the_help_its_module_gives() -> None:
    from ivr_engine.cli import COMMANDS, build_parser

    for name, (_, help_text) in COMMANDS.items():
        parser = build_parser([name])
        sub = next(a for a in parser._actions if a.dest == "command")
        [choice] = [c for c in sub._choices_actions if c.dest == name]  # type: ignore[attr-defined]
        assert choice.help == help_text, name

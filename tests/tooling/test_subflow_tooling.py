"""Subflows run in the simulator and in flow tests, found in the flow's own folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.nodes.test_subflow import MAIN, VERIFY_PIN

ROOT = Path(__file__).resolve().parents[2]


def write_flows(folder: Path) -> None:
    flows = folder / "flows"
    flows.mkdir()
    (flows / "main.yaml").write_text(MAIN, encoding="utf-8")
    (flows / "verify-pin.yaml").write_text(VERIFY_PIN, encoding="utf-8")


def ivr(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ivr_engine", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )


def test_the_simulator_runs_a_subflow_and_comes_back_with_its_values(tmp_path: Path) -> None:
    write_flows(tmp_path)
    result = ivr(tmp_path, "simulate", "main", "--script", "0000")
    assert result.returncode == 0, result.stderr
    assert 'say "Enter the PIN for account 1234."' in result.stdout
    assert 'say "Verified yes, tries 1, account 1234, pin not touched."' in result.stdout
    assert "verify-pin:ask" in result.stdout  # the path shows the nodes inside the subflow


def test_a_flow_test_can_pin_a_call_through_a_subflow(tmp_path: Path) -> None:
    write_flows(tmp_path)
    tests = tmp_path / "flows" / "tests"
    tests.mkdir()
    (tests / "main.yaml").write_text(
        "flow: main\n"
        "cases:\n"
        "  - name: a wrong PIN comes back unverified\n"
        "    steps:\n"
        '      - expect_say: "Enter the PIN"\n'
        '      - press: "1234"\n'
        '      - expect_say: "Verified no, tries 1"\n',
        encoding="utf-8",
    )
    result = ivr(tmp_path, "test")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout

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


MISSED_CALL = """\
start: queue
vars: {reason: "none"}
on_hangup: after
nodes:
  queue:
    type: dial
    queue: support
    next: bye
  bye:
    type: hangup
  after:
    type: branch
    cases:
      - when: call.status == 'completed' and call.duration == 0
        next: text
    default: done
  text:
    type: message
    body: "Sorry we missed you. Reply CALL to book a callback."
    next: done
  done:
    type: set
    vars: {reason: "followed up"}
"""


def test_the_on_hangup_chain_runs_once_when_a_simulated_call_ends(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    (flows / "tests").mkdir(parents=True)
    (flows / "missed.yaml").write_text(MISSED_CALL, encoding="utf-8")
    (flows / "tests" / "missed.yaml").write_text(
        "flow: missed\n"
        "cases:\n"
        "  - name: a caller who hangs up in the queue gets a text\n"
        '    from: "+15551234567"\n'
        "    steps:\n"
        "      - dial_result: canceled\n"
        "    expect_vars: {reason: followed up}\n"
        "    expect_messages:\n"
        '      - {to: "+15551234567", body: "Sorry we missed you"}\n',
        encoding="utf-8",
    )
    result = ivr(tmp_path, "test")
    assert result.returncode == 0, result.stdout + result.stderr
    simulated = ivr(tmp_path, "simulate", "missed", "--script", "canceled")
    assert simulated.returncode == 0, simulated.stderr
    assert simulated.stdout.count("Sorry we missed you") == 1

"""The corpus of broken flows: each file beside the exact lines `ivr validate` prints for it.

Every `tests/flows/invalid/NAME.yaml` is a mistake business users really make;
`NAME.expected` holds the exact stdout of `ivr validate NAME.yaml` run from the project root.
Each pair is checked twice: through the loader in-process, and through the real CLI in a
subprocess (exit 1 when any line is an error, 0 when the file only has warnings).
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ivr_engine.errors import FlowError, Problem
from ivr_engine.loader import FlowLoader
from ivr_engine.project import project_registry

ROOT = Path(__file__).resolve().parents[1]
INVALID = ROOT / "tests" / "flows" / "invalid"
CASES = sorted(INVALID.glob("*.yaml"))


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _expected(case: Path) -> list[str]:
    return case.with_suffix(".expected").read_text(encoding="utf-8").splitlines()


def _is_warning(line: str) -> bool:
    return line.split(": ", 1)[1].startswith("warning: ")


@pytest.fixture(scope="module")
def loader() -> FlowLoader:
    return FlowLoader(project_registry(ROOT))


def test_the_corpus_has_at_least_25_broken_flows_each_beside_its_expected_output() -> None:
    expected_files = sorted(INVALID.glob("*.expected"))
    assert len(CASES) >= 25
    assert [p.stem for p in expected_files] == [p.stem for p in CASES]


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_loading_a_broken_flow_reports_exactly_the_expected_problems(
    case: Path, loader: FlowLoader, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    problems: list[Problem]
    try:
        problems = loader.load_file(_relative(case)).warnings
    except FlowError as exc:
        problems = exc.problems
    assert [str(p) for p in problems] == _expected(case)


def _validate(case: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ivr_engine", "validate", _relative(case)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def cli_runs() -> dict[Path, subprocess.CompletedProcess[str]]:
    """One real `ivr validate` process per file, run side by side to keep the suite quick."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return dict(zip(CASES, pool.map(_validate, CASES), strict=True))


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_ivr_validate_prints_the_expected_lines_and_fails_only_on_errors(
    case: Path, cli_runs: dict[Path, subprocess.CompletedProcess[str]]
) -> None:
    expected = _expected(case)
    done = cli_runs[case]
    assert done.stdout.splitlines() == expected
    assert expected, "every file in the corpus must make `ivr validate` say something"
    errors = sum(not _is_warning(line) for line in expected)
    warnings = len(expected) - errors
    assert done.returncode == (1 if errors else 0)
    assert done.stderr == f"checked 1 flow: {errors} error(s), {warnings} warning(s)\n"

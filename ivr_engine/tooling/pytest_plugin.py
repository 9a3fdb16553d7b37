"""pytest collects flow tests: each case of a flow test file becomes one test item.

Enable it in a project's `conftest.py` with `pytest_plugins = ["ivr_engine.tooling.pytest_plugin"]`
and list the flows folder in `testpaths`; then `pytest` runs the YAML flow tests beside the
Python ones, with the same failure messages `ivr test` prints. A test file with format
problems is a collection error listing them (file:line:column).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from ..errors import DefinitionError
from ..loader import FlowLoader
from ..model import Flow
from ..project import project_registry
from .flowtest import Failure, FlowTests, run_case
from .testfile import Case, FlowTestError, TestFile, is_test_file

_RUNNER = pytest.StashKey[FlowTests]()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if is_test_file(file_path):
        return FlowTestFile.from_parent(parent, path=file_path)
    return None


def _runner(config: pytest.Config) -> FlowTests:
    if _RUNNER not in config.stash:
        config.stash[_RUNNER] = FlowTests(FlowLoader(project_registry(config.rootpath)))
    return config.stash[_RUNNER]


class FlowTestFile(pytest.File):
    def collect(self) -> list[pytest.Item]:
        try:
            test_file, flow = _runner(self.config).load(self.path)
        except (FlowTestError, DefinitionError) as exc:
            raise self.CollectError(str(exc)) from None
        return [
            FlowTestCase.from_parent(
                self, name=case.name, test_file=test_file, flow=flow, case=case
            )
            for case in test_file.cases
        ]


class CaseFailed(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(str(failure))
        self.failure = failure


class FlowTestCase(pytest.Item):
    def __init__(self, *, test_file: TestFile, flow: Flow, case: Case, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.test_file = test_file
        self.flow = flow
        self.case = case

    def runtest(self) -> None:
        result = asyncio.run(run_case(self.test_file, self.flow, self.case))
        if result.failure is not None:
            raise CaseFailed(result.failure)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, CaseFailed):
            return str(excinfo.value.failure)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.case.line - 1, f"flow test: {self.case.name}"

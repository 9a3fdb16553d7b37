"""Exceptions and author-facing problems, split by when they happen.

Definition-time errors (a flow file or a plugin is wrong) carry `Problem`s that point at a file,
line and column, and are shown to business users. Run-time errors (a step failed mid-call) never
reach the caller as an error: the runtime turns them into apology TwiML.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """One fact about a flow file, with where it is and what to do about it.

    `line` and `column` count from 1, as editors do (PyYAML marks count from 0).
    """

    file: str
    line: int
    column: int
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        prefix = "warning: " if self.severity is Severity.WARNING else ""
        return f"{self.file}:{self.line}:{self.column}: {prefix}{self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


class IvrError(Exception):
    """Base of every error the engine raises on purpose."""


class DefinitionError(IvrError):
    """Something is wrong before any call runs: a flow file, the project config, a plugin."""


class FlowError(DefinitionError):
    """A flow file cannot be used; `problems` lists every problem found in it at once."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems) or file)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]


class PluginError(DefinitionError):
    """A node-type plugin could not be loaded; the message names the package and entry point."""


class StepError(IvrError):
    """A step failed while a call was running (a template raised, a plugin node crashed)."""

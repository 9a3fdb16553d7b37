"""How `ivr validate` prints problems: plain text for people, JSON for tools, or GitHub annotations.

The checks produce `Problem`s; this module only chooses their form. `text` prints each problem
as `file:line:col: message` as soon as its file is checked; `json` prints one document once
every file is checked; `github` prints workflow commands (`::error file=...,line=...,col=...::`)
that GitHub Actions shows on the lines of a pull request.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TextIO

from ..errors import Problem

FORMATS = ("text", "json", "github")


class ProblemOutput:
    """Collects the problems of a run and writes them to `out` in one format."""

    def __init__(self, form: str, out: TextIO) -> None:
        if form not in FORMATS:
            raise ValueError(f"unknown format {form!r}")
        self.form = form
        self.out = out
        self.problems: list[Problem] = []

    def add(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.problems.append(problem)
            if self.form == "text":
                print(problem, file=self.out)
            elif self.form == "github":
                print(github_annotation(problem), file=self.out)

    def finish(self, files: int) -> None:
        if self.form != "json":
            return
        errors = sum(p.is_error for p in self.problems)
        document = {
            "files": files,
            "errors": errors,
            "warnings": len(self.problems) - errors,
            "problems": [
                {
                    "file": p.file,
                    "line": p.line,
                    "column": p.column,
                    "severity": str(p.severity),
                    "message": p.message,
                }
                for p in self.problems
            ],
        }
        print(json.dumps(document, indent=2, ensure_ascii=False), file=self.out)


def github_annotation(problem: Problem) -> str:
    """A GitHub Actions workflow command: `::error file=F,line=L,col=C::message`."""
    kind = "error" if problem.is_error else "warning"
    where = f"file={_property(problem.file)},line={problem.line},col={problem.column}"
    return f"::{kind} {where}::{_data(problem.message)}"


def _data(text: str) -> str:
    """Escape a workflow command's message, as the Actions toolkit does (`escapeData`)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    """Escape a workflow command's property value (`escapeProperty`)."""
    return _data(text).replace(":", "%3A").replace(",", "%2C")

"""The `ivr` command: one module per subcommand, each with `add_parser()` and `run()`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from types import ModuleType

from ..errors import DefinitionError
from . import (
    call,
    campaign,
    dial_out,
    graph,
    messages,
    new,
    plugins,
    schema_cmd,
    serve,
    simulate,
    test_cmd,
    validate,
)

COMMANDS: list[ModuleType] = [
    validate,
    schema_cmd,
    serve,
    call,
    plugins,
    messages,
    new,
    simulate,
    test_cmd,
    graph,
    dial_out,
    campaign,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ivr", description="Run phone IVRs from YAML flows.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except DefinitionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

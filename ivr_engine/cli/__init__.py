"""The `ivr` command: one module per subcommand, each with `add_parser()` and `run()`.

Subcommand modules are imported only when their command runs: `ivr --help` and
`ivr --version` import none of them, and `ivr validate` does not pay for the emulator's
aiohttp, the server or messaging. `COMMANDS` holds each command's one-line help for the
overview (a test keeps it equal to the module's own).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from .. import __version__
from ..errors import DefinitionError

# command -> (module in this package, one-line help), in the order `ivr --help` lists them
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("validate", "check flow files and report every problem"),
    "schema": ("schema_cmd", "print the flow JSON Schema (built-ins and plugins)"),
    "serve": ("serve", "run the Twilio webhook server"),
    "call": ("call", "call a running server as Twilio would (no Twilio account needed)"),
    "demo": ("demo", "serve flows/ and phone the example flow through the emulator"),
    "plugins": ("plugins", "list node types (built-in and plugins) and their source"),
    "messages": ("messages", "list queued SMS/WhatsApp messages with their history, or retry one"),
    "new": ("new", "start a new flow and its tests from a template"),
    "simulate": ("simulate", "play a flow in the terminal, as its caller"),
    "test": ("test_cmd", "run flow tests (flows/tests/*.yaml, *.test.yaml)"),
    "graph": ("graph", "draw a flow (Mermaid, DOT, SVG or PNG)"),
    "callbacks": ("callbacks", "list callers waiting for a call back (asked for in a queue)"),
    "calls": ("calls", "list recent and live calls, or show one call's path"),
    "db": ("db", "show or upgrade the database's schema version"),
    "import": ("import_cmd", "turn another product's flow into a YAML flow"),
    "dial-out": ("dial_out", "place one outbound call of a flow through the running server"),
    "campaign": ("campaign", "start, watch, steer and report outbound call campaigns"),
    "lsp": (
        "lsp",
        "run the language server for flow files (editors start it; speaks LSP on stdio)",
    ),
}


def command_module(name: str) -> ModuleType:
    return importlib.import_module(f"{__package__}.{COMMANDS[name][0]}")


class _Version(argparse.Action):
    """`--version`: the package's own `__version__` (pyproject.toml reads it from there)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help=str(kwargs.get("help", "")))

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        print(f"ivr {__version__}")
        parser.exit()


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser; only the command named in `argv` (if any) gets its full arguments."""
    parser = argparse.ArgumentParser(prog="ivr", description="Run phone IVRs from YAML flows.")
    parser.add_argument("--version", action=_Version, help="show the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = next((arg for arg in argv if not arg.startswith("-")), None)
    for name, (_, help_text) in COMMANDS.items():
        if name == chosen:
            command_module(name).add_parser(sub)
        else:
            sub.add_parser(name, help=help_text)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv).parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except DefinitionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

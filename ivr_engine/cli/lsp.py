"""`ivr lsp`: run the language server for flow files over stdio (editors start it themselves).

pygls is an optional dependency (the `lsp` extra), imported only here, so every other command
starts without it and says how to install it when it is missing.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

INSTALL = "pip install 'ivr-engine[lsp]'  (or: pip install pygls)"


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "lsp",
        help="run the language server for flow files (editors start it; speaks LSP on stdio)",
        description="A Language Server over stdio: the diagnostics of `ivr validate` as you type, "
        "completion of node ids, fields and template variables, go to definition, references, "
        "hover help and the outline of nodes. Point your editor's LSP client at `ivr lsp`.",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        from ..lsp.server import main
    except ImportError as exc:
        if exc.name not in ("pygls", "lsprotocol") and not str(exc.name).startswith("pygls."):
            raise
        # stderr only: stdout is the protocol channel the editor reads
        print(
            f"error: `ivr lsp` needs the pygls package, which is not installed: {INSTALL}",
            file=sys.stderr,
        )
        return 2
    main()
    return 0

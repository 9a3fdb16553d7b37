"""The pygls server: Language Server Protocol messages in, `features` answers out, over stdio.

Each open file is checked on open, on every change and on save; saving any file checks every
open file again, since a flow's subflows are read from disk. The project (registry with its
plugins, `ivr.toml`) is loaded once, from the workspace root the editor names, or the working
directory.
"""

from __future__ import annotations

import asyncio
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from ..errors import DefinitionError
from ..project import project_registry
from ..registry import build_registry
from .features import FlowFile, Parsed, Project

TRIGGERS = [" ", ".", "{", ":"]
DEBOUNCE = 0.15  # seconds of quiet after a change before the file is checked again


class FlowServer(LanguageServer):
    def __init__(self) -> None:
        try:
            own_version = version("ivr-engine")
        except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
            own_version = "0"
        super().__init__("ivr-lsp", own_version)
        self._project: Project | None = None
        self.last_good: dict[str, Parsed] = {}
        self._pending: dict[str, asyncio.TimerHandle] = {}  # uri -> its debounced check

    @property
    def project(self) -> Project:
        if self._project is None:
            root = Path(self.workspace.root_path or os.getcwd())
            try:
                self._project = Project(project_registry(root))
            except DefinitionError as exc:
                self._project = Project(build_registry(), error=f"error: {exc}")
        return self._project

    def file(self, uri: str) -> FlowFile:
        document = self.workspace.get_text_document(uri)
        path = Path(to_fs_path(uri) or document.path)
        return FlowFile(
            self.project,
            path,
            document.source,
            shown=_shown(path),
            codec=document.position_codec,
            last_good=self.last_good.get(uri),
        )

    def check(self, uri: str) -> None:
        """Publish the file's diagnostics, and keep its nodes for completion while typing on."""
        document = self.workspace.get_text_document(uri)
        flow_file = self.file(uri)
        flow_file.last_good = None
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri, diagnostics=flow_file.diagnostics(), version=document.version
            )
        )
        if flow_file.parsed is not None:
            self.last_good[uri] = flow_file.parsed

    def check_soon(self, uri: str) -> None:
        """Check once typing pauses: each change within `DEBOUNCE` s replaces the last one's
        check, so a burst of keystrokes costs one run of the whole pipeline, not one a key."""
        pending = self._pending.pop(uri, None)
        if pending is not None:
            pending.cancel()

        def run() -> None:
            self._pending.pop(uri, None)
            if uri in self.workspace.text_documents:
                self.check(uri)

        self._pending[uri] = asyncio.get_running_loop().call_later(DEBOUNCE, run)

    def forget(self, uri: str) -> None:
        pending = self._pending.pop(uri, None)
        if pending is not None:
            pending.cancel()
        self.last_good.pop(uri, None)

    def position(self, uri: str, position: types.Position) -> tuple[int, int]:
        """A client position in code points, as `features` counts."""
        document = self.workspace.get_text_document(uri)
        found = document.position_codec.position_from_client_units(document.lines, position)
        return found.line, found.character


def _shown(path: Path) -> str:
    """The file as `ivr validate` run from the working directory names it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


server = FlowServer()


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: FlowServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.check(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: FlowServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.check_soon(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: FlowServer, params: types.DidSaveTextDocumentParams) -> None:
    for uri in list(ls.workspace.text_documents):
        ls.check(uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: FlowServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.forget(params.text_document.uri)
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[])
    )


@server.feature(
    types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=TRIGGERS)
)
def completion(ls: FlowServer, params: types.CompletionParams) -> types.CompletionList:
    uri = params.text_document.uri
    items = ls.file(uri).completion(*ls.position(uri, params.position))
    return types.CompletionList(is_incomplete=False, items=items)


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
def definition(ls: FlowServer, params: types.DefinitionParams) -> list[types.Location]:
    uri = params.text_document.uri
    return ls.file(uri).definition(*ls.position(uri, params.position))


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
def references(ls: FlowServer, params: types.ReferenceParams) -> list[types.Location]:
    uri = params.text_document.uri
    line, character = ls.position(uri, params.position)
    return ls.file(uri).references(line, character, params.context.include_declaration)


@server.feature(types.TEXT_DOCUMENT_HOVER)
def hover(ls: FlowServer, params: types.HoverParams) -> types.Hover | None:
    uri = params.text_document.uri
    return ls.file(uri).hover(*ls.position(uri, params.position))


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def symbols(ls: FlowServer, params: types.DocumentSymbolParams) -> list[types.DocumentSymbol]:
    return ls.file(params.text_document.uri).symbols()


def main() -> None:
    server.start_io()

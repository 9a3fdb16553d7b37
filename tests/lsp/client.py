"""A real LSP client (pygls's) talking JSON-RPC over stdio to `python -m ivr_engine lsp`."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 90.0  # generous: the machine running the tests may be busy
T = TypeVar("T")


class FlowClient(LanguageClient):
    def __init__(self) -> None:
        super().__init__("ivr-tests", "1")
        self.diagnostics: dict[str, list[types.Diagnostic]] = {}
        self.versions: dict[str, int | None] = {}
        self.published: list[tuple[str, int | None]] = []  # every publication, in order
        self._published = asyncio.Condition()
        self.version = 0

        @self.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        async def published(client: FlowClient, params: types.PublishDiagnosticsParams) -> None:
            async with client._published:
                client.diagnostics[params.uri] = params.diagnostics
                client.versions[params.uri] = params.version
                client.published.append((params.uri, params.version))
                client._published.notify_all()

    async def open(self, path: Path, text: str | None = None) -> list[types.Diagnostic]:
        """Open a file (its text from disk unless given) and wait for its diagnostics."""
        uri = path.resolve().as_uri()
        self.version += 1
        self.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri,
                    language_id="yaml",
                    version=self.version,
                    text=path.read_text() if text is None else text,
                )
            )
        )
        return await self.wait_for(uri, self.version)

    async def change(self, path: Path, text: str) -> list[types.Diagnostic]:
        uri = self.send_change(path, text)
        return await self.wait_for(uri, self.version)

    def send_change(self, path: Path, text: str) -> str:
        """Change the file's text without waiting for its diagnostics (typing on)."""
        uri = path.resolve().as_uri()
        self.version += 1
        self.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=self.version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )
        return uri

    async def wait_for(self, uri: str, version: int) -> list[types.Diagnostic]:
        async with self._published:
            await asyncio.wait_for(
                self._published.wait_for(lambda: self.versions.get(uri) == version), TIMEOUT
            )
            return self.diagnostics[uri]

    @staticmethod
    def where(path: Path, line: int, character: int) -> dict[str, Any]:
        return {
            "text_document": types.TextDocumentIdentifier(uri=path.resolve().as_uri()),
            "position": types.Position(line=line, character=character),
        }


@asynccontextmanager
async def language_server(cwd: Path) -> AsyncIterator[FlowClient]:
    """`python -m ivr_engine lsp` started in `cwd`, initialized, and shut down properly after."""
    client = FlowClient()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    await client.start_io(sys.executable, "-m", "ivr_engine", "lsp", cwd=str(cwd), env=env)
    try:
        result = await asyncio.wait_for(
            client.initialize_async(
                types.InitializeParams(
                    capabilities=types.ClientCapabilities(),
                    root_uri=cwd.resolve().as_uri(),
                    process_id=os.getpid(),
                )
            ),
            TIMEOUT,
        )
        client.server_capabilities = result.capabilities
        client.initialized(types.InitializedParams())
        yield client
        await asyncio.wait_for(client.shutdown_async(None), TIMEOUT)
        client.exit(None)
        await asyncio.wait_for(client.stop(), TIMEOUT)
    finally:
        if client._server is not None and client._server.returncode is None:
            client._server.kill()
            await client._server.wait()


class Session:
    """One server kept running on a loop of its own thread, so many tests can ask it in turn."""

    def __init__(self, cwd: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self._server = language_server(cwd)
        self.client: FlowClient = self.call(self._server.__aenter__())

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(4 * TIMEOUT)

    def close(self) -> None:
        try:
            self.call(self._server.__aexit__(None, None, None))
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(TIMEOUT)
            self.loop.close()

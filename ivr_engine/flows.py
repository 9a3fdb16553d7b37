"""The flows a server serves: the current version of each, and every version a call still uses.

New calls get the current version; a call keeps the version it started with, even across a
restart (each version's source is kept in the database and compiled again when needed). A
changed file is validated before it replaces anything: a broken edit is logged with its
problems and the last good version keeps serving.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import metrics
from .errors import FlowError
from .links import FolderFlows
from .loader import FlowLoader
from .model import Flow
from .store.backend import Store
from .store.database import Write

log = logging.getLogger("ivr_engine.flows")

REMEMBER_VERSION = """
INSERT INTO flow_versions (flow_id, version, file, source) VALUES (?, ?, ?, ?)
ON CONFLICT (flow_id, version) DO NOTHING
"""


@dataclass(frozen=True)
class _Seen:
    mtime_ns: int
    size: int


class FlowRepository:
    def __init__(self, loader: FlowLoader, folder: Path, database: Store | None = None) -> None:
        self.loader = loader
        self.folder = folder
        self.database = database
        self._current: dict[str, Flow] = {}
        self._versions: dict[tuple[str, str], Flow] = {}
        self._seen: dict[Path, _Seen] = {}
        self.rejected: dict[str, list[str]] = {}  # flow id -> problems of its latest broken edit

    def current(self, flow_id: str) -> Flow | None:
        return self._current.get(flow_id)

    def ids(self) -> list[str]:
        return sorted(self._current)

    async def version(self, flow_id: str, version: str) -> Flow | None:
        """The exact version a call pinned; compiled again from the database after a restart."""
        found = self._versions.get((flow_id, version))
        if found is not None or self.database is None:
            return found
        row = await self.database.fetchone(
            "SELECT file, source FROM flow_versions WHERE flow_id = ? AND version = ?",
            (flow_id, version),
        )
        if row is None:
            return None
        try:
            flow = self.loader.load_text(row["source"], row["file"], flow_id).flow
        except FlowError as exc:  # e.g. a plugin it used is gone: the call cannot go on
            log.error("cannot restore flow %s version %s: %s", flow_id, version, exc)
            return None
        self._versions[(flow_id, version)] = flow
        return flow

    async def reload(self) -> list[str]:
        """Load new and changed files; return the ids whose current version changed."""
        changed: list[str] = []
        present: set[Path] = set()
        others = FolderFlows(self.loader, self.folder)  # subflows are checked against the files
        for path in others.files():
            present.add(path)
            try:
                stat = path.stat()
            except OSError:
                continue
            seen = _Seen(stat.st_mtime_ns, stat.st_size)
            if self._seen.get(path) == seen:
                continue
            self._seen[path] = seen
            flow_id = path.stem
            try:
                result = self.loader.load_file(path, others=others)
            except FlowError as exc:
                problems = [str(p) for p in exc.problems]
                self.rejected[flow_id] = problems
                metrics.FLOW_RELOADS.labels("refused").inc()
                kept = self._current.get(flow_id)
                log.error(
                    "flow %s rejected, %s:\n%s",
                    flow_id,
                    f"version {kept.version} keeps serving" if kept else "it is not served",
                    "\n".join(problems),
                )
                continue
            for warning in result.warnings:
                log.warning("%s", warning)
            flow = result.flow
            self.rejected.pop(flow_id, None)
            if (
                self._current.get(flow_id) is not None
                and self._current[flow_id].version == flow.version
            ):
                continue
            flow.warm()
            if self.database is not None:
                await self.database.write(
                    Write(REMEMBER_VERSION, (flow.id, flow.version, flow.file, result.text))
                )
            self._versions[(flow.id, flow.version)] = flow
            self._current[flow.id] = flow
            changed.append(flow.id)
            metrics.FLOW_RELOADS.labels("accepted").inc()
            log.info("flow %s version %s loaded from %s", flow.id, flow.version, path)
        for path in set(self._seen) - present:
            del self._seen[path]
            if self._current.pop(path.stem, None) is not None:
                log.warning(
                    "flow %s: file %s is gone; new calls to it are refused, calls in progress go on",
                    path.stem,
                    path,
                )
        return changed

    async def watch(
        self, interval: float = 1.0, on_change: Callable[[list[str]], None] | None = None
    ) -> None:
        """Poll the folder for edits until cancelled (no extra dependency, works on every OS).

        `on_change` hears the ids of the flows whose current version changed.
        """
        while True:
            await asyncio.sleep(interval)
            try:
                changed = await self.reload()
                if changed and on_change is not None:
                    on_change(changed)
            except Exception:  # the watcher must outlive any one bad reload
                log.exception("reloading flows failed")

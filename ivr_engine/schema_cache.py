"""Which node-type schemas already passed the JSON Schema metaschema check, by content hash.

Used by `registry` when a node type registers. Checking every built-in schema against the
metaschema took about half of `ivr validate`'s start-up; a schema's verdict cannot change
while its text (and the jsonschema version) stays the same, so a passing check is remembered
by a hash of both, in a small file in the user's cache folder. Built-ins and plugins are
treated alike: any schema never seen, or changed, is checked again; failures are never
remembered. The cache is best effort: an unwritable folder only costs the check.
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

CACHE_FILE = "metaschema-ok"


def cache_dir() -> Path:
    """`IVR_CACHE_DIR`, else `$XDG_CACHE_HOME/ivr-engine`, else `~/.cache/ivr-engine`."""
    explicit = os.environ.get("IVR_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ivr-engine"


def _jsonschema_version() -> str:
    try:
        return version("jsonschema")
    except PackageNotFoundError:  # pragma: no cover - a dependency, always installed
        return "unknown"


class MetaschemaCache:
    def __init__(self, folder: Path | None = None) -> None:
        self.file = (folder or cache_dir()) / CACHE_FILE
        self._salt = _jsonschema_version()
        self._known: set[str] | None = None

    def key(self, schema: Any) -> str:
        text = json.dumps(schema, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(f"{self._salt}\n{text}".encode()).hexdigest()

    def passed(self, schema: Any) -> bool:
        return self.key(schema) in self._load()

    def remember(self, schema: Any) -> None:
        key = self.key(schema)
        known = self._load()
        if key in known:
            return
        known.add(key)
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            with self.file.open("a", encoding="ascii") as out:
                out.write(key + "\n")
        except OSError:
            pass

    def _load(self) -> set[str]:
        if self._known is None:
            try:
                self._known = set(self.file.read_text(encoding="ascii").split())
            except (OSError, UnicodeDecodeError):
                self._known = set()
        return self._known

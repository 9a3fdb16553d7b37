"""Make real plugin packages for tests: a module plus dist-info with entry points, on disk.

`importlib.metadata` finds a distribution by its `*.dist-info` folder on `sys.path`, exactly
as it finds one pip installed, so these go through the same discovery as a real plugin.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LOOKUP_NODE = """
from ivr_engine import Goto, Node


class LookupNode(Node):
    type_name = "{type_name}"
    schema = {{
        "type": "object",
        "title": "Order lookup",
        "description": "Look up an order.",
        "properties": {{
            "order": {{"type": "string", "title": "Order number"}},
            "next": {{"type": "string"}},
        }},
        "required": ["order", "next"],
        "additionalProperties": False,
    }}
    template_fields = ("order",)

    def enter(self, ctx):
        ctx.set_var("order_status", "shipped")
        return Goto(self.spec["next"])
"""


def install_fake_plugin(
    site: Path,
    dist: str,
    module: str,
    source: str,
    entry_points: dict[str, str],
) -> None:
    """Write `module` and a dist-info for `dist` declaring `entry_points` in our group."""
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = site / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n", encoding="utf-8"
    )
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[ivr_engine.nodes]\n{lines}", encoding="utf-8")


def ivr(
    *args: str, cwd: Path, path: list[Path] = (), env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the `ivr` command of this worktree as a subprocess, with extra import paths."""
    pythonpath = os.pathsep.join([str(ROOT), *(str(p) for p in path)])
    return subprocess.run(
        [sys.executable, "-m", "ivr_engine", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": pythonpath, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )

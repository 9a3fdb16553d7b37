"""Import every Studio flow in ../shared/studio-flows/ and print what became of each.

    python benchmarks/studio_import_report.py [FOLDER]

Per file: voice or messaging, whether it imported, whether the result validates (as
`ivr validate` would), the number of widgets mapped, and the widgets with no counterpart.
A run-subflow widget is imported together with the other flow of the same repository (the
folder's files are named owner__repo__file.json), as `ivr import studio --subflow` would.
Exit code 1 when a voice flow does not import and validate.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's engine, wherever the script is run from

from ivr_engine.studio import import_studio  # noqa: E402

CANDIDATES = [ROOT.parent / "shared" / "studio-flows", ROOT.parents[1] / "shared" / "studio-flows"]


def _subflow_sids(text: str) -> list[str]:
    data = json.loads(text)
    data = data.get("definition", data)
    return [
        s["properties"]["flow_sid"]
        for s in data.get("states", [])
        if s.get("type") == "run-subflow" and s.get("properties", {}).get("flow_sid")
    ]


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else next((c for c in CANDIDATES if c.is_dir()), None)
    if folder is None or not folder.is_dir():
        print("no studio-flows folder found (give one as the argument)", file=sys.stderr)
        return 0
    files = sorted(folder.glob("*.json"))
    rows = []
    failed = 0
    for path in files:
        text = path.read_text(encoding="utf-8")
        subflows: dict[str, str] = {}
        beside: dict[str, str] = {}
        repo = path.name.rsplit("__", 1)[0]
        for sid in _subflow_sids(text):
            for other in files:
                if other != path and other.name.startswith(repo + "__"):
                    child = import_studio(
                        other.read_text(encoding="utf-8"), other.name, subflow=True
                    )
                    subflows[sid] = child.name
                    beside[child.name] = child.yaml
        try:
            result = import_studio(text, path.name, subflows=subflows, beside=beside)
        except Exception as exc:  # the table must show every file, whatever happens
            rows.append((path.name, "?", "no", "-", "-", f"{type(exc).__name__}: {exc}"))
            failed += 1
            continue
        report = result.report
        unmapped = Counter(report.unmapped_types())
        listed = ", ".join(f"{t.rstrip(':')} x{n}" for t, n in sorted(unmapped.items())) or "-"
        validates = "yes" if report.validates else "NO"
        kind = "voice" if result.voice else "msg"
        if result.voice and not report.validates:
            failed += 1
        rows.append((path.name, kind, "yes", validates, str(len(report.mapped)), listed))
    header = ("file", "kind", "imported", "validates", "mapped", "unmapped widgets")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    for row in [header, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(row[:5], widths, strict=True)) + "  " + row[5])
    voice = [r for r in rows if r[1] == "voice"]
    good = sum(r[3] == "yes" for r in voice)
    print(f"\n{len(rows)} files, {len(voice)} voice flows: {good} import and validate")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Prism serving one of Twilio's OpenAPI descriptions on 127.0.0.1, for the conformance tests.

Prism refuses (422, 401) any request the description does not allow. Prism and the specs are
npm packages installed by `.ci/install-prism` into `.cache/prism` (or IVR_PRISM_DIR); when they
are missing, `serve_prism` runs that script itself.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port
from tests.messaging.conftest import wait_until

PRISM_DIR = Path(os.environ.get("IVR_PRISM_DIR", ROOT / ".cache" / "prism"))
PRISM = PRISM_DIR / "node_modules" / ".bin" / "prism"
SPECS = PRISM_DIR / "node_modules/@twilio-alpha/mcp/twilio-oai/spec/yaml"
API_SPEC = SPECS / "twilio_api_v2010.yaml"  # Messages, Calls
VERIFY_SPEC = SPECS / "twilio_verify_v2.yaml"


@contextmanager
def serve_prism(spec: Path, home: Path) -> Iterator[str]:
    """Prism mocking `spec` until the block ends; its base URL. `home` keeps its log."""
    if not (PRISM.exists() and spec.exists()):
        install = subprocess.run(
            ["bash", str(ROOT / ".ci" / "install-prism")],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if install.returncode != 0 or not spec.exists():
            pytest.fail(
                "Prism could not be installed for the conformance tests "
                f"(bash .ci/install-prism):\n{install.stderr}"
            )
    port = free_port()
    log = home / "prism.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), str(spec)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(
            lambda: "Prism is listening" in log.read_text() or process.poll() is not None,
            "Prism starts",
            timeout=120,
        )
        if process.poll() is not None:
            pytest.fail(f"Prism exited at start:\n{log.read_text()[-3000:]}")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)

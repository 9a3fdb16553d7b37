"""Serve the IVR with uvicorn: `python server.py` (or `ivr serve`), configured by the environment.

`app` is also importable for any ASGI server: `uvicorn server:app`.
"""

from __future__ import annotations

import os

from ivr_engine.web import Settings, create_app


def main() -> None:
    import uvicorn

    uvicorn.run(
        "server:app",
        host=os.environ.get("IVR_HOST", "127.0.0.1"),
        port=int(os.environ.get("IVR_PORT", "8000")),
        log_level=os.environ.get("IVR_LOG_LEVEL", "info"),
    )


if __name__ == "__main__":
    main()
else:
    app = create_app(Settings.from_env())

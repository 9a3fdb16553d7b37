"""`ivr serve`: run the webhook server with uvicorn.

Every option has an environment variable, so the same command works in a container:
IVR_FLOWS, IVR_DB, IVR_HOST, IVR_PORT, IVR_PUBLIC_URL, TWILIO_AUTH_TOKEN (environment only).
Messaging (the outbox worker) is configured by the environment only: TWILIO_ACCOUNT_SID and
the variables in the README's "Messaging" section.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("serve", help="run the Twilio webhook server")
    parser.add_argument(
        "--flows", default=os.environ.get("IVR_FLOWS", "flows"), help="flows folder (IVR_FLOWS)"
    )
    parser.add_argument(
        "--db", default=os.environ.get("IVR_DB", "ivr.sqlite3"), help="SQLite file (IVR_DB)"
    )
    parser.add_argument(
        "--host", default=os.environ.get("IVR_HOST", "127.0.0.1"), help="address (IVR_HOST)"
    )
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("IVR_PORT", "8000")), help="port (IVR_PORT)"
    )
    parser.add_argument(
        "--public-url", default=None, help="URL Twilio uses to reach us (IVR_PUBLIC_URL)"
    )
    parser.add_argument(
        "--insecure",
        action="store_true",
        help="run without TWILIO_AUTH_TOKEN, accepting unsigned requests (local experiments only)",
    )
    parser.add_argument("--log-level", default=os.environ.get("IVR_LOG_LEVEL", "info"))
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from ..store import filelock
    from ..web import Settings, create_app

    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = Settings.from_env(
        flows_dir=Path(args.flows),
        db_path=args.db,
        public_url=args.public_url,
        insecure=args.insecure or None,
    )
    app = create_app(settings)
    try:  # held for the process lifetime; the database takes it again when it opens
        if settings.db_path != ":memory:":
            filelock.acquire(settings.db_path)
    except filelock.DatabaseInUse as exc:
        print(f"ivr serve: {exc}", file=sys.stderr)
        return 1
    if settings.insecure and not settings.auth_token:
        print(
            "WARNING: --insecure: requests are NOT checked to come from Twilio. Never expose this server."
        )
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, server_header=False)
    return 0

"""`ivr serve`: run the webhook server with uvicorn.

Every option has an environment variable, so the same command works in a container:
IVR_FLOWS, IVR_DB, IVR_DATABASE_URL, IVR_HOST, IVR_PORT, IVR_PUBLIC_URL, IVR_WORKERS,
IVR_ACCESS_LOG, TWILIO_AUTH_TOKEN (environment only). IVR_DRAIN_SECONDS: on SIGTERM, how long
`/healthz` answers 503 before the server stops accepting (default 0).
IVR_DATABASE_POOL_SIZE: PostgreSQL connections per process, the steps it runs at once (20).
Messaging (the outbox worker) is configured by the environment only: TWILIO_ACCOUNT_SID and
the variables in the README's "Messaging" section.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# On SIGTERM uvicorn stops accepting and lets requests in flight finish for up to this long
# (a webhook answers well inside Twilio's 15 s), then the app flushes and closes its database.
GRACEFUL_SECONDS = 15


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("serve", help="run the Twilio webhook server")
    parser.add_argument(
        "--flows", default=os.environ.get("IVR_FLOWS", "flows"), help="flows folder (IVR_FLOWS)"
    )
    parser.add_argument(
        "--db", default=os.environ.get("IVR_DB", "ivr.sqlite3"), help="SQLite file (IVR_DB)"
    )
    parser.add_argument(
        "--database",
        default=None,
        metavar="URL",
        help="postgresql://user:pass@host:5432/db or sqlite:///file (IVR_DATABASE_URL; "
        "without it, --db)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("IVR_WORKERS", "1")),
        help="server processes (IVR_WORKERS); more than 1 needs PostgreSQL",
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
    parser.add_argument(
        "--access-log",
        action="store_true",
        default=os.environ.get("IVR_ACCESS_LOG", "") in ("1", "true", "yes"),
        help="log every HTTP request (IVR_ACCESS_LOG=1); off by default: it costs about as "
        "much CPU as a bare request, and the server logs every failure anyway",
    )
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        default=os.environ.get("IVR_LOG_FORMAT", "text"),
        help="text lines, or one JSON object per line with call_sid and flow (IVR_LOG_FORMAT)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from ..history.context import configure
    from ..store import filelock
    from ..store.target import SQLITE
    from ..web import Settings, create_app

    configure(args.log_level, args.log_format)  # secrets are masked once the app knows them
    settings = Settings.from_env(
        flows_dir=Path(args.flows),
        db_path=args.db,
        database_url=args.database,
        public_url=args.public_url,
        insecure=args.insecure or None,
    )
    settings.check()
    target = settings.database()
    if args.workers < 1:
        print(f"ivr serve: --workers is {args.workers}: give 1 or more", file=sys.stderr)
        return 2
    if args.workers > 1 and target.kind == SQLITE:
        print(
            f"ivr serve: --workers {args.workers} needs PostgreSQL: the SQLite database "
            f"{target.display} serves one server process (its calls' locks and cache live in "
            "that process); set IVR_DATABASE_URL=postgresql://... or give --database",
            file=sys.stderr,
        )
        return 2
    if settings.insecure and not settings.auth_token:
        print(
            "WARNING: --insecure: requests are NOT checked to come from Twilio. Never expose this server."
        )
    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "log_level": args.log_level,
        "server_header": False,
        "access_log": args.access_log,
        "log_config": None,  # our handler: JSON or text, secrets masked
        "timeout_graceful_shutdown": GRACEFUL_SECONDS,
    }
    drain = settings.drain_seconds
    if args.workers > 1:
        # Each worker process builds its app from the environment: hand the settings over.
        os.environ.update(_environment(settings))
        with _shared_metrics(args.workers):
            config = uvicorn.Config(
                f"{__name__}:worker_app", factory=True, workers=args.workers, **options
            )
            _draining_supervisor()(config, [config.bind_socket()], drain).run()
        return 0
    app = create_app(settings)
    if target.kind == SQLITE and target.location != ":memory:":
        try:  # held for the process lifetime; the database takes it again when it opens
            filelock.acquire(target.location)
        except filelock.DatabaseInUse as exc:
            print(f"ivr serve: {exc}", file=sys.stderr)
            return 1
    server = _DrainingServer(uvicorn.Config(app, **options), app, drain)
    server.run()
    return 0


class _DrainingServer:
    """uvicorn's server, except that the first SIGTERM/SIGINT starts a drain: for `drain`
    seconds `/healthz` answers 503 while everything else is still served (a load balancer
    takes the process out), then uvicorn's graceful shutdown stops accepting, lets requests
    in flight finish, and the app flushes its writes and closes its database."""

    def __new__(cls, config: Any, app: Any, drain: float) -> Any:
        import signal
        import threading

        import uvicorn

        class Server(uvicorn.Server):
            def handle_exit(self, sig: int, frame: Any) -> None:
                if drain > 0 and not getattr(app.state, "draining", False):
                    _start_draining(app, f"the server stops, in {drain:g} s")
                    timer = threading.Timer(drain, self.handle_exit, (sig, frame))
                    timer.daemon = True
                    timer.start()
                    return
                super().handle_exit(sig, frame)
                # uvicorn raises a caught SIGTERM again once it has shut down, so the process
                # ends "killed by SIGTERM"; a completed graceful shutdown exits 0 instead.
                if sig == signal.SIGTERM:
                    self._captured_signals.remove(sig)

        return Server(config)


def _start_draining(app: Any, until: str) -> None:
    if not getattr(app.state, "draining", False):
        app.state.draining = True
        logging.getLogger("ivr_engine.web").warning(
            "draining: /healthz answers 503 until %s", until
        )


def worker_app() -> Any:
    """The app of one `--workers` process (uvicorn's factory): `create_app` from the
    environment, and on SIGUSR1, which the supervisor sends on SIGTERM, its drain starts."""
    import signal

    from ..web import create_app

    app = create_app()
    with contextlib.suppress(ValueError):  # the main thread only, as uvicorn runs a worker
        signal.signal(signal.SIGUSR1, lambda *_: _start_draining(app, "the supervisor stops it"))
    return app


def _draining_supervisor() -> Any:
    from uvicorn.supervisors import Multiprocess

    class DrainingSupervisor(Multiprocess):  # type: ignore[misc]
        """uvicorn's supervisor of `--workers`, except that the first SIGTERM/SIGINT starts a
        drain: each worker answers `/healthz` with 503 for `drain` seconds while it still
        serves, then the workers are stopped as uvicorn stops them (gracefully)."""

        def __init__(self, config: Any, sockets: list[Any], drain: float) -> None:
            super().__init__(config, sockets)
            self.drain = drain
            self.draining = False

        def _drain_or_exit(self, exit_now: Any) -> None:
            import signal
            import threading

            if self.drain <= 0 or self.draining:
                exit_now()
                return
            self.draining = True
            logging.getLogger("ivr_engine.serve").warning(
                "draining %d workers for %g s: /healthz answers 503, then they stop",
                len(self.processes),
                self.drain,
            )
            for process in self.processes:
                # a worker still starting has no handler yet (SIGUSR1 would end it): skipped
                if process.pid is not None and process.is_ready(timeout=1):
                    os.kill(process.pid, signal.SIGUSR1)
            timer = threading.Timer(self.drain, self.should_exit.set)
            timer.daemon = True
            timer.start()

        def handle_term(self) -> None:
            self._drain_or_exit(super().handle_term)

        def handle_int(self) -> None:
            self._drain_or_exit(super().handle_int)

    return DrainingSupervisor


@contextlib.contextmanager
def _shared_metrics(workers: int) -> Iterator[None]:
    """Workers add their metrics up in one folder (prometheus_client's multi-process mode), so
    a scrape answered by any of them counts them all. The operator's PROMETHEUS_MULTIPROC_DIR
    is used as given; without one, a fresh folder lives as long as the workers do."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        yield
        return
    folder = tempfile.mkdtemp(prefix="ivr-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    logging.getLogger("ivr_engine.serve").info(
        "the metrics of the %d workers are added up in %s", workers, folder
    )
    try:
        yield
    finally:
        del os.environ["PROMETHEUS_MULTIPROC_DIR"]
        shutil.rmtree(folder, ignore_errors=True)


def _environment(settings: Any) -> dict[str, str]:
    env = {"IVR_FLOWS": str(settings.flows_dir), "IVR_DB": settings.db_path}
    if settings.database_url:
        env["IVR_DATABASE_URL"] = settings.database_url
    if settings.public_url:
        env["IVR_PUBLIC_URL"] = settings.public_url
    if settings.insecure:
        env["IVR_INSECURE"] = "1"
    return env

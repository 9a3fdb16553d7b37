"""Server settings, from arguments or the environment. Secrets come only from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..messaging.settings import MessagingSettings
from ..outbound.config import OutboundConfig
from ..runtime.services import ANSWER_BUDGET
from ..store.database import DEFAULT_SYNCHRONOUS, check_synchronous
from ..store.target import POOL_SIZE, BadDatabaseUrl, DatabaseTarget, parse_target

DEFAULT_MAX_BODY = 64 * 1024  # Twilio's own webhooks are a few kB
# A webhook's body arrives in milliseconds; one still missing after this is cut off or held
# back on purpose, and waiting longer only ties up a connection (Twilio gives up at 15 s).
DEFAULT_BODY_TIMEOUT = 5.0


@dataclass(frozen=True)
class Settings:
    flows_dir: Path = Path("flows")
    db_path: str = "ivr.sqlite3"
    # postgresql://... or sqlite:///...; None: the SQLite file db_path. May hold a password.
    database_url: str | None = field(default=None, repr=False)
    sqlite_synchronous: str = DEFAULT_SYNCHRONOUS  # FULL: a committed step survives power loss
    database_pool_size: int = POOL_SIZE  # PostgreSQL connections: steps in progress at once
    drain_seconds: float = 0.0  # on SIGTERM, /healthz answers 503 this long before stopping
    auth_token: str | None = field(default=None, repr=False)  # never printed
    public_url: str | None = None  # e.g. https://ivr.example.com behind a proxy or tunnel
    insecure: bool = False
    max_body: int = DEFAULT_MAX_BODY
    body_timeout: float = DEFAULT_BODY_TIMEOUT  # seconds for the whole body to arrive
    reload_interval: float = 1.0
    answer_budget: float = ANSWER_BUDGET  # seconds of node code per answer, all nodes together
    recording_grace: float = 20.0  # how long on_hangup waits for a hung-up voicemail (calls.py)
    messaging: MessagingSettings = field(default_factory=MessagingSettings)
    retention_days: float = 30.0  # ended calls and finished messages are kept this long
    retention_interval: float = 3600.0  # seconds between two prunings
    dashboard_password: str | None = field(default=None, repr=False)  # /dashboard off without
    metrics_token: str | None = field(default=None, repr=False)  # bearer token for /metrics
    outbound: OutboundConfig = field(default_factory=OutboundConfig)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, object] = {
            "flows_dir": Path(env.get("IVR_FLOWS", "flows")),
            "db_path": env.get("IVR_DB", "ivr.sqlite3"),
            "database_url": env.get("IVR_DATABASE_URL") or None,
            "sqlite_synchronous": env.get("IVR_SQLITE_SYNCHRONOUS") or DEFAULT_SYNCHRONOUS,
            "database_pool_size": _count(env, "IVR_DATABASE_POOL_SIZE", POOL_SIZE),
            "drain_seconds": _number(env, "IVR_DRAIN_SECONDS", 0.0),
            "auth_token": env.get("TWILIO_AUTH_TOKEN") or None,
            "public_url": (env.get("IVR_PUBLIC_URL") or "").rstrip("/") or None,
            "insecure": env.get("IVR_INSECURE", "") in ("1", "true", "yes"),
            "messaging": MessagingSettings.from_env(env),
            "retention_days": _number(env, "IVR_RETENTION_DAYS", 30.0),
            "retention_interval": _number(env, "IVR_RETENTION_INTERVAL", 3600.0),
            "dashboard_password": env.get("IVR_DASHBOARD_PASSWORD") or None,
            "metrics_token": env.get("IVR_METRICS_TOKEN") or None,
            "outbound": OutboundConfig.from_env(env),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        if isinstance(values.get("public_url"), str):
            values["public_url"] = str(values["public_url"]).rstrip("/") or None
        return cls(**values)  # type: ignore[arg-type]

    def check(self) -> None:
        """Refuse to run an open door (without a token only `--insecure` may start the server),
        or on a setting that cannot work."""
        try:
            check_synchronous(self.sqlite_synchronous)
            self.database()
        except (ValueError, BadDatabaseUrl) as exc:
            raise SystemExit(str(exc)) from None
        if not self.auth_token and not self.insecure:
            raise SystemExit(
                "TWILIO_AUTH_TOKEN is not set: the server cannot check that requests come from Twilio. "
                "Set it (Twilio console > Account > API keys & tokens), or start with --insecure for "
                "local experiments only."
            )

    def database(self) -> DatabaseTarget:
        """The database to use: `database_url` when set, else the SQLite file `db_path`."""
        return parse_target(self.database_url or self.db_path)


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise SystemExit(f"{name}={text!r} is not a number (e.g. {name}={default:g})") from None
    if value < 0:
        raise SystemExit(f"{name}={text!r} cannot be negative")
    return value


def _count(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise SystemExit(f"{name}={text!r} is not a whole number of at least 1 (e.g. {default})")
    return value

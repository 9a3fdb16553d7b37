"""Server settings, from arguments or the environment. Secrets come only from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..messaging.settings import MessagingSettings
from ..outbound.config import OutboundConfig

DEFAULT_MAX_BODY = 64 * 1024  # Twilio's own webhooks are a few kB


@dataclass(frozen=True)
class Settings:
    flows_dir: Path = Path("flows")
    db_path: str = "ivr.sqlite3"
    auth_token: str | None = field(default=None, repr=False)  # never printed
    public_url: str | None = None  # e.g. https://ivr.example.com behind a proxy or tunnel
    insecure: bool = False
    max_body: int = DEFAULT_MAX_BODY
    reload_interval: float = 1.0
    messaging: MessagingSettings = field(default_factory=MessagingSettings)
    outbound: OutboundConfig = field(default_factory=OutboundConfig)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, object] = {
            "flows_dir": Path(env.get("IVR_FLOWS", "flows")),
            "db_path": env.get("IVR_DB", "ivr.sqlite3"),
            "auth_token": env.get("TWILIO_AUTH_TOKEN") or None,
            "public_url": (env.get("IVR_PUBLIC_URL") or "").rstrip("/") or None,
            "insecure": env.get("IVR_INSECURE", "") in ("1", "true", "yes"),
            "messaging": MessagingSettings.from_env(env),
            "outbound": OutboundConfig.from_env(env),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        if isinstance(values.get("public_url"), str):
            values["public_url"] = str(values["public_url"]).rstrip("/") or None
        return cls(**values)  # type: ignore[arg-type]

    def check(self) -> None:
        """Refuse to run an open door: without a token only `--insecure` may start the server."""
        if not self.auth_token and not self.insecure:
            raise SystemExit(
                "TWILIO_AUTH_TOKEN is not set: the server cannot check that requests come from Twilio. "
                "Set it (Twilio console > Account > API keys & tokens), or start with --insecure for "
                "local experiments only."
            )

"""Which call a log line is about, and logs as JSON lines with the secrets taken out.

`CallService` says which call it is working on (`about_call`); a context variable carries it
through every await of that request, so each log line written meanwhile (by the engine, a
node, the store) can name the CallSid and flow without every `log.info` passing them.
`--log-format json` turns each record into one JSON object per line. Whatever the format,
`Redactor` masks secrets (auth token, passwords, env values flows read) in every line.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from datetime import UTC, datetime

import orjson

from .log import Secrets

_call: ContextVar[tuple[str, str] | None] = ContextVar("ivr_call", default=None)


def about_call(call_sid: str, flow_id: str) -> None:
    """Name the call the current request works on, for every log line until it ends."""
    _call.set((call_sid, flow_id))


def current_call() -> tuple[str, str] | None:
    return _call.get()


class CallContext(logging.Filter):
    """Adds `call_sid` and `flow` to each record written while a call is being worked on."""

    def filter(self, record: logging.LogRecord) -> bool:
        found = _call.get()
        if found is not None and not hasattr(record, "call_sid"):
            record.call_sid, record.flow = found
        return True


_secrets = Secrets()


def use_secrets(secrets: Secrets) -> None:
    """The secrets `Redactor` masks from now on (the server sets them once flows are loaded)."""
    global _secrets
    _secrets = secrets


class Redactor(logging.Filter):
    """Masks secrets in a record's message (its arguments merged in first)."""

    def __init__(self, secrets: Secrets | None = None) -> None:
        super().__init__()
        self.given = secrets

    @property
    def secrets(self) -> Secrets:
        return self.given if self.given is not None else _secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if message in self.secrets or (record.exc_text and record.exc_text in self.secrets):
            record.msg, record.args = self.secrets.mask(message), None
            if record.exc_text:
                record.exc_text = self.secrets.mask(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and call_sid/flow when known."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        call_sid = getattr(record, "call_sid", None)
        if call_sid:
            data["call_sid"] = call_sid
            data["flow"] = getattr(record, "flow", None)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            data["exception"] = record.exc_text
        return orjson.dumps(data).decode()


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(level: str, log_format: str, secrets: Secrets | None = None) -> None:
    """Set up the root logger (and uvicorn's) to write text or JSON lines, redacted."""
    handler = logging.StreamHandler()
    handler.addFilter(CallContext())
    handler.addFilter(Redactor(secrets))
    handler.setFormatter(JsonFormatter() if log_format == "json" else CallTextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True


class CallTextFormatter(logging.Formatter):
    """The text format, with `[CallSid flow]` after the logger name on lines about a call."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        call_sid = getattr(record, "call_sid", None)
        if call_sid:
            head, _, rest = text.partition(": ")
            return f"{head} [{call_sid} {getattr(record, 'flow', '')}]: {rest}"
        return text

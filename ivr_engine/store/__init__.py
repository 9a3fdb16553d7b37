"""Durable state beside the runtime: call sessions, flow versions in use, and the outbox."""

from .database import Database
from .sessions import SessionStore

__all__ = ["Database", "SessionStore"]

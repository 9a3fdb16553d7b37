"""The HTTP edge: Twilio's webhooks (checked, then dispatched) in front of a Starlette app.

Nothing below this package knows about HTTP; nothing here decides what a call does.
"""

from .app import create_app
from .settings import Settings

__all__ = ["Settings", "create_app"]
